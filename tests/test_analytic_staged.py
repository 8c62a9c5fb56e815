"""eps_EO on staged activations (configs/dram-activations.yaml: activations homed in DRAM, their tiles staged through
the global buffer): eps_aM is the level the synapses read their inputs from and the neurons write their outputs to
(the innermost input / output holder), checked against eps_EO worked by hand from its formula
    eps_EO = n*bw*eps_wM + T*[(n+1)*ba*eps_aM + eps_S + eps_N];
the staging traffic is a departure with one cause per count, every row of analytic.csv is explained, each count's
causes add up to its departure, the summary's groups add up to the energy beyond eps_EO, and the printed line stays
short. Departures are checked against the counts (never as numbers of their own), so a change of the count model
(e.g. the child-side accesses of drains and read-backs) keeps these tests valid."""
import copy
import json

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings

from archsim import load_arch, simulate
from archsim.cli import main
from archsim.config.loader import arch_from_data
from archsim.energy.analytic import cause_kind, departures
from archsim.report.run import departure_line, summarize
from archsim.workload.loader import workload_from_data
from test_staged_activations import staged_networks

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
ARCH = ROOT / "configs" / "dram-activations.yaml"
N_IN, M, BW, T, ITEMS = 16, 8, 4, 4, 2
WORKLOAD = {"schema_version": 1, "kind": "pdnn", "name": "staged-dense", "samples": T, "seed": 3, "batch": ITEMS,
            "input": {"size": N_IN, "bits": 1},
            "layers": [{"type": "dense", "outputs": M, "weight_bits": BW, "activation": "pbit"}]}
STAGED = "activations staged from dram through global_buf"


def _mapping(dram_loops, local_loops):
    """Layer 0 with its inputs and outputs homed in DRAM and kept in the global buffer, its weights streamed from
    DRAM straight into the local buffer (the synapses' registers), M = 8 outputs on 4 units."""
    return {"schema_version": 1, "kind": "mapping", "layers": [{"layer": 0, "spatial": {"M": 4}, "levels": [
        {"name": "dram", "keep": ["weights", "inputs", "outputs"], "loops": dram_loops},
        {"name": "global_buf", "keep": ["inputs", "outputs"], "loops": []},
        {"name": "local_buf", "keep": ["weights"], "loops": local_loops}]}]}


def _run(tmp_path, mapping):
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping))
    work = workload_from_data(copy.deepcopy(WORKLOAD), "<staged dense>")
    result = simulate(load_arch(str(ARCH)), work, "timing", mapping=str(tmp_path / "m.yaml"))
    summary, tables = summarize(result)
    return work, result, summary, tables["analytic"]


def _check_explained(result, summary, table):
    """Every row simulated as the mapping predicts; a cause exactly where the mapping departs from eps_EO; each
    count's causes add up to its departure; the groups add up to the run's energy beyond eps_EO."""
    assert table.explained.all() and summary["departures_explained"], table[~table.explained]
    assert ((table.cause != "") == (table.mapping_count != table.eps_eo_count)).all(), table
    parts = departures(result.arch, result.plan, result.kernel_inputs)
    by_row = parts.groupby(["layer", "component", "action", "operand"]).bits.sum()
    for r in table[table.mapping_count != table.eps_eo_count].itertuples():
        assert by_row[(r.layer, r.component, r.action, r.operand)] == r.mapping_count - r.eps_eo_count, r
    beyond = sum(g["energy_pj"] for g in summary["departure_groups"])
    assert beyond == pytest.approx(summary["energy_pj"] - summary["analytic_energy_pj"], rel=1e-9)
    return parts


def test_eps_aM_is_the_innermost_activation_level_worked_by_hand(tmp_path):
    """The building block's loops (the weights read once into the registers for the T samples) with the
    activations staged: eps_EO counts and prices the inputs' reads and the outputs' writes at the global buffer,
    nothing of them at DRAM; the DRAM fills and drains and the buffer's fills are the one staging departure."""
    work, result, summary, table = _run(tmp_path, _mapping([["M", 2]], [["T", T], ["C", N_IN]]))
    lp = result.plan.layers[0]
    assert (lp.act_level, lp.in_level, lp.out_level) == ("dram", "global_buf", "global_buf")
    # eps_EO by hand, per elementary operation (one output of one item): n*bw weight bits read from wM (here the
    # DRAM, where the registers are filled from), T*n*ba input bits read and T*ba output bits written at aM
    eos, ones = M * ITEMS, int(work.inputs.sum())  # 1-bit inputs: a selected add per one, per output and sample
    want = {("dram", "read_bits", "weights"): eos * N_IN * BW,
            ("global_buf", "read_bits", "inputs"): eos * T * N_IN * 1,
            ("global_buf", "write_bits", "outputs"): eos * T * 1,
            ("synapse", "adds", ""): T * M * ones, ("synapse", "macs", ""): 0,
            ("neuron", "samples", ""): eos * T, ("rng", "draws", ""): eos * T}
    formula = {(r.component, r.action, r.operand): r.eps_eo_count for r in table.itertuples() if r.eps_eo_count}
    assert formula == {k: v for k, v in want.items() if v}
    a = result.arch
    eps_wM, eps_aM_r = a.level("dram").read_pj_per_bit.value, a.level("global_buf").read_pj_per_bit.value
    eps_aM_w = a.level("global_buf").write_pj_per_bit.value
    eps_add = a.synapse.add_pj_per_bit.value * a.synapse.accumulator_bits
    eps_N = a.neuron.compare_pj.value + a.rng.draw_pj.value
    by_hand = eos * (N_IN * BW * eps_wM + T * (N_IN * eps_aM_r + eps_aM_w + eps_N)) + T * M * ones * eps_add
    assert summary["analytic_energy_pj"] == pytest.approx(by_hand, rel=1e-12)
    # the eps_EO terms are met exactly; every other count is the staging, named once
    assert table[table.eps_eo_count > 0].match.all(), table
    rest = table[table.mapping_count != table.eps_eo_count]
    assert set(rest.component) == {"dram", "global_buf"} and (rest.eps_eo_count == 0).all()
    assert {(r.component, r.action, r.operand) for r in rest.itertuples()} >= {
        ("dram", "read_bits", "inputs"), ("global_buf", "write_bits", "inputs"), ("dram", "write_bits", "outputs")}
    assert all(c == f"{STAGED}: eps_EO reads and writes them at global_buf only" for c in rest.cause), rest
    _check_explained(result, summary, table)
    assert {g["cause"] for g in summary["departure_groups"]} == {STAGED, "weight registers local_buf, not charged by "
                                                                         "eps_EO"}


def test_partial_sums_and_staging_are_told_apart(tmp_path):
    """The fan-in split at DRAM (C2 outside M2): the accumulators leave their outputs half done, so partial sums
    are written to the global buffer and read back, and the global buffer's tiles go to DRAM and come back partial.
    Each count's departure splits into the partial sums (at the innermost output holder) and the staging."""
    _, result, summary, table = _run(tmp_path, _mapping([["C", 2], ["M", 2]], [["T", T], ["C", N_IN // 2]]))
    parts = _check_explained(result, summary, table)
    kinds = {(r.component, r.operand): {cause_kind(c) for c in parts[(parts.component == r.component) &
                                                                    (parts.operand == r.operand)].cause}
             for r in table.itertuples() if r.operand in ("inputs", "outputs")}
    assert kinds[("dram", "inputs")] == kinds[("dram", "outputs")] == {STAGED}
    assert "partial sums" in kinds[("global_buf", "outputs")]
    partial = parts[parts.cause.str.startswith("partial sums")]
    assert (partial.component == "global_buf").all() and "C2 at dram" in partial.cause.iloc[0]
    assert {"partial sums", STAGED} <= {g["cause"] for g in summary["departure_groups"]}


@settings(max_examples=10, deadline=None)
@given(staged_networks())
def test_generated_staged_networks_explain_every_departure(case):
    """Small CNNs and MLPs with their activations staged (or not) through a drawn global buffer: eps_aM is each
    layer's innermost input / output level, DRAM is priced by eps_EO for no activation, and every departure is
    explained and adds up."""
    arch, work = case
    result = simulate(arch, work, "functional")
    summary, tables = summarize(result)
    table = tables["analytic"]
    _check_explained(result, summary, table)
    for lp in (lp for lp in result.plan.layers if lp.is_eo):
        rows = table[(table.layer == lp.index) & (table.eps_eo_count > 0)]
        assert set(rows[rows.operand == "inputs"].component) == {lp.in_level}
        assert set(rows[rows.operand == "outputs"].component) == {lp.out_level}
        staged = table[(table.layer == lp.index) & table.operand.isin(["inputs", "outputs"]) &
                       (table.component == lp.act_level) & (table.mapping_count > 0)]
        assert (staged.cause.str.startswith(STAGED) == bool(lp.in_hops)).all(), staged


def test_departure_line_is_short_whatever_the_causes():
    groups = [{"cause": f"a cause of some length number {i} " + "x" * (i % 40), "layers": list(range(i % 7)),
               "energy_pj": 1.0, "share_of_energy": 0.01} for i in range(60)]
    line = departure_line(groups)
    assert len(line) < 400 and line.endswith("more in summary.json")
    kept = line.count("a cause of some length")
    assert line.endswith(f"; {60 - kept} more in summary.json") and kept >= 1
    two = [{"cause": "A", "layers": [3], "energy_pj": 2.0, "share_of_energy": 0.5},
           {"cause": "B", "layers": [0, 1, 2, 3, 4], "energy_pj": -1.0, "share_of_energy": -0.25}]
    assert departure_line(two) == "A +50 % (layer 3); B -25 % (5 layers)"


def test_staged_cnn_run_prints_a_short_line_and_explains_every_row(tmp_path, capsys):
    """The CIFAR-10 CNN on the DRAM-homed activations: eps_EO prices nothing at DRAM but the weights it reads,
    every row of analytic.csv is explained, and the printed departures line is a short grouped list."""
    out = tmp_path / "out"
    assert main(["run", "--arch", str(ARCH), "--workload", str(ROOT / "workloads" / "cifar10-cnn-pbit.yaml"),
                 "--mode", "functional", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    (line,) = [ln for ln in printed.splitlines() if "counts match eps_EO" in ln]
    assert len(line) < 400, line
    table = pd.read_csv(out / "analytic.csv", keep_default_na=False)
    summary = json.loads((out / "summary.json").read_text())
    assert table.explained.all() and summary["departures_explained"]
    assert ((table.cause != "") == (table.mapping_count != table.eps_eo_count)).all()
    assert (table[table.component == "dram"].eps_eo_count == 0).all()
    assert (table[table.operand.isin(["inputs", "outputs"]) & (table.component == "dram")].cause.str.startswith(
        STAGED)).all()
    assert max(map(len, table.cause)) < 200
    groups = summary["departure_groups"]
    assert sum(g["energy_pj"] for g in groups) == pytest.approx(summary["energy_pj"] - summary["analytic_energy_pj"],
                                                                rel=1e-9)
    assert all(g["cause"] in line for g in groups[:2])
