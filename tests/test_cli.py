"""The CLI as a user meets it: the README command, the files promised, clear errors with exit status 2."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY = {"schema_version": 1, "kind": "pdnn", "name": "tiny", "samples": 4, "seed": 7,
        "input": {"size": 16, "bits": 1},
        "layers": [{"type": "dense", "outputs": 8, "weight_bits": 4, "activation": "pbit"},
                   {"type": "dense", "outputs": 3, "weight_bits": 8, "activation": "linear", "output_bits": 16}]}


def archsim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "archsim", *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))


def test_default_run_writes_the_promised_files(tmp_path):
    r = archsim("run", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    for name in ["summary.json", "counts.csv", "energy.csv", "analytic.csv", "plan.csv", "arch.yaml",
                 "workload.yaml", "manifest.json", "outputs.npy"]:
        assert (out / name).exists(), name
    s = json.loads((out / "summary.json").read_text())
    for key in ["cycles", "energy_pj", "energy_pj_by_component", "analytic_energy_pj", "counts_match_analytic",
                "outputs_sha256", "samples", "seed", "mode"]:
        assert key in s
    assert s["counts_match_analytic"] is True
    header = (out / "counts.csv").read_text().splitlines()[0]
    assert header == "layer,component,action,operand,count"
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"archsim_version", "seed", "numba_threads", "wall_s"} <= set(manifest)


def test_resolved_config_round_trips(tmp_path):
    """The written arch.yaml and workload.yaml reproduce the run exactly."""
    assert archsim("run", "--out", str(tmp_path / "a"), "--mode", "functional").returncode == 0
    r = archsim("run", "--arch", str(tmp_path / "a" / "arch.yaml"), "--workload", str(tmp_path / "a" /
                "workload.yaml"), "--out", str(tmp_path / "b"), "--mode", "functional")
    assert r.returncode == 0, r.stderr
    first, second = (json.loads((tmp_path / d / "summary.json").read_text()) for d in "ab")
    assert first["outputs_sha256"] == second["outputs_sha256"] and first["energy_pj"] == second["energy_pj"]


CONFIG_WORKLOAD = {"fpga-pbit-array.yaml": "workloads/pbit-array-32x32.yaml"}  # a cell array: 1 state bit per cell


@pytest.mark.parametrize("config", sorted(p.name for p in (ROOT / "configs").glob("*.yaml")))
def test_every_config_runs(config, tmp_path):
    workload = str(ROOT / CONFIG_WORKLOAD[config]) if config in CONFIG_WORKLOAD else "default"
    r = archsim("run", "--arch", str(ROOT / "configs" / config), "--workload", workload, "--mode", "functional",
                "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr


BAD = [
    ("samples", {"samples": 0}, "greater than or equal to 1"),
    ("sampels", {"sampels": 3}, "allowed fields here"),
    ("layers[0].activation", {"layers": [{"type": "dense", "outputs": 4, "weight_bits": 4,
                                          "activation": "softplus"}]}, "'pbit', 'noisy', 'quantized' or 'linear'"),
    ("layers[0].outputs", {"layers": [{"type": "dense", "outputs": -3, "weight_bits": 4,
                                       "activation": "pbit"}]}, "-3"),
    ("input.size", {"input": {"size": "many", "bits": 1}}, "valid integer"),
    ("weights", {"weights": "missing.npz"}, "not found"),
    ("output_bits", {"layers": [{"type": "dense", "outputs": 3, "weight_bits": 8, "activation": "quantized"}]},
     "required"),
]


@pytest.mark.parametrize("field,change,allowed", BAD, ids=[b[0] for b in BAD])
def test_bad_workload_exits_2_naming_file_field_and_allowed(field, change, allowed, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**TINY, **change}))
    r = archsim("run", "--workload", str(path), "--out", str(tmp_path / "o"))
    text = r.stdout + r.stderr
    assert r.returncode == 2 and "Traceback" not in text
    assert str(path) in text and field in text and allowed in text, text


def test_weights_that_do_not_fit_their_width(tmp_path):
    import numpy as np
    np.savez(tmp_path / "w.npz", layer0=np.full((8, 16), 9), layer1=np.zeros((3, 8), int))
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({**TINY, "weights": "w.npz"}))
    r = archsim("run", "--workload", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "weight_bits = 4" in r.stderr and "[-8, 7]" in r.stderr, r.stderr


def test_weights_from_file_are_used(tmp_path):
    import numpy as np
    np.savez(tmp_path / "w.npz", layer0=np.zeros((8, 16), int), layer1=np.ones((3, 8), int))
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({**TINY, "weights": "w.npz"}))
    r = archsim("run", "--workload", str(path), "--out", str(tmp_path / "o"), "--mode", "functional")
    assert r.returncode == 0, r.stderr
    out = np.load(tmp_path / "o" / "outputs.npy")
    # zero first-layer weights: every p-bit is 1 with probability 1/2; all-ones second layer counts them
    assert out.min() >= 0 and out.max() <= 8 and np.all(out[:, 0] == out[:, 1])


def test_bad_arch_names_field(tmp_path):
    data = yaml.safe_load((ROOT / "archsim" / "config" / "default.yaml").read_text())
    data["levels"][1]["capacity"] = "12 parsecs"  # weight_mem
    data["synapse"]["kind"] = "multiply"
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data))
    r = archsim("run", "--arch", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "levels[weight_mem].capacity" in r.stderr and "KiB" in r.stderr
    assert "synapse.kind" in r.stderr and "'accumulate' or 'mac'" in r.stderr


def test_combinational_access_only_for_register_files(tmp_path):
    data = yaml.safe_load((ROOT / "archsim" / "config" / "default.yaml").read_text())
    data["levels"][2]["cycles_per_access"] = 0  # act_mem
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data))
    r = archsim("run", "--arch", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "levels[act_mem]" in r.stderr and "'regfile'" in r.stderr and "'sram'" in r.stderr


def test_missing_file_and_bad_yaml(tmp_path):
    r = archsim("run", "--workload", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "file not found" in r.stderr
    (tmp_path / "bad.yaml").write_text("samples: [1,\n")
    r = archsim("run", "--workload", str(tmp_path / "bad.yaml"))
    assert r.returncode == 2 and "not valid YAML" in r.stderr and "line" in r.stderr


def test_overflow_exits_2(tmp_path):
    data = yaml.safe_load((ROOT / "archsim" / "config" / "default.yaml").read_text())
    data["synapse"]["accumulator_bits"] = 4
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(data))
    r = archsim("run", "--arch", str(tmp_path / "a.yaml"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "accumulator_bits is 4" in r.stderr and "Traceback" not in r.stderr


SHIPPED_ARCH = {"mlp-4bit-deterministic.yaml": "configs/building-block-mac.yaml",
                "digits-mlp.yaml": "configs/building-block-mac.yaml",
                "cifar10-cnn-pbit.yaml": "configs/cnn-sram.yaml", "celeba-vae-decoder-pbit.yaml": "configs/cnn-sram.yaml",
                "mnist-generator-fpga.yaml": "configs/cnn-sram.yaml",
                "pbit-array-32x32.yaml": "configs/fpga-pbit-array.yaml",
                "pbit-array-36x40.yaml": "configs/fpga-pbit-array.yaml",
                "pdnn-1024.yaml": "configs/three-level.yaml"}  # weights stream from DRAM: a named departure


@pytest.mark.parametrize("workload", sorted(p.name for p in (ROOT / "workloads").glob("*.yaml")))
def test_every_shipped_workload_runs(workload, tmp_path):
    arch = SHIPPED_ARCH.get(workload, "default")
    arch = str(ROOT / arch) if arch != "default" else arch
    r = archsim("run", "--workload", str(ROOT / "workloads" / workload), "--arch", arch, "--mode", "functional",
                "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary.get("departures_explained", summary["counts_match_analytic"]) is True
    if arch == "default":
        assert summary["counts_match_analytic"] is True
