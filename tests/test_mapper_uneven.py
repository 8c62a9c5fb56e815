"""The mapper's uneven output tilings (loopnest.LAST_TILE: M on g units that do not divide it, the last tile
partial). Oracles: the space enumerated apart (tests/test_loopnest._all_mappings: every split, every order,
factor-1 loops included, exact and uneven) against which the exhaustive search must be the whole valid space
once and its choice optimal; the planner's own mapping (engine/plan.py), which the mapper must equal or beat on
a prime number of outputs; the executor's ledger, which must count what every uneven candidate predicts."""
import itertools

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings, strategies as st

from archsim import load_arch, simulate
from archsim.cli import main
from archsim.engine.mapper import map_workload
from archsim.engine.plan import make_plan
from archsim.mapping.loopnest import EXACT, LAST_TILE, Level, Mapping, check, dense_operation
from archsim.mapping.mapfile import LayerMap
from archsim.mapping.search import OBJECTIVES, _neighbours, evaluate, search, space_size
from helpers import pdnn
from test_loopnest import BIG, _all_mappings
from test_mapping_exec import OPERANDS, _per_operand

ARCHS = ["default", "configs/three-level.yaml"]


def _canonical(op, mapping):
    """The nest a mapping runs, as a key: factor-1 loops dropped; an uneven mapping whose unrolling divides the
    outputs, or exceeds them (one partial tile of all of them), is the exact one."""
    size, g = op.dims["M"], mapping.spatial.get("M", 1)
    spatial, remainder = dict(mapping.spatial), mapping.remainder
    if remainder == LAST_TILE and (size % g == 0 or g > size):
        spatial["M"], remainder = min(g, size), EXACT
    return (tuple(tuple((d, f) for d, f in lv if f > 1) for lv in mapping.temporal),
            tuple(sorted((d, f) for d, f in spatial.items() if f > 1)), remainder)


def _space(op, n_levels, units):
    """{canonical key: the first mapping of the space enumerated apart that has it}."""
    first = {}
    for m in _all_mappings(op, n_levels, ("M",), units):
        first.setdefault(_canonical(op, m), m)
    return first


def _oracle(op, levels, units):
    """{canonical key: candidate} of every valid mapping of the space enumerated apart."""
    return {k: c for k, c in ((k, evaluate(op, levels, m)) for k, m in _space(op, len(levels), units).items())
            if c is not None}


@st.composite
def spaces(draw):
    """A layer whose outputs the units rarely divide, on two levels (the inner one small and priced low)."""
    op = dense_operation("u", 1, draw(st.sampled_from([1, 2])), draw(st.sampled_from([3, 5, 6, 7])),
                         draw(st.sampled_from([1, 2, 3])), draw(st.integers(1, 8)), 1, 1, 16)
    levels = [Level("dram", BIG, frozenset(op.operands), multicast=draw(st.booleans()), read_pj_per_bit=100.0,
                    write_pj_per_bit=100.0, bits_per_cycle=draw(st.sampled_from([0, 8, 64]))),
              Level("buf", draw(st.sampled_from([16, 64, 256, BIG])), frozenset(
                  draw(st.sets(st.sampled_from(sorted(op.operands)), min_size=1))), read_pj_per_bit=2.0,
                  write_pj_per_bit=2.0, double_buffered=draw(st.booleans()))]
    return op, levels, draw(st.sampled_from([2, 3, 4]))


@settings(max_examples=30, deadline=None)
@given(spaces())
def test_exhaustive_search_is_the_whole_space_once_and_optimal(case):
    """Exhaustive: the candidates are exactly the valid mappings of the space enumerated apart (exact and uneven),
    each once; the choice is the best of them for every objective."""
    op, levels, units = case
    oracle = _oracle(op, levels, units)
    for objective in OBJECTIVES:
        best, candidates, method = search(op, levels, objective, units=units, budget=10 ** 6)
        assert method == "exhaustive"
        keys = [_canonical(op, c.mapping) for c in candidates]
        assert len(set(keys)) == len(keys) and set(keys) == set(oracle)
        if oracle:
            assert best.score(objective) == min(c.score(objective) for c in oracle.values())
    unbounded = [Level(lv.name, BIG, lv.holds) for lv in levels]  # the space before capacity pruning
    assert space_size(op, levels, ("M",), units) == sum(
        1 for m in _space(op, len(levels), units).values() if not check(op, unbounded, m))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_a_prime_layer_is_mapped_unevenly_when_that_wins(objective):
    """7 outputs on 4 units: the only exact unrollings are 1 and 7 (more than the units), so the cycles (and here
    edp) optimum of the space enumerated apart is uneven, strictly better than every exact mapping; the
    exhaustive search returns that optimum."""
    op = dense_operation("p", 1, 2, 7, 3, 4, 1, 1, 16)
    levels = [Level("dram", BIG, frozenset(op.operands), read_pj_per_bit=100.0, write_pj_per_bit=100.0,
                    bits_per_cycle=8),
              Level("buf", 64, frozenset({"weights"}), read_pj_per_bit=2.0, write_pj_per_bit=2.0)]
    oracle = list(_oracle(op, levels, 4).values())
    best, _, method = search(op, levels, objective, units=4, budget=10 ** 6)
    assert method == "exhaustive" and best.score(objective) == min(c.score(objective) for c in oracle)
    if objective != "energy":
        exact = min(c.score(objective) for c in oracle if c.mapping.remainder == EXACT)
        assert best.mapping.remainder == LAST_TILE and best.score(objective) < exact


@pytest.mark.parametrize("uneven", [True, False])
def test_climb_moves_are_valid_and_cross_between_exact_and_uneven(uneven):
    """Every neighbour of a mapping keeps the shape loopnest requires (check finds nothing wrong on unbounded
    levels), and the re-unrolling moves reach both kinds."""
    op = dense_operation("c", 2, 3, 36, 12, 4, 1, 1, 24)
    levels = [Level("dram", BIG, frozenset(op.operands)), Level("gbuf", BIG, frozenset(op.operands)),
              Level("regs", BIG, frozenset({"weights"}))]
    start = Mapping(((("M", 6), ("N", 2)), (("T", 3),), (("C", 12),)), {"M": 7}, LAST_TILE) if uneven else \
        Mapping(((("N", 2), ("M", 6)), (("T", 3),), (("C", 4), ("C", 3))), {"M": 6})
    assert not check(op, levels, start)
    moves = list(_neighbours(op, start, ("M",), 16))
    assert all(not check(op, levels, m) for m in moves)
    assert {m.remainder for m in moves} == {EXACT, LAST_TILE}
    if uneven:  # the tiles' loop moves to every level
        assert {next(i for i, d, f in m.loops() if d == "M" and f > 1) for m in moves
                if m.spatial == start.spatial} == {0, 1, 2}


def test_sampled_search_on_a_prime_layer_ends_at_a_local_optimum():
    op = dense_operation("big", 16, 8, 61, 144, 4, 1, 1, 24)
    levels = [Level("dram", BIG, frozenset(op.operands), read_pj_per_bit=20.0, write_pj_per_bit=20.0,
                    bits_per_cycle=256),
              Level("gbuf", 64 * 1024, frozenset(op.operands), read_pj_per_bit=1.0, write_pj_per_bit=1.0),
              Level("regs", 2048, frozenset({"weights"}), read_pj_per_bit=0.1, write_pj_per_bit=0.1)]
    for objective in OBJECTIVES:
        best, candidates, method = search(op, levels, objective, units=16, budget=200, seed=1)
        assert method == "sampled+climb" and {c.mapping.remainder for c in candidates} == {EXACT, LAST_TILE}
        assert all(c.score(objective) >= best.score(objective) for c in candidates)
        for m in _neighbours(op, best.mapping, ("M",), 16):
            c = evaluate(op, levels, m)
            assert c is None or c.score(objective) >= best.score(objective)


def _prime_workload(m=37, n=20, T=4, batch=1):
    return pdnn([{"type": "dense", "outputs": m, "weight_bits": 4, "activation": "pbit"}], n_in=n, T=T,
                batch=batch)


def _ledger_equals_prediction(arch, work, names, r, keep, cand):
    ledger = simulate(arch, work, "functional", mapping={r.layer: LayerMap(r.layer, keep, cand.mapping, "c")}).ledger
    predicted = _per_operand(cand.counts)
    for lvl, operand, action in itertools.product(names, OPERANDS, ("read_bits", "write_bits")):
        assert ledger.get(lvl, action, r.layer, operand) == predicted.get((lvl, operand, action), 0) * r.passes, \
            (lvl, operand, action, cand.mapping)


@pytest.mark.parametrize("arch_file", ARCHS)
def test_prime_layer_mapper_at_least_as_good_as_the_planner(arch_file):
    """37 outputs on 16 units (the planner: tiles of 16, 16 and 5): for each objective the mapper's choice is at
    least as good as the planner's mapping evaluated by the same count model; the chosen mapping, run, counts
    what it predicts."""
    arch, work = load_arch(arch_file), _prime_workload(batch=2)
    lp = make_plan(arch, work).layers[0]
    assert lp.layer_map.mapping.remainder == LAST_TILE
    planner = evaluate(*lp.nest)
    for objective in OBJECTIVES:
        names, (r,) = map_workload(arch, work, objective, budget=400)
        assert r.best.score(objective) <= planner.score(objective)
        _ledger_equals_prediction(arch, work, names, r, r.keep, r.best)
        if objective == "cycles":  # the only exact unrollings of 37 on 16 units: 1 (37 times the steps)
            assert r.best.mapping.remainder == LAST_TILE


@pytest.mark.parametrize("arch_file", ARCHS)
def test_uneven_candidates_count_what_their_runs_count(arch_file):
    """Uneven candidates of two layers (37 and 11 outputs) spread over the mapper's list, and its choices,
    executed: the ledger equals each candidate's predicted counts over the run, per level and operand."""
    arch = load_arch(arch_file)
    work = pdnn([{"type": "dense", "outputs": 37, "weight_bits": 3, "activation": "pbit", "bias": True},
                 {"type": "dense", "outputs": 11, "weight_bits": 4, "activation": "pbit"}], n_in=9, T=3, batch=2)
    names, results = map_workload(arch, work, "energy", budget=300)
    checked = 0
    for r in results:
        uneven = [(k, c) for k, c in r.candidates if c.mapping.remainder == LAST_TILE]
        for keep, cand in uneven[::max(1, len(uneven) // 30)] + [(r.keep, r.best)]:
            _ledger_equals_prediction(arch, work, names, r, keep, cand)
            checked += 1
    assert checked > 50


def test_map_command_writes_uneven_candidates_and_a_runnable_choice(tmp_path):
    """`archsim map` on a prime layer: mappings.csv says exact or last_tile per candidate (as its mapping text
    does); the chosen mapping.yaml keeps remainder: last_tile and `archsim run --mapping` counts its row."""
    work = {"schema_version": 1, "kind": "pdnn", "name": "prime", "samples": 3, "seed": 5,
            "input": {"size": 12, "bits": 1},
            "layers": [{"type": "dense", "outputs": 37, "weight_bits": 4, "activation": "pbit"}]}
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(work))
    w, out, run = str(tmp_path / "w.yaml"), tmp_path / "map", tmp_path / "run"
    assert main(["map", "--workload", w, "--objective", "cycles", "--budget", "300", "--out", str(out),
                 "--no-plot"]) == 0
    frame = pd.read_csv(out / "mappings.csv")
    assert set(frame.remainder) == {EXACT, LAST_TILE}
    assert (frame.mapping.str.contains("remainder: last_tile") == (frame.remainder == LAST_TILE)).all()
    chosen = frame[frame.chosen].iloc[0]
    assert chosen.remainder == LAST_TILE
    assert yaml.safe_load((out / "mapping.yaml").read_text())["layers"][0]["remainder"] == LAST_TILE
    assert main(["run", "--workload", w, "--mapping", str(out / "mapping.yaml"), "--out", str(run),
                 "--no-progress"]) == 0
    counted = pd.read_csv(run / "counts.csv")
    counted = counted[counted.action.str.endswith("_bits") & counted.operand.isin(OPERANDS)]
    columns = {c for c in frame.columns if c.endswith("_bits")}
    for row in counted.itertuples():
        assert chosen[f"{row.component}.{row.operand}.{row.action}"] == row.count
    assert {f"{r.component}.{r.operand}.{r.action}" for r in counted.itertuples()} == \
        {c for c in columns if chosen[c]}
