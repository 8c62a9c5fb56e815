"""The simulator executes mappings: on generated dense layers (and convolutions), hierarchies of 2 to 4 levels,
what each level keeps (weights, and inputs and outputs at one level or staged through the levels inside their
home), tilings, loop orders, unrollings and T, the ledger's counts per level and operand equal the
brute-force walk of the loop nest (tests/test_loopnest.py, an independent oracle) and the count model the mapper
predicts with; outputs are those of the planner's own mapping, bit for bit; the event model, the pipeline
recurrence and the cycle-stepped reference give the same cycles. Bad mapping files fail through the CLI naming the
file, the field and the limit, exit 2, nothing written."""
import copy
import itertools
from math import prod

import numpy as np
import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from archsim import simulate
from archsim.cli import main
from archsim.config.loader import arch_from_data
from archsim.engine.stepped import stepped_cycles
from archsim.mapping.loopnest import EXACT, LAST_TILE, Level, Mapping, counts, dense_operation
from archsim.mapping.mapfile import LayerMap
from archsim.workload.loader import workload_from_data
from helpers import DEFAULT_ARCH
from test_loopnest import BIG, _factorisations, _uneven_split, brute_force

OPERANDS = ("weights", "inputs", "outputs")
PJ = {"value": "0.1pJ", "source": "test"}


@st.composite
def level(draw, name, holds, capacity, dram_ok=True):
    """A memory level with drawn timing: kind, word width, banks, latencies, occupancy, ports, double buffering."""
    kind = draw(st.sampled_from(["dram", "sram", "regfile"][0 if dram_ok else 1:]))
    ports = {"read": draw(st.integers(0, 1)), "write": draw(st.integers(0, 1)), "read_write": draw(st.integers(0, 2))}
    if ports["read"] + ports["read_write"] == 0 or ports["write"] + ports["read_write"] == 0:
        ports["read_write"] = 1
    out = {"name": name, "kind": kind, "holds": holds, "capacity": capacity, "ports": ports,
           "word_bits": draw(st.sampled_from([8, 16, 32, 64])), "banks": draw(st.integers(1, 3)),
           "read_latency_cycles": draw(st.integers(0, 3)), "write_latency_cycles": draw(st.integers(0, 3)),
           "cycles_per_access": draw(st.integers(0 if kind == "regfile" else 1, 3)),
           "double_buffered": draw(st.booleans()), "read_pj_per_bit": PJ, "write_pj_per_bit": PJ}
    if kind == "dram" and draw(st.booleans()):
        out["bandwidth"] = draw(st.sampled_from([1e9, 4e9]))  # 5 or 20 bits per cycle at 200 MHz
    return out


@st.composite
def exec_case(draw, conv=False, spill=False):
    """(arch, workload, LayerMap of layer 0, oracle's operation and levels). spill: the outputs kept at the level
    inside their home too, a fan-in loop outermost at level 0 around a samples loop, so partial output tiles
    leave that level and come back (drained and read back between levels)."""
    T, items = draw(st.integers(2 if spill else 1, 4)), draw(st.integers(1, 2))
    bw, in_bits = draw(st.integers(1, 6)), draw(st.integers(1, 2))
    bias = draw(st.booleans())
    layer = {"weight_bits": bw, "bias": bias, "bias_bits": draw(st.integers(1, 8)),
             "activation": draw(st.sampled_from(["pbit", "linear"]))}
    if layer["activation"] == "linear":
        layer["output_bits"] = 20
    if conv:
        side, c_in, k = draw(st.integers(2, 3)), draw(st.integers(2 if spill else 1, 2)), draw(st.integers(1, 2))
        m = draw(st.sampled_from([1, 2, 4]))
        layer.update(type="conv2d", channels=m, kernel=k, stride=1, padding=0)
        source = {"shape": [side, side, c_in], "bits": in_bits}
        P, n = (side - k + 1) ** 2, k * k * c_in
    else:
        n, m, P = draw(st.sampled_from([2, 4, 6] if spill else [1, 2, 3, 4, 6])), \
            draw(st.sampled_from([1, 2, 3, 4, 6])), 1
        layer.update(type="dense", outputs=m)
        source = {"size": n, "bits": in_bits}
    work = workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "exec", "samples": T,
                               "seed": draw(st.integers(0, 99)), "batch": items, "input": source,
                               "layers": [layer]}, "<generated>")
    depth = draw(st.integers(2, 4))
    names = [f"L{i}" for i in range(depth)]
    several = spill or draw(st.sampled_from([False, True, True]))  # activations also kept inside their home
    act = draw(st.integers(0, depth - (2 if several else 1)))  # the activations' home
    staged = range(act + 1, depth) if several else ()
    kept_acts = {i: {"inputs", "outputs"} for i in [act]}
    for i in staged:
        kept_acts[i] = draw(st.sets(st.sampled_from(["inputs", "outputs"]), min_size=1 if i == act + 1 else 0))
        if spill and i == act + 1:
            kept_acts[i].add("outputs")
    shared = draw(st.booleans())
    levels = []
    for i, name in enumerate(names):
        # a level that may hold activations holds both (the schema's rule); the mapping keeps a subset
        holds = (["inputs", "outputs"] + (["weights"] if shared else [])) if i in kept_acts else ["weights"]
        levels.append(draw(level(name, holds, "1MiB", dram_ok=i == 0)))
    if not any("weights" in lv["holds"] for lv in levels):
        levels[-1 if act else 0]["holds"] = ["weights"]
    data = copy.deepcopy(DEFAULT_ARCH)
    data["levels"] = levels
    units = draw(st.integers(1, 6))
    data["synapse"].update(count=units, inputs_per_cycle=draw(st.integers(1, 4)),
                           kind=draw(st.sampled_from(["accumulate", "mac"])), accumulator_bits=24)
    data["neuron"].update(count=units, latency_cycles=draw(st.integers(0, 2)))
    data["rng"].update(count=draw(st.integers(1, 3)), bits_per_cycle=draw(st.integers(1, 16)))
    stationary = draw(st.booleans())
    data["mapping"].update(input_broadcast=draw(st.booleans()), weight_stationary=stationary)
    arch = arch_from_data(data, "<generated hierarchy>")
    weight_levels = [lv["name"] for lv in levels if "weights" in lv["holds"]]
    kept = draw(st.sets(st.sampled_from(weight_levels), min_size=1))
    keep = {name: frozenset((["weights"] if name in kept else []) + sorted(kept_acts.get(i, ())))
            for i, name in enumerate(names)}
    sizes = {"N": P, "T": T, "M": m, "C": n}
    per_level, spatial = [[] for _ in names], {}
    uneven = [g for g in range(2, units + 1) if m % g] if draw(st.booleans()) else []
    for d, size in sizes.items():
        splits = [s for s in _factorisations(size, depth + 1) if (d == "M" and s[-1] <= units or s[-1] == 1) and
                  (not spill or d not in "CT" or s[0] > 1)]
        split = draw(st.sampled_from(splits))
        if d == "M" and uneven:  # the last output tile partial
            split = _uneven_split(size, draw(st.sampled_from(uneven)), depth, draw(st.integers(0, depth - 1)))
        for i in range(depth):
            if split[i] > 1 or draw(st.booleans()):
                per_level[i].append((d, split[i]))
        if split[-1] > 1:
            spatial[d] = split[-1]
    temporal = [list(draw(st.permutations(loops))) for loops in per_level]
    if spill:  # the fan-in loop outermost: the samples loop inside it leaves and revisits the outputs
        temporal[0].sort(key=lambda loop: loop[0] != "C")
    mapping = Mapping(tuple(map(tuple, temporal)), spatial,
                      LAST_TILE if uneven else EXACT)
    no_reuse = "N" if conv and not stationary and P > 1 else ""
    op = dense_operation("oracle", P, T, m, n, bw, in_bits, layer.get("output_bits", 1), 24,
                         layer["bias_bits"] if bias else 0, weight_dims="MC" + no_reuse)
    oracle_levels = [Level(name, BIG, keep[name], multicast=arch.mapping.input_broadcast) for name in names]
    return arch, work, LayerMap(0, keep, mapping, "<generated mapping>"), op, oracle_levels


def _per_operand(counted):
    """Bits per (level, operand, action), biases counted with the weights (as the ledger does)."""
    out = {}
    for (lvl, operand, action), v in counted.items():
        if action.endswith("_bits") and lvl != "datapath":
            key = (lvl, "weights" if operand == "biases" else operand, action)
            out[key] = out.get(key, 0) + v
    return out


def _check(case):
    arch, work, lm, op, oracle_levels = case
    items = work.inputs.shape[0]
    result = simulate(arch, work, "functional", mapping={0: lm})
    oracle = _per_operand(brute_force(op, oracle_levels, lm.mapping))
    predicted = _per_operand(counts(op, oracle_levels, lm.mapping))
    assert oracle == predicted
    for lv in oracle_levels:
        for operand, action in itertools.product(OPERANDS, ("read_bits", "write_bits")):
            want = items * oracle.get((lv.name, operand, action), 0)
            assert result.ledger.get(lv.name, action, 0, operand) == want, (lv.name, operand, action)
    evaluations = items * prod(op.dims.values()) // op.dims["C"]
    assert result.ledger.get("neuron", "samples") == evaluations
    if arch.synapse.kind == "mac":
        assert result.ledger.get("synapse", "macs") == items * prod(op.dims.values())
    timing = simulate(arch, work, "timing", mapping={0: lm})
    assert timing.ledger.items() == result.ledger.items()
    assert timing.cycles == result.cycles == stepped_cycles(arch, timing.plan)
    lp = timing.plan.layers[0]
    reps = [r for t in timing.plan.tiles(0, lp) for r in t.reps]
    event(f"activations at {1 + len(lp.in_hops)} (inputs) and {1 + len(lp.out_hops)} (outputs) levels")
    if any(any(t.readbacks) for t in timing.plan.tiles(0, lp)):
        event("partial output tiles drained and read back between levels")
    event(f"{len(oracle_levels)} levels, {'feed' if lp.feed else 'registers'}, "
          f"{'partial sums' if any(r.readback for r in reps) else 'whole fan-in'}, "
          f"{'partial last tile' if lm.mapping.remainder == LAST_TILE else 'tiles divide'}")
    planner = simulate(arch, work, "functional")
    np.testing.assert_array_equal(result.outputs, planner.outputs)
    np.testing.assert_array_equal(timing.outputs, planner.outputs)


@settings(max_examples=100, deadline=None)
@given(exec_case())
def test_executed_dense_mappings_count_what_the_oracle_and_the_model_count(case):
    _check(case)


@settings(max_examples=40, deadline=None)
@given(exec_case(conv=True))
def test_executed_conv_mappings_count_what_the_oracle_and_the_model_count(case):
    _check(case)


@settings(max_examples=25, deadline=None)
@given(st.booleans().flatmap(lambda conv: exec_case(conv=conv, spill=True)))
def test_executed_mappings_spilling_partial_outputs_between_levels(case):
    """Partial output tiles drained from the level inside the outputs' home and read back into it: the child's
    read (drain) and write (read-back) counted and timed like the parent's."""
    _check(case)
    arch, work, lm, _, _ = case
    plan = simulate(arch, work, "functional", mapping={0: lm}).plan
    lp = plan.layers[0]
    assert any(any(t.readbacks) for t in plan.tiles(0, lp))


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(exec_case())
def test_many_executed_dense_mappings(case):
    _check(case)


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(exec_case(conv=True))
def test_many_executed_conv_mappings(case):
    _check(case)


def test_partial_sums_spill_and_return():
    """Fan-in split above the accumulators: partial sums are written at the accumulator width and read back;
    the outputs are still the planner's."""
    data = copy.deepcopy(DEFAULT_ARCH)
    arch = arch_from_data(data, "<default>")
    work = workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "p", "samples": 2, "seed": 1,
                               "input": {"size": 8, "bits": 1},
                               "layers": [{"type": "dense", "outputs": 4, "weight_bits": 3, "activation": "pbit"}]},
                              "<w>")
    names = [lv.name for lv in arch.levels]
    keep = {"dram": frozenset(), "weight_mem": frozenset({"weights"}), "act_mem": frozenset({"inputs", "outputs"}),
            "weight_buf": frozenset({"weights"})}
    # C split in two chunks at weight_mem, above the samples: each output is visited twice per sample
    mapping = Mapping(((), (("C", 2), ("T", 2)), (), (("C", 4),)), {"M": 4})
    result = simulate(arch, work, "timing", mapping={0: LayerMap(0, keep, mapping, "test")})
    acc = arch.synapse.accumulator_bits
    assert result.ledger.get("act_mem", "read_bits", 0, "outputs") == 2 * 4 * acc  # T x outputs read back
    assert result.ledger.get("act_mem", "write_bits", 0, "outputs") == 2 * 4 * (acc + 1)  # partial, then final
    np.testing.assert_array_equal(result.outputs, simulate(arch, work).outputs)
    assert result.cycles == stepped_cycles(arch, result.plan)
    assert names == list(keep)


# ---- bad mapping files, through the CLI ----

GOOD = {"schema_version": 1, "kind": "mapping", "layers": [{"layer": 0, "levels": [
    {"name": "weight_mem", "keep": ["weights"], "loops": [["M", 2]]},
    {"name": "act_mem", "keep": ["inputs", "outputs"], "loops": []},
    {"name": "weight_buf", "keep": ["weights"], "loops": [["T", 4], ["C", 16]]}], "spatial": {"M": 4}}]}


def _run_mapping(tmp_path, doc, capsys, arch="default"):
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    code = main(["run", "--arch", arch, "--workload", "workloads/tiny.yaml", "--mapping", str(path), "--out",
                 str(out), "--no-progress"])
    return code, capsys.readouterr().err, out


def test_a_good_mapping_file_runs(tmp_path, capsys):
    code, err, out = _run_mapping(tmp_path, GOOD, capsys)
    assert code == 0, err
    assert (out / "summary.json").exists()


def _bad(**edits):
    doc = copy.deepcopy(GOOD)
    for path, value in edits.items():
        *parents, last = path.split("/")
        node = doc
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        node[int(last) if isinstance(node, list) else last] = value
    return doc


@pytest.mark.parametrize("edits, message", [
    ({"layers/0/levels/2/loops": [["T", 4], ["C", 5]]}, r"layers\[0\].*dimension C = 16, but the mapping's "
                                                        r"factors multiply to 5"),
    ({"layers/0/levels/2/loops": [["T", 4], ["C", 32]]}, r"dimension C = 16.* multiply to 32"),
    ({"layers/0/spatial": {"M": 32}, "layers/0/levels/0/loops": []}, r"spatial: M = 32 outputs unrolled, more "
                                                                     r"than the 16 units"),
    ({"layers/0/levels/1/keep": ["inputs"]}, r"outputs at no level"),
    ({"layers/0/levels/0/keep": [], "layers/0/levels/2/keep": []}, r"'weights' is held by no level"),
    ({"layers/0/levels/0/name": "sram9"}, r"layers\[0\].levels\[0\].name: unknown level 'sram9'; allowed \(outermost "
                                          r"first\): dram, weight_mem, act_mem, weight_buf"),
    ({"layers/0/levels/2/loops": [["K", 4], ["C", 16]]}, r"layers\[0\].levels\[2\]\(weight_buf\).loops\[0\]: unknown "
                                                         r"dimension 'K'; allowed: N, T, M, C"),
    ({"layers/0/layer": 5}, r"layers\[0\].layer: 5 is not a dense or conv2d layer of the workload; allowed: "
                            r"\[0, 1\]"),
    ({"layers/0/levels/1/keep": ["inputs", "outputs", "weights"]}, r"'weights' is not an operand level act_mem "
                                                                   r"may hold"),
])
def test_bad_mapping_files_name_file_field_and_limit(tmp_path, capsys, edits, message):
    import re
    code, err, out = _run_mapping(tmp_path, _bad(**edits), capsys)
    assert code == 2
    assert "m.yaml" in err and re.search(message, err, re.S), err
    assert "Traceback" not in err
    assert not out.exists()


def test_a_mapping_of_too_many_tiles_is_refused(tmp_path, capsys):
    """Tiles are executed one by one: over a million per layer pass is refused before anything runs."""
    doc = {"schema_version": 1, "kind": "mapping", "layers": [{"layer": 0, "levels": [
        {"name": "dram", "keep": ["weights"], "loops": [["M", 1024], ["C", 1024], ["T", 8]]},
        {"name": "act_mem", "keep": ["inputs", "outputs"]}]}]}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc))
    code = main(["run", "--workload", "workloads/pdnn-1024.yaml", "--mapping", str(path), "--out",
                 str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "m.yaml: layers[0]" in err and "make 8388608 tiles per layer pass; at most 1000000" in err
    assert not (tmp_path / "out").exists()


def test_a_mapping_beyond_a_level_capacity_is_refused(tmp_path, capsys):
    """A 512-bit double-buffered weight_buf cannot keep 8 outputs' weights (512 bits, twice)."""
    doc = _bad(**{"layers/0/levels/0/loops": [], "layers/0/levels/2/loops": [["M", 2], ["T", 4], ["C", 16]]})
    tight = copy.deepcopy(DEFAULT_ARCH)
    for lv in tight["levels"]:
        if lv["name"] == "weight_buf":
            lv["capacity"] = 512
    (tmp_path / "tight.yaml").write_text(yaml.safe_dump(tight))
    code, err, out = _run_mapping(tmp_path, doc, capsys, arch=str(tmp_path / "tight.yaml"))
    assert code == 2 and "m.yaml" in err
    assert "weight_buf: the mapping keeps" in err and "more than its capacity of" in err, err
    assert not out.exists()


@pytest.mark.parametrize("arch_file", ["default", "configs/three-level.yaml"])
def test_mapper_candidates_count_what_their_runs_count(arch_file):
    """Every 25th candidate the mapper evaluated (and its choice), executed: the ledger equals the candidate's
    predicted counts over the run, per level and operand."""
    from archsim import load_arch, load_workload
    from archsim.engine.mapper import map_workload
    arch, work = load_arch(arch_file), load_workload("workloads/tiny.yaml")
    names, results = map_workload(arch, work, "energy", budget=300)
    checked = 0
    for r in results:
        picked = r.candidates[::25] + [(r.keep, r.best)]
        for keep, cand in picked:
            lm = LayerMap(r.layer, keep, cand.mapping, "candidate")
            ledger = simulate(arch, work, "functional", mapping={r.layer: lm}).ledger
            predicted = _per_operand(cand.counts)
            for lvl, operand, action in itertools.product(names, OPERANDS, ("read_bits", "write_bits")):
                n = predicted.get((lvl, operand, action), 0)
                assert ledger.get(lvl, action, r.layer, operand) == n * r.passes, (lvl, operand, action)
            checked += 1
    assert checked > 10


@pytest.mark.skipif(__import__("numba").config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
def test_outputs_independent_of_mapping_mode_and_threads(tmp_path):
    """The mapping of test_a_good_mapping_file_runs and the planner's, in both modes, on 1 and 2 threads."""
    import numba
    from archsim import load_arch, load_workload
    from archsim.inputs import read_yaml_mapping
    from archsim.mapping import mapfile
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(GOOD))
    arch, work = load_arch("default"), load_workload("workloads/tiny.yaml")
    maps = mapfile.load(str(tmp_path / "m.yaml"), arch, read_yaml_mapping)
    before = numba.get_num_threads()
    try:
        outs = []
        for threads, mode, mapping in itertools.product((1, 2), ("functional", "timing"), (None, maps)):
            numba.set_num_threads(threads)
            outs.append(simulate(arch, work, mode, mapping=mapping).outputs)
    finally:
        numba.set_num_threads(before)
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


@settings(max_examples=5, deadline=None)
@given(m=st.sampled_from([2, 4]), n=st.sampled_from([2, 3]), T=st.sampled_from([1, 2]),
       objective=st.sampled_from(["energy", "cycles", "edp"]), buf_bits=st.sampled_from([64, 256, 4096]))
def test_mapper_choice_is_optimal_and_runs_as_predicted(m, n, T, objective, buf_bits):
    """On a space small enough to enumerate apart (every split and order, factor-1 loops included, both keep
    variants), `archsim map`'s choice is the best for its objective; executed, its memory energy is the one
    predicted."""
    from archsim.engine.mapper import keep_variants, map_workload
    from archsim.mapping.hierarchy import levels_of
    from archsim.mapping.search import evaluate
    from test_loopnest import _all_mappings
    data = copy.deepcopy(DEFAULT_ARCH)  # two levels: a memory for everything, the weight registers
    data["levels"] = [lv for lv in data["levels"] if lv["name"] in ("weight_mem", "weight_buf")]
    data["levels"][0]["holds"] = ["weights", "inputs", "outputs"]
    data["levels"][1]["capacity"] = buf_bits
    data["synapse"]["count"] = data["neuron"]["count"] = 2
    arch = arch_from_data(data, "<small>")
    work = workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "s", "samples": T, "seed": 3,
                               "input": {"size": n, "bits": 1},
                               "layers": [{"type": "dense", "outputs": m, "weight_bits": 4, "activation": "pbit"}]},
                              "<w>")
    names, (r,) = map_workload(arch, work, objective, budget=10 ** 6)
    assert r.method == "exhaustive"
    plan = simulate(arch, work).plan
    scores = [c.score(objective) for keep in keep_variants(arch, work.spec)
              for c in (evaluate(r.operation, levels_of(arch, keep, plan.reserved), mp)
                        for mp in _all_mappings(r.operation, len(names), ("M",), 2)) if c is not None]
    assert r.best.score(objective) == min(scores)
    result = simulate(arch, work, "functional", mapping={0: r.layer_map()})
    memory_pj = sum(result.ledger.get(lv.name, f"{a}_bits", 0) * getattr(lv, f"{a}_pj_per_bit").value
                    for lv in arch.levels for a in ("read", "write"))
    assert memory_pj == pytest.approx(r.best.energy_pj * r.passes)
