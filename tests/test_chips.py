"""The multi-chip machine's timing and partitions against independent oracles: the event model (timing mode) and
the recurrence (functional mode) against a cycle-stepped loop over both clocks (tests/stepped_chips.py), on random
machines and on generated graphs; METIS's split against the breadth-first one and brute-force cover checks."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.engine import links
from archsim.engine.simulate import simulate
from archsim.errors import ConfigError
from archsim.report import quality
from archsim.report.run import summarize
from archsim.workload import partition as partitions
from archsim.workload.boltzmann import boltzmann_from_data
from helpers import arch
from stepped_chips import stepped
from test_boltzmann import bm_data, dense, exact_distribution, machine, small_graph, tv_distance
from test_multichip import CELLS, chips, run_shipped

ROOT = Path(__file__).resolve().parents[1]
CLOCKS_MHZ = [20, 50, 100, 130, 200, 600]


@st.composite
def random_machine(draw):
    """Chips with any compute per colour (0: no node of that colour), links with any bits per colour."""
    K, C = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    compute = draw(st.lists(st.lists(st.integers(0, 4), min_size=C, max_size=C), min_size=K, max_size=K))
    pairs = [(a, b) for a in range(K) for b in range(K) if a != b and draw(st.booleans())]
    bits = [draw(st.lists(st.integers(0, 5), min_size=C, max_size=C).filter(any)) for _ in pairs]
    return (compute, pairs, bits, draw(st.integers(1, 4)), draw(st.integers(0, 4)), draw(st.sampled_from([100, 200])),
            draw(st.sampled_from(CLOCKS_MHZ)), draw(st.integers(1, 3)), draw(st.integers(1, 6)),
            draw(st.sampled_from(["wait", "stale"])))


@settings(max_examples=150, deadline=None)
@given(random_machine())
def test_events_recurrence_and_stepped_loop_agree(case):
    """Cycles and the stale lateness (smallest, largest) from all three, on unbalanced chips, one-way links,
    overloaded links (lateness growing over the run) and idle colours."""
    compute, pairs, bits, width, latency, f_pbit, f_comm, chains, sweeps, policy = case
    m = links.Machine.from_bits(compute, pairs, bits, width, latency, f_comm, f_pbit, chains, sweeps, policy)
    ev, rec = links.simulate(m), links.recurrence(m)
    cycles, late = stepped(compute, pairs, bits, width, latency, f_pbit, f_comm, chains, sweeps, policy)
    assert (ev.cycles, ev.delay_range) == (rec.cycles, rec.delay_range) == (cycles, late)
    assert ev.delay == rec.delay == late[1]


def test_long_runs_skip_repeating_periods_exactly():
    """The wait recurrence jumps over repeating sweeps: 400 sweeps equal the event model's, which steps all."""
    m = links.Machine.from_bits([[3, 1, 2], [1, 4, 0], [2, 2, 2]], [(0, 1), (1, 0), (2, 0), (1, 2)],
                                [[3, 0, 1], [2, 2, 2], [1, 5, 0], [0, 0, 7]], 2, 3, 70, 200, 2, 400, "wait")
    assert links.recurrence(m) == links.simulate(m)


def wired_bits(bm):
    """Brute force over the edges: per ordered chip pair, the bits each colour's phase sends (updated nodes with a
    neighbour on the other chip), and each chip's compute (1 cycle when it updates any node of the colour)."""
    chip, C, K = bm.partition.chip, int(bm.colours.max()) + 1, bm.spec.chips.count
    sends = {}
    for i, j in bm.edges:
        for x, y in ((i, j), (j, i)):
            if chip[x] != chip[y] and not bm.clamped[x]:
                sends.setdefault((int(chip[x]), int(chip[y])), [set() for _ in range(C)])[bm.colours[x]].add(x)
    pairs = sorted(sends)
    compute = [[int(any(chip[x] == k and bm.colours[x] == c and not bm.clamped[x] for x in range(bm.n)))
                for c in range(C)] for k in range(K)]
    return compute, pairs, [[len(s) for s in sends[p]] for p in pairs]


@settings(max_examples=25, deadline=None)
@given(small_graph(), st.integers(1, 4), st.sampled_from(["bfs", "slab"]), st.integers(1, 6), st.integers(0, 3),
       st.sampled_from(CLOCKS_MHZ), st.integers(1, 3), st.integers(1, 3), st.sampled_from(["wait", "stale"]))
def test_generated_graphs_agree_with_the_stepped_loop(graph, k, method, width, latency, f_comm, sweeps, chains,
                                                     policy):
    """Wired cell arrays (a colour phase computes in 1 cycle): both modes' cycles and delay equal the stepped
    loop's on the brute-force bits, and both modes sample the same bits."""
    data = {**bm_data(sweeps=sweeps, burn_in=0, chains=chains), "graph": graph}
    n = boltzmann_from_data(data).n
    chip_spec = {**chips(min(k, n), width_bits=width, latency_cycles=latency, clock_hz=f"{f_comm}MHz"),
                 "partition": method, "policy": policy}
    bm = boltzmann_from_data({**data, "chips": chip_spec})
    a = arch(**CELLS)
    f, t = simulate(a, bm, "functional"), simulate(a, bm, "timing")
    compute, pairs, bits = wired_bits(bm)
    cycles, late = stepped(compute, pairs, bits, width, latency, 200, f_comm, chains, sweeps, policy)
    assert f.cycles == t.cycles == cycles
    assert f.stages[0]["chips"]["delay_phases"] == t.stages[0]["chips"]["delay_phases"] == late[1]
    np.testing.assert_array_equal(f.samples, t.samples)


def test_uniform_slabs_take_the_longer_of_compute_and_transfer_per_phase():
    """Balanced slabs of a periodic lattice: every chip and link alike, so each phase lasts max(compute,
    transfer) as the closed form of one phase says, and the run ends when the last burst lands."""
    data = {**bm_data(sweeps=3, burn_in=0), "graph": {"type": "lattice", "shape": [8, 4, 4], "periodic": True}}
    for mhz, per_phase in ((200, 8 // 2 + 2), (25, 8 * (8 // 2 + 2)), (2400, 1)):  # faces of 4 x 4: 8 bits of
        # each colour per phase, over 2-bit links of latency 2; at 2.4 GHz the 6 link cycles fit in 1 p-bit cycle
        bm = boltzmann_from_data({**data, "chips": chips(4, width_bits=2, latency_cycles=2, clock_hz=f"{mhz}MHz")})
        for mode in ("functional", "timing"):
            r = simulate(arch(**CELLS), bm, mode)
            assert r.cycles == 3 * 2 * max(1, per_phase)


# ---- partitions ----------------------------------------------------------------------------------------------

def random_graph(n, p, seed):
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(n, 1)
    keep = rng.random(len(i)) < p
    return {"type": "edges", "nodes": n, "edges": np.stack([i[keep], j[keep]], 1).tolist()}


@pytest.mark.parametrize("k", [2, 4, 8])
def test_metis_cuts_no_more_than_bfs_and_covers_every_node_once(k):
    data = {**bm_data(), "graph": random_graph(200, 0.03, 5)}
    parts = {m: boltzmann_from_data({**data, "chips": {**chips(k), "partition": m}}).partition
             for m in ("metis", "bfs")}
    for p in parts.values():
        assert p.chip.shape == (200,) and set(p.chip.tolist()) == set(range(k))  # one chip per node, none empty
    edges = np.array(data["graph"]["edges"])
    cut = {m: int((p.chip[edges[:, 0]] != p.chip[edges[:, 1]]).sum()) for m, p in parts.items()}
    assert cut["metis"] == len(parts["metis"].cut) and cut["metis"] <= cut["bfs"]
    sizes = np.bincount(parts["metis"].chip, minlength=k)
    assert sizes.max() <= 1.03 * 200 / k + 1  # METIS's default balance


def test_auto_is_slab_on_lattices_and_metis_elsewhere():
    lattice = boltzmann_from_data({**bm_data(6, 4), "chips": chips(3)}).partition
    other = boltzmann_from_data({**bm_data(), "graph": random_graph(40, 0.1, 1), "chips": chips(3)}).partition
    assert (lattice.method, other.method) == ("slab", "metis")


def test_metis_without_pymetis_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pymetis", None)  # import pymetis now raises ImportError
    data = {**bm_data(), "graph": random_graph(30, 0.1, 2)}
    with pytest.raises(ConfigError, match=r"(?s)w\.yaml.*chips\.partition: metis needs the pymetis package"):
        boltzmann_from_data({**data, "chips": {**chips(2), "partition": "metis"}}, tmp_path / "w.yaml")
    assert boltzmann_from_data({**data, "chips": chips(2)}).partition.method == "bfs"  # auto falls back
    assert not partitions.metis_available()


# ---- sampling quality ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_integrated_time_of_an_ar1_series_is_its_closed_form(rho):
    """x_t = rho x_{t-1} + noise: tau = 1 + 2 rho / (1 - rho), within 5 % over 16 chains of 20,000 records."""
    rng = np.random.default_rng(7)
    noise = rng.standard_normal((20000, 16))
    x = np.zeros_like(noise)
    x[0] = noise[0] / np.sqrt(1 - rho ** 2)
    for t in range(1, len(x)):
        x[t] = rho * x[t - 1] + noise[t]
    assert quality.integrated_time(x) == pytest.approx(1 + 2 * rho / (1 - rho), rel=0.05)
    assert quality.integrated_time(np.ones((50, 2))) is None


@given(machine())
@settings(max_examples=20, deadline=None)
def test_energies_and_exact_tv_match_the_dense_forms(bm):
    states = bm.initial_states().astype(np.int64)
    want = -(np.einsum("ci,ij,cj->c", states, dense(bm), states) // 2 + states @ bm.h.astype(np.int64))
    np.testing.assert_array_equal(quality.energies(states, bm.edges, bm.weights, bm.h), want)
    if bm.n <= 8:
        ref_states, p = exact_distribution(bm, bm.spec.beta)
        samples = ref_states[np.arange(len(p)) % 3 == 0][:, None, :]  # some states, once each
        assert quality.tv_exact(samples, bm.n, bm.edges, bm.weights, bm.h, bm.spec.beta) == pytest.approx(
            tv_distance(samples, ref_states, p))


def test_quality_against_the_monolithic_machine():
    """Waiting links sample as one chip: the same bits, so the same figures and a zero difference. A 1-bit stale
    link at 1/1000 of the p-bit clock (it falls behind) departs: TV to exact enumeration 0.1 beyond the
    monolithic machine's (the bound of test_multichip's exact test is 0.25 at twice the sweeps)."""
    data = {**bm_data(3, 4, 4, False, beta=0.25, sweeps=3000, burn_in=100, chains=8, seed=9, coupling_bits=3,
                      bias_bits=2)}
    runs = {policy: summarize(simulate(arch(**CELLS), boltzmann_from_data({**data, "chips": {
        **chips(2, width_bits=1, clock_hz=hz, latency_cycles=0), "policy": policy}}), "functional"))[0]["quality"]
        for policy, hz in (("wait", "1MHz"), ("stale", "200kHz"))}
    wait, stale = runs["wait"], runs["stale"]
    assert wait["chips"] == wait["monolithic"] and wait["energy_per_spin_difference"] == 0
    assert wait["exact_enumeration"] and wait["chips"]["energy_iat_sweeps"] >= 1
    assert stale["chips"]["tv_exact"] > max(stale["monolithic"]["tv_exact"], wait["chips"]["tv_exact"]) + 0.1


def test_chips_sweep_script_draws_its_plots(tmp_path):
    """validation/chips_sweep.py --quick (as the README says, on fewer points): the plots and the points; waiting
    links sample as one chip and their rate never falls as eta rises; at eta 16 every transfer fits its phase
    (eta_current_reads 9), so stale links read current states too."""
    sys.path.insert(0, str(ROOT / "validation"))
    import chips_sweep
    assert chips_sweep.main(["--quick", "--out", str(tmp_path)]) == 0
    assert all((tmp_path / f).stat().st_size > 0 for f in ("rate_vs_eta.png", "rate_vs_chips.png",
                                                           "quality_vs_eta.png"))
    points = pd.read_csv(tmp_path / "points.csv")
    wait = points[(points.policy == "wait") & (points.study == "rate+quality-large")].sort_values("eta")
    assert (wait.energy_per_spin_difference == 0).all() and wait.updates_per_s.is_monotonic_increasing
    small = points[(points.study == "quality-small") & (points.policy == "wait")]
    assert (small.tv_exact == small.tv_exact_monolithic).all()
    assert (points[points.eta == 16].delay_phases.dropna() == 0).all()


def test_shipped_metis_workload_runs_as_the_readme_says(tmp_path):
    """The README's command on fewer sweeps: METIS's split of the DBM cuts fewer edges than the breadth-first one
    (brute-force counted), balanced; waiting links sample exactly as one chip."""
    data, summary = run_shipped("multichip-dbm.yaml", tmp_path)
    c, q = summary["chips"], summary["quality"]
    bfs = boltzmann_from_data({**data, "chips": {**data["chips"], "partition": "bfs"}}, tmp_path / "w.yaml")
    chip = bfs.partition.chip
    assert c["partition"] == "metis" and c["cut_edges"] <= int((chip[bfs.edges[:, 0]] != chip[bfs.edges[:, 1]]).sum())
    assert sum(c["chip_nodes"]) == bfs.n and max(c["chip_nodes"]) <= 1.03 * bfs.n / 4 + 1
    assert q["chips"] == q["monolithic"] and q["energy_per_spin_difference"] == 0


def test_stale_links_too_far_behind_for_memory_are_a_clear_error(monkeypatch, tmp_path):
    """A 1-bit link at 1/1000 of the clock falls thousands of phases behind: the kernel would hold every phase in
    flight; under a small memory limit that is an error naming the workload and the estimate, exit 2."""
    data = {**bm_data(6, 6, sweeps=3000, burn_in=0, chains=4), "chips": {
        **chips(2, width_bits=1, clock_hz="200kHz", latency_cycles=0), "policy": "stale"}}
    monkeypatch.setenv("ARCHSIM_MEMORY_LIMIT", "64KiB")
    with pytest.raises(ConfigError, match=r"(?s)w\.yaml.*stale-read kernel's \d+ phases .* more than the limit"):
        simulate(arch(**CELLS), boltzmann_from_data(data, tmp_path / "w.yaml"), "functional")


def test_links_that_carry_nothing_are_left_out():
    """A link whose boundary nodes are all clamped sends no burst: the machine is the one without it."""
    args = ([[1, 2], [2, 1]], [(0, 1), (1, 0)])
    with_idle = links.Machine.from_bits(*args, [[3, 1], [0, 0]], 1, 2, 50, 100, 2, 30, "wait")
    without = links.Machine.from_bits(args[0], [(0, 1)], [[3, 1]], 1, 2, 50, 100, 2, 30, "wait")
    assert with_idle.links == ((0, 1),) and links.recurrence(with_idle) == links.recurrence(without)


def test_energies_in_pieces_equal_energies_at_once(monkeypatch):
    bm = boltzmann_from_data(bm_data(4, 5, 8, chains=3, sweeps=6, burn_in=0))
    samples = np.stack([bm.initial_states(), -bm.initial_states()])
    whole = quality.energies(samples, bm.edges, bm.weights, bm.h)
    monkeypatch.setattr(quality, "CHUNK_ELEMENTS", 1)  # one state at a time
    np.testing.assert_array_equal(quality.energies(samples, bm.edges, bm.weights, bm.h), whole)
    J = dense(bm)
    s = samples.astype(np.int64)
    np.testing.assert_array_equal(whole, -(np.einsum("rci,ij,rcj->rc", s, J, s) // 2 + s @ bm.h.astype(np.int64)))
