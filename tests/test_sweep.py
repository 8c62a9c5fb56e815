"""Sweeps: identical results under every executor, resumable after SIGKILL without recomputing finished points,
failing points recorded, bad sweep files rejected before anything runs."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from archsim.errors import ConfigError
from archsim.sweep import run_sweep, sweep_plot

ROOT = Path(__file__).resolve().parents[1]
VALUES = ["cycles", "energy_pj", "analytic_energy_pj", "counts_match_analytic", "outputs_sha256", "status"]


def sweep_file(tmp_path, name="s", **body):
    data = {"schema_version": 1, "kind": "sweep", "name": name, "arch": "default", "workload": "default",
            "mode": "functional", **body}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


SMALL = {"grid": {"workload.samples": [1, 3], "workload.layers[*].weight_bits": [2, 5]}, "seeds": [1, 2]}


def comparable(table):
    return table.drop(columns=["wall_s"]).sort_values("point").reset_index(drop=True)


def test_executors_give_identical_results(tmp_path):
    path = sweep_file(tmp_path, **SMALL)
    serial, _ = run_sweep(path, tmp_path / "serial", "serial", progress=False)
    local, _ = run_sweep(path, tmp_path / "local", "local", workers=2, progress=False)
    assert len(serial) == 8 and (serial.status == "ok").all()
    pd.testing.assert_frame_equal(comparable(serial), comparable(local))


def test_dask_local_cluster_gives_identical_results(tmp_path):
    pytest.importorskip("dask.distributed")
    path = sweep_file(tmp_path, **SMALL)
    serial, _ = run_sweep(path, tmp_path / "serial", "serial", progress=False)
    dask, _ = run_sweep(path, tmp_path / "dask", "dask", workers=2, progress=False)
    pd.testing.assert_frame_equal(comparable(serial), comparable(dask))


def test_killed_sweep_resumes_without_recomputing(tmp_path):
    grid = {"grid": {"workload.samples": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "workload.batch": [40]}}
    path = sweep_file(tmp_path, "k", **grid)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "archsim", "sweep", str(path), "--out", str(out), "--executor", "serial",
           "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "points").glob("*.parquet"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "points").glob("*.parquet")}
    assert 3 <= len(finished) < 12, "the kill must land mid-sweep"
    table, computed = run_sweep(path, out, "serial", progress=False)
    assert computed == 12 - len(finished)
    for name, stamp in finished.items():  # finished points were not rewritten
        p = out / "points" / name
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == stamp
    fresh, _ = run_sweep(path, tmp_path / "fresh", "serial", progress=False)
    pd.testing.assert_frame_equal(comparable(table), comparable(fresh))


def test_partial_point_file_is_not_trusted(tmp_path):
    path = sweep_file(tmp_path, **{"grid": {"workload.samples": [1, 2]}})
    out = tmp_path / "o"
    table, _ = run_sweep(path, out, "serial", progress=False)
    victim = sorted((out / "points").glob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:20])  # a torn write
    again, computed = run_sweep(path, out, "serial", progress=False)
    assert computed == 1
    pd.testing.assert_frame_equal(comparable(table), comparable(again))


def test_failing_point_is_recorded_and_sweep_goes_on(tmp_path):
    path = sweep_file(tmp_path, **{"grid": {"arch.synapse.accumulator_bits": [3, 24]}})
    table, _ = run_sweep(path, tmp_path / "o", "serial", progress=False)
    assert list(table.status) == ["failed", "ok"]
    assert "accumulator_bits is 3" in table.error[0]
    r = subprocess.run([sys.executable, "-m", "archsim", "sweep", str(path), "--out", str(tmp_path / "o"),
                        "--executor", "serial", "--no-progress"], capture_output=True, text=True)
    assert r.returncode == 1 and "FAILED point 0" in r.stderr


@pytest.mark.parametrize("body,message", [
    ({"grid": {"workload.sampels": [1]}}, "sampels: unknown field (value 1); allowed fields here: batch"),
    ({"grid": {"workload.input.shape.x": [1]}}, "'input.shape' does not exist"),
    ({"grid": {"arch.synapse.kind": ["multiply"]}}, "synapse.kind"),
    ({"grid": {"workload.samples": [0]}}, "samples: Input should be greater than or equal to 1"),
    ({"grid": {"workload.samples": []}}, "has no values"),
    ({"zip": {"workload.samples": [1, 2], "workload.seed": [1]}}, "equal lengths"),
    ({"grid": {"samples": [1]}}, "must start with 'arch.' or 'workload.'"),
    ({"grid": {"workload.layers[7].weight_bits": [1]}}, "layers[7] does not exist"),
])
def test_bad_sweeps_are_rejected_before_running(tmp_path, body, message):
    path = sweep_file(tmp_path, **body)
    with pytest.raises(ConfigError) as e:
        run_sweep(path, tmp_path / "o", "serial", progress=False)
    assert message in str(e.value) and str(path) in str(e.value)
    assert not (tmp_path / "o" / "points").exists() or not list((tmp_path / "o" / "points").iterdir())
    r = subprocess.run([sys.executable, "-m", "archsim", "sweep", str(path), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_plots_and_pareto(tmp_path):
    path = sweep_file(tmp_path, **SMALL)
    run_sweep(path, tmp_path / "o", "serial", progress=False)
    written = sweep_plot(tmp_path / "o")
    assert len(written) == 3 and all(p.stat().st_size > 1000 for p in written)
    front = pd.read_csv(tmp_path / "o" / "pareto.csv")
    table = pd.read_parquet(tmp_path / "o" / "results.parquet")
    for _, p in front.iterrows():  # no point strictly dominates a front point
        assert not ((table.cycles <= p.cycles) & (table.energy_pj < p.energy_pj)).any()


@pytest.mark.parametrize("name", ["mem-samples-bits.yaml", "synapses-buffer.yaml"])
def test_shipped_sweeps_expand(name, tmp_path):
    from archsim.config.loader import read_yaml, validate
    from archsim.sweep import Sweep, expand
    path = ROOT / "configs" / "sweeps" / name
    points = expand(validate(Sweep, read_yaml(path), path), path.parent.resolve())
    assert len(points) >= 12
