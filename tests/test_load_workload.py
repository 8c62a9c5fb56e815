"""load_workload: one entry point for every workload kind, the same one the CLI's run dispatch uses; its errors
name the file, the field and the allowed values (exit 2 through the CLI)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from archsim import ConfigError, load_arch, load_workload, simulate
from archsim.workload.boltzmann import BoltzmannWorkload, DtmWorkload, boltzmann_from_data
from archsim.workload.loader import Workload, workload_kind

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "workloads").glob("*.yaml"))
TYPES = {"pdnn": Workload, "boltzmann": BoltzmannWorkload, "dtm": DtmWorkload}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_workload_loads_as_its_kind(path):
    kind = yaml.safe_load(path.read_text())["kind"]
    assert workload_kind(path) == kind
    w = load_workload(path)
    assert type(w) is TYPES[kind]
    assert w.spec.name == yaml.safe_load(path.read_text())["name"]


def test_topology_and_default_kinds():
    assert workload_kind(ROOT / "workloads/scalesim/mlp-gemm.csv") == "topology"
    assert workload_kind("default") == "pdnn"
    with pytest.raises(ConfigError, match="topology_workloads"):
        load_workload(ROOT / "workloads/scalesim/mlp-gemm.csv")


def test_a_gibbs_workload_simulates_through_load_workload():
    """The same run as through the Boltzmann module's own loader (the path simulate() was tested with)."""
    path = ROOT / "workloads/ising-3x3.yaml"
    r = simulate(load_arch(), load_workload(path, seed=11), "timing")
    data = dict(yaml.safe_load(path.read_text()), seed=11)
    ref = simulate(load_arch(), boltzmann_from_data(data, path), "timing")
    assert r.kind == "boltzmann" and r.cycles == ref.cycles > 0
    assert np.array_equal(r.samples, ref.samples)
    assert r.ledger.get("rng", "bits") == ref.ledger.get("rng", "bits")
    assert load_workload(path, seed=11).spec.seed == 11


def _write(tmp_path, **changes):
    data = dict(yaml.safe_load((ROOT / "workloads/ising-3x3.yaml").read_text()), **changes)
    p = tmp_path / "w.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_errors_name_file_field_and_allowed(tmp_path):
    bad = _write(tmp_path, kind="hopfield")
    for call in (lambda: load_workload(bad), lambda: workload_kind(bad)):
        with pytest.raises(ConfigError) as e:
            call()
        assert str(bad) in str(e.value) and "kind" in str(e.value) and "'hopfield'" in str(e.value)
        assert "'pdnn', 'boltzmann', 'dtm'" in str(e.value)
    ising = ROOT / "workloads/ising-3x3.yaml"
    with pytest.raises(ConfigError, match="samples: sets T of a p-DNN; a boltzmann workload sets sweeps"):
        load_workload(ising, samples=4)
    with pytest.raises(ConfigError, match="kind: 'boltzmann' workloads are not taken here; allowed: 'pdnn'"):
        load_workload(ising, kinds=("pdnn",))
    with pytest.raises(ConfigError, match="sweeps"):
        load_workload(_write(tmp_path, sweeps=0))


@pytest.mark.parametrize("args, message", [
    (["run", "--workload", "{bad}"], "kind: unknown workload kind 'hopfield'"),
    (["run", "--workload", "workloads/ising-3x3.yaml", "--samples", "4"], "sets T of a p-DNN"),
    (["map", "--workload", "workloads/ising-3x3.yaml"], "kind: 'boltzmann' workloads are not taken here"),
])
def test_cli_exit_2(tmp_path, args, message):
    bad = _write(tmp_path, kind="hopfield")
    args = [a.format(bad=bad) for a in args] + ["--out", str(tmp_path / "out")]
    r = subprocess.run([sys.executable, "-m", "archsim", *args], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
