"""Hostile inputs, one regression test per case of issue #14: each exits 0 or 2 without a traceback, every
exit-2 message names the file (and the field, line or flag), numbers stay finite, nothing is written outside
--out, nothing finished is lost, and rejected cases are refused fast with little memory."""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from archsim import sweep as sweep_module
from archsim.cli import main
from archsim.sweep import set_path

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "workloads" / "tiny.yaml"
ARCH = yaml.safe_load((ROOT / "archsim" / "config" / "default.yaml").read_text())


@pytest.fixture(autouse=True)
def _limits(monkeypatch):
    monkeypatch.setenv("ARCHSIM_MEMORY_LIMIT", "2GiB")  # restored after each test, whatever --memory-limit did


def cli(*args):
    """archsim in-process: (exit status, stdout, stderr). Any exception other than SystemExit escapes, so a
    traceback fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


def rejected(*args, names=(), seconds=5.0, peak_mib=200):
    """Run and assert exit 2 naming every one of `names`, within `seconds` and `peak_mib` of traced memory."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        code, out, err = cli(*args)
    finally:
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    assert code == 2, (code, out, err)
    for name in names:
        assert str(name) in err, (name, err)
    assert elapsed < seconds, f"refused after {elapsed:.2f} s"
    assert peak < peak_mib, f"peak {peak:.0f} MiB"
    return err


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def arch_with(tmp_path, path, value, name="arch.yaml"):
    """The packaged architecture with one field set; `path` as in the error it must raise (a level by name)."""
    data = json.loads(json.dumps(ARCH))
    set_path(data, path, value)
    return write_yaml(tmp_path / name, data)


def tiny_with(tmp_path, name="w.yaml", **changes):
    data = {**yaml.safe_load(TINY.read_text()), **changes}
    return write_yaml(tmp_path / name, data)


def run(tmp_path, *args):
    return ("run", "--mode", "functional", "--out", tmp_path / "out", *args)


# --- numbers outside any sense -----------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("levels[weight_mem].read_pj_per_bit.value", "1e400pJ"),
    ("levels[weight_mem].read_pj_per_bit.value", float("inf")),
    ("levels[act_mem].write_pj_per_bit.value", float("nan")), ("clock", "1e400Hz"), ("clock", "200GHz"),
    ("levels[weight_mem].capacity", "1e400KiB"), ("levels[weight_mem].capacity", 2**60),
    ("neuron.compare_pj.value", "2J"),
])
def test_numbers_outside_any_sense_are_refused(tmp_path, field, value):
    path = arch_with(tmp_path, field, value)
    rejected(*run(tmp_path, "--arch", path, "--workload", TINY), names=[path, field])


def test_infinite_gain_is_refused(tmp_path):
    data = yaml.safe_load(TINY.read_text())
    data["layers"][0]["gain"] = float("inf")
    path = write_yaml(tmp_path / "w.yaml", data)
    rejected(*run(tmp_path, "--workload", path), names=[path, "layers[0].gain"])


def test_summary_is_strict_json(tmp_path):
    code, _, err = cli(*run(tmp_path, "--workload", TINY))
    assert code == 0, err
    json.loads((tmp_path / "out" / "summary.json").read_text(), parse_constant=lambda c: pytest.fail(c))


# --- traces ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    d = tmp_path_factory.mktemp("trace")
    code, _, err = cli("run", "--workload", TINY, "--out", d / "run", "--trace", d / "t.csv")
    assert code == 0, err
    return d / "t.csv"


def edited_trace(tmp_path, trace, column, value, row=3):
    frame = pd.read_csv(trace, dtype=str)
    frame.loc[row, column] = str(value)
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    shutil.copy(str(trace) + ".meta.json", str(path) + ".meta.json")
    return path


@pytest.mark.parametrize("column,value", [("bits", 2**63), ("bits", 2**62), ("rows", 0), ("end_cycle", 0),
                                          ("repeat", 2**52), ("start_cycle", "1e3")])
def test_bad_trace_records_are_refused_naming_the_line(tmp_path, trace, column, value):
    frame = pd.read_csv(trace)
    if column == "end_cycle":
        assert frame.start_cycle[3] > 0, "the record must start after cycle 0 for an end before its start"
    path = edited_trace(tmp_path, trace, column, value)
    rejected("replay", path, "--out", tmp_path / "r", names=[path, "line 5", column])


def test_trace_metadata_without_arch_is_refused(tmp_path, trace):
    path = tmp_path / "t.csv"
    shutil.copy(trace, path)
    meta = json.loads(Path(str(trace) + ".meta.json").read_text())
    del meta["arch"]
    Path(str(path) + ".meta.json").write_text(json.dumps(meta))
    rejected("replay", path, "--out", tmp_path / "r", names=["t.csv.meta.json", "arch"])


# --- small files that would exhaust the machine ------------------------------------------------------------

def alias_bomb(levels=9):
    text, prev = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n', "a"
    for c in "bcdefghijk"[:levels - 1]:
        text += f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = c
    return text


@pytest.mark.parametrize("flag", ["--arch", "--workload", "sweep"])
def test_alias_bomb_is_refused_fast(tmp_path, flag):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    assert path.stat().st_size < 2048
    args = ("sweep", path, "--out", tmp_path / "s") if flag == "sweep" else (*run(tmp_path), flag, path)
    rejected(*args, names=[path, "expands to more than"], seconds=2)


@pytest.mark.parametrize("flag", ["--arch", "--workload"])
def test_deep_nesting_is_refused(tmp_path, flag):
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * 3000 + "]" * 3000 + "\n")
    rejected(*run(tmp_path), flag, path, names=[path, "nest"], seconds=2)


def test_dev_zero_as_arch_fails_fast(tmp_path):
    rejected(*run(tmp_path, "--arch", "/dev/zero"), names=["/dev/zero", "not a regular file"], seconds=1)


@pytest.mark.parametrize("outputs,inputs", [(8192, 8192), (4096, 1 << 24)])
def test_huge_dense_layer_is_refused_before_any_weight_is_made(tmp_path, outputs, inputs):
    path = tiny_with(tmp_path, input={"size": inputs, "bits": 1},
                     layers=[{"type": "dense", "outputs": outputs, "weight_bits": 8, "activation": "pbit"}])
    err = rejected(*run(tmp_path, "--workload", path), names=[path], seconds=1, peak_mib=50)
    assert "].capacity = " in err or "memory" in err  # a level too small to hold them, or the memory limit


def test_memory_estimate_is_in_the_error(tmp_path):
    big = json.loads(json.dumps(ARCH))
    for m in ("weight_mem", "act_mem"):
        set_path(big, f"levels[{m}].capacity", "64GiB")
    arch = write_yaml(tmp_path / "big.yaml", big)
    path = tiny_with(tmp_path, input={"size": 1 << 20, "bits": 1},
                     layers=[{"type": "dense", "outputs": 4096, "weight_bits": 8, "activation": "pbit"}])
    err = rejected(*run(tmp_path, "--arch", arch, "--workload", path, "--memory-limit", "1GiB"), names=[path],
                   seconds=1, peak_mib=50)
    assert "would need about 160 GiB" in err and "limit of 1 GiB" in err  # 2**32 int64 weights + 4 x temporaries


def test_largest_grid_is_refused_fast(tmp_path):
    data = yaml.safe_load((ROOT / "workloads" / "ising-3x3.yaml").read_text())
    data["graph"].update(rows=4096, cols=4096)
    path = write_yaml(tmp_path / "g.yaml", data)
    rejected(*run(tmp_path, "--workload", path), names=[path, "memory"], seconds=2, peak_mib=50)


def test_billions_of_sweeps_are_refused(tmp_path):
    data = yaml.safe_load((ROOT / "workloads" / "ising-3x3.yaml").read_text())
    data.update(sweeps=2**31, record_every=2**30)
    path = write_yaml(tmp_path / "g.yaml", data)
    rejected(*run(tmp_path, "--workload", path), names=[path, "sweeps", "p-bit updates"], seconds=2)


def test_ten_billion_point_sweep_is_refused_fast(tmp_path):
    grid = {f"arch.synapse.{k}": list(range(1, 11)) for k in ("count", "inputs_per_cycle")}
    grid.update({f"workload.{k}": list(range(1, 11)) for k in ("samples", "seed", "batch")})
    grid.update({"arch.neuron.count": list(range(1, 11)), "arch.neuron.table_bits": list(range(1, 11)),
                 "arch.weight_mem.banks": list(range(1, 11)), "arch.act_mem.banks": list(range(1, 11)),
                 "arch.synapse.accumulator_bits": list(range(10, 20))})
    path = write_yaml(tmp_path / "s.yaml", {"kind": "sweep", "name": "s", "grid": grid})
    rejected("sweep", path, "--out", tmp_path / "s", names=[path, "10,000,000,000 points"], seconds=2)


# --- files no loader may choke on --------------------------------------------------------------------------

LATIN1 = b"# caf\xe9\n"


@pytest.mark.parametrize("kind", ["arch", "workload", "sweep", "topology", "validate"])
def test_non_utf8_files_are_refused_naming_the_line(tmp_path, kind):
    source = {"arch": ROOT / "archsim" / "config" / "default.yaml", "workload": TINY,
              "sweep": ROOT / "configs" / "sweeps" / "synapses-buffer.yaml",
              "topology": ROOT / "workloads" / "scalesim" / "mlp-gemm.csv",
              "validate": ROOT / "validation" / "published.yaml"}[kind]
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes() + LATIN1)
    args = {"arch": run(tmp_path, "--arch", path, "--workload", TINY), "workload": run(tmp_path, "--workload", path),
            "sweep": ("sweep", path, "--out", tmp_path / "s"), "topology": run(tmp_path, "--workload", path),
            "validate": ("validate", "--file", path, "--out", tmp_path / "v")}[kind]
    rejected(*args, names=[path, "is not UTF-8"])


def test_non_utf8_trace_and_metadata_are_refused(tmp_path, trace):
    path = tmp_path / "t.csv"
    path.write_bytes(trace.read_bytes() + b"0,0,load,0,1,0,0,weight_mem,read,0,0,8,1,1,\xff\n")
    shutil.copy(str(trace) + ".meta.json", str(path) + ".meta.json")
    rejected("replay", path, "--out", tmp_path / "r", names=[path])
    shutil.copy(trace, path)
    Path(str(path) + ".meta.json").write_bytes(b'{"arch": "\xff"}')
    rejected("replay", path, "--out", tmp_path / "r", names=["t.csv.meta.json", "UTF-8"])


def npz_variants(tmp_path):
    """Archives no loader may unpickle or choke on: name -> path."""
    out = {}
    np.savez(tmp_path / "object.npz", x=np.array([{"a": 1}, None], dtype=object))
    out["object array"] = tmp_path / "object.npz"
    good = tmp_path / "good.npz"
    np.savez_compressed(good, x=np.zeros((2, 16), np.int64), layer0=np.zeros((8, 16), np.int64))
    data = bytearray(good.read_bytes())
    data[60:90] = b"\x00" * 30
    (tmp_path / "corrupt.npz").write_bytes(bytes(data))
    out["corrupt zip"] = tmp_path / "corrupt.npz"
    (tmp_path / "truncated.npz").write_bytes(good.read_bytes()[:-40])
    out["truncated"] = tmp_path / "truncated.npz"
    np.save(tmp_path / "plain.npy", np.zeros(3))
    out["plain .npy"] = tmp_path / "plain.npy"
    (tmp_path / "empty.npz").write_bytes(b"")
    out["empty file"] = tmp_path / "empty.npz"
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as z:
        header = {"descr": "<i8", "fortran_order": False, "shape": (1 << 40,)}
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, header)
        z.writestr("x.npy", buf.getvalue())
    out["array header of 8 TiB"] = tmp_path / "bomb.npz"
    return out


@pytest.mark.parametrize("field", ["inputs", "weights", "couplings"])
def test_hostile_archives_are_refused_naming_both_files(tmp_path, field):
    for what, npz in npz_variants(tmp_path).items():
        if field == "couplings":
            data = yaml.safe_load((ROOT / "workloads" / "ising-3x3.yaml").read_text())
            data["couplings"] = npz.name
            path = write_yaml(tmp_path / "w.yaml", data)
        else:
            path = tiny_with(tmp_path, **{field: npz.name})
        err = rejected(*run(tmp_path, "--workload", path), names=[path, npz.name, field])
        assert "Traceback" not in err, what


@pytest.mark.parametrize("shape", [(0, 16), ()])
def test_inputs_file_with_zero_items_is_refused(tmp_path, shape):
    np.savez(tmp_path / "x.npz", x=np.zeros(shape, np.int64))
    path = tiny_with(tmp_path, inputs="x.npz")
    rejected(*run(tmp_path, "--workload", path), names=[path, "x.npz", "at least one item"])


def test_labels_outside_the_classes_are_refused(tmp_path):
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 16), np.int64), y=np.array([0, 3]))  # tiny has 3 outputs
    path = tiny_with(tmp_path, inputs="x.npz")
    rejected(*run(tmp_path, "--workload", path), names=[path, "x.npz:y", "[0, 2]"])


def test_capacity_errors_name_the_files(tmp_path):
    path = tiny_with(tmp_path, input={"size": 4096, "bits": 1},
                     layers=[{"type": "dense", "outputs": 4096, "weight_bits": 8, "activation": "pbit"}])
    arch = ROOT / "configs" / "sram-broadcast.yaml"  # on-chip memories only: nowhere to hold 128 Mib of weights
    rejected(*run(tmp_path, "--arch", arch, "--workload", path), names=[path, arch, "levels[weight_mem].capacity"],
             seconds=1)


@pytest.mark.parametrize("body", [{"entries": [1, 2]}, {"entries": "x"},
                                  {"entries": [{"id": "a", "quantity": "q", "value": 1, "unit": "u", "citation": "c",
                                                "where": "w", "quality": "q", "method": "extra_sample",
                                                "tolerance": {"relative": 0.1}, "why": "y",
                                                "workload": "workloads/tiny.yaml"}]},
                                  {"entries": [{"id": ["a"], "value": ".nan"}]}])
def test_malformed_validation_entries_are_refused(tmp_path, body):
    path = write_yaml(tmp_path / "published.yaml", body)
    rejected("validate", "--file", path, "--out", tmp_path / "v", names=[path])


# --- outputs stay under --out ------------------------------------------------------------------------------

def test_topology_layer_names_cannot_escape_out(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("Layer, M, N, K,\n../../../../elsewhere/ABS-ESCAPE, 4, 3, 8,\n/abs/path, 2, 2, 2,\n")
    out = tmp_path / "a" / "b" / "out"
    before = set(tmp_path.rglob("*"))
    code, _, err = cli("run", "--workload", csv, "--pbit", "--mode", "functional", "--out", out)
    assert code == 0, err
    written = set(tmp_path.rglob("*")) - before
    assert written and all(out in p.parents or p == out or p in out.parents for p in written), sorted(written)
    assert len(list((out / "layers").iterdir())) == 2


@pytest.mark.parametrize("command", ["run", "replay", "sweep", "export"])
def test_out_that_is_a_file_or_under_one_is_refused(tmp_path, trace, command):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    outs = [blocker, blocker / "sub"] if command != "export" else [blocker / "sub" / "x.txt", tmp_path]
    for out in outs:
        args = {"run": ("run", "--workload", TINY, "--mode", "functional"), "replay": ("replay", trace),
                "sweep": ("sweep", ROOT / "configs" / "sweeps" / "synapses-buffer.yaml"),
                "export": ("trace", "export", trace, "--format", "ramulator2")}[command]
        rejected(*args, "--out", out, names=["--out", blocker if out != tmp_path else "is a folder"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_out_that_is_not_writable_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        rejected("run", "--workload", TINY, "--out", locked / "out", names=["--out", locked, "not writable"])
    finally:
        locked.chmod(0o700)


# --- nothing finished lost ---------------------------------------------------------------------------------

def test_validate_only_typo_lists_ids_and_keeps_the_report(tmp_path):
    folder = tmp_path / "validation"
    folder.mkdir()
    shutil.copy(ROOT / "validation" / "published.yaml", folder)
    shutil.copy(ROOT / "validation" / "report.csv", folder)
    before = (folder / "report.csv").read_bytes()
    first = yaml.safe_load((folder / "published.yaml").read_text())["entries"][0]["id"]
    err = rejected("validate", "--file", folder / "published.yaml", "--only", "no-such-id",
                   names=["no-such-id", first, "published.yaml"])
    assert "allowed" in err
    rejected("validate", "--file", folder / "published.yaml", "--only", first, names=["--out"])
    assert (folder / "report.csv").read_bytes() == before


def sweep_yaml(tmp_path, workload, name="s", **grid):
    return write_yaml(tmp_path / f"{name}.yaml", {"kind": "sweep", "name": name, "workload": workload.name,
                                                  "grid": grid or {"workload.samples": [1, 2]}})


def test_failed_sweep_point_is_retried_once_its_cause_is_fixed(tmp_path):
    work = tiny_with(tmp_path, inputs="x.npz")
    path = sweep_yaml(tmp_path, work)
    out = tmp_path / "out"
    code, _, err = cli("sweep", path, "--out", out, "--executor", "serial", "--no-progress")
    assert code == 1 and err.count("FAILED point") == 2
    assert "x.npz" in err and "not found" in err  # the cause, not only "1 problem(s)"
    np.savez(tmp_path / "x.npz", x=np.ones((2, 16), np.int64))
    code, out_text, err = cli("sweep", path, "--out", out, "--executor", "serial", "--no-progress")
    assert code == 0, err
    assert "2 computed now" in out_text
    assert (pd.read_parquet(out / "results.parquet").status == "ok").all()


def test_first_point_runs_once(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor
    calls = []
    real = sweep_module.run_point

    def counted(index, *args):
        calls.append(index)
        return real(index, *args)

    monkeypatch.setattr(sweep_module, "run_point", counted)
    monkeypatch.setattr(sweep_module, "_executor", lambda *a: (ThreadPoolExecutor(2), None))
    path = sweep_yaml(tmp_path, TINY.parent / "tiny.yaml", **{"workload.samples": [1, 2, 3]})
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    code, _, err = cli("sweep", path, "--out", tmp_path / "o", "--no-progress")
    assert code == 0, err
    assert sorted(calls) == [0, 1, 2]


@pytest.mark.slow
def test_pool_workers_die_with_a_killed_driver(tmp_path):
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    path = sweep_yaml(tmp_path, tmp_path / "tiny.yaml", **{"workload.batch": [2000 + i for i in range(40)]})
    driver = subprocess.Popen([sys.executable, "-m", "archsim", "sweep", str(path), "--out", str(tmp_path / "o"),
                               "--workers", "2", "--no-progress"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    children = Path(f"/proc/{driver.pid}/task/{driver.pid}/children")
    deadline = time.time() + 120
    workers = []
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = [int(p) for p in children.read_text().split()] if children.exists() else []
    assert len(workers) >= 2, "the pool must be running before the kill"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(Path(f"/proc/{w}").exists() and "Z" not in
                                         Path(f"/proc/{w}/stat").read_text().split()[2] for w in workers):
        time.sleep(0.2)
    alive = [w for w in workers if Path(f"/proc/{w}").exists()
             and Path(f"/proc/{w}/stat").read_text().split()[2] != "Z"]
    for w in alive:  # leave nothing behind, then fail
        os.kill(w, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived the driver"


# --- flags that cannot apply -------------------------------------------------------------------------------

@pytest.mark.parametrize("args,names", [
    (("--weight-bits", "4"), ["--weight-bits", "tiny.yaml"]),
    (("--pbit",), ["--pbit"]),
    (("--act-bits", "2"), ["--act-bits"]),
    (("--samples", "0"), ["--samples"]),
    (("--samples", "-3"), ["--samples"]),
    (("--seed", "-1"), ["--seed"]),
])
def test_flags_that_cannot_apply_are_errors(tmp_path, capsys, args, names):
    err = rejected(*run(tmp_path, "--workload", TINY, *args), names=names)
    assert "default.yaml" not in err


def test_samples_zero_on_a_topology_is_an_error(tmp_path):
    rejected(*run(tmp_path, "--workload", ROOT / "workloads" / "scalesim" / "mlp-gemm.csv", "--pbit", "--samples",
                  "0"), names=["--samples"])
    rejected(*run(tmp_path, "--workload", ROOT / "workloads" / "scalesim" / "mlp-gemm.csv", "--samples", "4"),
             names=["--samples", "--pbit"])


@pytest.mark.parametrize("args,names", [
    (("tradeoff", "--epochs", "-1"), ["--epochs"]),
    (("sweep", "x.yaml", "--workers", "-1"), ["--workers"]),
    (("sweep", "x.yaml", "--scheduler", "tcp://127.0.0.1:1"), ["--scheduler", "--executor dask"]),
    (("sweep", "x.yaml", "--executor", "dask", "--scheduler", "garbage"), ["--scheduler", "garbage"]),
])
def test_bad_flags_are_errors(tmp_path, monkeypatch, args, names):
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    sweep_yaml(tmp_path, tmp_path / "tiny.yaml", name="x")
    monkeypatch.chdir(tmp_path)
    rejected(*args, names=names)


def test_dask_executor_without_dask_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the extra were not installed
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    path = sweep_yaml(tmp_path, tmp_path / "tiny.yaml", **{"workload.samples": [1, 2]})
    rejected("sweep", path, "--out", tmp_path / "o", "--executor", "dask", "--no-progress",
             names=["archsim[dask]"])


def test_sweep_plot_on_a_corrupt_parquet_is_an_error(tmp_path):
    (tmp_path / "results.parquet").write_bytes(b"PAR1 not really")
    rejected("sweep", "plot", tmp_path, names=[tmp_path / "results.parquet"])


@pytest.mark.parametrize("model", ["/dev/zero", "garbage"])
def test_unreadable_onnx_models_are_refused(tmp_path, model):
    if model == "garbage":
        model = tmp_path / "m.onnx"
        model.write_bytes(b"\x08\xff\xff\xff garbage")
    rejected("import", model, "--out", tmp_path / "o", names=[model])


def test_sweep_axis_of_mixed_types_writes_its_table(tmp_path):
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    path = sweep_yaml(tmp_path, tmp_path / "tiny.yaml", **{"arch.clock": ["200MHz", 3e8]})
    code, _, err = cli("sweep", path, "--out", tmp_path / "o", "--executor", "serial", "--no-progress")
    assert code == 0, err
    table = pd.read_parquet(tmp_path / "o" / "results.parquet")
    assert list(table["arch.clock"]) == ["200MHz", "300000000.0"] and (table.status == "ok").all()


def test_a_dead_pool_worker_is_an_error_keeping_finished_points(tmp_path, monkeypatch):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class DeadPool:
        def submit(self, *args):
            f = Future()
            f.set_exception(BrokenProcessPool("a worker was killed"))
            return f

        def shutdown(self, **kw):
            pass

    monkeypatch.setattr(sweep_module, "_executor", lambda *a: (DeadPool(), None))
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    path = sweep_yaml(tmp_path, tmp_path / "tiny.yaml", **{"workload.samples": [1, 2, 3]})
    rejected("sweep", path, "--out", tmp_path / "o", "--no-progress", names=[path, "worker process died"])
    assert len(list((tmp_path / "o" / "points").glob("*.parquet"))) == 1  # the driver's first point is kept


@pytest.mark.parametrize("field", ["graph", "colouring"])
def test_graph_and_colour_files_go_through_the_boundary(tmp_path, field):
    """A graph file or colour file that is a device is refused at once (it used to be read to the end)."""
    data = {"schema_version": 1, "kind": "boltzmann", "name": "g", "beta": 0.5, "sweeps": 2, "seed": 1,
            "graph": {"type": "file", "path": "/dev/zero"} if field == "graph" else
            {"type": "grid", "rows": 3, "cols": 3},
            **({"colouring": {"method": "fixed", "file": "/dev/zero"}} if field == "colouring" else {})}
    path = write_yaml(tmp_path / "b.yaml", data)
    rejected(*run(tmp_path, "--workload", path), names=["/dev/zero", "regular file"], seconds=5)
