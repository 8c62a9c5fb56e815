"""Boltzmann machines and denoising chains against independent oracles: the dense NumPy Gibbs reference (bits),
exact enumeration of the Boltzmann distribution (samples), the closed-form counts from the graph's degrees."""
import itertools
import json
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numba
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.engine.colour_block import field_range, signed_bits, stage_plan
from archsim.engine.simulate import simulate
from archsim.engine.stepped import stepped_gibbs_cycles
from archsim.errors import ArchsimError, ConfigError, OverflowError_
from archsim.hw.accelerator import Accelerator
from archsim.hw.timing import flow_shop
from archsim.kernels import ising, jit, reference
from archsim.kernels.jit import threads
from archsim.ledger import Ledger
from archsim.report.run import summarize
from archsim.workload import graph
from archsim.workload.boltzmann import boltzmann_from_data, dtm_from_data
from helpers import arch

ROOT = Path(__file__).resolve().parents[1]


def bm_data(rows=3, cols=3, nb=4, periodic=False, beta=0.5, sweeps=50, burn_in=5, chains=1, seed=3, **extra):
    return {"schema_version": 1, "kind": "boltzmann", "name": "t", "beta": beta, "sweeps": sweeps,
            "burn_in": burn_in, "chains": chains, "seed": seed,
            "graph": {"type": "grid", "rows": rows, "cols": cols, "neighbourhood": nb, "periodic": periodic}, **extra}


GRAPH_KINDS = st.sampled_from(["grid", "rules", "king", "lattice", "dbm", "chimera", "edges"])


@st.composite
def small_graph(draw):
    """A small graph of any generated kind (sizes kept for exact references)."""
    kind = draw(GRAPH_KINDS)
    if kind == "rules":
        return {"type": "grid", "rows": draw(st.integers(1, 5)), "cols": draw(st.integers(1, 5)),
                "periodic": draw(st.booleans()), "rules": draw(st.lists(st.tuples(st.integers(0, 3), st.integers(
                    1, 3)), min_size=1, max_size=3))}
    if kind == "king":
        return {"type": "king", "rows": draw(st.integers(1, 4)), "cols": draw(st.integers(1, 4)),
                "periodic": draw(st.booleans())}
    if kind == "lattice":
        return {"type": "lattice", "shape": draw(st.lists(st.integers(1, 3), min_size=3, max_size=3)),
                "periodic": draw(st.booleans())}
    if kind == "dbm":
        layers = draw(st.lists(st.integers(1, 5), min_size=2, max_size=3))
        return {"type": "dbm", "layers": layers, "fan_in": draw(st.integers(1, min(layers[:-1]))),
                "seed": draw(st.integers(0, 99))}
    if kind == "chimera":
        return {"type": "chimera", "m": 1, "t": draw(st.integers(1, 3))}
    if kind == "edges":
        n = draw(st.integers(1, 7))
        pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                              max_size=12, unique_by=lambda p: (min(p), max(p))))
        return {"type": "edges", "nodes": n, "edges": pairs}
    return {"type": "grid", "rows": draw(st.integers(1, 5)), "cols": draw(st.integers(1, 5)),
            "neighbourhood": draw(st.sampled_from([4, 8, 12])), "periodic": draw(st.booleans())}


@st.composite
def machine(draw):
    data = bm_data(beta=draw(st.floats(0.01, 2.0)), sweeps=draw(st.integers(1, 12)), burn_in=0,
                   chains=draw(st.integers(1, 4)), seed=draw(st.integers(0, 2**40)),
                   coupling_bits=draw(st.integers(1, 16)), bias_bits=draw(st.integers(1, 16)),
                   record_every=draw(st.integers(1, 3)))
    data["graph"] = draw(small_graph())
    data["colouring"] = {"method": draw(st.sampled_from(["auto", "dsatur", "greedy"]))}
    bm = boltzmann_from_data(data)
    if draw(st.booleans()):
        nodes = sorted(set(draw(st.lists(st.integers(0, bm.n - 1), min_size=1, max_size=3))))
        bm = boltzmann_from_data({**data, "clamp": {"nodes": nodes, "values": [1] * len(nodes)}})
    return bm


def dense(bm):
    """The n x n coupling matrix of a small machine (tests only: the simulator never makes one)."""
    J = np.zeros((bm.n, bm.n), np.int64)
    J[bm.edges[:, 0], bm.edges[:, 1]] = J[bm.edges[:, 1], bm.edges[:, 0]] = bm.weights
    return J


def kernel_run(bm, rng_bits=16, wide=False):
    sp = stage_plan(arch(**{"rng.bits_per_draw": rng_bits}), bm, 0)
    if wide:
        sp.layout = ising.layout(*bm.adjacency(), bm.h, sp.ptr, sp.nodes, wide=True)
        assert sp.layout.nbr.dtype == np.uint32 and sp.layout.w.dtype == np.int64
    states = bm.initial_states()
    s = bm.spec
    records = len(range(s.burn_in, s.sweeps, s.record_every))
    out = np.zeros((records, s.chains, bm.n), np.int8)
    ising.run(states, sp.layout, sp.thr, sp.I_min, s.seed, rng_bits, 0, s.sweeps, s.burn_in, s.record_every, out)
    return states, out, sp


@given(machine(), st.booleans())
def test_kernel_matches_dense_reference(bm, wide):
    """Bits equal to the dense reference, with the narrowest layout types or the wide ones of big graphs."""
    states, out, sp = kernel_run(bm, wide=wide)
    s = bm.spec
    final, records = reference.gibbs(bm.initial_states(), dense(bm), bm.h, sp.thr, sp.I_min, bm.colours, bm.clamped,
                                     s.seed, 16, 0, s.sweeps, s.burn_in, s.record_every)
    np.testing.assert_array_equal(states, final)
    np.testing.assert_array_equal(out, records)
    assert np.all(out[:, :, bm.clamped] == bm.clamp_values[bm.clamped])  # clamped nodes never change


@given(machine())
def test_colouring_is_proper(bm):
    assert not np.any(bm.colours[bm.edges[:, 0]] == bm.colours[bm.edges[:, 1]])


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
@settings(max_examples=10)
@given(machine())
def test_independent_of_thread_count_and_chain_path(bm):
    """One thread; two threads as shipped (small work: the calling thread); two worker threads however small."""
    runs = []
    for n, min_ops in ((1, jit.PARALLEL_MIN_OPS), (2, jit.PARALLEL_MIN_OPS), (2, 0)):
        with threads(n), mock.patch.object(jit, "PARALLEL_MIN_OPS", min_ops):
            runs.append(kernel_run(bm)[:2])
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


@settings(max_examples=15)
@given(machine(), st.booleans(), st.sampled_from([1, 3, 64]))
def test_modes_agree_and_counts_match_the_closed_form(bm, small_buffer, units):
    """Timing mode (the kernel per colour block, one event per run of identical rounds) against functional mode
    (the kernel over every sweep, each block accounted once, times sweeps x chains)."""
    a = arch(**{"levels[weight_buf].capacity": 16 if small_buffer else "8Kib", "synapse.count": units,
                "neuron.count": units})
    f, t = simulate(a, bm, "functional"), simulate(a, bm, "timing")
    assert f.cycles == t.cycles and f.ledger.items() == t.ledger.items()
    np.testing.assert_array_equal(f.samples, t.samples)
    summary, tables = summarize(f)
    assert summary["counts_match_analytic"], tables["analytic"]
    deg = np.bincount(bm.edges.reshape(-1), minlength=bm.n)[~bm.clamped]
    reps = bm.spec.sweeps * bm.spec.chains
    assert f.ledger.get("synapse", "adds") == reps * deg.sum()       # one +-J add per neighbour per update
    assert f.ledger.get("rng", "draws") == reps * (~bm.clamped).sum()  # one draw per updated node per sweep


@settings(max_examples=15)
@given(machine())
def test_wired_cell_array_updates_one_colour_per_clock(bm):
    """A cell per node with combinational register files (neighbour states on wires): the clock rule of the
    published FPGA p-computers, one clock per colour block, so a sweep takes as many cycles as the graph has
    colours (counted here from the colouring, not from the timing model); both modes agree."""
    cells = {"synapse.count": bm.n, "neuron.count": bm.n, "neuron.latency_cycles": 0, "synapse.inputs_per_cycle": 16,
             "rng.count": bm.n}  # one RNG per cell
    for mem in ("levels[weight_mem]", "levels[act_mem]"):
        cells.update({f"{mem}.kind": "regfile", f"{mem}.cycles_per_access": 0,
                      f"{mem}.read_latency_cycles": 0, f"{mem}.write_latency_cycles": 0})
    a = arch(**cells)
    f, t = simulate(a, bm, "functional"), simulate(a, bm, "timing")
    assert f.cycles == t.cycles and f.ledger.items() == t.ledger.items()
    colours = len(set(bm.colours[~bm.clamped].tolist()))
    assert f.cycles == bm.spec.sweeps * bm.spec.chains * colours


def exact_distribution(bm, beta):
    states = np.array(list(itertools.product([-1, 1], repeat=bm.n)), dtype=np.int64)
    energy = 0.5 * np.einsum("ki,ij,kj->k", states, dense(bm), states) + states @ bm.h  # sum_{i<j} J s s + h s
    p = np.exp(beta * (energy - energy.max()))
    return states, p / p.sum()


def tv_distance(samples, states, p):
    index = ((samples.reshape(-1, samples.shape[-1]) + 1) // 2) @ (1 << np.arange(samples.shape[-1])[::-1])
    q = np.bincount(index, minlength=len(p)) / index.size
    return 0.5 * np.abs(q - p).sum()


CASES = [bm_data(3, 3, 4, False, beta=0.25, sweeps=6000, burn_in=100, chains=8, coupling_bits=3, bias_bits=3),
         bm_data(3, 4, 4, True, beta=0.2, sweeps=6000, burn_in=100, chains=8, seed=9, coupling_bits=3, bias_bits=2),
         {**bm_data(beta=0.4, sweeps=8000, burn_in=100, chains=8, seed=4, coupling_bits=3),
          "graph": {"type": "edges", "nodes": 3, "edges": [[0, 1], [1, 2], [0, 2]]}},
         {**bm_data(beta=0.15, sweeps=6000, burn_in=100, chains=8, seed=7, coupling_bits=3, bias_bits=2),
          "graph": {"type": "king", "rows": 3, "cols": 3}}]


@pytest.mark.parametrize("data", CASES, ids=["3x3-open", "3x4-periodic", "frustrated-triangle", "king-3x3"])
def test_samples_follow_the_exact_boltzmann_distribution(data, tmp_path):
    """TV bound: for N iid draws, E[TV] <= 0.5 * sum_k sqrt(p_k / N). Gibbs draws are correlated; we take
    N_eff = N / 4 (an integrated autocorrelation time of up to 4 sweeps; at these couplings the measured TV
    is below the iid expectation, i.e. about 1 sweep) and allow 2x: bound = 2 * 0.5 * sum_k sqrt(4 p_k / N),
    0.13 (3x3), 0.29 (3x4), 0.01 (triangle), 0.16 (King's 3x3: 4 colours, degrees 3, 5, 8) here. The same
    bound must reject the distribution at 3 x beta (negative control: TV about 0.6), so the test can fail."""
    bm = boltzmann_from_data(data)
    if bm.spec.graph.type == "edges":  # antiferromagnetic triangle: frustrated
        np.savez(tmp_path / "J.npz", edges=[[0, 1], [1, 2], [2, 0]], J=[-2, -2, -2], h=np.array([1, 0, -1]))
        bm = boltzmann_from_data({**data, "couplings": "J.npz"}, tmp_path / "w.yaml")
    result = simulate(arch(**{"rng.bits_per_draw": 24}), bm, "functional")
    states, p = exact_distribution(bm, bm.spec.beta)
    n_eff = result.samples.shape[0] * result.samples.shape[1] / 4
    bound = 2 * 0.5 * np.sqrt(p / n_eff).sum()
    assert tv_distance(result.samples, states, p) < bound
    _, p_wrong = exact_distribution(bm, bm.spec.beta * 3)
    assert tv_distance(result.samples, states, p_wrong) > bound


def test_bad_machines_name_file_and_field(tmp_path):
    with pytest.raises(ConfigError, match=r"graph.edges\[1\]: \[2, 2\] is a self loop"):
        boltzmann_from_data({**bm_data(), "graph": {"type": "edges", "nodes": 3, "edges": [[0, 1], [2, 2]]}})
    with pytest.raises(ConfigError, match=r"graph.edges\[0\]: node 5 outside 0..2"):
        boltzmann_from_data({**bm_data(), "graph": {"type": "edges", "nodes": 3, "edges": [[0, 5]]}})
    np.savez(tmp_path / "J.npz", edges=[[0, 1], [1, 0]], J=[3, 2], h=np.zeros(9, int))
    with pytest.raises(ConfigError, match=r"J.npz:edges\[1\]: asymmetric coupling: J\[1,0\] = 2") as e:
        boltzmann_from_data({**bm_data(), "couplings": "J.npz"}, tmp_path / "w.yaml")
    assert str(tmp_path / "w.yaml") in str(e.value)
    np.savez(tmp_path / "J.npz", edges=[[0, 4]], J=[1], h=np.zeros(9, int))  # (0,0), (1,1): not 4-neighbours
    with pytest.raises(ConfigError, match=r"J\[0,4\] = 1 couples nodes the graph does not connect"):
        boltzmann_from_data({**bm_data(), "couplings": "J.npz"}, tmp_path / "w.yaml")
    with pytest.raises(ConfigError, match="burn_in"):
        boltzmann_from_data(bm_data(sweeps=5, burn_in=5))
    with pytest.raises(ConfigError, match="lacks array"):
        np.savez(tmp_path / "K.npz", J=[1])
        boltzmann_from_data({**bm_data(), "couplings": "K.npz"}, tmp_path / "w.yaml")


def test_dtm_stages_are_conditioned_and_accounted(tmp_path):
    data = {"schema_version": 1, "kind": "dtm", "name": "d", "graph": {"type": "grid", "rows": 4, "cols": 4},
            "beta": 0.3, "sweeps": 20, "chains": 3, "seed": 2, "condition_nodes": [0, 1, 2, 3],
            "stages": [{}, {"sweeps": 10}, {"beta": 0.6}]}
    dtm = dtm_from_data(data)
    ledger_result = simulate(arch(), dtm, "functional")
    summary, _ = summarize(ledger_result)
    assert summary["counts_match_analytic"] and summary["stages"] == 3
    assert abs(sum(summary["stage_energy_pj"]) - summary["energy_pj"]) < 1e-9 * summary["energy_pj"]
    # stage k > 0 leaves the condition nodes as stage k - 1 left them: rerun stage by stage and compare
    states = dtm.stages[0].initial_states()
    for k, bm in enumerate(dtm.stages):
        before = states[:, [0, 1, 2, 3]].copy()
        sp = stage_plan(arch(), bm, k)
        ising.run(states, sp.layout, sp.thr, sp.I_min, bm.spec.seed, arch().rng.bits_per_draw, 0, bm.spec.sweeps,
                  bm.spec.burn_in, bm.spec.record_every,
                  np.zeros((len(range(bm.spec.burn_in, bm.spec.sweeps, bm.spec.record_every)), bm.spec.chains, bm.n),
                           np.int8))
        if k > 0:
            np.testing.assert_array_equal(states[:, [0, 1, 2, 3]], before)
    np.testing.assert_array_equal(states, ledger_result.final)
    assert simulate(arch(), dtm, "timing").cycles == ledger_result.cycles


def test_cli_writes_samples(tmp_path):
    path = tmp_path / "bm.yaml"
    path.write_text(yaml.safe_dump(bm_data(sweeps=30, burn_in=10, chains=2)))
    r = subprocess.run([sys.executable, "-m", "archsim", "run", "--workload", str(path), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    samples = np.load(tmp_path / "o" / "samples.npy")
    assert samples.dtype == np.int8 and samples.shape == (20 * 2, 9) and set(np.unique(samples)) <= {-1, 1}
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["counts_match_analytic"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**bm_data(), "graph": {"type": "grid", "rows": 0, "cols": 3}}))
    r = subprocess.run([sys.executable, "-m", "archsim", "run", "--workload", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "graph.rows" in r.stderr and "Traceback" not in r.stderr


@settings(max_examples=40)
@given(machine())
def test_field_range_is_the_brute_force_range_of_partial_sums(bm):
    """Over every spin state, the partial sums h_i, h_i + J s, ... the kernel forms (CSR order): their range
    (with 0, where the accumulator starts) is what the overflow check takes from the couplings' values."""
    if bm.n > 10:
        return
    indptr, indices, weights = bm.adjacency()
    ptr, nodes = graph.blocks(bm.colours, bm.clamped)
    lo = hi = 0
    for s in itertools.product([-1, 1], repeat=bm.n):
        for i in nodes:
            partial = np.cumsum(np.concatenate([[bm.h[i]], weights[indptr[i]:indptr[i + 1]] *
                                                np.array(s)[indices[indptr[i]:indptr[i + 1]]]]))
            lo, hi = min(lo, partial.min()), max(hi, partial.max())
    plan, values = field_range(bm, nodes, graph.degrees(bm.n, bm.edges))
    assert values == (lo, hi) and plan[0] <= lo and hi <= plan[1]


def test_signed_bits():
    for lo, hi in [(0, 0), (-1, 0), (-8, 7), (-9, 7), (-8, 8), (0, 1), (-300, 2)]:
        want = next(b for b in range(1, 64) if -(1 << (b - 1)) <= lo and hi <= (1 << (b - 1)) - 1)
        assert signed_bits(lo, hi) == want


def test_accumulator_overflow_is_checked_from_widths_then_values(tmp_path):
    """4 neighbours, 4-bit couplings and biases: the widths allow [-40, 39] (7 bits). With 7 bits nothing is
    checked; with 6 the values decide: couplings of +-1 fit (|field| <= 4 + 8), 4-bit extremes do not."""
    data = bm_data(4, 4, 4, True, coupling_bits=4, bias_bits=4)
    plan = field_range(boltzmann_from_data(data), np.arange(16), np.full(16, 4))[0]
    assert plan == (-40, 39) and signed_bits(*plan) == 7
    simulate(arch(**{"synapse.accumulator_bits": 7}), boltzmann_from_data(data))
    edges = graph.grid_edges(4, 4, graph.NEIGHBOURHOODS[4], True)
    np.savez(tmp_path / "small.npz", edges=edges, J=np.ones(len(edges), int), h=np.full(16, -8))
    np.savez(tmp_path / "big.npz", edges=edges, J=np.full(len(edges), -8), h=np.full(16, -8))
    simulate(arch(**{"synapse.accumulator_bits": 6}),
                       boltzmann_from_data({**data, "couplings": "small.npz"}, tmp_path / "w.yaml"))
    with pytest.raises(OverflowError_, match=r"w.yaml: overflow: .* can reach \[-40, 24\] .* needs 7 signed bits; "
                                             r"synapse.accumulator_bits is 6"):
        simulate(arch(**{"synapse.accumulator_bits": 6}),
                           boltzmann_from_data({**data, "couplings": "big.npz"}, tmp_path / "w.yaml"))


def test_neighbourhood_12_with_16_bit_couplings_on_a_4_bit_accumulator_exits_2(tmp_path):
    """The hardening issue's case: it used to exit 0, say the counts matched and price adds at 4 bits."""
    import copy
    from helpers import DEFAULT_ARCH
    a = copy.deepcopy(DEFAULT_ARCH)
    a["synapse"]["accumulator_bits"] = 4
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(a))
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(bm_data(8, 8, 12, True, coupling_bits=16, bias_bits=16)))
    r = subprocess.run([sys.executable, "-m", "archsim", "run", "--arch", str(tmp_path / "a.yaml"), "--workload",
                        str(tmp_path / "w.yaml"), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "w.yaml" in r.stderr and "accumulator_bits is 4" in r.stderr and "signed bits" in r.stderr
    assert not (tmp_path / "o" / "summary.json").exists()


@settings(max_examples=10)
@given(machine(), st.sampled_from(["functional", "timing"]))
def test_progress_reports_every_update_and_changes_no_bit(bm, mode):
    """With a progress callback the functional kernel runs in pieces of sweeps: the same samples, states and
    counts, and the callback sees every p-bit update once."""
    seen = []
    a = arch()
    plain, reported = simulate(a, bm, mode), simulate(a, bm, mode, progress=seen.append)
    np.testing.assert_array_equal(plain.samples, reported.samples)
    assert plain.cycles == reported.cycles and plain.ledger.items() == reported.ledger.items()
    assert sum(seen) == bm.spec.sweeps * bm.spec.chains * int((~bm.clamped).sum())  # clamped nodes never update


def flow_shop_cycles(a, bm, stage=0):
    """The single-chip cycles of one stage by the closed form: the stationary couplings' load, then every sweep of
    every chain runs each colour block alone, its rounds of min(synapses, neurons) nodes through an in-order
    (load, compute) flow shop (hw/timing.flow_shop) with the coupling buffer's slots; the rounds' phases from the
    components on a scratch ledger."""
    acc = Accelerator(a, Ledger())
    degrees = graph.degrees(bm.n, bm.edges)
    row_bits = degrees * bm.spec.coupling_bits + bm.spec.bias_bits
    ptr, nodes = graph.blocks(bm.colours, bm.clamped)
    units = min(a.synapse.count, a.neuron.count)
    buffer = a.holders("couplings")[-1]
    stationary = int(row_bits[nodes].sum()) <= buffer.capacity
    per_sweep = 0
    for c in range(len(ptr) - 1):
        block = nodes[ptr[c]:ptr[c + 1]]
        rounds = [block[k:k + units] for k in range(0, len(block), units)]
        per_sweep += flow_shop([acc.gibbs_load(stage, row_bits[r], stationary) for r in rounds],
                               [acc.gibbs_compute(stage, row_bits[r], degrees[r], stationary) for r in rounds],
                               2 if buffer.double_buffered else 1)
    load = acc.couplings_load(stage, row_bits[nodes]) if stationary else 0
    return load + bm.spec.sweeps * bm.spec.chains * per_sweep


SHIPPED_GIBBS = sorted(p.name for p in (ROOT / "workloads").glob("*.yaml")
                       if yaml.safe_load(p.read_text()).get("kind") in ("boltzmann", "dtm")
                       and "chips" not in yaml.safe_load(p.read_text()))


@pytest.mark.parametrize("name", SHIPPED_GIBBS)
@pytest.mark.parametrize("small_buffer", [False, True])
def test_shipped_workloads_keep_the_flow_shop_cycles(name, small_buffer):
    """The colour-block operation through the pipeline gives the cycles of the per-colour flow shop on every
    shipped single-chip Gibbs workload (a few sweeps: the cycles are linear in them), with stationary couplings
    and re-read ones (a 16-bit coupling buffer), in both modes."""
    data = yaml.safe_load((ROOT / "workloads" / name).read_text())
    data["sweeps"] = 3
    if data["kind"] == "boltzmann":
        data["burn_in"] = 1
    for st_ in data.get("stages", []):
        st_.pop("sweeps", None)
    path = ROOT / "workloads" / name
    work = (boltzmann_from_data if data["kind"] == "boltzmann" else dtm_from_data)(data, path)
    a = arch(**({"levels[weight_buf].capacity": 16} if small_buffer else {}))
    expected = sum(flow_shop_cycles(a, bm, k) for k, bm in enumerate(work.stages if data["kind"] == "dtm" else [work]))
    f = simulate(a, work, "functional")
    assert f.cycles == expected
    if max(bm.n for bm in (work.stages if data["kind"] == "dtm" else [work])) <= 5000:
        t = simulate(a, work, "timing")
        assert t.cycles == expected and t.ledger.items() == f.ledger.items()


@settings(max_examples=25, deadline=None)
@given(machine(), st.integers(1, 5), st.booleans(), st.booleans(), st.integers(0, 3), st.integers(1, 3),
       st.sampled_from([1, 4, 16]), st.integers(0, 2))
def test_stepped_reference_agrees_on_gibbs(bm, units, small_buffer, double, latency, banks, rng_bits, neuron):
    """The cycle-stepped reference (engine/stepped.py) against both modes of simulate() on generated small
    machines and architectures: units, stationary or re-read couplings, slots, latencies, banks, RNG and
    neuron rates."""
    a = arch(**{"synapse.count": units, "neuron.count": units + 1, "synapse.inputs_per_cycle": 2,
                "levels[weight_buf].capacity": 16 if small_buffer else "8Kib",
                "levels[weight_buf].double_buffered": double, "levels[weight_mem].read_latency_cycles": latency,
                "levels[act_mem].banks": banks, "levels[act_mem].read_latency_cycles": latency,
                "rng.count": 1, "rng.bits_per_cycle": rng_bits, "neuron.latency_cycles": neuron})
    f = simulate(a, bm, "functional")
    assert stepped_gibbs_cycles(a, f.plan) == f.cycles == simulate(a, bm, "timing", batch=False).cycles


def test_stepped_reference_agrees_on_a_dtm():
    data = {"schema_version": 1, "kind": "dtm", "name": "d", "graph": {"type": "grid", "rows": 3, "cols": 3},
            "beta": 0.3, "sweeps": 3, "chains": 2, "seed": 2, "condition_nodes": [0, 1],
            "stages": [{}, {"sweeps": 2}]}
    a = arch(**{"synapse.count": 2, "neuron.count": 2, "levels[weight_buf].capacity": 16})
    f = simulate(a, dtm_from_data(data), "functional")
    assert stepped_gibbs_cycles(a, f.plan) == f.cycles


def test_simulate_refuses_a_trace_or_a_mapping_for_gibbs(tmp_path):
    bm = boltzmann_from_data(bm_data(sweeps=8, burn_in=2))
    with pytest.raises(ArchsimError, match="p-DNN workloads only"):
        simulate(arch(), bm, "timing", trace=tmp_path / "t.csv")
    with pytest.raises(ArchsimError, match="mapping files map p-DNN"):
        simulate(arch(), bm, "functional", mapping={})
    assert not (tmp_path / "t.csv").exists()
