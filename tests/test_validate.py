"""Validation against published figures: every entry traceable and complete, the fast rows run and are within
tolerance or honestly labelled, and no published number appears anywhere in code or tests."""
import re
from pathlib import Path

import pytest
import yaml

from archsim.config.loader import read_yaml
from archsim.validate import COLUMNS, REQUIRED, default_path, run_validation

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = yaml.safe_load(default_path().read_text())["entries"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_entry_is_complete_and_traceable(entry):
    assert all(k in entry for k in REQUIRED)
    assert len(entry["citation"]) > 10 and entry["where"]
    if entry["kind"] == "not_modelled":
        assert len(entry["reason"]) > 20
        assert entry["value"] is None or entry["value"] != 0  # no placeholder: an unknown value is null
    else:
        assert entry["inputs"] and entry["independence"] and entry["value"]
        assert entry["kind"] == "prediction" or entry["tolerance"]
        if entry.get("arch", "default") != "default":
            assert (ROOT / entry["arch"]).exists()
        if "workload" in entry:
            assert (ROOT / entry["workload"]).exists()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("validation")
    return run_validation(out_dir=out), out


def test_report_rows_and_statuses(report):
    table, out = report
    assert list(table.columns) == COLUMNS and len(table) == len(ENTRIES)
    kinds = {e["id"]: e["kind"].replace("_", " ") for e in ENTRIES}
    assert list(table.kind) == [kinds[i] for i in table.id]
    checks = table[table.kind.isin(["consistency", "identity"])]
    assert (checks.status == checks.kind).all(), checks[checks.status != checks.kind]
    # identities are exactly the rows whose figure a config consumed
    consumed = {e["id"] for e in ENTRIES if e.get("consumes")}
    assert set(table[table.status == "identity"].id) == consumed
    assert (table.kind == "consistency").sum() >= 2
    assert (out / "report.md").read_text().count("\n| ") == len(ENTRIES) + 1


def test_prediction_status_follows_its_interval(report):
    table, _ = report
    claims = {e["id"] for e in ENTRIES if e.get("claim") == "at_least"}
    pred = table[table.kind == "prediction"]
    energy = pred[[e["method"] != "fpga_mac_luts" for e in ENTRIES if e["kind"] == "prediction"]]
    assert len(energy) >= 4 and energy.interval_method.str.startswith("corners").all()
    for _, r in pred.iterrows():
        assert r.low <= r.simulated <= r.high
        inside = r.low > r.published if r.id in claims else r.low <= r.published <= r.high
        assert r.status == ("ok" if inside else "outside"), r.id


def test_corners_bound_interior_points():
    """The corners' interval holds the figure at random points inside the box of input ranges (the claim
    that each figure is monotone in each input), on the FPGA gain condition."""
    import numpy as np
    from archsim import simulate
    from archsim.config.loader import arch_from_data
    from archsim.validate import _condition, _corner_data, _figure, _priced, _runs
    entry = next(e for e in ENTRIES if e.get("method") == "fpga_gain")
    table = run_validation(only=[entry["id"]], out_dir=ROOT / ".pytest_cache" / "validate-corners")
    low, high = table.low[0], table.high[0]
    data, uncertain = _condition(entry, ROOT)
    runs = _runs(entry, ROOT, data)
    results = [simulate(arch_from_data(d), w, "functional") for d, w in runs]
    rng = np.random.default_rng(0)
    for _ in range(12):
        factors = [rng.uniform(lo, hi) for _, _, lo, hi in uncertain]
        g = _figure(entry["method"], _priced(results, _corner_data([d for d, _ in runs], uncertain, factors)))
        assert low * (1 - 1e-12) <= g <= high * (1 + 1e-12)


def test_published_figures_are_found_from_the_checkout(tmp_path, monkeypatch):
    import archsim.validate as v
    from archsim.errors import ArchsimError
    checkout = tmp_path / "checkout"
    (checkout / "validation").mkdir(parents=True)
    (checkout / "validation" / "published.yaml").write_text("entries: []\n")
    (checkout / "sub").mkdir()
    assert default_path(checkout / "sub") == checkout / "validation" / "published.yaml"
    monkeypatch.setattr(v, "__file__", str(tmp_path / "site-packages" / "archsim" / "validate.py"))
    with pytest.raises(ArchsimError, match="Looked in: .*site-packages/validation/published.yaml"):
        default_path(tmp_path / "elsewhere")


def test_no_published_number_in_code_or_tests():
    """Every published value with three or more significant characters must not appear as a literal in
    archsim/*.py or tests/*.py (configs hold consumed inputs, with sources; that is allowed)."""
    values = {str(e["value"]) for e in ENTRIES if isinstance(e["value"], (int, float)) and e["value"] not in (0, 1, 2)}
    values = {v for v in values if len(v.replace(".", "").strip("0")) >= 2}
    sources = list((ROOT / "archsim").rglob("*.py")) + [p for p in (ROOT / "tests").glob("*.py")
                                                          if p.name != Path(__file__).name]
    hits = []
    for path in sources:
        text = path.read_text()
        for v in values:
            if re.search(rf"(?<![\w.-]){re.escape(v)}(?![\w.])", text):
                hits.append(f"{path.name}: {v}")
    assert not hits, hits


def test_every_config_is_used_or_loads():
    from archsim import load_arch
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        assert read_yaml(path)["kind"] == "arch" and load_arch(path).name


def test_fpga_gain_is_the_ratio_of_eps_EO_energies():
    """The plotted FPGA gain (simulated energies) equals the ratio of the analytic eps_EO energies of the same
    two runs: the building block meets the formula, so the plot is the formula's prediction on that table."""
    from archsim import simulate
    from archsim.report.run import summarize
    from archsim.validate import deterministic
    from archsim.validate_plots import SCENARIOS, _arch, fpga_gains
    from archsim.workload.loader import workload_from_data
    samples = [1, 4]
    gains = fpga_gains(ROOT, samples, [4])[4]
    data = read_yaml(ROOT / "workloads" / "mnist-generator-fpga.yaml")
    name = SCENARIOS["FPGA building block"]
    runs = [summarize(simulate(_arch(ROOT, name, "mac"), deterministic(data, 4), "functional"))[0]]
    runs += [summarize(simulate(_arch(ROOT, name, "accumulate"), workload_from_data(dict(data, samples=T), "p"),
                                "functional"))[0] for T in samples]
    assert all(r["counts_match_analytic"] for r in runs)
    analytic = [r["analytic_energy_pj"] for r in runs]
    for gain, pbit in zip(gains, analytic[1:]):
        assert gain == pytest.approx(analytic[0] / pbit, rel=1e-9)
    assert gains[0] > gains[1]  # more samples cost energy: the gain falls with T


@pytest.mark.slow
def test_validate_cli_regenerates_the_committed_report_and_plots(tmp_path):
    """`archsim validate --plots` from the checkout reproduces validation/report.csv as committed (so the
    committed report is current) and draws the seed paper's four analyses and the UCSB machine's rates."""
    import subprocess
    import sys
    import pandas as pd
    r = subprocess.run([sys.executable, "-m", "archsim", "validate", "--plots", "--out", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    fresh, committed = pd.read_csv(tmp_path / "report.csv"), pd.read_csv(ROOT / "validation" / "report.csv")
    assert list(fresh.id) == list(committed.id) and list(fresh.status) == list(committed.status)
    both = fresh.simulated.notna()
    assert (both == committed.simulated.notna()).all()
    assert fresh.simulated[both].to_numpy() == pytest.approx(committed.simulated[both].to_numpy(), rel=1e-9)
    assert (tmp_path / "report.md").read_text() == (ROOT / "validation" / "report.md").read_text()
    for name in ("energy_per_eo_vs_T", "sample_vs_bit", "fpga_gain", "asic_65nm_breakdown", "ucsb_dpc_rate"):
        assert (tmp_path / "plots" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_validate_after_a_plain_install_in_a_fresh_venv(tmp_path):
    """`pip install .` (not editable) in a fresh venv: validate finds the figures from the checkout it runs in,
    and from elsewhere fails with exit 2, naming where it looked."""
    import subprocess
    import sys
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    exe = str(venv / "bin" / "archsim")
    r = subprocess.run([exe, "validate", "--only", "horowitz-add-32b", "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "1 rows" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([exe, "validate"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "Looked in:" in r.stderr and "Traceback" not in r.stderr


def test_condition_errors_name_the_entry_and_field():
    from archsim.errors import ArchsimError
    from archsim.validate import _condition
    entry = next(e for e in ENTRIES if e.get("uncertain") and e["arch"].endswith("dram-weights.yaml"))
    typo = dict(entry, uncertain=[dict(entry["uncertain"][0], paths=["weight_mem.read_pj_per_bt"])])
    with pytest.raises(ArchsimError, match=rf"{entry['id']}: no architecture field 'read_pj_per_bt'"):
        _condition(typo, ROOT)
    with pytest.raises(ArchsimError, match="resize prices SRAMs only; weight_mem"):
        _condition(dict(entry, resize={"weight_mem": "1MiB"}), ROOT)


@pytest.mark.slow
def test_readme_published_machines_run_at_their_clock_rule(tmp_path):
    """The README's published machines, one command each. Each is one cell per node with neighbour states on
    wires, so a colour block takes one clock and every node updates once per sweep of `colours` clocks: the rate
    is nodes x clock / colours (the graph's node count and the config's clock, read from the files), also on the
    UCSB boards, which never wait for their links; and each colouring reaches its lower bound."""
    import json
    import math
    import subprocess
    import sys
    from archsim import load_arch
    from test_levels import _readme_commands
    commands = _readme_commands("Published p-bit machines")
    assert len(commands) == 3 and all(c[:2] == ["archsim", "run"] for c in commands)
    for k, cmd in enumerate(commands):
        out = tmp_path / str(k)
        r = subprocess.run([sys.executable, "-m", "archsim", *cmd[1:], "--out", str(out), "--no-progress"],
                           capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        s = json.loads((out / "summary.json").read_text())
        graph = read_yaml(ROOT / cmd[cmd.index("--workload") + 1])["graph"]
        nodes = math.prod(graph["shape"]) if "shape" in graph else graph["rows"] * graph["cols"]
        clock = load_arch(ROOT / cmd[cmd.index("--arch") + 1]).clock
        colours = s["colouring"]["colours"]
        assert colours == s["colouring"]["lower_bound"]
        assert s["updates_per_s"] == pytest.approx(nodes * clock / colours, rel=1e-12), cmd


def test_a_rate_prediction_takes_its_inputs_as_stated():
    """A rate is not a ratio of energies: input ranges cannot be repriced at corners, so an entry giving them is
    refused, naming the entry."""
    from archsim.errors import ConfigError
    from archsim.validate import check_entries
    entry = next(e for e in ENTRIES if e["kind"] == "prediction" and e["method"] == "gibbs_rate")
    bad = dict(entry, uncertain=[{"input": "clock", "paths": ["clock"], "factor": [0.9, 1.1]}])
    with pytest.raises(ConfigError, match=rf"entries\[0\] \({entry['id']}\): uncertain: a rate prediction"):
        check_entries([bad], "published.yaml")
