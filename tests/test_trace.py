"""Traces: streamed in chunks, replayed (own architecture -> the original counts and cycles exactly), exported,
and bad files rejected naming the file and the line or column."""
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim import load_arch, load_workload, simulate
from archsim.errors import ArchsimError, ConfigError
from archsim.trace.export import export
from archsim.trace.reader import read_chunks
from archsim.trace.replay import replay
from archsim.trace.writer import TraceWriter
from helpers import arch, pdnn


def memory_counts(result):
    f = result.ledger.frame()
    return f[f.component.isin(["weight_mem", "act_mem"])].reset_index(drop=True)


@settings(max_examples=15)
@given(st.sampled_from(["csv", "parquet"]), st.booleans(), st.booleans(), st.integers(1, 4))
def test_replay_on_own_arch_reproduces_counts_and_cycles(tmp_path_factory, fmt, broadcast, outer, T):
    a = arch(**{"mapping.input_broadcast": broadcast, "mapping.loop_order": "samples_outer" if outer else "auto"})
    w = pdnn([{"type": "dense", "outputs": 20, "weight_bits": 4, "activation": "pbit"},
              {"type": "dense", "outputs": 5, "weight_bits": 8, "activation": "linear", "output_bits": 16}],
             n_in=24, T=T, batch=2)
    path = tmp_path_factory.mktemp("t") / f"trace.{fmt}"
    result = simulate(a, w, "timing", trace=str(path))
    summary, counts, _ = replay(path, a)
    pd.testing.assert_frame_equal(counts, memory_counts(result), check_dtype=False)
    assert summary["cycles"] == result.cycles


def test_replay_on_other_memory_matches_direct_simulation_when_only_weights_move(tmp_path):
    """Moving the weights to DRAM changes only load phases, which replay re-costs exactly."""
    w = load_workload()
    simulate(load_arch(), w, "timing", trace=str(tmp_path / "t.parquet"))
    dram = load_arch("configs/dram-weights.yaml")
    summary, counts, energy = replay(tmp_path / "t.parquet", dram)
    direct = simulate(dram, w, "timing")
    assert summary["cycles"] == direct.cycles
    pd.testing.assert_frame_equal(counts, memory_counts(direct), check_dtype=False)


def test_trace_is_written_in_chunks(tmp_path):
    """The writer holds at most chunk_rows records: the file grows while records are added."""
    writer = TraceWriter(tmp_path / "t.csv", chunk_rows=7)
    for i in range(20):
        writer.add(0, i, "load", i, i + 1, 0, 0, "weight_mem", "read", 0, i, 64, 1, 1, 1)
        assert len(writer.rows) < 7
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 1 + 14
    writer.close({"arch": {}, "cycles": 0})
    assert sum(len(c) for c in read_chunks(tmp_path / "t.csv", chunk_rows=3)) == 20


def test_exports(tmp_path):
    simulate(load_arch(), load_workload(), "timing", trace=str(tmp_path / "t.parquet"))
    n = export(tmp_path / "t.parquet", tmp_path / "r.trace", "ramulator2")
    lines = (tmp_path / "r.trace").read_text().splitlines()
    words = load_arch().level("weight_mem").word_bits
    total_words = simulate(load_arch(), load_workload()).ledger.get("weight_mem", "read_words")
    assert n == len(lines) == total_words and all(l.startswith("LD 0x") for l in lines)
    assert int(lines[1].split()[1], 16) - int(lines[0].split()[1], 16) == words // 8
    n = export(tmp_path / "t.parquet", tmp_path / "d.trace", "drampower")
    cmds = [l.split(",") for l in (tmp_path / "d.trace").read_text().splitlines()]
    assert n == len(cmds) == 3 * total_words  # ACT, RD, PRE per burst (closed page)
    times = [int(c[0]) for c in cmds]
    assert times == sorted(times) and {c[1] for c in cmds} == {"ACT", "RD", "PRE"}


def test_trace_needs_timing_mode(tmp_path):
    with pytest.raises(ArchsimError, match="--mode timing"):
        simulate(load_arch(), load_workload(), "functional", trace=str(tmp_path / "t.csv"))


def test_bad_traces_name_file_and_line(tmp_path):
    simulate(load_arch(), load_workload(), "timing", trace=str(tmp_path / "t.csv"))
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert "weight_mem" in lines[1]
    bad = lines[:1] + [lines[1].replace("weight_mem", "l3_cache")] + lines[2:]
    (tmp_path / "t.csv").write_text("\n".join(bad) + "\n")
    with pytest.raises(ConfigError, match=r"line 2, column 'component': 'l3_cache'"):
        replay(tmp_path / "t.csv", load_arch())
    bad = lines[:2] + [lines[2].rsplit(",", 1)[0] + ",x"] + lines[3:]
    (tmp_path / "t.csv").write_text("\n".join(bad) + "\n")
    with pytest.raises(ConfigError, match=r"line 3, column 'repeat'"):
        replay(tmp_path / "t.csv", load_arch())
    r = subprocess.run([sys.executable, "-m", "archsim", "replay", str(tmp_path / "nope.csv")], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "nope.csv" in r.stderr and "Traceback" not in r.stderr


def test_cli_trace_replay_export(tmp_path):
    def run(*args):
        r = subprocess.run([sys.executable, "-m", "archsim", *args], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    run("run", "--trace", str(tmp_path / "t.parquet"), "--out", str(tmp_path / "o"))
    run("replay", str(tmp_path / "t.parquet"), "--arch", "configs/dram-weights.yaml", "--out", str(tmp_path / "r"))
    run("trace", "export", str(tmp_path / "t.parquet"), "--format", "drampower", "--out", str(tmp_path / "d.txt"))
    assert (tmp_path / "r" / "summary.json").exists() and (tmp_path / "d.txt").stat().st_size > 0
