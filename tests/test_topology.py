"""SCALE-Sim topology import: geometry from the CSV, counts from eps_EO computed here, errors naming the line."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from archsim import simulate
from archsim.errors import ConfigError
from archsim.workload.topology import (GemmRow, read_topology, rows_from_workload, safe_name, topology_workloads,
                                       write_topology)
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


# --- SCALE-Sim 3's reader (scalesim/topology_utils.py, load_arrays_conv / load_arrays_gemm), re-implemented from
# its source as the oracle: the first line is skipped, blank lines skipped, each line stripped and split on ','
# with the LAST cell dropped; GEMM rows need >= 4 cells (name, M, N, K) and become [m, k, 1, k, 1, n, 1, 1]; conv
# rows repeat the stride, default sparsity 1:1, and a name containing 'DP' is expanded per channel; every number
# goes through int(cell.strip()) and the filter must fit the IFMAP. Output: per layer (name, ofmap px, N, K)
# from SCALE-Sim's hyper-parameters (ofmap = ceil((H - R + s) / s)).
def scalesim_parse(text, mnk_inputs):
    import math
    entries = []
    first = True
    for row in text.splitlines(keepends=True):
        row = row.strip()
        if first:
            first = False
            continue
        if row == "":
            continue
        elems = row.split(",")[:-1]
        if mnk_inputs:
            assert len(elems) > 3, "There should be at least 4 entries per row"
            m, n, k = (int(e.strip()) for e in elems[1:4])
            entries.append([elems[0].strip(), m, k, 1, k, 1, n, 1, 1])
            continue
        elems = elems[0:8] + [elems[7]] + elems[8:]
        if len(elems) < 10:
            elems.append("1:1")
        sparsity = elems.pop().strip().split(":")
        elems += sparsity
        names = ([elems[0].strip() + "Channel_" + str(c) for c in range(int(elems[5].strip()))]
                 if "DP" in elems[0].strip() else [elems[0].strip()])
        for name in names:
            if len(names) > 1 or "DP" in elems[0]:
                elems[5] = "1"
            entry = [name] + [int(str(e).strip()) for e in elems[1:9]]
            assert entry[3] <= entry[1] and entry[4] <= entry[2]
            entries.append(entry)
    out = []
    for _, H, W, R, S, C, N, sh, sw in entries:
        oh, ow = math.ceil((H - R + sh) / sh), math.ceil((W - S + sw) / sw)
        out.append((oh * ow, N, R * S * C))
    return [(e[0],) + o for e, o in zip(entries, out)]


def archsim_mnk(path):
    """(name, output positions, filters, reduction) of archsim's reading, through its planned conv2d layers."""
    from archsim.engine.plan import make_plan
    return [(name, make_plan(arch(**BIG), w).layers[0].P, make_plan(arch(**BIG), w).layers[0].m,
             make_plan(arch(**BIG), w).layers[0].n) for name, w in topology_workloads(path)]


SHIPPED = sorted((ROOT / "workloads/scalesim").glob("*.csv"))

# The forms SCALE-Sim 3's own topology files take (header spellings, trailing commas, padding spaces, CRLF, a
# missing final newline, blank lines, a sparsity column), as small synthetic files.
FORMS = {
    "gemm-spaced-no-final-newline": ("Layer Name, M, N, K,\nTest 1, 256, 128, 256,", True),
    "gemm-crlf": ("Layer,M,N,K,\r\n1,256,128,2048,\r\n2,128,64,2048,\r\n", True),
    "gemm-sparsity": ("Layer, M, N, K, Sparsity,\nfc, 8, 4, 16, 1:1,\n", True),
    "conv-padded-cells": ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                          "Strides,\nConv1     ,224         ,224        ,11           ,11          ,3       ,96"
                          "        ,4      ,\n", False),
    "conv-header-space-after-comma": ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                                      "Num Filter, Strides, \nConv1,224,224,7,7,3,64,2,\n\n\nConv2,56,56,3,3,64,64,1,\n",
                                      False),
    "conv-depthwise": ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                       "Strides,\nConv1,  224, 224,    3, 3,      3,      32,     2,\nConv2DP,  112, 112,    3, 3,"
                       "      4,      1,     1,\n", False),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_scalesim_form_reads_as_scalesim_reads_it(tmp_path, form):
    text, mnk = FORMS[form]
    (tmp_path / "t.csv").write_text(text)
    fmt, rows = read_topology(tmp_path / "t.csv")
    assert fmt == ("gemm" if mnk else "conv")
    expected = scalesim_parse(text, mnk)
    assert [r.name for r in rows] == [e[0] for e in expected]
    if all(e[1] == p for e, (_, p, *_r) in zip(expected, archsim_mnk(tmp_path / "t.csv"))):  # strides dividing
        assert [e[1:] for e in expected] == [m[1:] for m in archsim_mnk(tmp_path / "t.csv")]
    else:  # SCALE-Sim rounds output positions up (ceil), archsim down: filters and reduction still agree
        assert [e[2:] for e in expected] == [m[2:] for m in archsim_mnk(tmp_path / "t.csv")]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_topologies_round_trip_and_scalesim_reads_the_export(tmp_path, path):
    fmt, rows = read_topology(path)
    write_topology(fmt, rows, tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text()
    assert all(line.endswith(",") for line in text.splitlines())
    assert read_topology(tmp_path / "out.csv") == (fmt, rows)          # archsim -> SCALE-Sim -> archsim
    assert [e[1:] for e in scalesim_parse(text, fmt == "gemm")] == [m[1:] for m in archsim_mnk(path)]
    assert [e[0] for e in scalesim_parse(text, fmt == "gemm")] == [r.name for r in rows]


def test_rows_without_trailing_comma_read_here_but_lose_a_cell_in_scalesim(tmp_path):
    """Why the export ends every line with a comma: SCALE-Sim drops the last cell."""
    text = "Layer,M,N,K\nfc1,1,120,400\n"
    (tmp_path / "g.csv").write_text(text)
    assert read_topology(tmp_path / "g.csv")[1] == [GemmRow("fc1", 1, 120, 400)]
    with pytest.raises(AssertionError):
        scalesim_parse(text, True)


def test_export_of_a_yaml_workload_is_read_by_scalesim_with_the_same_macs(tmp_path):
    from archsim import load_workload
    from archsim.engine.plan import make_plan
    w = load_workload(ROOT / "workloads/cifar10-cnn-pbit.yaml")
    fmt, rows, skipped = rows_from_workload(w.spec)
    assert fmt == "conv" and skipped == ["layers[1] (maxpool)", "layers[3] (maxpool)", "layers[4] (flatten)"]
    write_topology(fmt, rows, tmp_path / "c.csv")
    plan = make_plan(arch(**BIG), w)
    ours = [(lp.P, lp.m, lp.n) for lp in plan.layers if lp.is_eo]
    assert [e[1:] for e in scalesim_parse((tmp_path / "c.csv").read_text(), False)] == ours


def test_chain_makes_one_network_with_padding_and_pooling_inferred(tmp_path):
    from archsim.workload.schema import layer_shapes
    [(name, w)] = topology_workloads(ROOT / "workloads/scalesim/lenet-conv.csv", chain=True)
    assert name == "lenet-conv" and [l.type for l in w.spec.layers] == ["conv2d", "maxpool", "conv2d"]
    assert layer_shapes(w.spec)[-1][1] == (10, 10, 16)
    (tmp_path / "p.csv").write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                                    "Num Filter, Strides,\na, 8, 8, 3, 3, 1, 4, 1,\nb, 8, 8, 3, 3, 4, 2, 1,\n")
    [(_, w)] = topology_workloads(tmp_path / "p.csv", chain=True)
    assert w.spec.layers[1].padding == 1 and layer_shapes(w.spec)[-1][1] == (6, 6, 2)
    [(_, w)] = topology_workloads(ROOT / "workloads/scalesim/mlp-gemm.csv", chain=True, pbit=True, samples=2)
    assert layer_shapes(w.spec)[-1][1] == (1, 1, 10)
    (tmp_path / "bad.csv").write_text("Layer Name, M, N, K,\na, 1, 8, 4,\nb, 1, 3, 5,\n")
    with pytest.raises(ConfigError, match=r"line 3: cannot chain 'b'"):
        topology_workloads(tmp_path / "bad.csv", chain=True)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/x", "a b\\c", "..", "Conv 1:a*?"])
def test_layer_names_become_safe_file_names(tmp_path, name):
    s = safe_name(name)
    assert s and "/" not in s and "\\" not in s and ".." not in s
    assert (tmp_path / s).resolve().parent == tmp_path.resolve()


def test_export_refuses_names_scalesim_would_misread(tmp_path):
    with pytest.raises(ConfigError, match="DP"):
        write_topology("gemm", [GemmRow("fcDP", 1, 2, 3)], tmp_path / "x.csv")


def test_cli_exports_scalesim_and_runs_a_chain(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "archsim", *args], capture_output=True, text=True)
    r = run("export", "scalesim", "--workload", str(ROOT / "workloads/scalesim/mlp-gemm.csv"), "--out",
            str(tmp_path / "g.csv"))
    assert r.returncode == 0, r.stderr
    assert read_topology(tmp_path / "g.csv") == read_topology(ROOT / "workloads/scalesim/mlp-gemm.csv")
    r = run("run", "--workload", str(ROOT / "workloads/scalesim/mlp-gemm.csv"), "--chain", "--mode", "functional",
            "--arch", str(ROOT / "configs/cnn-sram.yaml"), "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["layers"] == 1
    r = run("run", "--workload", str(ROOT / "workloads/scalesim/mlp-gemm.csv"), "--trace", str(tmp_path / "t.csv"),
            "--out", str(tmp_path / "q"))
    assert r.returncode == 2 and "--chain" in r.stderr and not (tmp_path / "t.csv").exists()
