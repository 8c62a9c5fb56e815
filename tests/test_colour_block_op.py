"""The colour-block update of a Gibbs sweep as a declared operation (archsim/ops/colour_block.py) against two
independent oracles: the run's ledger, per level and operand and per datapath action, equals the counts of the
operation's declared loop nests (mapping/loopnest.counts, summed), and equals a brute-force walk of the update
written here (chains x sweeps x colours x spins x neighbours, literally, counting every access). Also: p-DNN and
Gibbs runs take their operations from the one registry (ops.of)."""
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim import ops
from archsim.config.loader import load_arch
from archsim.energy.analytic import gibbs_counts
from archsim.engine.simulate import simulate
from archsim.mapping.loopnest import Operation as Nest
from archsim.ops.base import Operation
from archsim.ops.colour_block import GIBBS
from archsim.workload.boltzmann import DtmWorkload, boltzmann_from_data, dtm_from_data
from helpers import arch, pdnn

ROOT = Path(__file__).resolve().parents[1]
LINK = {"width_bits": 2, "clock_hz": "50MHz", "latency_cycles": 1,
        "energy_per_bit": {"value": "1pJ", "source": "test figure"}}


@st.composite
def graphs(draw):
    """Shipped-style graphs: 2-D grids (4/8/12 neighbours), 3-D lattices, periodic or not; king graphs; layered
    DBMs and random sparse graphs (irregular degrees, isolated nodes)."""
    kind = draw(st.sampled_from(["grid", "lattice", "king", "dbm", "edges"]))
    periodic = draw(st.booleans())
    if kind == "grid":
        return {"type": "grid", "rows": draw(st.integers(1, 6)), "cols": draw(st.integers(1, 6)),
                "neighbourhood": draw(st.sampled_from([4, 8, 12])), "periodic": periodic}
    if kind == "lattice":
        return {"type": "lattice", "shape": draw(st.lists(st.integers(1, 4), min_size=3, max_size=3)),
                "periodic": periodic}
    if kind == "king":
        return {"type": "king", "rows": draw(st.integers(1, 5)), "cols": draw(st.integers(1, 5)), "periodic": periodic}
    if kind == "dbm":
        layers = draw(st.lists(st.integers(1, 6), min_size=2, max_size=3))
        return {"type": "dbm", "layers": layers, "fan_in": draw(st.integers(1, min(layers[:-1]))),
                "seed": draw(st.integers(0, 99))}
    n = draw(st.integers(1, 12))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                          max_size=24, unique_by=lambda p: (min(p), max(p))))
    return {"type": "edges", "nodes": n, "edges": pairs}


@st.composite
def workloads(draw):
    """A Boltzmann machine (clamped nodes or not, on one chip or several) or a DTM of 1-3 stages."""
    common = {"schema_version": 1, "name": "w", "graph": draw(graphs()), "beta": draw(st.floats(0.05, 2.0)),
              "sweeps": draw(st.integers(1, 5)), "chains": draw(st.integers(1, 3)), "seed": draw(st.integers(0, 99)),
              "coupling_bits": draw(st.integers(1, 8)), "bias_bits": draw(st.integers(1, 8)),
              "colouring": {"method": draw(st.sampled_from(["auto", "dsatur", "greedy"]))}}
    kind = draw(st.sampled_from(["boltzmann", "boltzmann", "dtm"]))
    if kind == "boltzmann":
        bm = boltzmann_from_data({**common, "kind": "boltzmann"})
        extra = {}
        if bm.n > 1 and draw(st.booleans()):
            nodes = sorted(set(draw(st.lists(st.integers(0, bm.n - 1), min_size=1, max_size=3))))
            extra["clamp"] = {"nodes": nodes, "values": [1] * len(nodes)}
        if bm.n > 2 and draw(st.integers(0, 3)) == 0:
            extra["chips"] = {"count": 2, "link": LINK}
        return boltzmann_from_data({**common, "kind": "boltzmann", **extra}) if extra else bm
    stages = draw(st.lists(st.fixed_dictionaries({}, optional={"sweeps": st.integers(1, 4),
                                                              "beta": st.floats(0.05, 2.0)}), min_size=1, max_size=3))
    return dtm_from_data({**common, "kind": "dtm", "condition_nodes": [0], "stages": stages})


@st.composite
def archs(draw):
    """The default machine with stationary or streamed couplings (its coupling buffer large or tiny), with the
    coupling memory as the only coupling level, or the shipped three-level hierarchy (couplings in its weights'
    levels); 1-5 units, multi-word rows."""
    variant = draw(st.sampled_from(["stationary", "streamed", "one level", "three levels"]))
    if variant == "three levels":
        return load_arch(ROOT / "configs" / "three-level.yaml")
    units = draw(st.integers(1, 5))
    changes = {"synapse.count": units, "neuron.count": draw(st.integers(1, 5)),
               "levels[weight_mem].word_bits": draw(st.sampled_from([8, 16, 64])),
               "rng.bits_per_draw": draw(st.sampled_from([4, 16]))}
    if variant == "streamed":
        changes["levels[weight_buf].capacity"] = draw(st.integers(8, 64))
    if variant == "one level":
        changes["levels[weight_buf].holds"] = ["weights"]
    return arch(**changes)


def machines(work):
    """The Boltzmann machine of each stage (one for a Boltzmann workload)."""
    return list(work.stages) if isinstance(work, DtmWorkload) else [work]


def brute_force(a, work):
    """The ledger a colour-block sweep must make, walked literally: per stage, the stationary couplings' load (if
    every updated node's row fits the innermost coupling level), then for every sweep, chain, colour, updated
    node and neighbour each access counted where it happens. Keys (layer, component, action, operand)."""
    holders = [lv for lv in a.levels if "couplings" in lv.holds] or [lv for lv in a.levels if "weights" in lv.holds]
    memory, buffer = holders[-2] if len(holders) > 1 else holders[-1], holders[-1]
    states = ([lv for lv in a.levels if "states" in lv.holds] or [lv for lv in a.levels if "inputs" in lv.holds])[-1]
    out = Counter()

    def access(layer, level, action, operand, bits, words):
        out[(layer, level.name, f"{action}_bits", operand)] += bits
        out[(layer, level.name, f"{action}_words", operand)] += words

    for layer, bm in enumerate(machines(work)):
        s = bm.spec
        neighbours = [[] for _ in range(bm.n)]
        for i, j in bm.edges.tolist():
            neighbours[i].append(j)
            neighbours[j].append(i)
        row = [len(neighbours[v]) * s.coupling_bits + s.bias_bits for v in range(bm.n)]
        updated = [v for v in range(bm.n) if not bm.clamped[v]]
        stationary = sum(row[v] for v in updated) <= buffer.capacity
        if stationary:
            for v in updated:
                access(layer, memory, "read", "couplings", row[v], math.ceil(row[v] / memory.word_bits))
                access(layer, buffer, "write", "couplings", row[v], math.ceil(row[v] / buffer.word_bits))
        source = buffer if stationary else memory
        for _sweep in range(s.sweeps):
            for _chain in range(s.chains):
                for colour in sorted(set(bm.colours.tolist())):
                    for v in updated:
                        if bm.colours[v] != colour:
                            continue
                        access(layer, source, "read", "couplings", row[v], math.ceil(row[v] / source.word_bits))
                        for _u in neighbours[v]:
                            access(layer, states, "read", "states", 1, 1)
                            out[(layer, "synapse", "adds", "")] += 1
                        out[(layer, "synapse", "samples", "")] += 1
                        out[(layer, "rng", "draws", "")] += 1
                        out[(layer, "rng", "bits", "")] += a.rng.bits_per_draw
                        out[(layer, "neuron", "samples", "")] += 1
                        access(layer, states, "write", "states", 1, 1)
    return {k: v for k, v in out.items() if v}


def declared(result):
    """The counts of the run's declared loop nests (the operation's predict: loopnest.counts summed), bits only
    (loop nests count elements, not words), keyed as the ledger."""
    out = {}
    for sp in result.plan.stages:
        for (component, action, operand), n in ops.of(sp.lp).predict(result.arch, sp.declared).items():
            if not action.endswith("_elements"):
                out[(sp.lp.index, component, action, operand)] = n
    return out


def check(a, work, mode):
    r = simulate(a, work, mode)
    ledger = {k: v for k, v in r.ledger.items() if v}
    assert ledger == brute_force(a, work)
    assert {k: v for k, v in ledger.items() if not k[2].endswith("_words")} == declared(r)
    for sp in r.plan.stages:  # the declaration: perfect nests covering every update
        assert all(isinstance(n, Nest) and all(size >= 1 for size in n.dims.values()) for n in sp.declared.nests)
    return r


MODES = st.sampled_from(["functional", "timing"])


@settings(max_examples=100, deadline=None)
@given(workloads(), archs(), MODES)
def test_ledger_equals_the_declared_nests_and_a_brute_force_walk(work, a, mode):
    check(a, work, mode)


@settings(max_examples=40, deadline=None)
@given(workloads(), archs())
def test_declared_nests_meet_the_closed_form_gibbs_terms(work, a):
    """The operation's predicted counts against eps_EO's Gibbs form (energy/analytic.gibbs_counts, from the degrees
    alone): couplings read from the coupling memory (once per stage when stationary), neighbour states read and
    states written at the states level, adds, neuron compares, draws. (A machine whose only coupling level is also
    its buffer reads it once more to load it, a departure the closed form does not model: not drawn here.)"""
    couplings = a.holders("couplings")
    if len(couplings) < 2:
        return
    r = simulate(a, work, "functional")
    for bm, sp in zip(machines(work), r.plan.stages):
        s = bm.spec
        predicted = ops.of(sp.lp).predict(a, sp.declared)
        closed = gibbs_counts(sp.declared.degrees[sp.declared.nodes], s.coupling_bits, s.bias_bits, s.sweeps, s.chains,
                              sp.declared.stationary, wM="wM", aM="aM")
        where = {("wM", "read_bits"): (couplings[-2].name, "couplings"),
                 ("aM", "read_bits"): (a.holders("states")[-1].name, "states"),
                 ("aM", "write_bits"): (a.holders("states")[-1].name, "states")}
        for (component, action), n in closed.items():
            component, operand = where.get((component, action), (component, ""))
            assert predicted.get((component, action, operand), 0) == n, (component, action)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(workloads(), archs(), MODES)
def test_ledger_equals_the_declared_nests_and_a_brute_force_walk_many(work, a, mode):
    check(a, work, mode)


def test_a_ragged_block_is_declared_as_its_degree_classes():
    """A 4 x 5 open grid: corners (degree 2), edges (3) and the interior (4) of each colour are separate perfect
    nests, with the chains and sweeps as their outer loops, and the update nest over the whole block."""
    bm = boltzmann_from_data({"schema_version": 1, "kind": "boltzmann", "name": "g", "beta": 0.5, "sweeps": 3,
                              "chains": 2, "graph": {"type": "grid", "rows": 4, "cols": 5}})
    r = simulate(arch(), bm, "functional")
    nests = r.plan.stages[0].declared.nests
    degree = np.bincount(bm.edges.reshape(-1), minlength=bm.n)
    for colour in range(int(bm.colours.max()) + 1):
        mine = [n for n in nests if f".colour{colour}." in n.name]
        classes = Counter(degree[bm.colours == colour].tolist())
        assert {n.dims["K"]: n.dims["V"] for n in mine if "K" in n.dims} == dict(classes)
        update, = [n for n in mine if "K" not in n.dims]
        assert update.dims == {"X": 2, "S": 3, "V": int((bm.colours == colour).sum())}
    assert sum(n.steps for n in nests if "K" in n.dims) == r.ledger.get("synapse", "adds") == 3 * 2 * len(bm.edges) * 2


def test_pdnn_and_gibbs_runs_take_their_operations_from_one_registry():
    """Every layer of a p-DNN run and every stage of a Gibbs run names an operation registered in ops, behind
    ops/base.Operation, and the engine's Gibbs stage plan holds that operation's declaration."""
    p = simulate(arch(), pdnn([{"type": "dense", "outputs": 4, "weight_bits": 2, "activation": "pbit"}]))
    g = simulate(arch(), boltzmann_from_data({"schema_version": 1, "kind": "boltzmann", "name": "g", "beta": 0.5,
                                              "sweeps": 2, "graph": {"type": "grid", "rows": 3, "cols": 3}}))
    for result in (p, g):
        for lp in result.plan.layers:
            assert isinstance(ops.of(lp), Operation) and ops.REGISTRY[lp.type] is ops.of(lp)
    assert [lp.type for lp in g.plan.layers] == [GIBBS]
    sp = g.plan.stages[0]
    assert sp.rounds is sp.declared.rounds and sp.runs is sp.declared.runs  # the engine's tiles are the operation's
    assert [ops.of(sp.lp).tiles(sp.declared, c, sp.lp) for c in range(len(sp.rounds))] == sp.declared.rounds


def test_shipped_gibbs_workloads_are_declared():
    """Every shipped Boltzmann and DTM workload (3 sweeps, 2 chains) on the default machine: the ledger equals its
    declared nests' counts."""
    for path in sorted((ROOT / "workloads").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if data.get("kind") not in ("boltzmann", "dtm"):
            continue
        data.update(sweeps=3, chains=2)
        if data["kind"] == "boltzmann":
            data.update(burn_in=0, record_every=1)
        else:
            data["stages"] = [{k: v for k, v in s.items() if k != "sweeps"} for s in data["stages"]]
        work = (boltzmann_from_data if data["kind"] == "boltzmann" else dtm_from_data)(data, path)
        r = simulate(arch(), work, "functional")
        assert {k: v for k, v in r.ledger.items() if v and not k[2].endswith("_words")} == declared(r), path.name
