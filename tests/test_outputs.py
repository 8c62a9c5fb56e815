"""Outputs that never clobber (fresh folders under runs/, a non-empty --out refused without --force), progress
bars only on a terminal, the first-compile note, and the shipped ONNX model the README's import example reads."""
import fcntl
import os
import pty
import struct
import termios
import subprocess
import sys
from pathlib import Path

import pytest

from archsim import cli
from archsim.errors import ArchsimError
from archsim.report.outdir import output_folder

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "workloads/tiny.yaml")


def archsim(*args, cwd=None, **kw):
    return subprocess.run([sys.executable, "-m", "archsim", *args], capture_output=True, text=True, cwd=cwd, **kw)


def test_runs_without_out_get_fresh_folders_under_runs(tmp_path):
    for _ in range(2):
        r = archsim("run", "--workload", TINY, "--mode", "functional", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == 2 and all(f.name.startswith("run-tiny-") and (f / "summary.json").exists()
                                     for f in folders)


def test_non_empty_out_is_refused_unless_force(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "summary.json").write_text("{}")
    r = archsim("run", "--workload", TINY, "--mode", "functional", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "not empty" in r.stderr and "--force" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "o" / "summary.json").read_text() == "{}"
    r = archsim("run", "--workload", TINY, "--mode", "functional", "--out", str(tmp_path / "o"), "--force")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "summary.json").read_text() != "{}"
    (tmp_path / "t.csv").write_text("x")
    r = archsim("run", "--workload", TINY, "--trace", str(tmp_path / "t.csv"), "--out", str(tmp_path / "p"))
    assert r.returncode == 2 and "exists already" in r.stderr and (tmp_path / "t.csv").read_text() == "x"
    with pytest.raises(ArchsimError, match="is a file"):
        output_folder(tmp_path / "t.csv", False, "run", "x")


def test_progress_only_on_a_terminal(tmp_path):
    args = ["run", "--workload", str(ROOT / "workloads/scalesim/lenet-conv.csv"), "--arch",
            str(ROOT / "configs/building-block-mac.yaml"), "--mode", "functional"]
    r = archsim(*args, "--out", str(tmp_path / "a"))
    assert r.returncode == 0 and "topology rows" not in r.stderr          # stderr is a pipe here
    for extra, shown in (([], True), (["--no-progress"], False)):
        code, seen = on_a_terminal([sys.executable, "-m", "archsim", *args, "--out", str(tmp_path / str(shown)),
                                    *extra])
        assert code == 0 and (b"topology rows" in seen and b"2/2" in seen) == shown


def test_a_run_longer_than_the_delay_shows_its_layer_passes(tmp_path):
    """A p-DNN run's bar appears only once it has run PROGRESS_DELAY_S (0 here), on a terminal."""
    code, seen = on_a_terminal([sys.executable, "-c", "import archsim.cli as c; c.PROGRESS_DELAY_S = 0; "
                                "raise SystemExit(c.main())", "run", "--workload", str(TINY), "--out",
                                str(tmp_path / "a")])
    assert code == 0 and b"layer passes" in seen
    code, seen = on_a_terminal([sys.executable, "-m", "archsim", "run", "--workload", str(TINY), "--out",
                                str(tmp_path / "b")])
    assert code == 0 and b"layer passes" not in seen  # the tiny run ends well before the 2 s delay


def on_a_terminal(command):
    """Run `command` with stderr on a pseudo-terminal of 100 columns; (exit code, what it wrote there)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    p = subprocess.run(command, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return p.returncode, seen


def test_first_compile_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "cli.py"))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    cli._note_first_compile("dense")
    assert "compiling the Numba kernels of kernels/dense.py" in capsys.readouterr().err
    (tmp_path / "kernels" / "__pycache__").mkdir(parents=True)
    (tmp_path / "kernels" / "__pycache__" / "dense.dense_tile-33.py311.nbi").write_bytes(b"")
    cli._note_first_compile("dense")
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))   # Numba then caches only there
    cli._note_first_compile("dense")
    assert "compiling" in capsys.readouterr().err


def test_shipped_onnx_model_is_the_scripts_and_imports(tmp_path):
    model = ROOT / "workloads/mlp-sigmoid.onnx"
    assert model.stat().st_size < 10_000
    pytest.importorskip("onnx")
    r = subprocess.run([sys.executable, str(ROOT / "examples/make_onnx_model.py"), "--out", str(tmp_path / "m.onnx")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "m.onnx").read_bytes() == model.read_bytes()
    r = archsim("import", str(model), "--out", str(tmp_path / "w"), "--activation", "pbit", "--weight-bits", "8")
    assert r.returncode == 0, r.stderr
    r = archsim("run", "--workload", str(tmp_path / "w" / "mlp-sigmoid.yaml"), "--out", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr
