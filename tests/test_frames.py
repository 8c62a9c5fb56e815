"""The notebook API: RunResult DataFrames against the ledger and the eps_EO model, the busy timeline against
the event model's resources (capacity 1: never two intervals at once), and the documented example run as a
script."""
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import yaml

from archsim import ArchsimError, load_arch, load_workload, simulate
from archsim.energy.analytic import compare
from archsim.report.frames import busy, utilisation
from archsim.workload.loader import workload_from_data

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    trace = tmp_path_factory.mktemp("frames") / "t.parquet"
    return simulate(load_arch(), load_workload(), "timing", trace=str(trace)), trace


def test_frames_against_ledger_and_eps_eo(run):
    r, _ = run
    _, analytic_pj = compare(r.arch, r.plan, r.ledger, r.kernel_inputs)
    assert r.energy().energy_pj.sum() == pytest.approx(analytic_pj)     # counts match eps_EO on the default
    counts = r.counts()
    assert set(counts.columns) == {"layer", "component", "action", "operand", "count"}
    levels = r.levels().set_index("level")
    eo_weight_bits = sum(lp.n * lp.m * lp.bw * lp.P for lp in r.plan.layers if lp.is_eo) * r.plan.items
    assert levels.loc["weight_mem", "read_bits"] == eo_weight_bits == r.layers().weight_mem_read_bits.sum()
    assert levels.loc["act_mem", "write_bits"] == r.ledger.get("act_mem", "write_bits")
    assert list(levels.index) == [lv.name for lv in r.arch.levels]
    layers = r.layers()
    assert list(layers.layer) == [lp.index for lp in r.plan.layers]
    assert layers.energy_pj.sum() == pytest.approx(r.energy().energy_pj.sum())
    assert all(c.endswith(("_bits", "_pj", "_words")) for c in levels.columns if levels[c].dtype.kind in "if")


def test_busy_timeline_follows_the_event_model(run):
    r, trace = run
    frame = busy(trace)
    assert set(frame.resource) == {"weight_port", "datapath"}
    for _, part in frame.groupby("resource"):    # SimPy resources of capacity 1: intervals never overlap
        assert (part.start_cycle.to_numpy()[1:] >= part.end_cycle.to_numpy()[:-1]).all()
    assert frame.end_cycle.max() == r.cycles
    u = utilisation(trace, r.cycles)
    assert ((u.utilisation > 0) & (u.utilisation <= 1)).all()
    assert len(r.plot_timeline(trace).collections) == 2
    assert len(r.plot_breakdown().patches) > 0


def test_design_comparison_example_runs(tmp_path):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(ROOT / "examples/design_comparison.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "design comparison:" in p.stdout and time.perf_counter() - t0 < 60
    assert (tmp_path / "breakdown.png").stat().st_size > 0 and (tmp_path / "timeline.png").stat().st_size > 0


def test_gibbs_layers_are_stages_against_the_graph():
    """A DTM run's layers(): one row per stage; its states traffic and updates from the graph alone (each
    updated node reads its neighbours' spins and writes its own once per sweep and chain), its energy the
    energy table's."""
    data = dict(yaml.safe_load((ROOT / "workloads/dtm-chain.yaml").read_text()), sweeps=3, chains=2)
    r = simulate(load_arch(), workload_from_data(data, "dtm-chain, 3 sweeps x 2 chains"), "timing")
    layers = r.layers()
    assert list(layers.layer) == [0, 1, 2, 3] and set(layers.type) == {"gibbs"}
    n = 16 * 16
    edges = r.workload.stages[0].edges
    degree = np.bincount(edges.ravel(), minlength=n)
    free = np.ones(n, bool)
    for k, row in layers.iterrows():
        if k > 0:
            free[data["condition_nodes"]] = False
        reps = data["sweeps"] * data["chains"]
        assert row.nodes == n and row.updated_nodes == free.sum()
        assert row.act_mem_read_bits == reps * degree[free].sum()      # 1-bit spins
        assert row.act_mem_write_bits == row.updates == reps * free.sum()
        assert row.fan_in_max == degree[free].max() and row.colour_blocks >= 2
    assert layers.energy_pj.sum() == pytest.approx(r.energy().energy_pj.sum())
    assert layers.cycles.sum() <= r.cycles
    ax = r.plot_breakdown()
    assert len(ax.patches) > 0 and ax.get_xlabel() == "stage"
    with pytest.raises(ArchsimError, match="records no trace"):
        r.plot_timeline(None)
