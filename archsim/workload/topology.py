"""SCALE-Sim topology files, both ways: read as archsim workloads, written back so SCALE-Sim reads them.

Two formats, told apart by the header (SCALE-Sim itself ignores the header and takes the format from its
`-i conv|gemm` flag):
- conv: `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,`
- GEMM: `Layer Name, M, N, K,` (M rows of the input operand = output positions, K = reduction, N = filters)

Reading accepts every form SCALE-Sim 3 reads (trailing comma or not, blank lines, CRLF, spaces around cells,
an `N:M` sparsity cell of 1:1, SCALE-Sim 2's separate stride height and width when they are equal, and its
depthwise rule: a conv row whose name contains "DP" is one layer per channel, named `<name>Channel_<i>`).
Writing follows SCALE-Sim's reader (scalesim/topology_utils.py), which drops the last cell of every row:
every line ends with a comma, one layer per line, no quoting.

Rows are independent layers in SCALE-Sim, so each becomes a one-layer network: a conv row a `conv2d` (no
padding: SCALE-Sim's IFMAP is already padded), a GEMM row a 1x1 `conv2d` over an M x 1 map with K channels.
With `chain`, the rows become one network instead (see `chain_layers`). As a deterministic network:
`act_bits`-bit inputs and quantized outputs, T = 1; with `pbit`: 1-bit inputs and p-bit outputs, T = samples.
archsim's output size is floor((H - R) / s) + 1; SCALE-Sim counts ceil((H - R + s) / s), one more position
when s does not divide H - R."""
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..inputs import read_text
from .loader import workload_from_data
from .schema import Conv2d, Dense, layer_shapes

CONV_COLUMNS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
                "Num Filter", "Strides")
GEMM_COLUMNS = ("Layer Name", "M", "N", "K")
SCALESIM_FORMATS = ("conv", "gemm")


@dataclass(frozen=True)
class ConvRow:
    name: str
    ifmap_height: int
    ifmap_width: int
    filter_height: int
    filter_width: int
    channels: int
    num_filter: int
    stride: int
    line: int = field(default=0, compare=False)

    def cells(self):
        return [self.name, self.ifmap_height, self.ifmap_width, self.filter_height, self.filter_width,
                self.channels, self.num_filter, self.stride]


@dataclass(frozen=True)
class GemmRow:
    name: str
    m: int
    n: int
    k: int
    line: int = field(default=0, compare=False)

    def cells(self):
        return [self.name, self.m, self.n, self.k]


def safe_name(name):
    """A layer name as a file name: letters, digits, '.', '_' and '-' only, never '..' or a path."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    return re.sub(r"\.{2,}", ".", cleaned) or "layer"


def _cells(text):
    """SCALE-Sim splits on ',' without quoting; a trailing comma (or several) ends the row."""
    cells = [c.strip() for c in text.split(",")]
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def _ints(path, line, cells, names):
    values = []
    for name, cell in zip(names, cells):
        try:
            v = int(cell)
        except ValueError:
            raise ConfigError(path, [f"line {line}, column {name!r}: {cell!r} is not an integer"]) from None
        if v <= 0:
            raise ConfigError(path, [f"line {line}, column {name!r}: {v} must be a positive integer"])
        values.append(v)
    return values


def _dense_sparsity(path, line, cell):
    """SCALE-Sim 3's optional `N:M` sparsity cell: archsim models dense layers only (N = M)."""
    parts = [p.strip() for p in cell.split(":")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or parts[0] != parts[1] or parts[0] == "0":
        raise ConfigError(path, [f"line {line}, column 'Sparsity': {cell!r}; archsim models dense layers only, "
                                 f"allowed: N:N (e.g. 1:1)"])


def _conv_row(path, line, cells, two_strides):
    n_cols = 9 if two_strides else 8
    if len(cells) not in (n_cols, n_cols + 1):
        raise ConfigError(path, [f"line {line}: expected {n_cols} columns ({', '.join(CONV_COLUMNS)}"
                                 f"{', Stride width' if two_strides else ''}) and an optional sparsity N:M, "
                                 f"got {len(cells)}"])
    names = list(CONV_COLUMNS[1:]) + (["Stride width"] if two_strides else [])
    H, W, R, S, C, N, *strides = _ints(path, line, cells[1:n_cols], names)
    if len(cells) > n_cols:
        _dense_sparsity(path, line, cells[n_cols])
    if len(set(strides)) != 1:
        raise ConfigError(path, [f"line {line}: strides {strides[0]}x{strides[1]} differ; archsim's conv2d takes "
                                 f"one stride"])
    if R > H or S > W:
        raise ConfigError(path, [f"line {line}: filter {R}x{S} is larger than the {H}x{W} IFMAP"])
    if "DP" in cells[0]:  # SCALE-Sim's depthwise rule: one single-channel layer per channel
        return [ConvRow(f"{cells[0]}Channel_{c}", H, W, R, S, 1, N, strides[0], line) for c in range(C)]
    return [ConvRow(cells[0], H, W, R, S, C, N, strides[0], line)]


def _gemm_row(path, line, cells):
    if len(cells) not in (4, 5):
        raise ConfigError(path, [f"line {line}: expected 4 columns (Layer Name, M, N, K) and an optional "
                                 f"sparsity N:M, got {len(cells)}"])
    M, N, K = _ints(path, line, cells[1:4], ["M", "N", "K"])
    if len(cells) == 5:
        _dense_sparsity(path, line, cells[4])
    return [GemmRow(cells[0], M, N, K, line)]


def read_topology(path):
    """(format 'conv' | 'gemm', [ConvRow | GemmRow]) from a SCALE-Sim topology CSV."""
    path = Path(path)
    text = read_text(path, what="SCALE-Sim topology")  # size and encoding checked at the boundary
    rows = [(i + 1, _cells(t)) for i, t in enumerate(text.splitlines()) if t.strip()]
    if not rows:
        raise ConfigError(path, ["empty topology file"])
    (_, header), body = rows[0], rows[1:]
    low = [c.lower() for c in header]
    if len(low) >= 4 and low[1:4] == ["m", "n", "k"]:
        fmt, layers = "gemm", [r for line, cells in body for r in _gemm_row(path, line, cells)]
    elif len(low) >= 8 and low[0].startswith("layer"):
        two = len(low) >= 9 and low[7:9] == ["stride height", "stride width"]
        fmt, layers = "conv", [r for line, cells in body for r in _conv_row(path, line, cells, two)]
    else:
        raise ConfigError(path, [f"line {rows[0][0]}: unknown header {header}; expected SCALE-Sim conv "
                                 f"({', '.join(CONV_COLUMNS)}) or GEMM ({', '.join(GEMM_COLUMNS)})"])
    if not layers:
        raise ConfigError(path, ["the topology has a header but no layers"])
    return fmt, layers


def write_topology(fmt, rows, out):
    """Write rows as a SCALE-Sim topology: its header, `cell, cell, ...,` per row (SCALE-Sim drops the last
    cell of a line, so every line ends with a comma). Names SCALE-Sim would misread are refused."""
    bad = [r.name for r in rows if "," in r.name or "DP" in r.name or not r.name.strip()]
    if bad:
        raise ConfigError(out, [f"layer names {bad}: SCALE-Sim splits lines on ',' and expands a name containing "
                                f"'DP' into per-channel depthwise layers; rename these layers"])
    columns = GEMM_COLUMNS if fmt == "gemm" else CONV_COLUMNS
    lines = [", ".join(columns) + ","] + [", ".join(map(str, r.cells())) + "," for r in rows]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join(lines) + "\n")
    return len(rows)


def rows_from_workload(spec):
    """A p-DNN workload spec as SCALE-Sim rows: (format, rows, skipped layer descriptions). conv2d layers are
    conv rows over the padded IFMAP; dense layers are GEMM rows (M = 1) when every weighted layer is dense,
    else 1x1 conv rows over a 1x1 map; pooling and flatten have no SCALE-Sim row and are skipped."""
    shapes = layer_shapes(spec)
    all_dense = all(not isinstance(layer, Conv2d) for layer in spec.layers)
    rows, skipped = [], []
    for i, (layer, (in_shape, _)) in enumerate(zip(spec.layers, shapes)):
        n_in = in_shape[0] if len(in_shape) == 1 else in_shape[0] * in_shape[1] * in_shape[2]
        if isinstance(layer, Conv2d):
            p = layer.padding
            rows.append(ConvRow(f"layer{i}", in_shape[0] + 2 * p, in_shape[1] + 2 * p, layer.kernel, layer.kernel,
                                in_shape[2], layer.channels, layer.stride))
        elif isinstance(layer, Dense):
            rows.append(GemmRow(f"layer{i}", 1, layer.outputs, n_in) if all_dense else
                        ConvRow(f"layer{i}", 1, 1, 1, 1, n_in, layer.outputs, 1))
        else:
            skipped.append(f"layers[{i}] ({layer.type})")
    return ("gemm" if all_dense else "conv"), rows, skipped


def _geometry(path, row):
    """(input shape [H, W, C], square kernel, stride, filters) of one row as an archsim conv2d."""
    if isinstance(row, GemmRow):
        return [row.m, 1, row.k], 1, 1, row.n
    if row.filter_height != row.filter_width:
        raise ConfigError(path, [f"line {row.line}: filter {row.filter_height}x{row.filter_width} is not square; "
                                 f"archsim's conv2d takes square kernels"])
    return [row.ifmap_height, row.ifmap_width, row.channels], row.filter_height, row.stride, row.num_filter


def _neurons(pbit, weight_bits, act_bits):
    return {"weight_bits": weight_bits, **({"activation": "pbit"} if pbit else
                                           {"activation": "quantized", "output_bits": act_bits})}


def _link(prev_geometry, geometry):
    """How a row follows the previous one: (padding of its conv2d, max-pool window or 0), or None."""
    (H0, W0, _), k0, s0, n0 = prev_geometry
    (H, W, C), *_ = geometry
    Ho, Wo = (H0 - k0) // s0 + 1, (W0 - k0) // s0 + 1
    if C != n0:
        return None
    if (H, W) == (Ho, Wo):
        return 0, 0
    if H - Ho == W - Wo > 0 and (H - Ho) % 2 == 0:
        return (H - Ho) // 2, 0
    if Ho % H == 0 and Wo % W == 0 and Ho // H == Wo // W:
        return 0, Ho // H
    return None


def chain_layers(path, rows, neurons):
    """Rows as one network: each row's input is the previous row's output. A larger next IFMAP is zero padding
    of the next conv2d ((H - Ho) / 2 per side), a smaller one an inserted max pooling (window Ho / H); its
    channels must be the previous row's filters (GEMM rows: K the previous N, M the same)."""
    geometries = [_geometry(path, r) for r in rows]
    layers = []
    for i, (row, (shape, kernel, stride, filters)) in enumerate(zip(rows, geometries)):
        pad = 0
        if i:
            link = _link(geometries[i - 1], geometries[i])
            if link is None:
                (H0, W0, _), k0, s0, n0 = geometries[i - 1]
                raise ConfigError(path, [
                    f"line {row.line}: cannot chain {row.name!r} ({shape[0]}x{shape[1]}x{shape[2]} IFMAP) after "
                    f"{rows[i - 1].name!r} ({(H0 - k0) // s0 + 1}x{(W0 - k0) // s0 + 1}x{n0} output): neither "
                    f"the same map, a zero padding of it nor a pooling of it"])
            pad, pool = link
            if pool:
                layers.append({"type": "maxpool", "kernel": pool})
        layers.append({"type": "conv2d", "channels": filters, "kernel": kernel, "stride": stride, "padding": pad,
                       **neurons})
    return layers


def topology_workloads(path, pbit=False, samples=1, seed=0, weight_bits=8, act_bits=8, chain=False):
    """[(layer name, Workload)]: one single-layer network per topology row, or with `chain` one network
    [(file stem, Workload)] of all rows."""
    _, rows = read_topology(path)
    neurons = _neurons(pbit, weight_bits, act_bits)

    def workload(name, shape, layers, i, where):
        data = {"schema_version": 1, "kind": "pdnn", "name": name, "samples": samples if pbit else 1,
                "seed": seed + i, "input": {"shape": shape, "bits": 1 if pbit else act_bits}, "layers": layers}
        return workload_from_data(data, where)

    if chain:
        first_shape = _geometry(path, rows[0])[0]
        return [(Path(path).stem, workload(Path(path).stem, first_shape, chain_layers(path, rows, neurons), 0,
                                           f"{path} (chained)"))]
    out = []
    for i, row in enumerate(rows):
        shape, kernel, stride, filters = _geometry(path, row)
        layer = {"type": "conv2d", "channels": filters, "kernel": kernel, "stride": stride, **neurons}
        out.append((row.name, workload(f"{Path(path).stem}:{row.name}", shape, [layer], i,
                                       f"{path} (line {row.line}: {row.name})")))
    return out
