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
from .schema import Pdnn

DEFAULT_WORKLOAD = "default"
TAG_WEIGHTS, TAG_INPUTS = 3, 4


@dataclass
class Workload:
    """A validated p-DNN with its integer weights (one (outputs, inputs) array per layer) and input items."""
    spec: Pdnn
    weights: list
    inputs: np.ndarray  # (items, input.size) int64, unsigned values < 2**input.bits
    path: str
    labels: Optional[np.ndarray] = None  # (items,) int64 class labels, when the inputs file has 'y'


def default_workload_path():
    return resources.files("archsim.workload") / "default.yaml"


def fan_ins(spec):
    sizes = [spec.input.size] + [layer.outputs for layer in spec.layers]
    return sizes[:-1]


def generated_weights(seed, layer_index, m, n, bits):
    u = draw(seed, TAG_WEIGHTS, layer_index, np.arange(m)[:, None], np.arange(n)[None, :], 0, bits)
    return u - (1 << (bits - 1))


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
    problems, out = [], []
    for i, (layer, n) in enumerate(zip(spec.layers, fan_ins(spec))):
        key = f"layer{i}" if f"layer{i}" in names else (f"arr_{i}" if f"arr_{i}" in names else None)
        if key is None:
            problems.append(f"weights: {spec.weights!r} has no array 'layer{i}' (or 'arr_{i}') for layers[{i}]; "
                            f"it holds {names}")
            continue
        w = npz[key]
        lo, hi = -(1 << (layer.weight_bits - 1)), (1 << (layer.weight_bits - 1)) - 1
        if w.shape != (layer.outputs, n):
            problems.append(f"weights: {spec.weights}:{key} has shape {w.shape}; layers[{i}] needs "
                            f"({layer.outputs}, {n}) (outputs, inputs)")
        elif not np.issubdtype(w.dtype, np.integer):
            problems.append(f"weights: {spec.weights}:{key} has dtype {w.dtype}; integer weights are required")
        elif w.size and (w.min() < lo or w.max() > hi):
            problems.append(f"weights: {spec.weights}:{key} has values in [{w.min()}, {w.max()}], which do not fit "
                            f"layers[{i}].weight_bits = {layer.weight_bits} (allowed [{lo}, {hi}])")
        else:
            out.append(w.astype(np.int64))
    if problems:
        raise ConfigError(path, problems)
    return out


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
    weights = _load_weights(spec, base, path) if spec.weights else [
        generated_weights(spec.seed, i, layer.outputs, n, layer.weight_bits)
        for i, (layer, n) in enumerate(zip(spec.layers, fan_ins(spec)))]
    inputs, labels = _load_inputs(spec, base, path) if spec.inputs else (generated_inputs(
        spec.seed, spec.batch, spec.input.size, spec.input.bits), None)
    return Workload(spec=spec, weights=weights, inputs=inputs, path=str(path), labels=labels)


def workload_from_data(data, path="<workload>", base=None) -> Workload:
    """Validate a workload given as a dict (as read from YAML) and load its arrays; files named in it are
    relative to `base` (default: the folder of `path`)."""
    kind = data.get("kind")
    if kind != "pdnn":
        raise ConfigError(path, [f"kind: unknown workload kind {kind!r}; allowed: 'pdnn'"])
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
