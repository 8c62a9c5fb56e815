"""Loading a workload file: schema validation, then weights and inputs from .npz files (paths relative to the
workload file) or generated from the seed with the counter-based RNG (reproducible on any machine)."""
import os
from dataclasses import dataclass
from typing import Optional
from importlib import resources
from pathlib import Path

import numpy as np

from ..config.loader import read_yaml, validate
from ..errors import ArchsimError, ConfigError
from ..inputs import check_integers, check_memory, load_npz
from ..kernels.reference import draw
from .schema import Conv2d, Dense, Pdnn, layer_shapes, weight_shape

DEFAULT_WORKLOAD = "default"
TAG_WEIGHTS, TAG_INPUTS = 3, 4


@dataclass
class Workload:
    """A validated p-DNN with its integer weights (one (outputs, inputs) array per layer) and input items."""
    spec: Pdnn
    weights: dict  # layer index -> integer weights: dense (outputs, inputs), conv2d (channels, k, k, in_channels)
    biases: dict   # layer index -> (outputs,) integer biases, for layers with bias: true
    inputs: np.ndarray  # (items, input.size) int64, unsigned values < 2**input.bits
    path: str
    labels: Optional[np.ndarray] = None  # (items,) int64 class labels, when the inputs file has 'y'


def default_workload_path():
    return resources.files("archsim.workload") / "default.yaml"


def weighted_layers(spec):
    """[(layer index, layer, weight shape)] for the layers that hold weights (dense, conv2d)."""
    return [(i, layer, weight_shape(layer, in_shape))
            for i, (layer, (in_shape, _)) in enumerate(zip(spec.layers, layer_shapes(spec)))
            if isinstance(layer, (Dense, Conv2d))]


def generated_weights(seed, layer_index, shape, bits):
    m, n = shape[0], int(np.prod(shape[1:]))
    u = draw(seed, TAG_WEIGHTS, layer_index, np.arange(m)[:, None], np.arange(n)[None, :], 0, bits)
    return (u - (1 << (bits - 1))).reshape(shape)


def generated_inputs(seed, items, size, bits):
    return draw(seed, TAG_INPUTS, np.arange(items)[:, None], np.arange(size)[None, :], 0, 0, bits)


def _load_weights(spec, base, path):
    npz = load_npz(base / spec.weights, path, "weights")
    problems, out, biases = [], {}, {}
    for k, (i, layer, shape) in enumerate(weighted_layers(spec)):
        key = f"layer{i}" if f"layer{i}" in npz else (f"arr_{k}" if f"arr_{k}" in npz else None)
        half = 1 << (layer.weight_bits - 1)
        if key is None:
            problems.append(f"weights: {spec.weights!r} has no array 'layer{i}' (or 'arr_{k}') for layers[{i}]; "
                            f"it holds {npz.files}")
        else:
            what = "(outputs, inputs)" if isinstance(layer, Dense) else "(channels, kernel, kernel, in_channels)"
            w, found = check_integers(npz, key, shape, -half, half - 1,
                                      f"layers[{i}] {what} with weight_bits = {layer.weight_bits}")
            problems += found
            if w is not None:
                out[i] = w
        if not layer.bias:
            continue
        if f"bias{i}" not in npz:
            problems.append(f"weights: {spec.weights!r} has no array 'bias{i}' for layers[{i}] (bias: true)")
            continue
        half = 1 << (layer.bias_bits - 1)
        b, found = check_integers(npz, f"bias{i}", (shape[0],), -half, half - 1,
                                  f"layers[{i}] with bias_bits = {layer.bias_bits}")
        problems += found
        if b is not None:
            biases[i] = b
    if problems:
        raise ConfigError(path, problems)
    return out, biases


def _input_items(spec, npz, path):
    """Items of the inputs file, from the header of 'x' (nothing read yet)."""
    if "x" not in npz:
        raise ConfigError(path, [f"inputs: {spec.inputs!r} has no array 'x'; it holds {npz.files}"])
    shape = tuple(npz.headers["x"][1])
    if len(shape) not in (1, 2) or shape[-1] != spec.input.size or shape[0] < 1:
        raise ConfigError(path, [f"inputs: {spec.inputs}:x has shape {shape}; needs (items, {spec.input.size}) "
                                 f"with at least one item"])
    return 1 if len(shape) == 1 else shape[0]


def _load_inputs(spec, npz, items, path):
    hi = (1 << spec.input.bits) - 1
    x, problems = check_integers(npz, "x", npz.headers["x"][1], 0, hi, f"input.bits = {spec.input.bits}")
    if problems:
        raise ConfigError(path, problems)
    labels = None
    if "y" in npz:
        classes = int(np.prod(layer_shapes(spec)[-1][1]))
        labels, problems = check_integers(npz, "y", (items,), 0, classes - 1,
                                          f"one class label per item, {classes} classes (the last layer's outputs),")
        if problems:
            raise ConfigError(path, problems)
    return x.reshape(items, spec.input.size), labels


def estimate_bytes(spec, items):
    """Memory a run of `spec` on `items` items will allocate, planned before anything is made: int64 weights
    (and the generator's temporaries of the largest layer), inputs, and every layer's activations for items x T
    rows (convolutions also their unrolled inputs)."""
    weights = [int(np.prod(shape, dtype=object)) for _, _, shape in weighted_layers(spec)]
    rows = items * spec.samples
    activations = spec.input.size * rows
    for layer, (in_shape, out_shape) in zip(spec.layers, layer_shapes(spec)):
        activations += rows * int(np.prod(out_shape, dtype=object))
        if isinstance(layer, Conv2d):
            activations += rows * out_shape[0] * out_shape[1] * layer.kernel ** 2 * in_shape[2]
    return 8 * (sum(weights) + (0 if spec.weights else 4 * max(weights)) + items * spec.input.size + activations)


def workload_from_spec(spec, path, base=None, before_arrays=None):
    """The workload's arrays, after every check that needs none of them: the items, `before_arrays(spec,
    items)` (e.g. the architecture's capacity) and the memory estimate against the limit."""
    base = Path(base if base is not None else Path(str(path)).parent)
    npz = load_npz(base / spec.inputs, path, "inputs") if spec.inputs else None
    items = _input_items(spec, npz, path) if npz is not None else spec.batch
    if before_arrays is not None:
        before_arrays(spec, items)
    check_memory(path, f"workload {spec.name!r} ({items} item(s) x T = {spec.samples} samples)",
                 estimate_bytes(spec, items))
    if spec.weights:
        weights, biases = _load_weights(spec, base, path)
    else:
        weights = {i: generated_weights(spec.seed, i, shape, layer.weight_bits)
                   for i, layer, shape in weighted_layers(spec)}
        biases = {i: generated_weights(spec.seed, 1000 + i, (shape[0], 1), layer.weight_bits).reshape(-1)
                  for i, layer, shape in weighted_layers(spec) if layer.bias}
    inputs, labels = _load_inputs(spec, npz, items, path) if npz is not None else (generated_inputs(
        spec.seed, spec.batch, spec.input.size, spec.input.bits), None)
    return Workload(spec=spec, weights=weights, biases=biases, inputs=inputs, path=str(path), labels=labels)


KINDS = ("pdnn", "boltzmann", "dtm")  # the `kind` of a workload file; a SCALE-Sim topology (.csv) has none
TOPOLOGY = "topology"


def _unknown_kind(path, kind):
    return ConfigError(path, [f"kind: unknown workload kind {kind!r}; allowed: "
                              + ", ".join(repr(k) for k in KINDS)])


def pdnn_spec(data, path="<workload>") -> Pdnn:
    """Validate a p-DNN workload given as a dict (as read from YAML)."""
    kind = data.get("kind")
    if kind != "pdnn":
        raise _unknown_kind(path, kind)
    return validate(Pdnn, data, path)


def workload_from_data(data, path="<workload>", base=None, before_arrays=None):
    """Validate a workload given as a dict (as read from YAML) and load its arrays, whatever its `kind`: a p-DNN
    Workload, a BoltzmannWorkload or a DtmWorkload (after check_gibbs_budget). Files named in it are relative to
    `base` (default: the folder of `path`). `before_arrays(spec, items)`: see workload_from_spec (p-DNN only)."""
    kind = data.get("kind")
    if kind == "pdnn":
        return workload_from_spec(pdnn_spec(data, path), path, base, before_arrays)
    if kind not in KINDS:
        raise _unknown_kind(path, kind)
    if before_arrays is not None:
        raise ArchsimError(f"{path}: before_arrays checks a p-DNN's arrays; this is a {kind} workload")
    from .boltzmann import boltzmann_from_data, dtm_from_data
    check_gibbs_budget(data, path, base)
    return (boltzmann_from_data if kind == "boltzmann" else dtm_from_data)(data, path, base)


def resolve_workload_path(path):
    return default_workload_path() if str(path) == DEFAULT_WORKLOAD else path


def workload_kind(path):
    """The kind of the workload at `path` ('default' is the packaged p-DNN): one of KINDS from the file's `kind`
    field (an unknown one refused, named), or 'topology' for a SCALE-Sim topology (.csv)."""
    if str(path).lower().endswith(".csv"):
        return TOPOLOGY
    path = resolve_workload_path(path)
    kind = read_yaml(path).get("kind")
    if kind not in KINDS:
        raise _unknown_kind(path, kind)
    return kind


def load_workload(path=DEFAULT_WORKLOAD, samples=None, seed=None, before_arrays=None, kinds=KINDS):
    """Load and validate a workload file ('default' for the packaged one) of any kind (see workload_from_data);
    `seed` overrides the file's; `samples` (T) overrides a p-DNN's, a Boltzmann/DTM workload sets sweeps
    instead; `before_arrays(spec, items)` (p-DNN only) runs before any weight or input is made; `kinds`: the
    kinds the caller takes (another is refused, named)."""
    if str(path).lower().endswith(".csv"):
        raise ConfigError(path, ["a SCALE-Sim topology runs one network per row: load it with "
                                 "archsim.workload.topology.topology_workloads"])
    path = resolve_workload_path(path)
    data = read_yaml(path)
    kind = data.get("kind")
    if kind in KINDS and kind not in kinds:
        raise ConfigError(path, [f"kind: {kind!r} workloads are not taken here; allowed: "
                                 + ", ".join(repr(k) for k in kinds)])
    if samples is not None:
        if kind in KINDS and kind != "pdnn":
            raise ConfigError(path, [f"samples: sets T of a p-DNN; a {kind} workload sets sweeps instead"])
        data["samples"] = samples
    if seed is not None:
        data["seed"] = seed
    return workload_from_data(data, path, before_arrays=before_arrays)


MAX_UPDATES_ENV = "ARCHSIM_MAX_UPDATES"
DEFAULT_MAX_UPDATES = 10 ** 10  # p-bit updates in one run: minutes at the kernel's ~1e8 updates/s


BYTES_PER_EDGE = 96  # sparse couplings both ways, plus the sort and canonicalisation arrays while building


def graph_size(g, base):
    """(nodes, edges) of a graph spec from its parameters alone, an upper bound where the exact count needs the
    graph built (Pegasus, Zephyr, a graph file: every line is at least 'i j w')."""
    if g.type in ("grid", "king"):
        n = g.rows * g.cols
        if g.type == "king":
            degree = 8
        elif g.rules:
            degree = 4 * len(g.rules)
        else:
            degree = 2 * len(g.neighbourhood) if isinstance(g.neighbourhood, list) else g.neighbourhood
        return n, n * degree // 2
    if g.type == "lattice":
        n = g.shape[0] * g.shape[1] * g.shape[2]
        return n, n * len(g.offsets)
    if g.type == "chimera":
        n = g.m * (g.n or g.m) * 2 * g.t
        return n, n * (g.t + 2) // 2
    if g.type == "pegasus":
        n = 24 * g.m * (g.m - 1)
        return n, n * 15 // 2
    if g.type == "zephyr":
        n = 4 * g.t * g.m * (2 * g.m + 1)
        return n, n * (4 * g.t + 4) // 2
    if g.type == "dbm":
        return sum(g.layers), g.fan_in * sum(g.layers[1:])
    if g.type == "edges":
        return g.nodes, len(g.edges)
    size = (base / g.path).stat().st_size if (base / g.path).is_file() else 0  # the reader names a missing file
    return size // 6, size // 6


def check_gibbs_budget(data, path, base=None):
    """Refuse a Boltzmann / DTM workload (given as a dict) planned to need more memory than the limit, or more
    p-bit updates than ARCHSIM_MAX_UPDATES, before its graph or couplings are built; both with the estimate.
    Memory: the coupling matrix (n x n int64 per stage, as the loader stores it), the edge set while building
    a grid (~200 bytes per edge) and the recorded samples (records x chains x n int8). Coupling files are read
    through the boundary first (corrupt or object-array archives refused, named)."""
    from .boltzmann import Boltzmann, Dtm
    spec = validate(Boltzmann if data.get("kind") == "boltzmann" else Dtm, data, path)
    base = Path(base if base is not None else Path(str(path)).parent)
    files = [("couplings", spec.couplings)] if isinstance(spec, Boltzmann) else [
        (f"stages[{k}].couplings", st.couplings) for k, st in enumerate(spec.stages)]
    for field, file in files:
        if file is not None:
            npz = load_npz(base / file, path, field)
            for name in ("J", "h"):  # reading each member now surfaces a corrupt one here, named
                if name in npz:
                    npz[name]

    n, edges = graph_size(spec.graph, base)
    stages = [spec.sweeps] if isinstance(spec, Boltzmann) else [st.sweeps or spec.sweeps for st in spec.stages]
    sweeps = sum(stages)
    records = len(range(spec.burn_in, spec.sweeps, spec.record_every)) if isinstance(spec, Boltzmann) else 1
    n_bytes = len(stages) * (BYTES_PER_EDGE * edges + 32 * n) + records * spec.chains * n + 2 * spec.chains * n
    check_memory(path, f"workload {spec.name!r} ({n:,} nodes, {spec.chains} chain(s), {records:,} recorded "
                       f"sweep(s))", n_bytes)
    updates = sweeps * spec.chains * n
    text = os.environ.get(MAX_UPDATES_ENV, "")
    limit = int(text) if text.isdigit() else DEFAULT_MAX_UPDATES
    if updates > limit:
        raise ConfigError(path, [f"sweeps: {sweeps:,} sweep(s) x {spec.chains} chain(s) x {n:,} nodes = "
                                 f"{updates:,} p-bit updates, more than the limit of {limit:,} (set "
                                 f"{MAX_UPDATES_ENV} to raise it)"])
