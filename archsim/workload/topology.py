"""SCALE-Sim topology files as archsim workloads, so architects can reuse the topologies they have.

Two formats, told apart by the header:
- conv: `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,`
- GEMM: `Layer, M, N, K` (M rows of the input operand = output positions, K = reduction, N = filters)
Rows are independent layers (SCALE-Sim does not chain them), so each becomes a one-layer network: a conv row a
`conv2d` (no padding: SCALE-Sim's IFMAP is already padded), a GEMM row a 1x1 `conv2d` over an M x 1 map with
K channels. As a deterministic network: `act_bits`-bit inputs and quantized outputs, T = 1; with `pbit`:
1-bit inputs and p-bit outputs, T = samples."""
from pathlib import Path

from ..errors import ConfigError
from ..inputs import read_csv_rows
from .loader import workload_from_data

CONV_HEADER = ["layer name", "ifmap height", "ifmap width", "filter height", "filter width", "channels",
               "num filter", "strides"]
GEMM_HEADER = ["layer", "m", "n", "k"]


def _cells(row):
    cells = [c.strip() for c in row]
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


def read_topology(path):
    """[(layer name, input shape [H, W, C], kernel, stride, filters)] from a SCALE-Sim CSV."""
    path = Path(path)
    rows = [(i, _cells(r)) for i, r in read_csv_rows(path)]  # size, encoding and CSV checked at the boundary
    rows = [(i, r) for i, r in rows if r]
    if not rows:
        raise ConfigError(path, ["empty topology file"])
    header = [c.lower() for c in rows[0][1]]
    layers = []
    if header == CONV_HEADER:
        for line, cells in rows[1:]:
            if len(cells) != 8:
                raise ConfigError(path, [f"line {line}: expected 8 columns ({', '.join(CONV_HEADER)}), "
                                         f"got {len(cells)}"])
            H, W, R, S, C, N, stride = _ints(path, line, cells[1:], CONV_HEADER[1:])
            if R != S:
                raise ConfigError(path, [f"line {line}: filter {R}x{S} is not square; archsim's conv2d takes "
                                         f"square kernels"])
            if R > H or S > W:
                raise ConfigError(path, [f"line {line}: filter {R}x{S} is larger than the {H}x{W} IFMAP"])
            layers.append((cells[0], [H, W, C], R, stride, N))
    elif header == GEMM_HEADER:
        for line, cells in rows[1:]:
            if len(cells) != 4:
                raise ConfigError(path, [f"line {line}: expected 4 columns (Layer, M, N, K), got {len(cells)}"])
            M, N, K = _ints(path, line, cells[1:], ["M", "N", "K"])
            layers.append((cells[0], [M, 1, K], 1, 1, N))
    else:
        raise ConfigError(path, [f"line 1: unknown header {rows[0][1]}; expected SCALE-Sim conv "
                                 f"({', '.join(CONV_HEADER)}) or GEMM (Layer, M, N, K)"])
    if not layers:
        raise ConfigError(path, ["the topology has a header but no layers"])
    return layers


def topology_workloads(path, pbit=False, samples=1, seed=0, weight_bits=8, act_bits=8):
    """[(layer name, Workload)], one single-layer network per topology row."""
    out = []
    for i, (name, shape, kernel, stride, filters) in enumerate(read_topology(path)):
        layer = {"type": "conv2d", "channels": filters, "kernel": kernel, "stride": stride,
                 "weight_bits": weight_bits}
        layer.update({"activation": "pbit"} if pbit else {"activation": "quantized", "output_bits": act_bits})
        data = {"schema_version": 1, "kind": "pdnn", "name": f"{Path(path).stem}:{name}",
                "samples": samples if pbit else 1, "seed": seed + i,
                "input": {"shape": shape, "bits": 1 if pbit else act_bits}, "layers": [layer]}
        out.append((name, workload_from_data(data, f"{path} (line {i + 2}: {name})")))
    return out
