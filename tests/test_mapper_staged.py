"""The mapper searches where the activations are kept: their home is the plan's (one for the network), and the
inputs and the outputs may each be staged at any subset of the levels inside it that may hold them. Oracles: the
space enumerated apart (every keep-set variant built here, times every split and order of the loops, exact and
uneven) against which the exhaustive mapper's choice must be optimal for each objective; the planner's own
mapping, which the mapper must equal or beat on configs/dram-activations.yaml's CIFAR-10 CNN; the executor's
ledger, which must count what every staged candidate predicts; the definition of the Pareto front, which the
flags in mappings.csv must follow. Every figure compared comes from the code (the count model, the ledger), none
is typed here, so the tests hold whatever the count model charges a drain."""
import copy
import itertools

import pandas as pd
import pytest
import yaml
from hypothesis import assume, event, given, settings, strategies as st

from archsim import load_arch, load_workload, simulate
from archsim.cli import main
from archsim.config.loader import arch_from_data
from archsim.engine.mapper import map_workload
from archsim.engine.plan import make_plan
from archsim.errors import MappingError
from archsim.mapping.execute import tile_count
from archsim.mapping.hierarchy import levels_of, pdnn_levels
from archsim.mapping.loopnest import EXACT, LAST_TILE, Mapping
from archsim.mapping.mapfile import LayerMap
from archsim.mapping.search import OBJECTIVES, evaluate
from archsim.sweep import set_path
from helpers import pdnn
from test_loopnest import _factorisations
from test_mapping_exec import OPERANDS, _per_operand

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
DRAM_ACTS = yaml.safe_load((ROOT / "configs" / "dram-activations.yaml").read_text())
ACTS = ("inputs", "outputs")


def _staged(keep):
    """{operand: the levels keeping it past its home} for the inputs and the outputs."""
    return {o: tuple(n for n, k in keep.items() if o in k)[1:] for o in ACTS}


def _keep_key(keep):
    return tuple(sorted((n, tuple(sorted(k))) for n, k in keep.items()))


def _ledger_counts_predictions(arch, work, names, picks, passes):
    """Runs {layer: (keep, candidate)} in one simulation: the ledger equals each candidate's predicted bits per
    level, operand and action over the run."""
    maps = {layer: LayerMap(layer, keep, c.mapping, "candidate") for layer, (keep, c) in picks.items()}
    ledger = simulate(arch, work, "functional", mapping=maps).ledger
    for layer, (keep, c) in picks.items():
        predicted = _per_operand(c.counts)
        for lvl, operand, action in itertools.product(names, OPERANDS, ("read_bits", "write_bits")):
            assert ledger.get(lvl, action, layer, operand) == predicted.get((lvl, operand, action), 0) * passes, \
                (layer, lvl, operand, action, keep, c.mapping)


def _spread(candidates, per_group, max_tiles, op):
    """Up to `per_group` candidates of each staging (inputs, outputs kept where), spread over the list, of at most
    `max_tiles` tiles per pass (they are executed tile by tile)."""
    groups = {}
    for keep, c in candidates:
        if tile_count(c.mapping, op) <= max_tiles:
            groups.setdefault(tuple(_staged(keep).values()), []).append((keep, c))
    return {g: kc[::max(1, len(kc) // per_group)][:per_group] for g, kc in groups.items()}


# ---- configs/dram-activations.yaml: the CIFAR-10 CNN's activations homed in DRAM ----

@pytest.fixture(scope="module")
def cifar():
    arch, work = load_arch(str(ROOT / "configs" / "dram-activations.yaml")), \
        load_workload(str(ROOT / "workloads" / "cifar10-cnn-pbit.yaml"))
    return arch, work, make_plan(arch, work), {o: map_workload(arch, work, o) for o in OBJECTIVES}


def test_cifar_mapper_at_least_as_good_as_the_planner_for_each_objective(cifar):
    """The plan homes the activations in DRAM and stages them through global_buf; per layer and objective the
    mapper's choice is at least as good as the planner's mapping evaluated by the same count model, and the
    mapper searched staged and unstaged inputs and outputs, each on its own."""
    arch, work, plan, results = cifar
    assert plan.act_level == "dram"
    for objective, (names, mapped) in results.items():
        for r in mapped:
            planner = evaluate(*plan.layers[r.layer].nest)
            assert r.best.score(objective) <= planner.score(objective), (objective, r.layer)
            assert {s for keep, _ in r.candidates for s in _staged(keep).values()} == {(), ("global_buf",)}
            assert all(next(n for n, k in keep.items() if o in k) == "dram" for keep, _ in r.candidates for o in ACTS)


def test_cifar_staged_candidates_count_what_their_runs_count(cifar):
    """Candidates of every staging (inputs and outputs each staged in global_buf or not) of every layer, and the
    choices, executed a candidate per layer per run: the ledger equals the predicted counts."""
    arch, work, plan, results = cifar
    names, mapped = results["energy"]
    rounds = []
    for r in mapped:
        picks = [kc for group in _spread(r.candidates, 2, 3000, r.operation).values() for kc in group]
        assert sum(1 for keep, _ in picks if any(_staged(keep).values())) >= 4
        for k, kc in enumerate(picks + [(r.keep, r.best)]):
            if k == len(rounds):
                rounds.append({})
            rounds[k][r.layer] = kc
    for picks in rounds:
        _ledger_counts_predictions(arch, work, names, picks, plan.items)


def test_map_command_writes_keep_sets_and_a_runnable_staged_choice(tmp_path):
    """`archsim map` on dram-activations with a layer whose activations overflow its global buffer: mappings.csv
    names the levels keeping each operand (as the mapping text does), the chosen mapping stages the inputs (DRAM
    costs 65 times the buffer per bit) and `archsim run --mapping` counts its row."""
    work = {"schema_version": 1, "kind": "pdnn", "name": "wide", "samples": 8, "seed": 2,
            "input": {"size": 4096, "bits": 8},
            "layers": [{"type": "dense", "outputs": 24, "weight_bits": 2, "activation": "pbit"}]}
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(work))
    w, out, run = str(tmp_path / "w.yaml"), tmp_path / "map", tmp_path / "run"
    a = str(ROOT / "configs" / "dram-activations.yaml")
    assert main(["map", "--arch", a, "--workload", w, "--budget", "300", "--out", str(out), "--no-plot"]) == 0
    frame = pd.read_csv(out / "mappings.csv", keep_default_na=False)
    for operand in OPERANDS:
        kept = frame[f"{operand}_kept_at"].str.split("+")
        assert all(f"{n}[" in m and operand in m.split(f"{n}[")[1].split("]")[0]
                   for levels, m in zip(kept, frame.mapping) for n in levels)
    assert set(frame.inputs_kept_at) == set(frame.outputs_kept_at) == {"dram", "dram+global_buf"}
    chosen = frame[frame.chosen].iloc[0]
    assert chosen.inputs_kept_at == "dram+global_buf"
    doc = yaml.safe_load((out / "mapping.yaml").read_text())
    kept = {lv["name"]: lv["keep"] for lv in doc["layers"][0]["levels"]}
    assert "inputs" in kept["dram"] and "inputs" in kept["global_buf"]
    assert main(["run", "--arch", a, "--workload", w, "--mapping", str(out / "mapping.yaml"), "--out", str(run),
                 "--no-progress"]) == 0
    counted = pd.read_csv(run / "counts.csv")
    counted = counted[counted.action.str.endswith("_bits") & counted.operand.isin(OPERANDS)]
    for row in counted.itertuples():
        assert chosen[f"{row.component}.{row.operand}.{row.action}"] == row.count
    assert {f"{r.component}.{r.operand}.{r.action}" for r in counted.itertuples()} == \
        {c for c in frame.columns if c.endswith("_bits") and chosen[c]}


# ---- generated small hierarchies: DRAM, a buffer that may stage activations, weight registers ----

def _small_arch(buf_holds, buf_capacity_bits, buf_pj, units, regs_bits, double_buffered, dram_bandwidth):
    data = copy.deepcopy(DRAM_ACTS)
    set_path(data, "levels[global_buf].holds", list(buf_holds))
    set_path(data, "levels[global_buf].capacity", buf_capacity_bits)
    set_path(data, "levels[global_buf].double_buffered", double_buffered)
    for action in ("read", "write"):
        set_path(data, f"levels[global_buf].{action}_pj_per_bit", {"value": f"{buf_pj}pJ", "source": "test"})
    set_path(data, "levels[local_buf].capacity", regs_bits)
    if dram_bandwidth is None:
        del data["levels"][0]["bandwidth"]
    else:
        set_path(data, "levels[dram].bandwidth", dram_bandwidth)
    for path in ("synapse.count", "neuron.count", "rng.count"):
        set_path(data, path, units)
    return arch_from_data(data, "<small staged hierarchy>")


def _keep_sets(arch, plan):
    """Every keep-set variant, built apart from the mapper: the weights at the plan's home and the buffer inside it
    when it may hold them, at the registers or not; inputs and outputs at the plan's home and, when that is DRAM,
    each at the buffer or not (when it may hold them)."""
    buf = arch.level("global_buf")
    out = []
    for registers, ins, outs in itertools.product((True, False), (False, True), (False, True)):
        keep = {"dram": set(), "global_buf": set(), "local_buf": {"weights"} if registers else set()}
        keep[plan.weight_home].add("weights")
        if plan.weight_home == "dram" and "weights" in buf.holds:
            keep["global_buf"].add("weights")
        keep[plan.act_level] |= set(ACTS)
        wanted = {o for o, staged in (("inputs", ins), ("outputs", outs)) if staged}
        if wanted and (plan.act_level != "dram" or not wanted <= set(buf.holds)):
            continue
        keep["global_buf"] |= wanted
        out.append({n: frozenset(k) for n, k in keep.items()})
    return out


def _all_nests(op, units):
    """Every mapping of a nest on three levels: each dimension split over the levels (M also over the units:
    exact, or uneven with ceil(M/g) tiles split over the levels, the count model refusing what it cannot run),
    every order of each level's loops of factor above 1 (a factor-1 loop changes no tile)."""
    dims = sorted(op.dims)
    splits = {d: [s + (1,) for s in _factorisations(op.dims[d], 3)] for d in dims}
    splits["M"] = [(s + (g,), EXACT if op.dims["M"] % g == 0 else LAST_TILE)
                   for g in range(1, min(units, op.dims["M"]) + 1)
                   for s in _factorisations(-(-op.dims["M"] // g), 3)]
    for choice in itertools.product(*(splits[d] if d == "M" else [(s, EXACT) for s in splits[d]] for d in dims)):
        split = {d: s for d, (s, _) in zip(dims, choice)}
        remainder = choice[dims.index("M")][1]
        spatial = {"M": split["M"][-1]} if split["M"][-1] > 1 else {}
        per_level = [[(d, split[d][i]) for d in dims if split[d][i] > 1] for i in range(3)]
        for orders in itertools.product(*(itertools.permutations(lv) for lv in per_level)):
            yield Mapping(tuple(orders), spatial, remainder)


def _oracle(arch, work, plan, op):
    """[candidate] of the whole space, enumerated apart: every keep-set variant times every mapping."""
    units = min(arch.synapse.count, arch.neuron.count, op.dims["M"])
    mappings = list(_all_nests(op, units))
    found = []
    for keep in _keep_sets(arch, plan):
        levels = levels_of(arch, keep, plan.reserved)
        found += [c for c in (evaluate(op, levels, m) for m in mappings) if c is not None]
    return found


@st.composite
def staged_cases(draw):
    """A tiny dense layer on DRAM -> buffer -> registers, its activations too large for the buffer (homed in DRAM)
    or not (homed in the buffer, nothing to stage); the buffer cheaper or costlier per bit than DRAM."""
    m, n, T = draw(st.sampled_from([2, 3, 4])), draw(st.sampled_from([2, 3])), draw(st.sampled_from([1, 2]))
    bias = draw(st.booleans())
    work = pdnn([{"type": "dense", "outputs": m, "weight_bits": draw(st.sampled_from([1, 2])), "activation": "pbit",
                  **({"bias": True} if bias else {})}], n_in=n, T=T, batch=draw(st.sampled_from([1, 2])))
    holds = draw(st.sampled_from([("weights", "inputs", "outputs"), ("inputs", "outputs")]))
    act_bits = T * (n + m)
    capacity = draw(st.sampled_from([act_bits - 1, act_bits // 2, 4 * act_bits]))
    arch = _small_arch(holds, capacity, draw(st.sampled_from([0.3125, 40.0])), draw(st.sampled_from([2, 3])),
                       draw(st.sampled_from([64, 256])), draw(st.booleans()),
                       draw(st.sampled_from([None, "1.6GB/s", "0.2GB/s"])))
    return arch, work


@settings(max_examples=20, deadline=None)
@given(staged_cases())
def test_exhaustive_mapper_choice_is_optimal_over_keep_sets_and_runs_as_predicted(case):
    """On spaces small enough to enumerate apart, the exhaustive mapper's choice is optimal for each objective over
    every keep-set variant and mapping; executed, the choice and the best staged candidate count what they
    predict."""
    arch, work = case
    try:
        plan = make_plan(arch, work)
    except MappingError:  # the planner finds no tiling (a buffer the weights pass through holds no row of them)
        assume(False)
    op = None
    for objective in OBJECTIVES:
        names, (r,) = map_workload(arch, work, objective, budget=10 ** 6)
        assert r.method == "exhaustive"
        if op is None:
            op = r.operation
            oracle = _oracle(arch, work, plan, op)
        assert r.best.score(objective) == min(c.score(objective) for c in oracle)
        assert {_keep_key(k) for k, _ in r.candidates} == {_keep_key(c.keep) for c in oracle}
        assert len(r.candidates) == len({(repr(c.mapping), repr(c.keep)) for _, c in r.candidates})
        staged = [kc for kc in r.candidates if any(_staged(kc[0]).values())]
        picks = [(r.keep, r.best)] + ([min(staged, key=lambda kc: kc[1].score(objective))] if staged else [])
        for pick in picks:
            _ledger_counts_predictions(arch, work, names, {r.layer: pick}, plan.items)
        event(f"{objective}: activations homed in {plan.act_level}, "
              f"{'staged' if any(_staged(r.keep).values()) else 'unstaged'} choice")


def _best(candidates, objective, staged):
    scores = [c.score(objective) for c in candidates if bool(any(_staged(c.keep).values())) == staged]
    return min(scores)


@pytest.mark.parametrize("buf_pj, staging_wins", [(0.3125, True), (40.0, False)])
def test_staging_wins_on_a_cheap_buffer_and_loses_on_a_costly_one(buf_pj, staging_wins):
    """4 outputs on 2 units read every input twice. Energy, enumerated apart: staged inputs or outputs in a buffer
    cheaper per bit than DRAM beat every unstaged candidate; in a costlier one (reads of the tile there cost more
    than the DRAM reads they replace) every unstaged candidate beats them. The mapper picks the winning side."""
    arch = _small_arch(("inputs", "outputs"), 13, buf_pj, 2, 256, False, "1.6GB/s")
    work = pdnn([{"type": "dense", "outputs": 4, "weight_bits": 2, "activation": "pbit"}], n_in=3, T=2)
    plan = make_plan(arch, work)
    assert plan.act_level == "dram"
    names, (r,) = map_workload(arch, work, "energy", budget=10 ** 6)
    oracle = _oracle(arch, work, plan, r.operation)
    staged, unstaged = _best(oracle, "energy", True), _best(oracle, "energy", False)
    assert (staged < unstaged) == staging_wins and staged != unstaged
    assert r.best.energy_pj == min(staged, unstaged)
    assert bool(any(_staged(r.keep).values())) == staging_wins
    _ledger_counts_predictions(arch, work, names, {r.layer: (r.keep, r.best)}, plan.items)


def test_keep_variants_stage_each_operand_on_its_own_inside_the_plan_home():
    """Four levels, two inside the DRAM home that may hold activations: inputs at any of the 4 subsets of them,
    outputs at any of 4 on their own, with and without the registers; the home never moves."""
    from archsim.engine.mapper import keep_variants
    data = copy.deepcopy(DRAM_ACTS)
    extra = copy.deepcopy(data["levels"][1])
    extra.update(name="act_buf", holds=["inputs", "outputs"], capacity=4096)
    data["levels"].insert(2, extra)
    arch = arch_from_data(data, "<four levels>")
    work = pdnn([{"type": "dense", "outputs": 8, "weight_bits": 2, "activation": "pbit"}], n_in=64, T=2)
    variants = keep_variants(arch, work.spec, "dram")
    assert len(variants) == 2 * 4 * 4 == len({_keep_key(v) for v in variants})
    names = [lv.name for lv in pdnn_levels(arch)]
    for v in variants:
        assert list(v) == names and set(ACTS) <= v["dram"]
        assert set(_staged(v)["inputs"]) | set(_staged(v)["outputs"]) <= {"global_buf", "act_buf"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=40))
def test_pareto_flags_follow_the_definition(rows):
    """mappings.csv's Pareto flags (one pass per layer) against the definition, candidate by candidate: no other
    candidate of the layer at most as costly in energy and cycles and cheaper in one."""
    from archsim.report.mappings import _pareto
    frame = pd.DataFrame(rows, columns=["layer", "energy", "cycles"])
    frame["energy_pj"] = frame.pop("energy") * 1.5
    want = [not any(o.layer == r.layer and o.energy_pj <= r.energy_pj and o.cycles <= r.cycles and
                    (o.energy_pj < r.energy_pj or o.cycles < r.cycles) for o in frame.itertuples())
            for r in frame.itertuples()]
    assert _pareto(frame) == want
