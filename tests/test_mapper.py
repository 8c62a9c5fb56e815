"""The mapper on real architectures: its loop-nest counts agree with the simulator on the building-block
mapping, and `archsim map` writes candidates whose chosen one is the best and re-counts from mapping.yaml."""
import copy

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings, strategies as st

from archsim import simulate
from archsim.cli import main
from archsim.config.loader import arch_from_data
from archsim import ops
from archsim.mapping.hierarchy import levels_of
from archsim.mapping.loopnest import Mapping, counts
from archsim.engine.plan import make_plan

from helpers import DEFAULT_ARCH, pdnn


def _no_dram():
    """The default building block without its DRAM, so the weights reside in weight_mem as the nest assumes."""
    data = copy.deepcopy(DEFAULT_ARCH)
    data["levels"] = [lv for lv in data["levels"] if lv["name"] != "dram"]
    return arch_from_data(data, "<no dram>")


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 32), m=st.sampled_from([1, 5, 16, 32]), T=st.integers(1, 5), items=st.integers(1, 3),
       bw=st.integers(1, 8))
def test_building_block_nest_counts_what_the_simulator_counts(n, m, T, items, bw):
    """The paper's building block written as a loop nest by hand (weights through the registers once per
    output group, then T samples of the fan-in) predicts, per item, what the planner's run counts."""
    arch = _no_dram()
    workload = pdnn([{"type": "dense", "outputs": m, "weight_bits": bw, "activation": "pbit"}], n_in=n, T=T,
                    batch=items)
    plan = make_plan(arch, workload)
    lp = plan.layers[0]
    assert lp.loop_order == "samples_inner" and lp.group == min(16, m)
    keep = {"weight_mem": {"weights"}, "act_mem": {"inputs", "outputs"}, "weight_buf": {"weights"}}
    levels = levels_of(arch, keep)
    assert [lv.name for lv in levels] == ["weight_mem", "act_mem", "weight_buf"]
    mapping = Mapping(((("M", m // lp.group),), (), (("T", T), ("C", n))), {"M": lp.group})
    predicted = counts(ops.of(lp).operation(lp, T, arch.synapse.accumulator_bits), levels, mapping)
    ledger = simulate(arch, workload).ledger
    for level, operand, action in [("weight_mem", "weights", "read_bits"), ("weight_buf", "weights", "write_bits"),
                                   ("weight_buf", "weights", "read_bits"), ("act_mem", "inputs", "read_bits"),
                                   ("act_mem", "outputs", "write_bits")]:
        assert items * predicted[(level, operand, action)] == ledger.get(level, action, 0), (level, operand, action)


def test_map_command_writes_the_best_candidate(tmp_path):
    """mappings.csv marks the best candidate; mapping.yaml re-counts (loopnest) to its row, and running it
    counts exactly that (the executor)."""
    out = tmp_path / "map"
    assert main(["map", "--workload", "workloads/tiny.yaml", "--objective", "energy", "--budget", "500",
                 "--out", str(out)]) == 0
    frame = pd.read_csv(out / "mappings.csv")
    from archsim import load_arch, load_workload
    from archsim.inputs import read_yaml_mapping
    from archsim.mapping import mapfile
    arch, workload = load_arch("default"), load_workload("workloads/tiny.yaml")
    maps = mapfile.load(str(out / "mapping.yaml"), arch, read_yaml_mapping)
    result = simulate(arch, workload, "functional", mapping=maps)
    for layer, lm in maps.items():
        f = frame[frame.layer == layer]
        chosen = f[f.chosen]
        assert len(chosen) == 1 and chosen.energy_pj.iloc[0] == f.energy_pj.min()
        assert chosen.pareto.iloc[0] or (f.energy_pj == chosen.energy_pj.iloc[0]).sum() > 1
        lp = result.plan.layers[layer]
        op, levels, mapping = lp.nest
        assert mapping == lm.mapping
        again = counts(op, levels, mapping)
        for (level, operand, action), n in again.items():
            if action.endswith("_bits"):
                assert chosen[f"{level}.{operand}.{action}"].iloc[0] == n * workload.inputs.shape[0]
                if operand != "biases":  # the ledger counts biases with the weights; tiny.yaml has none
                    assert result.ledger.get(level, action, layer, operand) == n * workload.inputs.shape[0]
    assert (out / "mappings.png").stat().st_size > 0


@pytest.mark.parametrize("option", ["--budget", "--samples"])
def test_map_command_rejects_a_bad_budget(tmp_path, capsys, option):
    assert main(["map", option, "0", "--out", str(tmp_path / "m")]) == 2
    assert option in capsys.readouterr().err
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


def _readme_section():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    return root, text.split("### Mappings: `archsim map`, `archsim run --mapping`\n", 1)[1].split("\n### ", 1)[0]


def test_readme_mapping_example_runs(tmp_path):
    """The README's mapping-file example (the first layer of workloads/tiny.yaml on the default architecture)
    runs and moves the weights into weight_buf once per output group, not once per sample."""
    _, body = _readme_section()
    doc = yaml.safe_load(body.split("```yaml\n", 1)[1].split("```", 1)[0])
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc))
    from archsim import load_arch, load_workload
    arch, work = load_arch("default"), load_workload("workloads/tiny.yaml")
    result = simulate(arch, work, "timing", mapping=str(path))
    lp = result.plan.layers[0]
    assert result.ledger.get("weight_buf", "write_bits", 0) == lp.m * lp.n * lp.bw  # each weight filled once
    assert result.plan.layers[0].loop_order == "samples_inner"


@pytest.mark.slow
def test_readme_map_command_runs(tmp_path):
    """The README's `archsim map` example, as written but for its output folder, then its `archsim run
    --mapping` of the written file."""
    import subprocess
    import sys
    root, body = _readme_section()
    (cmd,) = [line.split() for line in body.splitlines() if line.startswith("    archsim map ")]
    cmd = cmd[:cmd.index("--out")] + ["--out", str(tmp_path / "map"), "--no-plot"]
    r = subprocess.run([sys.executable, "-m", "archsim", *cmd[1:]], capture_output=True, text=True, cwd=root)
    assert r.returncode == 0, r.stderr
    frame = pd.read_csv(tmp_path / "map" / "mappings.csv")
    assert frame.chosen.sum() == len(yaml.safe_load((tmp_path / "map" / "mapping.yaml").read_text())["layers"])
    (run,) = [line.split() for line in body.splitlines() if line.startswith("    archsim run ")]
    run[run.index("--mapping") + 1] = str(tmp_path / "map" / "mapping.yaml")
    r = subprocess.run([sys.executable, "-m", "archsim", *run[1:], "--out", str(tmp_path / "run"), "--no-progress"],
                       capture_output=True, text=True, cwd=root)
    assert r.returncode == 0, r.stderr
