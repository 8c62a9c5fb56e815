"""Activations homed in an outer level with their tiles staged through the inner ones (configs/dram-activations.yaml):
the planner's default placement, the counts per level against the count model and the brute-force loop-nest walk
(tests/test_loopnest.py), the three timing models against each other, outputs against the single-level run, the
pipeline rules of a staged tile worked by hand, and bad mapping files through the CLI."""
import copy
import itertools
import re

import numpy as np
import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from archsim import load_arch, load_workload, simulate
from archsim.cli import main
from archsim.config.loader import arch_from_data
from archsim.engine.stepped import stepped_cycles
from archsim.hw.timing import Pipeline, Stage
from archsim.mapping.loopnest import Level
from archsim.sweep import set_path
from archsim.workload.loader import workload_from_data
from test_loopnest import BIG, brute_force
from test_mapping_exec import OPERANDS, _per_operand

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
DRAM_ACTS = yaml.safe_load((ROOT / "configs" / "dram-activations.yaml").read_text())

CNN = {"schema_version": 1, "kind": "pdnn", "name": "small-cnn", "samples": 2, "seed": 1, "batch": 2,
       "input": {"shape": [6, 6, 2], "bits": 4},
       "layers": [{"type": "conv2d", "channels": 4, "kernel": 3, "padding": 1, "weight_bits": 4, "activation": "pbit"},
                  {"type": "maxpool", "kernel": 2}, {"type": "flatten"},
                  {"type": "dense", "outputs": 20, "weight_bits": 4, "activation": "pbit"},
                  {"type": "dense", "outputs": 3, "weight_bits": 8, "activation": "linear", "output_bits": 24}]}


def _arch(global_buf_capacity):
    data = copy.deepcopy(DRAM_ACTS)
    set_path(data, "levels[global_buf].capacity", global_buf_capacity)
    return arch_from_data(data, "<dram-activations>")


def _work():
    return workload_from_data(copy.deepcopy(CNN), "<small cnn>")


def test_activations_too_large_for_the_buffer_are_homed_in_dram_and_staged():
    """A 640-bit global buffer cannot hold the first layer's 864 activation bits: they live in DRAM, every layer
    with weights stages its tiles through the buffer; counts per level and operand are the count model's and the
    brute-force walk's; the batched and per-tile event models and the stepped reference give the same cycles;
    the outputs are those of the run that keeps the activations in the global buffer."""
    arch, work = _arch(640), _work()
    result = simulate(arch, work, "functional")
    assert result.plan.act_level == "dram"
    items = work.inputs.shape[0]
    for lp in (lp for lp in result.plan.layers if lp.is_eo):
        assert (lp.in_hops, lp.out_hops) == ((("dram", "global_buf"),), (("global_buf", "dram"),))
        assert (lp.in_level, lp.out_level) == ("global_buf", "global_buf")
        assert "staged through global_buf" in lp.reason
        op, levels, mapping = lp.nest
        oracle = _per_operand(brute_force(op, [Level(lv.name, BIG, lv.holds) for lv in levels], mapping))
        for lv, operand, action in itertools.product(levels, OPERANDS, ("read_bits", "write_bits")):
            want = items * oracle.get((lv.name, operand, action), 0)
            assert result.ledger.get(lv.name, action, lp.index, operand) == want, (lp.index, lv.name, operand)
    timing = simulate(arch, work, "timing")
    per_tile = simulate(arch, work, "timing", batch=False)
    assert timing.ledger.items() == per_tile.ledger.items() == result.ledger.items()
    assert result.cycles == timing.cycles == per_tile.cycles == stepped_cycles(arch, result.plan)
    single = simulate(_arch("32KiB"), work, "functional")
    assert single.plan.act_level == "global_buf"
    assert all(not lp.in_hops and not lp.out_hops for lp in single.plan.layers)
    np.testing.assert_array_equal(result.outputs, single.outputs)


def test_activations_that_fit_the_buffer_keep_the_planner_unchanged():
    """configs/dram-activations.yaml with a network whose activations fit its 32 KiB buffer: they live there, no
    tile is staged, and the run counts and takes what configs/three-level.yaml with the same buffer does."""
    work = load_workload(str(ROOT / "workloads" / "tiny.yaml"))
    staged_ok = simulate(load_arch(str(ROOT / "configs" / "dram-activations.yaml")), work, "timing")
    data = yaml.safe_load((ROOT / "configs" / "three-level.yaml").read_text())
    set_path(data, "levels[global_buf].capacity", "32KiB")
    for lv in data["levels"]:
        if lv["name"] == "global_buf":
            lv["read_pj_per_bit"], lv["write_pj_per_bit"] = DRAM_ACTS["levels"][1]["read_pj_per_bit"], \
                DRAM_ACTS["levels"][1]["write_pj_per_bit"]
    plain = simulate(arch_from_data(data, "<three-level 32 KiB>"), work, "timing")
    assert staged_ok.plan.act_level == "global_buf"
    assert all(not lp.in_hops and not lp.out_hops for lp in staged_ok.plan.layers)
    assert staged_ok.ledger.items() == plain.ledger.items() and staged_ok.cycles == plain.cycles


def test_a_pass_reads_the_activations_home_after_the_previous_pass_drained_it():
    """Worked by hand: an input hop (waits for the previous pass), compute, a drain; one tile per pass.
    Pass 1, stage cycles (3, 5, 4): 0-3, 3-8, 8-12. Pass 2, (2, 5, 4): its input hop waits for 12: 12-14, 14-19,
    19-23. Without the wait it would start as soon as the buffer's input slot frees (pass 1's compute ends at 8):
    8-10, 10-15, 15-19."""
    hop = Stage(("inputs", "dram", "buf"), ("level", "buf", "inputs"), 1, (), 1, True)
    stages = (hop, Stage(("compute",), None, 0, (), None, False), Stage(("drain", "buf", "dram"), None, 0, ()))
    p = Pipeline()
    p.next_pass()
    assert p.add(stages, (3, 5, 4)) == [3, 8, 12]
    p.next_pass()
    assert p.add(stages, (2, 5, 4)) == [14, 19, 23]
    free = Pipeline()
    free.add(stages, (3, 5, 4))
    assert free.add(stages, (2, 5, 4)) == [10, 15, 19]


def test_an_output_tile_holds_its_slot_until_drained():
    """Worked by hand: a read-back stage takes the single output slot of the buffer until the tile's drain ends.
    Tile 1 (0, 5, 4): 0-0, 0-5, 5-9. Tile 2 waits for the slot: 9-9, 9-14, 14-18 (released at compute end it
    would compute 5-10 and drain 10-14)."""
    back = Stage(("readback", "dram", "buf"), ("level", "buf", "outputs"), 1, (), 2)
    stages = (back, Stage(("compute",), None, 0, ()), Stage(("drain", "buf", "dram"), None, 0, ()))
    p = Pipeline()
    assert p.add(stages, (0, 5, 4)) == [0, 5, 9]
    assert p.add(stages, (0, 5, 4)) == [9, 14, 18]
    p.run(stages, (0, 5, 4), 5)  # five more, scheduled at once: the same 9-cycle period
    assert p.end == 18 + 5 * 9


# ---- bad mapping files, through the CLI ----

def _levels(dram, buf, local):
    return [{"name": "dram", "keep": dram, "loops": [["M", 2]]}, {"name": "global_buf", "keep": buf, "loops": []},
            {"name": "local_buf", "keep": local, "loops": [["T", 4], ["C", 16]]}]


def _doc(*layers):
    return {"schema_version": 1, "kind": "mapping",
            "layers": [{"layer": i, "levels": levels, "spatial": {"M": m}} for i, levels, m in layers]}


STAGED = _levels(["weights", "inputs", "outputs"], ["inputs", "outputs"], ["weights"])


def _run(tmp_path, capsys, doc):
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    code = main(["run", "--arch", str(ROOT / "configs" / "dram-activations.yaml"), "--workload",
                 str(ROOT / "workloads" / "tiny.yaml"), "--mapping", str(tmp_path / "m.yaml"), "--out", str(out),
                 "--no-progress"])
    return code, capsys.readouterr().err, out


def test_a_staged_mapping_file_runs(tmp_path, capsys):
    code, err, out = _run(tmp_path, capsys, _doc((0, STAGED, 4)))
    assert code == 0, err
    assert (out / "summary.json").exists()


@pytest.mark.parametrize("doc, message", [
    (_doc((0, _levels(["weights", "inputs"], ["inputs", "outputs"], ["weights"]), 4)),
     r"layers\[0\]\.levels: inputs are homed in dram and outputs in global_buf .*home both at one level"),
    (_doc((0, _levels(["weights"], ["inputs"], ["weights"]), 4)),
     r"layers\[0\]\.levels: inputs are kept at \['global_buf'\] and outputs at no level"),
    (_doc((0, STAGED, 4), (1, _levels(["weights"], ["inputs", "outputs"], ["weights"]), 1)),
     r"layers home their activations at different levels .*layers\[0\]: dram.*layers\[1\]: global_buf"),
    (_doc((0, [{"name": "dram", "keep": ["weights", "inputs", "outputs"], "loops": []},
               {"name": "global_buf", "keep": ["inputs", "outputs"], "loops": [["M", 2]]},
               {"name": "local_buf", "keep": ["weights"], "loops": [["T", 4], ["C", 16]]}], 4)),
     None),
])
def test_bad_staged_mappings_name_file_field_and_levels(tmp_path, capsys, doc, message):
    if message is None:  # the global buffer keeps a tile of every sample's inputs and outputs: too large once
        # the buffer is shrunk below it (64 inputs x T = 4 + 8 outputs x 4, at 32 bits for partial sums)
        data = copy.deepcopy(DRAM_ACTS)
        set_path(data, "levels[global_buf].capacity", 64)
        (tmp_path / "a.yaml").write_text(yaml.safe_dump(data))
        (tmp_path / "m.yaml").write_text(yaml.safe_dump(doc))
        code = main(["run", "--arch", str(tmp_path / "a.yaml"), "--workload", str(ROOT / "workloads" / "tiny.yaml"),
                     "--mapping", str(tmp_path / "m.yaml"), "--out", str(tmp_path / "out"), "--no-progress"])
        err, out = capsys.readouterr().err, tmp_path / "out"
        message = r"m\.yaml: layers\[0\].*global_buf: the mapping keeps \d+ bits resident, more than its capacity"
    else:
        code, err, out = _run(tmp_path, capsys, doc)
    assert code == 2
    assert "m.yaml" in err and re.search(message, err, re.S), err
    assert "Traceback" not in err
    assert not out.exists()


def test_readme_staged_activations_command_runs(tmp_path):
    """The README's section runs: the CNN's activations homed in DRAM, DRAM input reads and output writes counted."""
    text = (ROOT / "README.md").read_text()
    body = text.split("### Activations staged from DRAM\n", 1)[1].split("\n### ", 1)[0]
    (cmd,) = [line.split() for line in body.splitlines() if line.startswith("    archsim ")]
    assert main([*cmd[1:], "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    import csv
    rows = list(csv.DictReader((tmp_path / "o" / "counts.csv").open()))
    dram = {(r["operand"], r["action"]) for r in rows if r["component"] == "dram" and int(r["count"])}
    assert {("inputs", "read_bits"), ("outputs", "write_bits")} <= dram


def test_a_staged_run_is_traced_level_by_level(tmp_path, capsys):
    """`archsim run --trace` of a staged run (the small CNN on a 640-bit global buffer, its maxpool staged too): the
    trace records the weights' and activations' home (DRAM) and the staging buffer, every transaction through the
    same Memory path: per level and action, its bits and words (x repeat) are counts.csv's; the inner weight level
    is not traced.
    Replay refuses the trace (exit 2, naming its levels); its DRAM traffic exports (every word of every record, as
    test_trace's oracle reads the records)."""
    import pandas as pd
    from archsim.trace.reader import read_chunks
    data = copy.deepcopy(DRAM_ACTS)
    set_path(data, "levels[global_buf].capacity", 640)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(CNN))
    trace, out = tmp_path / "t.csv", tmp_path / "o"
    assert main(["run", "--arch", str(tmp_path / "a.yaml"), "--workload", str(tmp_path / "w.yaml"), "--mode",
                 "timing", "--trace", str(trace), "--out", str(out), "--no-progress"]) == 0
    records = pd.concat(read_chunks(trace), ignore_index=True)
    counted = pd.read_csv(out / "counts.csv")
    assert sorted(records.component.unique()) == ["dram", "global_buf"]
    assert {"inputs", "outputs"} <= set(counted[(counted.component == "global_buf") & (counted["count"] > 0)].operand)
    pooled = counted[(counted.layer == 1) & (counted["count"] > 0)]  # the maxpool, staged through the buffer
    assert {("dram", "inputs"), ("global_buf", "inputs"), ("global_buf", "outputs"), ("dram", "outputs")} <= \
        set(zip(pooled.component, pooled.operand))
    for level, action, unit in itertools.product(("dram", "global_buf"), ("read", "write"), ("bits", "words")):
        mine = records[(records.component == level) & (records.action == action)]
        traced = int((mine[unit] * mine.repeat).sum())
        want = counted[(counted.component == level) & (counted.action == f"{action}_{unit}")]["count"].sum()
        assert traced == want > 0, (level, action, unit)
    capsys.readouterr()
    assert main(["replay", str(trace), "--arch", str(tmp_path / "a.yaml"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "cannot be replayed" in err and "dram, global_buf" in err and "Traceback" not in err
    assert main(["trace", "export", str(trace), "--format", "ramulator2", "--component", "dram", "--out",
                 str(tmp_path / "d.trace")]) == 0
    from test_trace import ramulator2_parse, word_bursts
    assert ramulator2_parse(tmp_path / "d.trace") == word_bursts(trace, "dram", 64) != []


@st.composite
def staged_networks(draw):
    """(arch, workload): a small CNN or MLP on configs/dram-activations.yaml with a global buffer too small for
    its activations, drawn ports, double buffering and T."""
    from archsim.engine.plan import _activation_bits
    data = copy.deepcopy(DRAM_ACTS)
    set_path(data, "levels[global_buf].double_buffered", draw(st.booleans()))
    set_path(data, "levels[global_buf].ports", draw(st.sampled_from([{"read_write": 1}, {"read": 1, "write": 1},
                                                                     {"read": 2, "write": 2}])))
    set_path(data, "levels[dram].ports", draw(st.sampled_from([{"read_write": 1}, {"read": 1, "write": 1}])))
    set_path(data, "synapse.count", draw(st.sampled_from([2, 4])))
    set_path(data, "neuron.count", data["synapse"]["count"])
    work = copy.deepcopy(CNN)
    work["samples"], work["batch"] = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    kernel, stride = draw(st.sampled_from([(2, 2), (3, 2), (3, 3)]))  # the pooling layer (3, 2): windows overlap;
    #                                                   each leaves the dense layer a fan-in whose rows fit 640 bits
    work["layers"][1] = {"type": draw(st.sampled_from(["maxpool", "avgpool"])), "kernel": kernel, "stride": stride}
    if draw(st.booleans()):  # an MLP
        work["input"] = {"size": draw(st.sampled_from([24, 40])), "bits": draw(st.sampled_from([1, 2]))}
        work["layers"] = work["layers"][3:]
    work = workload_from_data(work, "<network>")
    need = _activation_bits(work.spec)[1]  # a buffer of a quarter to three quarters of the activations (or
    #                                        640 bits, room for a double-buffered weight row)
    set_path(data, "levels[global_buf].capacity", max(640, need * draw(st.integers(1, 3)) // 4))
    return arch_from_data(data, "<dram-activations>"), work


@settings(max_examples=8, deadline=None)
@given(staged_networks())
def test_staged_networks_agree_across_timing_models(case):
    _check_network(*case)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(staged_networks())
def test_many_staged_networks_agree_across_timing_models(case):
    _check_network(*case)


def _check_network(arch, work):
    """Counts per layer, level and operand are the count model's; the three timing models agree; outputs are the
    single-level run's."""
    from archsim.mapping.loopnest import counts
    result = simulate(arch, work, "functional")
    items = work.inputs.shape[0]
    for lp in (lp for lp in result.plan.layers if lp.is_eo):
        op, levels, mapping = lp.nest
        predicted = _per_operand(counts(op, levels, mapping))
        for lv, operand, action in itertools.product(levels, OPERANDS, ("read_bits", "write_bits")):
            want = items * predicted.get((lv.name, operand, action), 0)
            assert result.ledger.get(lv.name, action, lp.index, operand) == want, (lp.index, lv.name, operand)
    for lp in (lp for lp in result.plan.layers if lp.type in ("maxpool", "avgpool")):
        _check_pool_counts(arch, result, lp, items * work.spec.samples)
        event("pooling staged" if lp.in_hops else "pooling at the home")
    event("staged" if any(lp.in_hops for lp in result.plan.layers) else "not staged")
    per_tile = simulate(arch, work, "timing", batch=False)
    assert per_tile.ledger.items() == result.ledger.items()
    assert result.cycles == simulate(arch, work, "timing").cycles == per_tile.cycles == \
        stepped_cycles(arch, result.plan)
    np.testing.assert_array_equal(result.outputs, simulate(_arch("32KiB"), work, "functional").outputs)


def _band_bits(lp, rows):
    """Input rows ((rows - 1) x stride + kernel of them) and output rows of a band of `rows` output rows."""
    (_, W, C), (_, Wo, _) = lp.in_shape, lp.out_shape
    return ((rows - 1) * lp.stride + lp.kernel) * W * C * lp.ba_in, rows * Wo * C * lp.ba_out


def _check_pool_counts(arch, result, lp, samples):
    """A pooling layer's bits per level, from its shapes: staged when the layer with weights before it is (its
    bands the most output rows of one sample whose input and output rows fit the global buffer's slots beside what
    resides there whole; every band's input rows read from DRAM into the buffer, overlapping rows again; every
    window element read and every output written in the buffer; the outputs drained to DRAM), else every window
    element read and every output written at DRAM."""
    (_, W, C), (Ho, Wo, _) = lp.in_shape, lp.out_shape
    window_bits, out_bits = samples * Ho * Wo * C * lp.kernel ** 2 * lp.ba_in, samples * Ho * Wo * C * lp.ba_out
    before = [x for x in result.plan.layers[:lp.index] if x.is_eo]
    get = result.ledger.get
    buf = arch.level("global_buf")
    room = buf.capacity - result.plan.reserved.get("global_buf", 0)
    fit = [r for r in range(1, Ho + 1) if buf.slots * sum(_band_bits(lp, r)) <= room]
    if not before[-1].in_hops or not fit:  # at the activations' home (DRAM, or the buffer when they fit there)
        assert (lp.band_rows, lp.in_hops, lp.out_hops) == (0, (), ())
        home = result.plan.act_level
        assert get(home, "read_bits", lp.index, "inputs") == window_bits
        assert get(home, "write_bits", lp.index, "outputs") == out_bits
        assert sum(n for (layer, level, *_), n in result.ledger.items() if layer == lp.index and
                   level not in (home, "pool")) == 0
        return
    rows = max(fit)
    assert (lp.band_rows, lp.in_hops, lp.out_hops) == (rows, (("dram", "global_buf"),), (("global_buf", "dram"),))
    bands = [min(rows, Ho - r0) for r0 in range(0, Ho, rows)]
    staged_in = samples * sum(_band_bits(lp, r)[0] for r in bands)
    assert get("dram", "read_bits", lp.index, "inputs") == get("global_buf", "write_bits", lp.index, "inputs") \
        == staged_in
    assert get("global_buf", "read_bits", lp.index, "inputs") == window_bits
    assert get("global_buf", "write_bits", lp.index, "outputs") == get("global_buf", "read_bits", lp.index,
                                                                        "outputs") == out_bits
    assert get("dram", "write_bits", lp.index, "outputs") == out_bits
    assert get("dram", "write_bits", lp.index, "inputs") == get("dram", "read_bits", lp.index, "outputs") == 0


POOL_NET = {"schema_version": 1, "kind": "pdnn", "name": "pool", "samples": 2, "seed": 1, "batch": 2,
            "input": {"shape": [8, 8, 1], "bits": 1},
            "layers": [{"type": "conv2d", "channels": 2, "kernel": 3, "padding": 1, "weight_bits": 4,
                        "activation": "pbit"},
                       {"type": "maxpool", "kernel": 3, "stride": 2}, {"type": "flatten"},
                       {"type": "dense", "outputs": 3, "weight_bits": 4, "activation": "linear",
                        "output_bits": 16}]}


def test_a_pooling_layer_is_staged_in_bands_worked_by_hand():
    """Worked by hand: a 3x3 maxpool, stride 2, over the 8x8x2 1-bit map of a conv layer, T = 2, 2 items, on a
    100-bit global buffer (single-buffered; the activations and weights homed in DRAM, nothing resides in it).
    A band of R output rows (3 x 2 each, 1-bit) keeps (R - 1) x 2 + 3 input rows of 8 x 2 bits: R = 2 needs
    5 x 16 + 12 = 92 bits, R = 3 needs 7 x 16 + 18 = 130: bands of 2 rows, then 1 (input rows 0-4, then 4-6: row 4
    read twice, row 7 never). Per sample: DRAM -> buffer inputs 5 x 16 + 3 x 16 = 128 bits; in the buffer every
    window element read, 18 outputs x 9 = 162 bits, the 18 outputs written, then read and written to DRAM (18
    bits); 18 x 8 compares. 4 samples (2 items x T). Stage cycles of the first band: the input hop reads one
    512-bit DRAM word (20 + 512 / 64 = 28 cycles) while writing 2 64-bit buffer words on 4 banks (2 + 1): 28;
    compute reads 108 bits (2 words: 2 + 1) and writes 12 (1 word: 2 + 1): 2 + 1 + 3 = 6; the drain: 28. The second
    band: 28, 2 + 1 + 3 = 6 (54 bits read: one word), 28."""
    arch, work = _arch(100), workload_from_data(copy.deepcopy(POOL_NET), "<pool net>")
    result = simulate(arch, work, "functional")
    lp, plan = result.plan.layers[1], result.plan
    assert plan.act_level == "dram" and plan.reserved.get("global_buf", 0) == 0
    assert (lp.in_hops, lp.out_hops, lp.band_rows) == ((("dram", "global_buf"),), (("global_buf", "dram"),), 2)
    get, n = result.ledger.get, 4
    assert get("dram", "read_bits", 1, "inputs") == get("global_buf", "write_bits", 1, "inputs") == n * 128
    assert get("global_buf", "read_bits", 1, "inputs") == n * 162
    assert get("global_buf", "write_bits", 1, "outputs") == get("global_buf", "read_bits", 1, "outputs") == n * 18
    assert get("dram", "write_bits", 1, "outputs") == n * 18
    assert get("pool", "ops", 1, "") == n * 18 * 8
    from archsim.hw.accelerator import Accelerator
    from archsim.ledger import Ledger
    accel = Accelerator(arch, Ledger())
    tiles = plan.tiles(0, lp)
    assert [(t.s0, t.p0, t.p1) for t in tiles] == [(0, 0, 6), (0, 6, 9), (1, 0, 6), (1, 6, 9)]
    assert [[accel.transfer(t, lp, 0), accel.pool(t, lp), accel.transfer(t, lp, 2)] for t in tiles[:2]] == \
        [[28, 6, 28], [28, 6, 28]]
    timing, per_tile = simulate(arch, work, "timing"), simulate(arch, work, "timing", batch=False)
    assert timing.ledger.items() == per_tile.ledger.items() == result.ledger.items()
    assert result.cycles == timing.cycles == per_tile.cycles == stepped_cycles(arch, plan)
    np.testing.assert_array_equal(result.outputs, simulate(_arch("32KiB"), work, "functional").outputs)


def test_activations_move_out_when_they_leave_the_weights_no_room():
    """T = 1: the CNN's 432 activation bits fit a 640-bit double-buffered global buffer, but then a weight row
    (144 bits, twice) does not fit the 208 bits left: the planner homes the activations in DRAM instead and
    stages them through the buffer."""
    data = copy.deepcopy(DRAM_ACTS)
    set_path(data, "levels[global_buf].capacity", 640)
    set_path(data, "levels[global_buf].double_buffered", True)
    work = copy.deepcopy(CNN)
    work["samples"] = 1
    result = simulate(arch_from_data(data, "<dram-activations>"), workload_from_data(work, "<cnn>"), "timing")
    assert result.plan.act_level == "dram"
    assert all(lp.in_hops == (("dram", "global_buf"),) for lp in result.plan.layers if lp.is_eo)
    assert result.cycles == stepped_cycles(result.arch, result.plan)


def test_drains_and_read_backs_touch_both_levels():
    """Worked by hand: a dense layer of 4 outputs (1-bit p-bits) over 8 1-bit inputs, T = 2, on 4 units; the fan-in
    split in two chunks at DRAM around the samples loop, outputs kept at DRAM (their home) and the global buffer.
    Tiles (chunk, sample): (0, 0), (0, 1), (1, 0), (1, 1); each changes the buffer's output tile (its sample),
    so each drains it: the first two partial (4 x 32-bit partial sums = 128 bits), the last two final (4 bits),
    and the last two first read their partial sums back (128 bits each).
    Global buffer, outputs: written 2 x 128 + 2 x 4 by the compute phases, 2 x 128 by the read-backs (520 bits);
    read 2 x 128 by the compute phases (partial sums resumed) and 2 x 128 + 2 x 4 by the drains (520 bits).
    DRAM, outputs: written 2 x 128 + 2 x 4 = 264 bits, read 2 x 128 = 256 bits.
    Cycles, with the buffer's latencies raised to 40: a drain reads 2 (or 1) 64-bit words of the buffer
    (40 + 1 cycles: 4 banks, one word per bank) while writing one 512-bit DRAM word (20 + 512 / 64 = 28 cycles):
    41 cycles; a read-back the same the other way round: 41."""
    from archsim.hw.accelerator import Accelerator
    from archsim.ledger import Ledger
    from archsim.mapping.loopnest import Mapping
    from archsim.mapping.mapfile import LayerMap
    data = copy.deepcopy(DRAM_ACTS)
    set_path(data, "levels[global_buf].read_latency_cycles", 40)
    set_path(data, "levels[global_buf].write_latency_cycles", 40)
    arch = arch_from_data(data, "<dram-activations>")
    work = workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "d", "samples": 2, "seed": 1,
                               "input": {"size": 8, "bits": 1},
                               "layers": [{"type": "dense", "outputs": 4, "weight_bits": 2, "activation": "pbit"}]},
                              "<w>")
    keep = {"dram": frozenset({"weights", "inputs", "outputs"}), "global_buf": frozenset({"inputs", "outputs"}),
            "local_buf": frozenset({"weights"})}
    mapping = Mapping(((("C", 2), ("T", 2)), (), (("C", 4),)), {"M": 4})
    result = simulate(arch, work, "functional", mapping={0: LayerMap(0, keep, mapping, "hand")})
    ledger = result.ledger
    assert ledger.get("global_buf", "write_bits", 0, "outputs") == 2 * 128 + 2 * 4 + 2 * 128
    assert ledger.get("global_buf", "read_bits", 0, "outputs") == 2 * 128 + 2 * 128 + 2 * 4
    assert ledger.get("dram", "write_bits", 0, "outputs") == 2 * 128 + 2 * 4
    assert ledger.get("dram", "read_bits", 0, "outputs") == 2 * 128
    lp = result.plan.layers[0]
    tiles = result.plan.tiles(0, lp)
    c = lp.compute_stage
    accel = Accelerator(arch, Ledger())
    accel.map_addresses(result.plan)
    assert [accel.transfer(t, lp, c + 1) for t in tiles] == [41] * 4       # every tile drains
    assert [accel.transfer(t, lp, c - 1) for t in tiles] == [0, 0, 41, 41]  # the second chunk reads back
    timing = simulate(arch, work, "timing", mapping={0: LayerMap(0, keep, mapping, "hand")}, batch=False)
    assert result.cycles == timing.cycles == stepped_cycles(arch, result.plan)
