"""Loading a workload file: schema validation, then weights and inputs from .npz files (paths relative to the
workload file) or generated from the seed with the counter-based RNG (reproducible on any machine)."""
from dataclasses import dataclass
from typing import Optional
from importlib import resources
from pathlib import Path

import numpy as np

from ..config.loader import read_yaml, validate
from ..errors import ConfigError
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


def _open_npz(base, name, field, path):
    file = (base / name)
    try:
        return np.load(file, allow_pickle=False)
    except FileNotFoundError:
        raise ConfigError(path, [f"{field}: file {name!r} not found (looked for {file})"]) from None
    except (OSError, ValueError) as e:
        raise ConfigError(path, [f"{field}: {name!r} is not a readable .npz file ({e})"]) from None


def _load_weights(spec, base, path):
    npz = _open_npz(base, spec.weights, "weights", path)
    names = list(npz.files)
    problems, out = [], {}
    for k, (i, layer, shape) in enumerate(weighted_layers(spec)):
        key = f"layer{i}" if f"layer{i}" in names else (f"arr_{k}" if f"arr_{k}" in names else None)
        if key is None:
            problems.append(f"weights: {spec.weights!r} has no array 'layer{i}' (or 'arr_{k}') for layers[{i}]; "
                            f"it holds {names}")
            continue
        w = npz[key]
        lo, hi = -(1 << (layer.weight_bits - 1)), (1 << (layer.weight_bits - 1)) - 1
        if w.shape != shape:
            what = "(outputs, inputs)" if isinstance(layer, Dense) else "(channels, kernel, kernel, in_channels)"
            problems.append(f"weights: {spec.weights}:{key} has shape {w.shape}; layers[{i}] needs {shape} {what}")
        elif not np.issubdtype(w.dtype, np.integer):
            problems.append(f"weights: {spec.weights}:{key} has dtype {w.dtype}; integer weights are required")
        elif w.size and (w.min() < lo or w.max() > hi):
            problems.append(f"weights: {spec.weights}:{key} has values in [{w.min()}, {w.max()}], which do not fit "
                            f"layers[{i}].weight_bits = {layer.weight_bits} (allowed [{lo}, {hi}])")
        else:
            out[i] = w.astype(np.int64)
    biases = {}
    for i, layer, shape in weighted_layers(spec):
        if not layer.bias:
            continue
        if f"bias{i}" not in names:
            problems.append(f"weights: {spec.weights!r} has no array 'bias{i}' for layers[{i}] (bias: true)")
            continue
        b = npz[f"bias{i}"]
        lo, hi = -(1 << (layer.bias_bits - 1)), (1 << (layer.bias_bits - 1)) - 1
        if b.shape != (shape[0],) or not np.issubdtype(b.dtype, np.integer):
            problems.append(f"weights: {spec.weights}:bias{i} must be {shape[0]} integers, got shape {b.shape} "
                            f"dtype {b.dtype}")
        elif b.size and (b.min() < lo or b.max() > hi):
            problems.append(f"weights: {spec.weights}:bias{i} has values in [{b.min()}, {b.max()}], which do not "
                            f"fit layers[{i}].bias_bits = {layer.bias_bits} (allowed [{lo}, {hi}])")
        else:
            biases[i] = b.astype(np.int64)
    if problems:
        raise ConfigError(path, problems)
    return out, biases


def _load_inputs(spec, base, path):
    npz = _open_npz(base, spec.inputs, "inputs", path)
    if "x" not in npz.files:
        raise ConfigError(path, [f"inputs: {spec.inputs!r} has no array 'x'; it holds {list(npz.files)}"])
    x = npz["x"]
    x = x[None, :] if x.ndim == 1 else x
    hi = (1 << spec.input.bits) - 1
    if x.ndim != 2 or x.shape[1] != spec.input.size:
        raise ConfigError(path, [f"inputs: {spec.inputs}:x has shape {x.shape}; needs (items, {spec.input.size})"])
    if not np.issubdtype(x.dtype, np.integer) or (x.size and (x.min() < 0 or x.max() > hi)):
        raise ConfigError(path, [f"inputs: {spec.inputs}:x must hold integers in [0, {hi}] "
                                 f"(input.bits = {spec.input.bits})"])
    labels = None
    if "y" in npz.files:
        labels = np.asarray(npz["y"]).reshape(-1)
        if labels.shape[0] != x.shape[0] or not np.issubdtype(labels.dtype, np.integer):
            raise ConfigError(path, [f"inputs: {spec.inputs}:y must hold one integer label per item "
                                     f"({x.shape[0]}), got shape {labels.shape} dtype {labels.dtype}"])
        labels = labels.astype(np.int64)
    return x.astype(np.int64), labels


def workload_from_spec(spec, path, base=None):
    base = Path(base if base is not None else Path(str(path)).parent)
    if spec.weights:
        weights, biases = _load_weights(spec, base, path)
    else:
        weights = {i: generated_weights(spec.seed, i, shape, layer.weight_bits)
                   for i, layer, shape in weighted_layers(spec)}
        biases = {i: generated_weights(spec.seed, 1000 + i, (shape[0], 1), layer.weight_bits).reshape(-1)
                  for i, layer, shape in weighted_layers(spec) if layer.bias}
    inputs, labels = _load_inputs(spec, base, path) if spec.inputs else (generated_inputs(
        spec.seed, spec.batch, spec.input.size, spec.input.bits), None)
    return Workload(spec=spec, weights=weights, biases=biases, inputs=inputs, path=str(path), labels=labels)


def workload_from_data(data, path="<workload>", base=None) -> Workload:
    """Validate a workload given as a dict (as read from YAML) and load its arrays; files named in it are
    relative to `base` (default: the folder of `path`)."""
    kind = data.get("kind")
    if kind != "pdnn":
        raise ConfigError(path, [f"kind: unknown workload kind {kind!r}; allowed: 'pdnn', 'boltzmann', 'dtm'"])
    return workload_from_spec(validate(Pdnn, data, path), path, base)


def resolve_workload_path(path):
    return default_workload_path() if str(path) == DEFAULT_WORKLOAD else path


def load_workload(path=DEFAULT_WORKLOAD, samples=None, seed=None) -> Workload:
    """Load and validate a workload file ('default' for the packaged one); samples/seed override the file."""
    path = resolve_workload_path(path)
    data = read_yaml(path)
    if samples is not None:
        data["samples"] = samples
    if seed is not None:
        data["seed"] = seed
    return workload_from_data(data, path)
