"""Convolutions and pooling against independent oracles: direct convolution (no im2col) and pooling in NumPy
for the bits; eps_EO with the mapping's reuse factors for the counts; the cycle-stepped model for cycles."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from archsim import simulate
from archsim.engine.plan import make_plan
from archsim.engine.stepped import stepped_cycles
from archsim.kernels import reference
from archsim.report.run import outputs_sha256, summarize
from archsim.workload.loader import workload_from_data
from helpers import arch

MAPPINGS = {"no-reuse": {}, "stationary": {"mapping.weight_stationary": True},
            "broadcast+stationary": {"mapping.weight_stationary": True, "mapping.input_broadcast": True},
            "samples-outer": {"mapping.loop_order": "samples_outer"}}


@st.composite
def conv_net(draw, max_side=7):
    H, W = draw(st.integers(3, max_side)), draw(st.integers(3, max_side))
    C = draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 1))
    stride = draw(st.integers(1, 2))
    act = draw(st.sampled_from(["pbit", "noisy", "quantized"]))
    conv = {"type": "conv2d", "channels": draw(st.integers(1, 5)), "kernel": k, "stride": stride, "padding": pad,
            "weight_bits": draw(st.integers(1, 6)), "activation": act, "bias": draw(st.booleans()),
            "bias_bits": draw(st.integers(2, 8))}
    if act != "pbit":
        conv["output_bits"] = draw(st.integers(1, 3))
    layers = [conv]
    Ho = (H + 2 * pad - k) // stride + 1
    Wo = (W + 2 * pad - k) // stride + 1
    if draw(st.booleans()) and min(Ho, Wo) >= 2:
        layers.append({"type": draw(st.sampled_from(["maxpool", "avgpool"])), "kernel": 2})
    layers.append({"type": "flatten"})
    layers.append({"type": "dense", "outputs": draw(st.integers(1, 4)), "weight_bits": 6, "activation": "linear",
                   "output_bits": 24})
    mac = act != "pbit" or any(layer["type"] == "avgpool" for layer in layers) or draw(st.booleans())
    return {"schema_version": 1, "kind": "pdnn", "name": "conv", "samples": draw(st.integers(1, 3)),
            "seed": draw(st.integers(0, 10**6)), "batch": draw(st.integers(1, 2)),
            "input": {"shape": [H, W, C], "bits": 1}, "layers": layers}, mac


def reference_chain(result):
    """The network evaluated by kernels.reference alone: direct convolution, reference pooling, dense."""
    plan, T = result.plan, result.plan.samples
    a = np.repeat(result.workload.inputs, T, axis=0)
    for lp in plan.layers:
        if lp.type == "conv2d":
            a = a.reshape((-1,) + tuple(lp.in_shape))
            a, _, _ = reference.conv2d_layer(a, result.workload.weights[lp.index], lp.stride, lp.padding,
                                             lp.kind_code, lp.table, plan.table_bits, lp.shift, lp.ba_out,
                                             plan.rng_bits, plan.seed, lp.index, T,
                                             result.workload.biases.get(lp.index))
        elif lp.type in ("maxpool", "avgpool"):
            a = reference.pool2d(a.reshape((-1,) + tuple(lp.in_shape)), lp.kernel, lp.kernel, lp.stride,
                                 lp.type == "maxpool")
        elif lp.type == "dense":
            a, _, _ = reference.dense_layer(a.reshape(a.shape[0], -1), result.workload.weights[lp.index],
                                            lp.kind_code, lp.table, plan.table_bits, lp.shift, lp.ba_out,
                                            plan.rng_bits, plan.seed, lp.index, T,
                                            result.workload.biases.get(lp.index))
    return a.reshape(a.shape[0], -1)


@given(conv_net(), st.sampled_from(sorted(MAPPINGS)))
def test_conv_net_bit_exact_and_modes_agree(case, mapping):
    spec, mac = case
    a = arch(**{**MAPPINGS[mapping], "synapse.kind": "mac" if mac else "accumulate"})
    w = workload_from_data(spec)
    f, t, each = simulate(a, w, "functional"), simulate(a, w, "timing"), simulate(a, w, "timing", batch=False)
    np.testing.assert_array_equal(f.outputs, reference_chain(f))
    assert outputs_sha256(f.outputs) == outputs_sha256(t.outputs) == outputs_sha256(each.outputs)
    assert f.ledger.items() == t.ledger.items() == each.ledger.items() and f.cycles == t.cycles == each.cycles
    assert t.cycles == stepped_cycles(a, make_plan(a, w))


@given(conv_net(), st.sampled_from(sorted(MAPPINGS)))
def test_counts_equal_the_mappings_prediction(case, mapping):
    spec, mac = case
    a = arch(**{**MAPPINGS[mapping], "synapse.kind": "mac" if mac else "accumulate"})
    result = simulate(a, workload_from_data(spec), "functional")
    summary, tables_ = summarize(result)
    assert summary["departures_explained"], tables_["analytic"].query("not explained")
    if mapping == "no-reuse" and not spec["layers"][0]["bias"]:  # the paper's building block
        assert summary["counts_match_analytic"]


def test_stationary_weights_counted_once_per_channel_per_item():
    """A 6x6x2 input, 3x3 kernel, 4 channels: 16 positions; weight bits read = channels*9*2*bw per item
    instead of eps_EO's positions times that."""
    spec = {"schema_version": 1, "kind": "pdnn", "name": "c", "samples": 2, "seed": 1, "batch": 2,
            "input": {"shape": [6, 6, 2], "bits": 1},
            "layers": [{"type": "conv2d", "channels": 4, "kernel": 3, "weight_bits": 4, "activation": "pbit"}]}
    bw, n, P, B = 4, 3 * 3 * 2, 16, 2
    stationary = simulate(arch(**{"mapping.weight_stationary": True}), workload_from_data(spec))
    no_reuse = simulate(arch(), workload_from_data(spec))
    assert stationary.ledger.get("weight_mem", "read_bits") == B * 4 * n * bw
    assert no_reuse.ledger.get("weight_mem", "read_bits") == B * 4 * P * n * bw
    assert no_reuse.ledger.get("act_mem", "read_bits") == B * 4 * P * 2 * n  # T = 2 samples, 1-bit inputs
    cause = summarize(stationary)[1]["analytic"].query("component == 'weight_mem'").cause.iloc[0]
    assert "weight stationary" in cause and "16 output positions" in cause


@given(st.integers(1, 3), st.integers(2, 6), st.integers(2, 6), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 2), st.booleans(), st.integers(0, 2**20))
def test_pool_kernel_matches_reference(n, H, W, C, k, stride, is_max, seed):
    from archsim.kernels.pool import pool2d
    k = min(k, H, W)
    a = np.random.default_rng(seed).integers(0, 8, (n, H, W, C)).astype(np.int64)
    want = reference.pool2d(a, k, k, stride, is_max)
    got = np.zeros_like(want)
    pool2d(a, k, k, stride, is_max, got)
    np.testing.assert_array_equal(got, want)


def test_conv_shape_errors_name_the_layer():
    import pytest
    from archsim.errors import ConfigError
    spec = {"schema_version": 1, "kind": "pdnn", "name": "c", "samples": 1, "input": {"size": 16},
            "layers": [{"type": "conv2d", "channels": 2, "kernel": 3, "weight_bits": 4, "activation": "pbit"}]}
    with pytest.raises(ConfigError, match=r"layers\[0\]: conv2d needs an image input"):
        workload_from_data(spec)
    spec["input"] = {"shape": [2, 2, 1]}
    with pytest.raises(ConfigError, match="kernel 3 does not fit"):
        workload_from_data(spec)
