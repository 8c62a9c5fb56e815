"""analytic.csv's mapping column is the loop-nest count model of the mapping actually executed: on a mapping file
that splits the fan-in above the accumulators (partial sums), every row's prediction equals the simulated count and
the brute-force walk of the nest (tests/test_loopnest.py), and the departures from eps_EO name the partial sums."""
import json

import pandas as pd
import yaml

from archsim.cli import main
from archsim.mapping.loopnest import Level, Mapping, dense_operation
from test_loopnest import BIG, brute_force
from test_mapping_exec import _per_operand

T, ITEMS, N_IN, M, BW, BIAS, ACC = 2, 2, 8, 4, 3, 4, 24
WORKLOAD = {"schema_version": 1, "kind": "pdnn", "name": "fanin", "samples": T, "seed": 1, "batch": ITEMS,
            "input": {"size": N_IN, "bits": 1},
            "layers": [{"type": "dense", "outputs": M, "weight_bits": BW, "activation": "pbit", "bias": True,
                        "bias_bits": BIAS}]}
# the fan-in in two chunks at weight_mem, outside the samples: each output's accumulation is left and resumed
LOOPS = {"dram": [], "weight_mem": [["C", 2], ["T", T]], "act_mem": [], "weight_buf": [["C", N_IN // 2]]}
KEEP = {"dram": [], "weight_mem": ["weights"], "act_mem": ["inputs", "outputs"], "weight_buf": ["weights"]}
MAPPING = {"schema_version": 1, "kind": "mapping", "layers": [{"layer": 0, "levels": [
    {"name": n, "keep": KEEP[n], "loops": LOOPS[n]} for n in LOOPS], "spatial": {"M": M}}]}


def test_partial_sums_are_predicted_by_the_mapping_and_named(tmp_path, capsys):
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(WORKLOAD))
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(MAPPING))
    out = tmp_path / "out"
    assert main(["run", "--workload", str(tmp_path / "w.yaml"), "--mapping", str(tmp_path / "m.yaml"), "--out",
                 str(out), "--no-progress"]) == 0, capsys.readouterr().err
    table = pd.read_csv(out / "analytic.csv", keep_default_na=False)
    summary = json.loads((out / "summary.json").read_text())
    assert (table.mapping_count == table.simulated_count).all(), table
    assert summary["departures_explained"] and not summary["counts_match_analytic"]
    # the memory rows against the literal walk of the same nest, built here from the file's loops
    op = dense_operation("oracle", 1, T, M, N_IN, BW, 1, 1, ACC, BIAS)
    levels = [Level(n, BIG, frozenset(KEEP[n])) for n in LOOPS]
    mapping = Mapping(tuple(tuple((d, f) for d, f in LOOPS[n]) for n in LOOPS), {"M": M})
    oracle = _per_operand(brute_force(op, levels, mapping))
    memory = table[table.component.isin(list(LOOPS))]
    assert len(memory) >= 4
    for r in memory.itertuples():
        assert r.mapping_count == ITEMS * oracle.get((r.component, r.operand, r.action), 0), r
    # by hand: each output is left once per sample and item, written at the accumulator width and read back
    readback = table.query("component == 'act_mem' and operand == 'outputs' and action == 'read_bits'").iloc[0]
    assert (readback.eps_eo_count, readback.mapping_count) == (0, ITEMS * T * M * ACC)
    assert "partial sums" in readback.cause
    assert any(d.startswith("partial sums") for d in summary["departures"])
    assert any(d.startswith("act_mem read_bits") and "% of the energy" in d for d in summary["departures"])
