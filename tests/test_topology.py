"""SCALE-Sim topology import: geometry from the CSV, counts from eps_EO computed here, errors naming the line."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from archsim import simulate
from archsim.errors import ConfigError
from archsim.workload.topology import topology_workloads
from helpers import arch

ROOT = Path(__file__).resolve().parents[1]
BIG = {"levels[weight_mem].capacity": "4MiB", "levels[act_mem].capacity": "4MiB", "synapse.kind": "mac",
       "synapse.accumulator_bits": 40}


def test_conv_rows_become_conv_layers_meeting_eps_eo():
    """Conv1 of LeNet: 32x32x1 IFMAP, 5x5 filter, 6 filters, stride 1 -> 28x28 = 784 positions."""
    (name, w), _ = topology_workloads(ROOT / "workloads/scalesim/lenet-conv.csv", weight_bits=8, act_bits=8)
    assert name == "Conv1"
    r = simulate(arch(**BIG), w)
    n, P, m = 5 * 5 * 1, 28 * 28, 6
    assert r.ledger.get("weight_mem", "read_bits") == m * P * n * 8   # default mapping: no reuse
    assert r.ledger.get("act_mem", "read_bits") == m * P * n * 8      # T = 1, 8-bit inputs
    assert r.ledger.get("synapse", "macs") == m * P * n


def test_gemm_rows_are_m_positions_of_k_inputs_and_n_filters(tmp_path):
    (tmp_path / "g.csv").write_text("Layer,M,N,K\nfc,3,5,7\n")
    [(name, w)] = topology_workloads(tmp_path / "g.csv", pbit=True, samples=4)
    r = simulate(arch(**BIG), w)
    assert r.ledger.get("synapse", "samples") == 3 * 5 * 4   # M positions x N filters x T
    assert r.ledger.get("weight_mem", "read_bits") == 3 * 5 * 7 * 8
    assert r.ledger.get("rng", "draws") == 3 * 5 * 4


@pytest.mark.parametrize("text,message", [
    ("Layer,M,N,K\nfc,3,0,7\n", "line 2, column 'N': 0 must be a positive integer"),
    ("Layer,M,N,K\nfc,3,x,7\n", "line 2, column 'N': 'x' is not an integer"),
    ("Layer,M,N\nfc,3,4\n", "unknown header"),
    ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
     "c, 8, 8, 3, 2, 1, 4, 1,\n", "line 2: filter 3x2 is not square"),
    ("Layer,M,N,K\n", "no layers"),
])
def test_bad_topologies_name_the_line(tmp_path, text, message):
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(ConfigError, match=message):
        topology_workloads(tmp_path / "t.csv")


def test_cli_runs_a_topology(tmp_path):
    r = subprocess.run([sys.executable, "-m", "archsim", "run", "--workload",
                        str(ROOT / "workloads/scalesim/lenet-conv.csv"), "--arch",
                        str(ROOT / "configs/building-block-mac.yaml"), "--mode", "functional", "--out",
                        str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["layers"] == 2 and s["counts_match_analytic"]
    assert (tmp_path / "layers.csv").exists() and len(list((tmp_path / "layers").iterdir())) == 2
