"""Property-based fuzzing of every input archsim reads: the shipped architectures, p-DNN / Boltzmann / DTM
workloads, a sweep, a trace (records and metadata), weights and inputs archives and a SCALE-Sim topology are
mutated (type changes, deletions, unknown keys, huge and non-finite numbers, bad encodings, alias bombs, deep
nesting, duplicate keys, truncation, corrupt or hostile archives) and handed to the CLI.

Oracle, for every case: exit status 0 or 2, never a traceback; an exit-2 message names the mutated file; a case
that is certainly invalid (non-finite number, unknown key, bad encoding, bomb, empty file...) never exits 0;
a rejected case takes under 10 s and peaks under 1 GiB of traced memory. The fast suite runs 50 cases in
process (3 more as real processes); `-m slow` runs 600 (ARCHSIM_FUZZ_EXAMPLES sets more). The figures are
printed at the end (-s)."""
import copy
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "workloads" / "tiny.yaml"
REJECT_SECONDS, REJECT_PEAK_MIB = 10.0, 1024
LIMITS = {"ARCHSIM_MEMORY_LIMIT": "64MiB", "ARCHSIM_MAX_UPDATES": "1000000"}  # accepted cases stay cheap

NONFINITE = [math.inf, -math.inf, math.nan]
HOSTILE = [None, True, "", "x", -1, 0, 1, 2**31, 2**63, 2**64, -2**63, 1e308, "1e400pJ", "1e400KiB",
           "1e400Hz", "-5pJ", "0Hz", "9" * 5000, [], {}, [1, 2, 3], {"a": 1}, "../../escape", "\x00"]
TEXT_OPS = ["bad_utf8", "alias_bomb", "deep", "dup_key", "truncate", "empty"]
CERTAINLY_INVALID_TEXT = {"bad_utf8", "alias_bomb", "deep", "dup_key", "empty"}


def _yaml(path):
    return yaml.safe_load(Path(path).read_text())


def small_gibbs(name):
    data = _yaml(ROOT / "workloads" / name)
    data["sweeps"] = 40
    if "burn_in" in data:
        data["burn_in"] = 5
    return data


SWEEP = {"schema_version": 1, "kind": "sweep", "name": "f", "arch": "default", "workload": "tiny.yaml",
         "mode": "functional", "grid": {"workload.samples": [1, 2]}, "seeds": [3]}
YAML_SEEDS = {"arch:" + p.name: _yaml(p) for p in [ROOT / "archsim" / "config" / "default.yaml",
                                                   *sorted((ROOT / "configs").glob("*.yaml"))]}
YAML_SEEDS.update({"workload:tiny": _yaml(TINY), "workload:mlp": _yaml(ROOT / "workloads" /
                                                                         "mlp-4bit-deterministic.yaml"),
                   "workload:ising": small_gibbs("ising-3x3.yaml"), "workload:dtm": small_gibbs("dtm-chain.yaml"),
                   "sweep": SWEEP})
KINDS = sorted(YAML_SEEDS) + ["trace", "meta", "weights", "inputs", "topology"]
STATS = []


# --- mutations ---------------------------------------------------------------------------------------------

def node_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from node_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from node_paths(v, prefix + (i,))


def mutate_data(data, draw, strict):
    """-> (mutated data, description, certainly invalid)."""
    data = copy.deepcopy(data)
    paths = list(node_paths(data))
    path = paths[draw(st.integers(0, len(paths) - 1))]
    op = draw(st.sampled_from(["replace", "replace", "nonfinite", "delete", "add_key", "wrap"]))
    if not path:
        op = "add_key" if isinstance(data, dict) else "replace"
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    target = parent[path[-1]] if path else data
    if op == "add_key":
        holder = target if isinstance(target, dict) else parent if isinstance(parent, dict) else data
        holder["fuzz_unknown_field"] = 1
        return data, f"add key beside {path}", strict
    if op == "delete":
        del parent[path[-1]]
        return data, f"delete {path}", False
    value = {"replace": lambda: draw(st.sampled_from(HOSTILE)), "nonfinite": lambda: draw(st.sampled_from(NONFINITE)),
             "wrap": lambda: draw(st.sampled_from([[target], {"value": target}, str(target)]))}[op]()
    parent[path[-1]] = value
    return data, f"{op} {path} = {value!r}"[:200], op == "nonfinite"


def mutate_text(raw, op, draw):
    if op == "bad_utf8":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + b"\xff\xfe" + raw[at:]
    if op == "alias_bomb":
        bomb, prev = 'fuzz_a: &a ["l","l","l","l","l","l","l","l","l"]\n', "a"
        for c in "bcdefghi":
            bomb += f"fuzz_{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]\n"
            prev = c
        return raw + b"\n" + bomb.encode()
    if op == "deep":
        return raw + b"\nfuzz_deep: " + b"[" * 3000 + b"]" * 3000 + b"\n"
    if op == "dup_key":
        first = raw.decode().splitlines()
        keys = [line for line in first if line and not line[0].isspace() and not line.startswith("#") and ":" in line]
        return raw + b"\n" + keys[0].encode() + b"\n"
    if op == "truncate":
        return raw[:draw(st.integers(0, max(0, len(raw) - 1)))]
    return b""


def hostile_array(draw, like):
    choice = draw(st.sampled_from(["float", "nonfinite", "object", "huge", "shape", "complex", "bool", "string"]))
    if choice == "float":
        return like.astype(float) + 0.5, False
    if choice == "nonfinite":
        a = like.astype(float)
        a.flat[0] = draw(st.sampled_from(NONFINITE))
        return a, True
    if choice == "object":
        return np.array([None, {"a": 1}], dtype=object), True
    if choice == "huge":
        return np.full(like.shape, np.iinfo(np.int64).max, np.int64), False
    if choice == "shape":
        return np.zeros(tuple(draw(st.lists(st.integers(0, 5), max_size=3))), np.int64), False
    if choice == "complex":
        return like.astype(complex), True
    if choice == "bool":
        return like.astype(bool), False
    return np.array(["x"] * max(1, like.size)), True


def mutate_npz(arrays, draw, path):
    """Write a mutated archive to `path`: -> (description, certainly invalid)."""
    arrays = dict(arrays)
    op = draw(st.sampled_from(["array", "array", "delete", "flip", "truncate", "plain", "empty"]))
    if op in ("array", "delete"):
        name = draw(st.sampled_from(sorted(arrays)))
        if op == "delete":
            del arrays[name]
            invalid = False
        else:
            arrays[name], invalid = hostile_array(draw, arrays[name])
        np.savez(path, **arrays)
        return f"{op} {name}", invalid or (op == "array" and arrays[name].dtype == object)
    np.savez(path, **arrays)
    raw = path.read_bytes()
    if op == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        path.write_bytes(raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1:])
        return f"flip byte {at}", False
    if op == "truncate":
        path.write_bytes(raw[:draw(st.integers(0, len(raw) - 1))])
        return "truncate", True
    if op == "plain":
        np.save(path.with_suffix(".npy"), next(iter(arrays.values())))
        shutil.move(path.with_suffix(".npy"), path)
        return "plain .npy", True
    path.write_bytes(b"")
    return "empty", True


# --- one case ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The unmutated trace and archives every case starts from."""
    d = tmp_path_factory.mktemp("fuzz-base")
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        assert main(["run", "--workload", str(TINY), "--out", str(d / "run"), "--trace", str(d / "t.csv")]) == 0
    return {"trace": d / "t.csv",
            "weights": {"layer0": np.ones((8, 16), np.int64), "layer1": -np.ones((3, 8), np.int64)},
            "inputs": {"x": np.ones((2, 16), np.int64), "y": np.array([0, 2])}}


def build_case(kind, draw, base, d):
    """Write the case's files into folder d: -> (CLI arguments, the mutated file, description, invalid)."""
    out = d / "out"
    shutil.copy(TINY, d / "tiny.yaml")
    if kind in YAML_SEEDS:
        name = kind.split(":")[-1].removesuffix(".yaml") + ".yaml"
        path = d / ("m-" + name)
        if draw(st.integers(0, 3)) == 0:
            op = draw(st.sampled_from(TEXT_OPS))
            path.write_bytes(mutate_text(yaml.safe_dump(YAML_SEEDS[kind], sort_keys=False).encode(), op, draw))
            what, invalid = op, op in CERTAINLY_INVALID_TEXT
        else:
            data, what, invalid = mutate_data(YAML_SEEDS[kind], draw, strict=True)
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        if kind.startswith("arch:"):
            args = ["run", "--arch", path, "--workload", d / "tiny.yaml", "--mode", "functional"]
        elif kind == "sweep":
            args = ["sweep", path, "--executor", "serial", "--no-progress"]
        else:
            args = ["run", "--workload", path, "--mode", "functional"]
        return [*args, "--out", out], path, what, invalid
    if kind in ("trace", "meta"):
        path = d / "t.csv"
        shutil.copy(base["trace"], path)
        shutil.copy(str(base["trace"]) + ".meta.json", str(path) + ".meta.json")
        if kind == "trace":
            lines = path.read_text().splitlines()
            row = draw(st.integers(1, len(lines) - 1))
            cells = lines[row].split(",")
            col = draw(st.integers(0, len(cells) - 1))
            value = draw(st.sampled_from(["", "x", "-1", "nan", "inf", "1e400", str(2**63), str(2**64), "0",
                                          "1.5", "\xff", "weight_mem,extra"]))
            cells[col] = value
            lines[row] = ",".join(cells)
            path.write_text("\n".join(lines) + "\n", errors="surrogateescape")
            what, invalid = f"line {row + 1} column {col} = {value!r}", value in ("nan", "inf", "1e400", "x")
            mutated = path
        else:
            mutated = Path(str(path) + ".meta.json")
            meta = json.loads(mutated.read_text())
            if draw(st.integers(0, 3)) == 0:
                op = draw(st.sampled_from(["bad_utf8", "truncate", "empty"]))
                mutated.write_bytes(mutate_text(mutated.read_bytes(), op, draw))
                what, invalid = op, op != "truncate"
            else:
                data, what, invalid = mutate_data(meta, draw, strict=False)
                mutated.write_text(json.dumps(data))
        return ["replay", path, "--out", out], mutated, what, invalid
    if kind in ("weights", "inputs"):
        path = d / f"{kind}.npz"
        what, invalid = mutate_npz(base[kind], draw, path)
        workload = yaml.safe_load(TINY.read_text())
        workload[kind] = path.name
        other = "inputs" if kind == "weights" else "weights"
        np.savez(d / f"{other}.npz", **base[other])
        workload[other] = f"{other}.npz"
        (d / "w.yaml").write_text(yaml.safe_dump(workload))
        return ["run", "--workload", d / "w.yaml", "--mode", "functional", "--out", out], path, what, invalid
    path = d / "topology.csv"
    lines = (ROOT / "workloads" / "scalesim" / "mlp-gemm.csv").read_text().splitlines()
    row = draw(st.integers(0, len(lines) - 1))
    cells = lines[row].split(",")
    col = draw(st.integers(0, len(cells) - 1))
    value = draw(st.sampled_from(["", "x", "-1", "0", str(2**63), "1e3", "../../../../escape", "\xff", "1,2"]))
    cells[col] = value
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", errors="surrogateescape")
    return (["run", "--workload", path, "--pbit", "--mode", "functional", "--out", out], path,
            f"line {row + 1} column {col} = {value!r}", row > 0 and col > 0 and value in ("x", "-1", "0"))


def run_in_process(args):
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as e:
                code = e.code
            except Exception as e:  # a traceback: recorded, then failed by the oracle
                import traceback
                code = f"traceback {type(e).__name__}"
                err.write("Traceback (most recent call last):\n" + traceback.format_exc())
    finally:
        seconds = time.perf_counter() - t0
        peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return code, err.getvalue(), seconds, peak_mib


def run_subprocess(args):
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "archsim", *map(str, args)], capture_output=True, text=True,
                       timeout=120, errors="replace")
    return r.returncode, r.stderr, time.perf_counter() - t0, float("nan")


def check_case(kind, draw, base, monkeypatch, runner=run_in_process):
    for k, v in LIMITS.items():
        monkeypatch.setenv(k, v)
    d = Path(tempfile.mkdtemp(prefix="archsim-fuzz-"))
    try:
        args, mutated, what, invalid = build_case(kind, draw, base, d)
        code, err, seconds, peak = runner(args)
        row = {"kind": kind, "what": what, "code": code, "invalid": invalid, "seconds": seconds, "peak_mib": peak,
               "traceback": "Traceback" in err, "names_file": code != 2 or mutated.name in err}
        STATS.append(row)
        assert "Traceback" not in err, (kind, what, err[-3000:])
        assert code in (0, 2), (kind, what, code, err[-2000:])
        if code == 2:
            assert mutated.name in err, (kind, what, err)  # as the user wrote it (full path, or in a file)
            assert seconds < REJECT_SECONDS, (kind, what, seconds)
            assert not peak > REJECT_PEAK_MIB, (kind, what, peak)
        assert not (invalid and code == 0), (kind, what, "an invalid input was accepted")
        if (d / "out").exists():  # nothing written outside --out: the case folder holds only inputs and out/
            assert {p.name for p in d.iterdir()} <= {"out", "tiny.yaml", "w.yaml", "weights.npz", "inputs.npz",
                                                      "t.csv", "t.csv.meta.json", mutated.name}
    finally:
        shutil.rmtree(d, ignore_errors=True)


FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)


@settings(max_examples=50, **FUZZ)
@given(data=st.data())
def test_fuzz_fast(base, monkeypatch, data):
    check_case(data.draw(st.sampled_from(KINDS)), data.draw, base, monkeypatch)


@settings(max_examples=3, **FUZZ)
@given(data=st.data())
def test_fuzz_as_real_processes(base, monkeypatch, data):
    check_case(data.draw(st.sampled_from(["arch:default.yaml", "workload:tiny", "weights"])), data.draw, base,
               monkeypatch, run_subprocess)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("ARCHSIM_FUZZ_EXAMPLES", 600)), **{**FUZZ, "derandomize": False})
@given(data=st.data())
def test_fuzz_slow(base, monkeypatch, data):
    check_case(data.draw(st.sampled_from(KINDS)), data.draw, base, monkeypatch)


def teardown_module():
    """The suite's figures (the issue's 'done when'), printed with -s."""
    if not STATS:
        return
    rejected = [r for r in STATS if r["code"] == 2]
    print(f"\nfuzz: {len(STATS)} cases, {sum(r['traceback'] for r in STATS)} tracebacks, "
          f"{sum(r['code'] not in (0, 2) for r in STATS)} other exit codes, "
          f"{sum(r['invalid'] and r['code'] == 0 for r in STATS)} invalid inputs accepted, "
          f"{len(rejected)} rejected ({100 * sum(r['names_file'] for r in rejected) / max(1, len(rejected)):.1f} % "
          f"naming the file), worst rejected case {max((r['seconds'] for r in rejected), default=0):.2f} s and "
          f"{np.nanmax([r['peak_mib'] for r in rejected] or [0]):.1f} MiB traced peak")
