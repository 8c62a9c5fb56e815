"""Memory hierarchies: generated 2-4 level hierarchies (1-2 layers, 1-2 items: passes overlap) run with the same
cycles in the event model (batched and per tile), the pipeline recurrence and the cycle-stepped reference;
counts per level from the placement rule; v1 files converted; config errors; the stall example (a smaller local
buffer raises DRAM traffic and cycles)."""
import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim import load_arch, simulate
from archsim.config.loader import arch_from_data
from archsim.engine.stepped import stepped_cycles
from archsim.errors import ConfigError
from archsim.report.run import outputs_sha256, summarize
from archsim.sweep import set_path
from helpers import DEFAULT_ARCH, pdnn

ROOT = Path(__file__).resolve().parents[1]
ENERGY = {"value": "0.1pJ", "source": "test"}


@st.composite
def level(draw, name, holds, capacity, dram_ok=True, written=True):
    kind = draw(st.sampled_from(["dram", "sram", "regfile"] if dram_ok else ["sram", "regfile"]))
    cpa = draw(st.integers(0 if kind == "regfile" else 1, 3))
    read, write, rw = draw(st.integers(0, 1)), draw(st.integers(0, 1)), draw(st.integers(0, 2))
    if read + rw == 0 or (written and write + rw == 0):
        rw = 1
    out = {"name": name, "kind": kind, "holds": holds, "capacity": capacity,
           "word_bits": draw(st.sampled_from([8, 16, 64, 512] if kind == "dram" else [8, 16, 32, 64])),
           "banks": draw(st.integers(1, 3)), "ports": {"read": read, "write": write, "read_write": rw},
           "read_latency_cycles": draw(st.integers(0, 3)), "write_latency_cycles": draw(st.integers(0, 3)),
           "cycles_per_access": cpa, "double_buffered": draw(st.booleans()),
           "read_pj_per_bit": ENERGY, "write_pj_per_bit": ENERGY}
    shared = draw(st.sampled_from([None, True, False]))  # None: the kind's default (shared for a DRAM)
    if shared is not None:
        out["ports_share_banks"] = shared
    if kind == "dram" and draw(st.booleans()):
        out["bandwidth"] = draw(st.sampled_from([1e9, 4e9, 2e10]))  # bits/s at 200 MHz: 5 to 100 bits/cycle
    return out


@st.composite
def hierarchy_case(draw):
    """A small dense p-DNN and a hierarchy of 2-4 weight levels (the innermost the synapse registers) plus an
    activation level, sometimes shared with a weight level; capacities drawn so the weights' home varies."""
    widths = [draw(st.integers(1, 10)) for _ in range(draw(st.integers(1, 2)))]
    n_in, bws = draw(st.integers(1, 12)), [draw(st.integers(1, 6)) for _ in widths]
    layers = [{"type": "dense", "outputs": m, "weight_bits": bw, "activation": "pbit"} for m, bw in zip(widths, bws)]
    layers[-1].update(activation="linear", output_bits=16)
    fan_in = [n_in] + widths[:-1]
    total = sum(m * n * bw for m, n, bw in zip(widths, fan_in, bws))
    row = max(n * bw for n, bw in zip(fan_in, bws))
    depth = draw(st.integers(2, 4))
    levels = []
    for k in range(depth - 1):  # outer weight levels: the outermost holds everything, inner ones maybe not
        fits = k == 0 or draw(st.booleans())
        capacity = total + draw(st.integers(0, 64)) if fits else max(2 * row, total - 1)
        levels.append(draw(level(f"w{k}", ["weights"], capacity, dram_ok=k == 0)))
    levels.append(draw(level("regs", ["weights"], draw(st.integers(8, 512)), dram_ok=False)))
    T = draw(st.integers(1, 3))
    act_need = T * (max([n_in] + widths) * 16 * 2)
    if draw(st.booleans()):  # activations in an outer weight level: it serves two stages' ports
        host = levels[draw(st.integers(0, depth - 2))]
        host["holds"] = host["holds"] + ["inputs", "outputs"]
        host["capacity"] = max(host["capacity"], act_need)
    else:
        levels.insert(0, draw(level("acts", ["inputs", "outputs"], act_need, dram_ok=False)))
    data = copy.deepcopy(DEFAULT_ARCH)
    data["levels"] = levels
    data["synapse"].update(count=draw(st.integers(1, 5)), inputs_per_cycle=draw(st.integers(1, 9)),
                           kind=draw(st.sampled_from(["accumulate", "mac"])))
    data["neuron"].update(count=draw(st.integers(1, 5)), latency_cycles=draw(st.integers(0, 2)))
    data["rng"].update(count=draw(st.integers(1, 4)), bits_per_cycle=draw(st.integers(1, 16)),
                       bits_per_draw=draw(st.integers(4, 16)))
    data["mapping"].update(input_broadcast=draw(st.booleans()),
                           loop_order=draw(st.sampled_from(["auto", "samples_outer"])))
    work = pdnn(layers, n_in=n_in, in_bits=draw(st.integers(1, 3)), T=T, seed=draw(st.integers(0, 999)),
                batch=draw(st.integers(1, 2)))
    return arch_from_data(data, "<generated hierarchy>"), work


def _three_models_agree(case):
    """The recurrence (functional), the event model batched and one process per tile, the stepped reference."""
    a, w = case
    f, t, each = simulate(a, w, "functional"), simulate(a, w, "timing"), simulate(a, w, "timing", batch=False)
    assert f.ledger.items() == t.ledger.items() == each.ledger.items()
    assert outputs_sha256(f.outputs) == outputs_sha256(t.outputs) == outputs_sha256(each.outputs)
    assert f.cycles == t.cycles == each.cycles == stepped_cycles(a, t.plan)


@settings(max_examples=25)
@given(hierarchy_case())
def test_event_model_recurrence_and_stepped_reference_agree_on_n_levels(case):
    _three_models_agree(case)


@pytest.mark.slow
@settings(max_examples=500)
@given(hierarchy_case())
def test_event_model_recurrence_and_stepped_reference_agree_on_many_n_level_cases(case):
    _three_models_agree(case)


@settings(max_examples=25)
@given(hierarchy_case())
def test_each_hop_moves_the_weights_once_per_pass_and_departures_are_explained(case):
    """Per level, from the placement rule alone: the home is the innermost non-register level holding all
    weights; every level inside it is written and read the weights' bits (x T when samples outer)."""
    a, w = case
    result = simulate(a, w, "functional")
    chain = [lv.name for lv in a.levels if "weights" in lv.holds]
    total = sum(int(np.asarray(x).size) * lp.bw for lp, x in
                ((lp, w.weights[lp.index]) for lp in result.plan.layers))
    home = [n for n in chain[:-1] if a.level(n).capacity >= total][-1]
    assert result.plan.weight_home == home
    for lp in result.plan.layers:
        bits = w.inputs.shape[0] * lp.m * lp.n * lp.bw * (w.spec.samples if lp.loop_order == "samples_outer" else 1)
        inner = chain[chain.index(home) + 1:-1]
        assert result.ledger.get(home, "read_bits", lp.index) >= bits  # plus activations when it holds them
        for name in inner:
            assert result.ledger.get(name, "write_bits", lp.index) >= bits
    assert summarize(result)[0]["departures_explained"]


def test_v1_files_convert_to_the_same_counts_energy_and_cycles(tmp_path):
    """A v1 file (the default's levels written the old way) runs exactly as its v2 form."""
    v2 = arch_from_data(copy.deepcopy(DEFAULT_ARCH))
    lv = {x.name: x.model_dump(mode="json", exclude={"name", "holds", "ports", "double_buffered"})
          for x in v2.levels}
    mem = lambda d: {k: v for k, v in d.items() if v is not None}  # noqa: E731
    v1 = {"schema_version": 1, "kind": "arch", "name": "v1", "clock": "200MHz",
          "weight_mem": mem(lv["weight_mem"]), "act_mem": mem(lv["act_mem"]),
          "weight_buffer": {"capacity": "8Kib", "double_buffered": True, "read_pj_per_bit": ENERGY,
                            "write_pj_per_bit": ENERGY},
          "synapse": DEFAULT_ARCH["synapse"],
          "neuron": {**DEFAULT_ARCH["neuron"], "rng": {"model": "counter", "bits_per_draw": 16,
                                                       "draw_pj": DEFAULT_ARCH["rng"]["draw_pj"]}}}
    old = arch_from_data(v1, "<v1>")
    assert [x.name for x in old.levels] == ["weight_mem", "act_mem", "weight_buf"]
    new = copy.deepcopy(DEFAULT_ARCH)
    new["levels"] = [x for x in new["levels"] if x["name"] != "dram"]
    set_path(new, "levels[weight_buf].read_pj_per_bit", ENERGY)
    set_path(new, "levels[weight_buf].write_pj_per_bit", ENERGY)
    new = arch_from_data(new)
    w = pdnn([{"type": "dense", "outputs": 20, "weight_bits": 4, "activation": "pbit"}], n_in=30, T=3, batch=2)
    a, b = simulate(old, w, "timing"), simulate(new, w, "timing")
    assert a.cycles == b.cycles and a.ledger.items() == b.ledger.items()
    assert summarize(a)[0]["energy_pj"] == summarize(b)[0]["energy_pj"]


@pytest.mark.parametrize("change, words", [
    ({"levels[act_mem].holds": ["weights"]}, ["inputs", "outputs", "held by no level"]),
    ({"levels[weight_mem].holds": ["weights", "biases"]}, ["levels[weight_mem].holds[1]", "'couplings'"]),
    ({"levels[weight_buf].holds": []}, ["levels[weight_buf].holds", "unreachable", "couplings"]),
    ({"levels[act_mem].holds": ["inputs"]}, ["levels[act_mem]", "must hold outputs"]),
    ({"levels[weight_buf].name": "dram"}, ["unique", "dram"]),
    ({"levels[act_mem].ports": {"read": 0, "write": 0, "read_write": 0}}, ["levels[act_mem].ports", "at least one"]),
    ({"rng.pj_per_bit": ENERGY}, ["rng", "exactly one of draw_pj"]),
    ({"levels[dram].kind": "flash"}, ["levels[dram].kind", "'dram', 'sram' or 'regfile'"]),
])
def test_bad_levels_name_file_field_and_allowed_values(change, words):
    data = copy.deepcopy(DEFAULT_ARCH)
    for path, value in change.items():
        set_path(data, path, value)
    with pytest.raises(ConfigError) as err:
        arch_from_data(data, "my-arch.yaml")
    text = str(err.value)
    assert text.startswith("my-arch.yaml")
    for word in words:
        assert word in text, text


def test_every_shipped_config_is_version_2():
    for path in sorted((ROOT / "configs").glob("*.yaml")) + [ROOT / "archsim" / "config" / "default.yaml"]:
        assert yaml.safe_load(path.read_text())["schema_version"] == 2, path
        load_arch(path)


def test_fewer_rng_bits_than_the_neurons_draw_cost_cycles():
    w = pdnn([{"type": "dense", "outputs": 16, "weight_bits": 4, "activation": "pbit"}], n_in=16, T=4)
    data = copy.deepcopy(DEFAULT_ARCH)
    fast = simulate(arch_from_data(data), w, "timing")
    data["rng"].update(count=1, bits_per_cycle=1)  # 16 neurons x 16 bits per sample from one bit per cycle
    slow = simulate(arch_from_data(data), w, "timing")
    assert slow.cycles > fast.cycles and slow.ledger.items() == fast.ledger.items()
    assert slow.cycles == stepped_cycles(slow.arch, slow.plan)


def test_smaller_local_buffer_raises_dram_traffic_and_cycles():
    """The stall example: on the bandwidth-bound DRAM of configs/three-level.yaml, weights that no longer fit
    the local buffer are re-read from DRAM for every sample, and the synapses wait for them."""
    w = pdnn([{"type": "dense", "outputs": 64, "weight_bits": 8, "activation": "pbit"},
              {"type": "dense", "outputs": 10, "weight_bits": 8, "activation": "linear", "output_bits": 24}],
             n_in=2048, T=4)
    data = yaml.safe_load((ROOT / "configs" / "three-level.yaml").read_text())
    set_path(data, "levels[global_buf].capacity", "64KiB")  # the weights (1 Mib) stay in DRAM
    runs = []
    for capacity in ("64Kib", "16Kib"):  # a 16 Kib row fits a slot of the first, not of the second
        set_path(data, "levels[local_buf].capacity", capacity)
        runs.append(simulate(arch_from_data(data), w, "timing"))
    big, small = runs
    assert big.plan.weight_home == small.plan.weight_home == "dram"
    assert small.ledger.get("dram", "read_bits") > big.ledger.get("dram", "read_bits")
    assert small.cycles > big.cycles


def _dram_only(ports, shared=None):
    """A DRAM holding weights and activations, in front of the synapses' weight registers."""
    data = copy.deepcopy(DEFAULT_ARCH)
    dram = next(lv for lv in data["levels"] if lv["kind"] == "dram")
    dram.update(holds=["weights", "inputs", "outputs"], ports=ports)
    if shared is not None:
        dram["ports_share_banks"] = shared
    data["levels"] = [dram] + [lv for lv in data["levels"] if lv["kind"] == "regfile"]
    return arch_from_data(data, "<dram-only>")


def test_ports_that_share_the_banks_take_turns():
    """A DRAM's ports share its channel: with two read ports and a write port, the weight stream and the compute
    phase's activation traffic take turns on it, exactly as on a single port; as a multi-port memory (ports not
    sharing the banks) they overlap and the run is shorter."""
    w = pdnn([{"type": "dense", "outputs": 64, "weight_bits": 4, "activation": "pbit"}], n_in=64, T=4)
    multi = {"read": 2, "write": 1}
    shared, one_port, separate = (simulate(_dram_only(p, s), w, "timing") for p, s in
                                  ((multi, None), ({"read_write": 1}, None), (multi, False)))
    assert shared.cycles == one_port.cycles == stepped_cycles(shared.arch, shared.plan)
    assert separate.cycles < shared.cycles
    assert separate.cycles == stepped_cycles(separate.arch, separate.plan)
    assert shared.ledger.items() == one_port.ledger.items() == separate.ledger.items()


def _readme_commands(section):
    text = (ROOT / "README.md").read_text()
    body = text.split(f"### {section}\n", 1)[1].split("\n### ", 1)[0]
    return [line.strip().split("  #")[0].split() for line in body.splitlines() if line.startswith("    archsim ")]


@pytest.mark.slow
def test_readme_memory_hierarchy_commands_run(tmp_path):
    import json
    import subprocess
    import sys
    commands = _readme_commands("Memory hierarchies")
    assert len(commands) == 4
    for k, cmd in enumerate(commands):
        out = ["--out", str(tmp_path / str(k))]
        r = subprocess.run([sys.executable, "-m", "archsim", *cmd[1:], *([] if "--out" in cmd else out)],
                           capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0, r.stderr
    import pandas as pd
    sweep = pd.read_csv(tmp_path / "3" / "results.csv").sort_values("point")
    dram = sweep["energy_pj.dram"]
    assert sweep["cycles"].is_monotonic_increasing and dram.iloc[-1] > dram.iloc[0]
    assert json.loads((tmp_path / "2" / "summary.json").read_text())["departures_explained"]


def test_a_single_weight_level_is_the_weights_home_read_every_sample():
    """With one level holding weights (the innermost, weights only), there is nothing to fill it from: it is the
    weights' home and the synapses read it for every sample (n x bw bits per output and sample), not a register
    file filled by a transfer."""
    T, n, m, bw = 3, 16, 8, 4
    w = pdnn([{"type": "dense", "outputs": m, "weight_bits": bw, "activation": "pbit"}], n_in=n, T=T)
    data = copy.deepcopy(DEFAULT_ARCH)
    data["levels"] = [lv for lv in data["levels"] if lv["name"] in ("act_mem", "weight_buf")]
    for lv in data["levels"]:
        if lv["name"] == "weight_buf":
            lv["holds"] = ["weights"]
    a = arch_from_data(data)
    result = simulate(a, w, "timing")
    reads = dict(((c, act, op), v) for (lay, c, act, op), v in result.ledger.items())
    assert reads[("weight_buf", "read_bits", "weights")] == T * m * n * bw
    assert not any(c == "weight_buf" and act.startswith("write") for c, act, _ in reads)
    assert result.cycles == simulate(a, w, "functional").cycles == stepped_cycles(a, result.plan)
    summarize(result)  # the eps_EO comparison names the single weight level as eps_wM's memory
