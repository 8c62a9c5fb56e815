"""The engine against its oracles: eps_EO counts (computed here from the formula), mode and thread agreement,
the cycle-stepped reference, departures explained by the mapping, overflow detection."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archsim import simulate
from archsim.energy.table import energy_frame
from archsim.engine.plan import make_plan
from archsim.engine.stepped import stepped_cycles
from archsim.errors import ArchsimError, OverflowError_
from archsim.report.run import outputs_sha256, summarize
from helpers import arch, pdnn

ACTS = ["pbit", "noisy", "quantized"]


@st.composite
def dense_net(draw, last_linear=True, max_width=40):
    depth = draw(st.integers(1, 3))
    layers = []
    for i in range(depth):
        last = i == depth - 1
        act = "linear" if (last and last_linear) else draw(st.sampled_from(["pbit"]))
        layer = {"type": "dense", "outputs": draw(st.integers(1, max_width)),
                 "weight_bits": draw(st.integers(1, 8)), "activation": act}
        if act == "linear":
            layer["output_bits"] = 24
        layers.append(layer)
    return dict(layers=layers, n_in=draw(st.integers(1, max_width)), T=draw(st.integers(1, 6)),
                seed=draw(st.integers(0, 10**9)), batch=draw(st.integers(1, 3)))


def formula_counts(net):
    """eps_EO terms per layer, from the formula alone: (weight read bits, act read bits, act write bits,
    neuron samples, rng draws)."""
    T, B, n, ba = net["T"], net["batch"], net["n_in"], 1
    out = []
    for layer in net["layers"]:
        m, bw = layer["outputs"], layer["weight_bits"]
        bo = layer.get("output_bits", 1)
        out.append((B * m * n * bw, B * m * T * n * ba, B * m * T * bo, B * m * T,
                    B * m * T if layer["activation"] in ("pbit", "noisy") else 0))
        n, ba = m, bo
    return out


def ledger_counts(result):
    led = result.ledger
    return [(led.get("weight_mem", "read_bits", i), led.get("act_mem", "read_bits", i),
             led.get("act_mem", "write_bits", i), led.get("neuron", "samples", i), led.get("rng", "draws", i))
            for i in range(len(result.plan.layers))]


@given(dense_net())
def test_default_arch_meets_eps_eo_exactly(net):
    result = simulate(arch(), pdnn(**net), "functional")
    assert ledger_counts(result) == formula_counts(net)
    summary, _ = summarize(result)
    assert summary["counts_match_analytic"]
    assert abs(summary["energy_pj"] - summary["analytic_energy_pj"]) <= 1e-9 * summary["analytic_energy_pj"]


@given(dense_net())
def test_selected_adds_equal_ones_in_the_inputs(net):
    result = simulate(arch(), pdnn(**net), "functional")
    for lp in result.plan.layers:
        ones = int(np.count_nonzero(result.activations[lp.index]))
        assert result.ledger.get("synapse", "adds", lp.index) == ones * lp.m


@given(dense_net(), st.sampled_from(["default", "broadcast", "outer", "mac"]))
def test_functional_and_timing_agree(net, variant):
    a = {"default": arch(), "broadcast": arch(**{"mapping.input_broadcast": True}),
         "outer": arch(**{"mapping.loop_order": "samples_outer"}),
         "mac": arch(**{"synapse.kind": "mac"})}[variant]
    w = pdnn(**net)
    f, t = simulate(a, w, "functional"), simulate(a, w, "timing")
    assert f.ledger.items() == t.ledger.items()
    assert outputs_sha256(f.outputs) == outputs_sha256(t.outputs)
    assert f.cycles == t.cycles


@st.composite
def small_arch(draw):
    act_cpa, weight_cpa = draw(st.integers(0, 3)), draw(st.integers(0, 3))  # 0: a combinational register file
    return arch(**{
        "levels[act_mem].kind": "regfile" if act_cpa == 0 else "sram",
        "levels[act_mem].cycles_per_access": act_cpa,
        "levels[weight_mem].kind": "regfile" if weight_cpa == 0 else "sram",
        "levels[weight_mem].cycles_per_access": weight_cpa,
        "levels[weight_mem].word_bits": draw(st.sampled_from([8, 16, 32, 64])),
        "levels[weight_mem].banks": draw(st.integers(1, 3)),
        "levels[weight_mem].read_latency_cycles": draw(st.integers(0, 4)),
        "levels[act_mem].word_bits": draw(st.sampled_from([8, 16, 32, 64])),
        "levels[act_mem].banks": draw(st.integers(1, 3)),
        "levels[act_mem].read_latency_cycles": draw(st.integers(0, 3)),
        "levels[act_mem].write_latency_cycles": draw(st.integers(0, 3)),
        "levels[weight_buf].capacity": draw(st.integers(64, 4096)),
        "levels[weight_buf].double_buffered": draw(st.booleans()),
        "synapse.count": draw(st.integers(1, 6)),
        "synapse.inputs_per_cycle": draw(st.integers(1, 9)),
        "neuron.count": draw(st.integers(1, 6)),
        "neuron.latency_cycles": draw(st.integers(0, 3)),
        "mapping.input_broadcast": draw(st.booleans()),
        "mapping.loop_order": draw(st.sampled_from(["auto", "samples_outer"])),
    })


@given(small_arch(), dense_net(max_width=12))
def test_event_model_cycles_equal_cycle_stepped_reference(a, net):
    net["T"] = min(net["T"], 3)
    w = pdnn(**net)
    timing = simulate(a, w, "timing")
    assert timing.cycles == stepped_cycles(a, make_plan(a, w))
    assert simulate(a, w, "functional").cycles == timing.cycles == simulate(a, w, "timing", batch=False).cycles


def test_broadcast_departure_is_named_and_predicted():
    net = dict(layers=[{"type": "dense", "outputs": 40, "weight_bits": 4, "activation": "pbit"}], n_in=20, T=3)
    a = arch(**{"mapping.input_broadcast": True, "synapse.count": 16, "neuron.count": 16})
    summary, tables = summarize(simulate(a, pdnn(**net), "timing"))
    assert not summary["counts_match_analytic"] and summary["departures_explained"]
    row = tables["analytic"].query("component == 'act_mem' and action == 'read_bits'").iloc[0]
    assert row.eps_eo_count == 40 * 3 * 20 and row.simulated_count == 3 * 3 * 20  # ceil(40/16) = 3 tiles: 16, 16, 8
    assert "broadcast" in row.cause


def test_samples_outer_rereads_weights_and_says_why():
    net = dict(layers=[{"type": "dense", "outputs": 4, "weight_bits": 8, "activation": "pbit"}], n_in=64, T=5)
    a = arch(**{"levels[weight_buf].capacity": 256})  # one neuron's weights (512 bits) exceed a 128-bit slot
    result = simulate(a, pdnn(**net), "timing")
    assert result.plan.layers[0].loop_order == "samples_outer"
    assert result.ledger.get("weight_mem", "read_bits") == 5 * 4 * 64 * 8
    summary, tables = summarize(result)
    assert summary["departures_explained"] and "samples outer" in " ".join(summary["departures"])


def test_tile_shrinks_to_fit_buffer():
    net = dict(layers=[{"type": "dense", "outputs": 16, "weight_bits": 4, "activation": "pbit"}], n_in=32, T=2)
    a = arch(**{"levels[weight_buf].capacity": 1024, "levels[weight_buf].double_buffered": False})  # 8 rows of 128 bits
    lp = simulate(a, pdnn(**net), "functional").plan.layers[0]
    assert (lp.group, lp.loop_order) == (8, "samples_inner")


def test_accumulator_overflow_is_an_error_naming_the_width():
    net = dict(layers=[{"type": "dense", "outputs": 4, "weight_bits": 8, "activation": "linear",
                        "output_bits": 32}], n_in=64, in_bits=1, T=1)
    with pytest.raises(OverflowError_, match="accumulator_bits is 6"):
        simulate(arch(**{"synapse.accumulator_bits": 6}), pdnn(**net), "functional")


def test_linear_output_overflow_is_an_error():
    net = dict(layers=[{"type": "dense", "outputs": 4, "weight_bits": 8, "activation": "linear",
                        "output_bits": 3}], n_in=64, T=1)
    with pytest.raises(OverflowError_, match="output_bits = 3"):
        simulate(arch(), pdnn(**net), "functional")


def test_multibit_inputs_on_accumulate_synapses_are_bit_serial():
    """ba-bit inputs on accumulate-only synapses: ba passes of selected adds; the adds are the set bits of the
    inputs (counted here from their binary strings), the outputs those of the reference's integer sums."""
    from archsim.kernels import reference
    net = dict(layers=[{"type": "dense", "outputs": 5, "weight_bits": 4, "activation": "linear",
                        "output_bits": 24}], n_in=9, in_bits=4, T=2, batch=3)
    w = pdnn(**net)
    result = simulate(arch(), w, "timing")
    ones = sum(bin(int(v)).count("1") for v in w.inputs.reshape(-1))
    assert result.ledger.get("synapse", "adds") == 2 * 5 * ones  # T x outputs x set input bits
    assert result.ledger.get("synapse", "macs") == 0
    lp = result.plan.layers[0]
    want, _, _ = reference.dense_layer(np.repeat(w.inputs, 2, axis=0), w.weights[0], lp.kind_code, lp.table,
                                       result.plan.table_bits, lp.shift, lp.ba_out, result.plan.rng_bits,
                                       result.plan.seed, 0, 2)
    np.testing.assert_array_equal(result.outputs, want)
    assert summarize(result)[0]["counts_match_analytic"]
    mac = simulate(arch(**{"synapse.kind": "mac"}), w)
    assert mac.ledger.get("synapse", "macs") == 3 * 2 * 5 * 9  # items * T * m * n
    np.testing.assert_array_equal(mac.outputs, result.outputs)


def test_bit_serial_passes_cost_cycles():
    net = dict(layers=[{"type": "dense", "outputs": 4, "weight_bits": 4, "activation": "pbit"}], n_in=64, T=3)
    one, four = (simulate(arch(), pdnn(**net, in_bits=b), "timing") for b in (1, 4))
    assert four.cycles > one.cycles
    assert four.cycles == stepped_cycles(four.arch, four.plan)


def test_weights_beyond_every_level_are_rejected_naming_them():
    net = dict(layers=[{"type": "dense", "outputs": 64, "weight_bits": 8, "activation": "pbit"}], n_in=1024)
    with pytest.raises(ArchsimError, match=r"levels\[dram\]\.capacity = 65536 bits, levels\[weight_mem\]"):
        simulate(arch(**{"levels[dram].capacity": "8KiB"}), pdnn(**net))


def test_weights_too_big_for_sram_stream_from_dram():
    """80 x 512 8-bit weights exceed weight_mem: every tile (one row fits a weight_buf slot) moves DRAM ->
    weight_mem -> weight_buf once per item; weight_mem is read exactly as eps_EO reads its weight memory; the
    extra traffic is a named departure."""
    net = dict(layers=[{"type": "dense", "outputs": 80, "weight_bits": 8, "activation": "pbit"}], n_in=512, T=3,
               batch=2)
    result = simulate(arch(), pdnn(**net), "timing")
    bits = 2 * 80 * 512 * 8
    led = result.ledger
    assert (led.get("dram", "read_bits"), led.get("weight_mem", "write_bits"), led.get("weight_mem", "read_bits")) \
        == (bits, bits, bits)
    assert result.plan.weight_home == "dram"
    assert simulate(arch(), pdnn(**net), "functional").cycles == result.cycles
    summary, tables = summarize(result)
    assert not summary["counts_match_analytic"] and summary["departures_explained"]
    assert any("stream from dram" in d for d in summary["departures"])
    assert any(d.startswith("dram read_bits") and "% of the energy" in d for d in summary["departures"])


def test_energy_is_counts_times_table():
    result = simulate(arch(), pdnn(**dense_net_example()), "functional")
    frame = energy_frame(result.arch, result.plan, result.ledger)
    reads = frame.query("component == 'weight_mem' and action == 'read_bits'")
    assert np.allclose(reads.energy_pj, reads["count"] * result.arch.level("weight_mem").read_pj_per_bit.value)


def dense_net_example():
    return dict(layers=[{"type": "dense", "outputs": 8, "weight_bits": 4, "activation": "pbit"},
                        {"type": "dense", "outputs": 3, "weight_bits": 8, "activation": "linear",
                         "output_bits": 16}], n_in=16, T=4)


def test_outputs_independent_of_numba_thread_count(tmp_path):
    """Separate processes with NUMBA_NUM_THREADS 1 and 2 produce the same outputs hash."""
    code = ("from archsim import *; from archsim.report.run import outputs_sha256;"
            "print(outputs_sha256(simulate(load_arch(), load_workload(samples=16), 'timing').outputs))")
    hashes = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env=dict(os.environ, NUMBA_NUM_THREADS=str(k))).stdout for k in (1, 2)}
    assert len(hashes) == 1


def test_bias_is_read_with_the_weights_and_named_as_a_departure(tmp_path):
    import numpy as np
    import yaml
    from archsim import load_workload
    np.savez(tmp_path / "w.npz", layer0=np.ones((3, 5), int), bias0=np.array([-4, 0, 7]))
    spec = {"schema_version": 1, "kind": "pdnn", "name": "b", "samples": 2, "weights": "w.npz",
            "input": {"size": 5, "bits": 1},
            "layers": [{"type": "dense", "outputs": 3, "weight_bits": 4, "activation": "linear", "output_bits": 16,
                        "bias": True, "bias_bits": 8}]}
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(spec))
    w = load_workload(tmp_path / "b.yaml")
    result = simulate(arch(), w, "timing")
    ones = w.inputs[0].sum()
    assert result.outputs[0].tolist() == [ones - 4, ones, ones + 7]  # bias + sum of the selected unit weights
    assert result.ledger.get("weight_mem", "read_bits") == 3 * (5 * 4 + 8)
    summary, _ = summarize(result)
    assert not summary["counts_match_analytic"] and summary["departures_explained"]
    assert any("bias: 8 bits" in d for d in summary["departures"])


@given(dense_net(), st.sampled_from(["functional", "timing"]))
def test_progress_counts_every_layer_pass_and_changes_nothing(net, mode):
    """A progress callback sees items x layers passes in all, and the run is the same run."""
    w = pdnn(net["layers"], net["n_in"], T=net["T"], seed=net["seed"], batch=net["batch"])
    seen = []
    plain, reported = simulate(arch(), w, mode), simulate(arch(), w, mode, progress=seen.append)
    assert sum(seen) == net["batch"] * len(net["layers"])
    assert plain.cycles == reported.cycles and plain.ledger.items() == reported.ledger.items()
    assert outputs_sha256(plain.outputs) == outputs_sha256(reported.outputs)
