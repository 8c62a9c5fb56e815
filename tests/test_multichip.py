"""Multi-chip machines against independent oracles: the partition against brute-force cut and boundary sets, the
stale-read kernel against the dense NumPy reference (any delay) and against the monolithic kernel (no delay),
the samples against exact enumeration (the cycles: tests/test_chips.py)."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from archsim.cli import main
from archsim.engine.colour_block import stage_plan
from archsim.engine.simulate import simulate
from archsim.errors import ConfigError
from archsim.kernels import ising, multichip, reference
from archsim.report.run import summarize
from archsim.workload import partition as partitions
from archsim.workload.boltzmann import boltzmann_from_data
from helpers import arch
from test_boltzmann import bm_data, dense, exact_distribution, machine, tv_distance

ROOT = Path(__file__).resolve().parents[1]
LINK = {"width_bits": 1, "clock_hz": "50MHz", "latency_cycles": 2,
        "energy_per_bit": {"value": "1pJ", "source": "test figure"}}


def chips(count, **link):
    return {"count": count, "link": {**LINK, **link}}


def split(bm, k, method):
    indptr, indices, _ = bm.adjacency()
    return partitions.partition(method, bm.n, bm.edges, indptr, indices, None, k)


@given(machine(), st.integers(1, 4), st.sampled_from(["bfs", "slab"]))
def test_partition_covers_every_node_and_reports_its_cut(bm, k, method):
    """Every node on one chip, chips balanced to one node, the cut and each pair's boundary as brute force."""
    k = min(k, bm.n)
    p = split(bm, k, method)
    sizes = np.bincount(p.chip, minlength=k)
    assert len(sizes) == k and sizes.max() - sizes.min() <= 1 and sizes.min() >= 1
    cut = [e for e, (i, j) in enumerate(bm.edges) if p.chip[i] != p.chip[j]]
    assert p.cut.tolist() == cut
    pairs = {}
    for i, j in bm.edges:
        for x, y in ((i, j), (j, i)):
            if p.chip[x] != p.chip[y]:
                pairs.setdefault((int(p.chip[x]), int(p.chip[y])), set()).add(int(x))
    assert {key: sorted(v) for key, v in pairs.items()} == {key: v.tolist() for key, v in p.boundary.items()}


def test_slab_split_of_an_open_grid_cuts_the_columns_between_slabs():
    """6 x 4 grid over 3 chips: slabs of 2 rows; the cut is 2 x 4 vertical edges, 4 nodes each side each time."""
    bm = boltzmann_from_data({**bm_data(6, 4), "chips": chips(3)})
    p = bm.partition
    assert p.method == "slab" and p.chip.tolist() == [r // 2 for r in range(6) for _ in range(4)]
    assert len(p.cut) == 2 * 4
    assert p.table() == [(0, 1, 4), (1, 0, 4), (1, 2, 4), (2, 1, 4)]


def mc_run(bm, chip, delay, rng_bits=16):
    sp = stage_plan(arch(**{"rng.bits_per_draw": rng_bits}), bm, 0)
    indptr, indices, weights = bm.adjacency()
    lay = multichip.layout(indptr, indices, weights, bm.h, sp.ptr, sp.nodes, chip)
    s = bm.spec
    boundary = partitions.partition("fixed", bm.n, bm.edges, indptr, indices, None, int(chip.max()) + 1,
                                    chip).boundary_nodes
    buf, ring = multichip.start(bm.initial_states(), boundary, delay)
    out = np.zeros((len(range(s.burn_in, s.sweeps, s.record_every)), s.chains, bm.n), np.int8)
    multichip.run(buf, ring, boundary, delay, lay, sp.thr, sp.I_min, s.seed, rng_bits, 0, s.sweeps, s.burn_in,
                  s.record_every, out)
    return buf[:, :bm.n], out, sp


@given(machine(), st.integers(1, 4), st.integers(0, 4), st.integers(0, 99))
def test_stale_reads_match_the_numpy_reference(bm, k, delay, seed):
    """Any chip assignment and delay: the kernel's bits equal the dense reference that keeps every phase."""
    chip = np.asarray(reference.draw(seed, 9, np.arange(bm.n), 0, 0, 0, 8) % min(k, bm.n))
    final, out, sp = mc_run(bm, chip, delay)
    s = bm.spec
    ref_final, ref_out = reference.gibbs_multichip(bm.initial_states(), dense(bm), bm.h, sp.thr, sp.I_min, bm.colours,
                                                   bm.clamped, chip, delay, s.seed, 16, s.sweeps, s.burn_in,
                                                   s.record_every)
    np.testing.assert_array_equal(final, ref_final)
    np.testing.assert_array_equal(out, ref_out)


@given(machine(), st.integers(1, 5), st.sampled_from(["bfs", "slab"]))
def test_infinitely_fast_links_are_the_monolithic_machine(bm, k, method):
    """d = 0: bit-identical to the single-chip kernel, whatever the split."""
    p = split(bm, min(k, bm.n), method)
    final, out, _ = mc_run(bm, p.chip, 0)
    s = bm.spec
    sp = stage_plan(arch(**{"rng.bits_per_draw": 16}), bm, 0)
    states = bm.initial_states()
    mono = np.zeros_like(out)
    ising.run(states, sp.layout, sp.thr, sp.I_min, s.seed, 16, 0, s.sweeps, s.burn_in, s.record_every, mono)
    np.testing.assert_array_equal(final, states)
    np.testing.assert_array_equal(out, mono)


def test_delay_changes_the_bits():
    """The reference test above could pass with a kernel ignoring the delay if no case had a boundary: here one
    does, and the bits differ from the monolithic machine."""
    bm = boltzmann_from_data(bm_data(4, 4, sweeps=30, chains=2))
    chip = (np.arange(16) >= 8).astype(np.int64)
    assert not np.array_equal(mc_run(bm, chip, 0)[1], mc_run(bm, chip, 3)[1])


CELLS = {"synapse.count": 64, "neuron.count": 64, "neuron.latency_cycles": 0, "synapse.inputs_per_cycle": 16,
         "rng.count": 64, "clock": "200MHz"}
for _mem in ("levels[weight_mem]", "levels[act_mem]"):
    CELLS.update({f"{_mem}.kind": "regfile", f"{_mem}.cycles_per_access": 0, f"{_mem}.read_latency_cycles": 0,
                  f"{_mem}.write_latency_cycles": 0})


QUALITY = bm_data(3, 4, 4, False, beta=0.25, sweeps=6000, burn_in=100, chains=8, seed=9, coupling_bits=3,
                  bias_bits=2)


def quality(policy, clock_hz, width_bits=1, latency_cycles=0):
    bm = boltzmann_from_data({**QUALITY, "chips": {**chips(2, width_bits=width_bits, clock_hz=clock_hz,
                                                           latency_cycles=latency_cycles), "policy": policy}})
    result = simulate(arch(**{"rng.bits_per_draw": 24, **CELLS}), bm, "functional")
    states, p = exact_distribution(bm, bm.spec.beta)
    bound = 2 * 0.5 * np.sqrt(p / (result.samples.shape[0] * result.samples.shape[1] / 4)).sum()
    return tv_distance(result.samples, states, p), bound, result


def test_fast_links_sample_the_exact_distribution_and_slow_stale_links_do_not():
    """3 x 4 grid on 2 chips (2 boundary bits per phase each way, 1-cycle phases, 8 chains interleaved). Waiting
    links (current reads): TV within the exact-enumeration bound of test_boltzmann, even at eta 1/200. Stale
    reads over a 2-bit link that keeps up at eta 1 but lands 4 cycles late (d = 1: the chain's next phase starts
    before), and over a 1-bit link 1/1000 of the p-bit clock (it falls behind: d of many phases): TV beyond that
    bound, so beyond the fast link's TV."""
    fast, bound, _ = quality("wait", "1MHz")
    late, _, one = quality("stale", "200MHz", width_bits=2, latency_cycles=4)
    slow, _, many = quality("stale", "200kHz")
    assert summarize(one)[0]["chips"]["delay_phases"] == 1
    assert summarize(one)[0]["chips"]["delay_phases_range"] == [0, 1]  # colour 1's burst: before sweep s+1
    assert summarize(many)[0]["chips"]["delay_phases"] > 10
    assert fast < bound < min(late, slow)


def test_stale_links_within_a_phase_read_current_states():
    """A transfer no longer than a phase (eta 4: 2 boundary bits per phase over a 1-bit link in half a p-bit
    cycle) lands before the next phase: stale and wait give the same bits, and the same cycles."""
    bm = {p: boltzmann_from_data({**bm_data(3, 4, sweeps=40, chains=2), "chips": {
        **chips(2, clock_hz="800MHz", latency_cycles=0), "policy": p}}) for p in ("wait", "stale")}
    runs = {p: simulate(arch(**CELLS), b, "functional") for p, b in bm.items()}
    np.testing.assert_array_equal(runs["wait"].samples, runs["stale"].samples)
    assert runs["wait"].cycles == runs["stale"].cycles
    assert summarize(runs["stale"])[0]["chips"]["eta_current_reads"] == 2  # 2 link cycles in 1 p-bit cycle


def test_bad_partitions_exit_2_naming_the_field(tmp_path, capsys):
    cases = {"count": ({**bm_data(2, 2), "chips": chips(5)}, "chips.count"),
             "no-chip": ({**bm_data(2, 2), "chips": {**chips(2), "partition": "fixed",
                                                     "assignment": [0, 1, -1, 0]}}, "chips.assignment[2]"),
             "width": ({**bm_data(2, 2), "chips": chips(2, width_bits=0)}, "width_bits")}
    for name, (data, field) in cases.items():
        with pytest.raises(ConfigError, match=field.replace("[", r"\[")):
            boltzmann_from_data(data, tmp_path / f"{name}.yaml")
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data))
        assert main(["run", "--workload", str(tmp_path / f"{name}.yaml"), "--out", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert f"{name}.yaml" in err and field.split("[")[0] in err and "Traceback" not in err


def run_shipped(name, tmp_path):
    """(workload data, summary.json) of the README's command for a shipped workload, on 3 sweeps."""
    data = yaml.safe_load((ROOT / "workloads" / name).read_text())
    data["sweeps"], data["burn_in"] = 3, 0
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(data))
    assert main(["run", "--workload", str(tmp_path / "w.yaml"), "--arch", str(ROOT / "configs/fpga-pbit-array.yaml"),
                 "--out", str(tmp_path / "run")]) == 0
    return data, json.loads((tmp_path / "run" / "summary.json").read_text())


def test_shipped_multichip_workload_runs_as_the_readme_says(tmp_path):
    """The README's command on fewer sweeps, against closed forms: 4 periodic slabs of a 16^3 lattice cut 4
    faces of 16 x 16 edges; each phase sends half a face (128 bits) each way per link, 4 + ceil(128 / 30) = 9
    link cycles at f_comm = f_pbit, longer than the cell array's 1-cycle compute."""
    _, summary = run_shipped("multichip-lattice.yaml", tmp_path)
    c = summary["chips"]
    assert c["cut_edges"] == 4 * 16 * 16 and c["boundary_nodes"] == 2 * 4 * 16 * 16
    assert c["link_cycles_per_phase"] == [4 + math.ceil(128 / 30)] * 2 and c["compute_cycles_per_phase"] == [1, 1]
    assert c["link_serialise_cycles_per_phase"] == [math.ceil(128 / 30)] * 2 and c["chip_nodes"] == [1024] * 4
    assert summary["cycles"] == 3 * 2 * 9
