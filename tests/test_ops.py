"""Operations behind one interface (archsim/ops): a layer type defined here, in the test, runs end to end through
simulate() and the cycle-stepped reference without any engine file knowing it; and no module outside ops/ (and
the workload schema and importers) tests a layer's type string."""
import ast
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from archsim import ops, simulate
from archsim.engine.stepped import stepped_cycles
from archsim.hw.timing import sample_cycles
from archsim.ops.base import Operation, words
from archsim.ops.dense import Dense
from archsim.workload.loader import workload_from_data
from helpers import arch

PKG = Path(__file__).resolve().parents[1] / "archsim"
LAYER_TYPES = {"dense", "conv2d", "maxpool", "avgpool", "flatten", "gibbs"}
# where a layer type may be tested: the operations, the schema and a format converter
MAY_NAME_TYPES = {"ops", "workload/schema.py", "workload/topology.py",  # SCALE-Sim rows: a format's types
                  # not yet moved: the loader's weight arrays and memory estimate, the trainer's MLP reader
                  "workload/loader.py", "train/tradeoff.py"}


@dataclass(frozen=True)
class Scale:
    """The workload layer: every input times a constant (no weights), same shape."""
    factor: int
    type: str = "scale"

    def out_shape(self, shape, i):
        return shape


class ScaleOp(Operation):
    """Per sample: read the inputs, write the scaled outputs; no synapse, neuron or RNG."""

    def __init__(self, factor):
        self.factor = factor

    def out_bits(self, layer, ba_in):
        return ba_in + layer.factor.bit_length()

    def plan_fields(self, arch, index, layer, in_shape, out_shape, ba_in):
        return dict(index=index, type=layer.type, in_shape=in_shape, out_shape=out_shape, n=0,
                    m=int(np.prod(out_shape)), P=1, bw=0, ba_in=ba_in, ba_out=self.out_bits(layer, ba_in),
                    activation="none")

    def kernel(self, layers, workload, lp, rows):
        layers.maps[lp.index + 1][rows] = layers.maps[lp.index][rows] * self.factor

    def count(self, accel, tile, lp, x_rows):
        act = accel.mem[lp.act_level]
        in_bits, out_bits = lp.m * lp.ba_in, lp.m * lp.ba_out
        read = act.read(lp.index, "inputs", in_bits, act.words(in_bits), repeat=tile.samples)
        write = act.write(lp.index, "outputs", out_bits, act.words(out_bits), repeat=tile.samples)
        latency = act.spec.read_latency_cycles
        return tile.samples * sample_cycles(latency, read - latency, 0, 0, 0, write)

    def stepped_samples(self, arch, lp, tile):
        W = arch.level(lp.act_level).word_bits
        return [((words(lp.m * lp.ba_in, W), 1, 0, 1, 0, words(lp.m * lp.ba_out, W), 0), tile.samples)]


def _workload(layers, inputs, T, in_bits):
    spec = SimpleNamespace(name="toy", samples=T, seed=3, layers=layers,
                           input=SimpleNamespace(size=inputs.shape[1], shape=None, bits=in_bits))
    return SimpleNamespace(spec=spec, inputs=inputs, weights={}, biases={}, labels=None)


@pytest.mark.parametrize("n, items, T, factor", [(40, 3, 4, 3), (200, 2, 5, 7)])
def test_a_layer_type_registered_outside_the_engine_runs_end_to_end(monkeypatch, n, items, T, factor):
    monkeypatch.setitem(ops.REGISTRY, "scale", ScaleOp(factor))
    in_bits = 3
    rng = np.random.default_rng(n)
    inputs = rng.integers(0, 1 << in_bits, (items, n)).astype(np.int64)
    a = arch()
    workload = _workload([Scale(factor)], inputs, T, in_bits)
    results = [simulate(a, workload, mode) for mode in ("functional", "timing")] + \
        [simulate(a, workload, "timing", batch=False)]
    want = np.repeat(inputs, T, axis=0) * factor
    out_bits = in_bits + factor.bit_length()
    act = a.holders("inputs")[-1]
    per_sample = -(-n * in_bits // act.word_bits), -(-n * out_bits // act.word_bits)
    for r in results:
        np.testing.assert_array_equal(r.outputs, want)
        assert r.ledger.get(act.name, "read_bits", operand="inputs") == items * T * n * in_bits
        assert r.ledger.get(act.name, "write_bits", operand="outputs") == items * T * n * out_bits
        assert r.ledger.get(act.name, "read_words", operand="inputs") == items * T * per_sample[0]
        assert r.ledger.get(act.name, "write_words", operand="outputs") == items * T * per_sample[1]
        assert {c for (_, c, _, _), _ in r.ledger.items()} == {act.name}  # nothing else moved or computed
        assert r.cycles == stepped_cycles(a, r.plan)  # the independent, cycle-stepped reference


@dataclass(frozen=True)
class Pointwise:
    """The workload layer: a 1x1 convolution with its own name, fields as conv2d's."""
    channels: int
    weight_bits: int
    activation: str
    output_bits: int = 1
    gain: float = None
    bias: bool = True
    bias_bits: int = 8
    type: str = "pointwise"

    def out_shape(self, shape, i):
        return shape[:2] + (self.channels,)


class PointwiseOp(Dense):
    """Neurons with weights over every position's channels: the kernel reads the input map itself (no im2col)."""
    positions = True

    def shape(self, layer, in_shape, out_shape):
        return in_shape[2], layer.channels, in_shape[0] * in_shape[1], {}

    def no_reuse(self, arch, lp):
        return "N" if not arch.mapping.weight_stationary and lp.P > 1 else ""

    def kernel_rows(self, layers, lp):
        return layers.maps[lp.index].reshape(-1, lp.n)


@pytest.mark.parametrize("stationary", [False, True])
def test_a_layer_type_with_weights_registered_outside_the_engine_runs_as_its_conv2d_twin(monkeypatch, stationary):
    """A 1x1 pointwise layer defined here is mapped, tiled, counted and timed as the built-in conv2d with kernel 1
    (the same arithmetic through another operation): same outputs, ledger and cycles, and the cycle-stepped
    reference agrees."""
    monkeypatch.setitem(ops.REGISTRY, "pointwise", PointwiseOp())
    a = arch(**{"mapping.weight_stationary": stationary, "synapse.count": 4})
    twin = workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "twin", "samples": 3, "seed": 5,
                               "batch": 2, "input": {"shape": [5, 4, 6], "bits": 1},
                               "layers": [{"type": "conv2d", "channels": 7, "kernel": 1, "weight_bits": 4,
                                           "activation": "pbit", "bias": True, "bias_bits": 8}]})
    spec = SimpleNamespace(name="toy", samples=3, seed=5, layers=[Pointwise(7, 4, "pbit")], input=twin.spec.input)
    toy = SimpleNamespace(spec=spec, inputs=twin.inputs, weights={0: twin.weights[0].reshape(7, 6)},
                          biases=twin.biases, labels=None)
    for mode in ("functional", "timing"):
        want, got = simulate(a, twin, mode), simulate(a, toy, mode)
        np.testing.assert_array_equal(got.outputs, want.outputs)
        assert got.ledger.items() == want.ledger.items()
        assert got.cycles == want.cycles == stepped_cycles(a, got.plan)
        assert got.plan.layers[0].stationary == stationary


def _compares_type(node):
    """A comparison of something's `.type` (or a layer type literal) against layer type strings."""
    if not isinstance(node, ast.Compare):
        return False
    sides = [node.left, *node.comparators]
    literals = {c.value for s in sides for c in ast.walk(s) if isinstance(c, ast.Constant)}
    return bool(literals & LAYER_TYPES) and any(isinstance(s, ast.Attribute) and s.attr == "type" for s in sides)


def test_only_operations_and_the_schema_test_layer_types():
    bad = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if rel in MAY_NAME_TYPES or rel.split("/")[0] in MAY_NAME_TYPES:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if _compares_type(node) or (isinstance(node, ast.Name) and node.id in {"Dense", "Conv2d", "Pool",
                                                                                  "Flatten", "ColourBlock"}):
                bad.append(f"{rel}:{node.lineno}")
    assert not bad, bad
