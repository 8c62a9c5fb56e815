"""Traces: streamed in chunks, replayed (own architecture -> the original counts and cycles exactly), exported,
and bad files rejected naming the file and the line or column."""
import re
import subprocess
import sys
from collections import defaultdict

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim import load_arch, load_workload, simulate
from archsim.errors import ArchsimError, ConfigError
from archsim.trace.dram import ddr4, jedec_cycles
from archsim.trace.export import export
from archsim.trace.reader import read_chunks
from archsim.trace.replay import replay
from archsim.trace.writer import TraceWriter, meta_path
from archsim.mapping.loopnest import Mapping
from archsim.mapping.mapfile import LayerMap
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
        writer.add(0, i, "load", i, i + 1, 0, 0, "weight_mem", "read", 0, i, 64, 1, 1, 1, 1)
        assert len(writer.rows) < 7
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 1 + 14
    writer.close({"arch": {}, "cycles": 0})
    assert sum(len(c) for c in read_chunks(tmp_path / "t.csv", chunk_rows=3)) == 20


# --- Upstream parsers, re-implemented from their source as oracles -------------------------------------------
def stoll(text, base=10):
    """std::stoll: leading whitespace, an optional sign, then at least one digit; stops at the first other
    character; std::invalid_argument without a digit, std::out_of_range past int64."""
    m = re.match(r"\s*([+-]?)([0-9a-fA-F]+)" if base == 16 else r"\s*([+-]?)([0-9]+)", text)
    if not m:
        raise ValueError(f"stoll: no conversion of {text!r}")
    value = int(m.group(1) + m.group(2), base)
    if not -(1 << 63) <= value < (1 << 63):
        raise ValueError(f"stoll: {text!r} out of range")
    return value


def ramulator2_parse(path):
    """Ramulator 2 LoadStoreTrace::init_trace (2.0: src/frontend/impl/memory_trace/loadstore_trace.cpp, 2.1:
    src/ramulator/frontend/impl/memory_trace/loadstore_trace.cpp, same rules): getline per line, tokenize on
    every single ' ' (base/utils.cpp keeps empty tokens), exactly 2 tokens, LD or ST, the address hex after a
    0x/0X prefix else decimal, through std::stoll."""
    out = []
    with open(path, newline="") as f:
        for n, line in enumerate(f.read().split("\n")[:-1], 1):  # getline: the last '\n' ends the last line
            tokens = line.split(" ")
            if len(tokens) != 2 or tokens[0] not in ("LD", "ST"):
                raise ValueError(f"line {n}: Trace format invalid! {line!r}")
            hexa = tokens[1][:2] in ("0x", "0X")
            out.append((tokens[0] == "ST", stoll(tokens[1][2:], 16) if hexa else stoll(tokens[1])))
    return out


DRAMPOWER_COMMANDS = {"NOP", "ACT", "PRE", "PREA", "PRESB", "REFA", "REFB", "REFSB", "REFP2B", "REFDB", "RD", "RDA",
                      "WR", "WRA", "PDEA", "PDEP", "PDXA", "PDXP", "SREFEN", "SREFEX", "DSMEN", "DSMEX", "END"}


def drampower_parse(path, ranks, banks_per_rank, burst_bytes):
    """DRAMPower's CLI parse_command_list (src/cli/lib/DRAMPower/cli/run.cpp, csv-parser with no header and
    ' '/'\t' trimmed): >= 7 cells timestamp, command, rank, bank_group, bank, row, column as unsigned integers;
    RD/RDA/WR/WRA need an 8th cell, hex data of even length with an optional 0x (util.cpp
    hexStringToUint8Array). CmdTypeUtil::from_string maps an unknown name to NOP silently: refused here, as is a
    rank or bank outside the device (DDR4Core indexes m_ranks[rank].banks[bank])."""
    out = []
    for n, line in enumerate(open(path).read().splitlines(), 1):
        cells = [c.strip(" \t") for c in line.split(",")]
        assert len(cells) >= 7, f"line {n}: {len(cells)} cells"
        t, cmd, rank, bg, bank, row, col = cells[:7]
        assert all(re.fullmatch(r"[0-9]+", c) for c in (t, rank, bg, bank, row, col)), f"line {n}: {line!r}"
        assert cmd in DRAMPOWER_COMMANDS, f"line {n}: unknown command {cmd!r} (DRAMPower would read NOP)"
        assert int(rank) < ranks and int(bank) < banks_per_rank, f"line {n}: no rank {rank} bank {bank}"
        if cmd in ("RD", "RDA", "WR", "WRA"):
            assert len(cells) >= 8, f"line {n}: {cmd} without data"
            data = cells[7]
            assert len(data) % 2 == 0, f"line {n}: odd hex length"
            digits = data[2:] if data[:2] in ("0x", "0X") else data
            assert re.fullmatch(r"[0-9a-fA-F]*", digits) and len(digits) // 2 == burst_bytes, f"line {n}: data"
        out.append((int(t), cmd, int(rank), int(bg), int(bank), int(row), int(col)))
    return out


def check_ddr4_schedule(cmds, d):
    """An independent DDR4 timing checker over a command list: the bank state machine and every constraint the
    exporter promises (JESD79-4 names, values from the speed bin). Returns the list of violations."""
    bad = []
    banks = d.bank_groups * d.banks_per_group
    state = {}                     # (rank, bank) -> open row
    last = defaultdict(lambda: -10**12)   # (kind, rank, bank or group or '') -> clock
    acts = defaultdict(list)
    refs = defaultdict(list)
    prev_t = -1
    prev_col = None

    def need(ok, what, t):
        if not ok:
            bad.append(f"{t}: {what}")

    for t, cmd, rank, bg, bank, row, col in cmds:
        need(t > prev_t, "timestamps not strictly increasing (one command per clock)", t)
        prev_t = t
        need(bank // d.banks_per_group == bg, "bank not in its bank group", t)
        key = (rank, bank)
        if cmd == "ACT":
            need(key not in state, "ACT to an open bank", t)
            need(t - last["pre", rank, bank] >= d.nRP, "tRP", t)
            need(t - last["act", rank, bank] >= d.nRC, "tRC", t)
            need(t - last["act_bg", rank, bg] >= d.nRRD_L, "tRRD_L", t)
            need(t - last["act_rank", rank, ""] >= d.nRRD_S, "tRRD_S", t)
            need(len(acts[rank]) < 4 or t - acts[rank][-4] >= d.nFAW, "tFAW", t)
            need(t - last["ref", rank, ""] >= d.nRFC, "tRFC", t)
            state[key] = row
            acts[rank].append(t)
            last["act", rank, bank] = last["act_bg", rank, bg] = last["act_rank", rank, ""] = t
        elif cmd in ("RD", "WR"):
            need(state.get(key) == row, f"{cmd} to a closed bank or another row", t)
            need(t - last["act", rank, bank] >= d.nRCD, "tRCD", t)
            w = cmd == "WR"
            for g in range(d.bank_groups):
                same = g == bg
                if w:
                    need(t - last["wr_bg", rank, g] >= (d.nCCD_L if same else d.nCCD_S), "tCCD (WR-WR)", t)
                    need(t - last["rd_bg", rank, g] >= d.nCL + d.nBL + 2 - d.nCWL, "tRTW", t)
                else:
                    need(t - last["rd_bg", rank, g] >= (d.nCCD_L if same else d.nCCD_S), "tCCD (RD-RD)", t)
                    need(t - last["wr_bg", rank, g] >= d.nCWL + d.nBL + (d.nWTR_L if same else d.nWTR_S), "tWTR", t)
            if prev_col and prev_col[1] != rank:
                need(t - prev_col[0] >= d.nBL + 2, "rank-to-rank switch", t)
            prev_col = (t, rank)
            last["wr_bg" if w else "rd_bg", rank, bg] = t
            last["wr" if w else "rd", rank, bank] = t
        elif cmd == "PRE":
            need(key in state, "PRE to a closed bank", t)
            need(t - last["act", rank, bank] >= d.nRAS, "tRAS", t)
            need(t - last["rd", rank, bank] >= d.nRTP, "tRTP", t)
            need(t - last["wr", rank, bank] >= d.nCWL + d.nBL + d.nWR, "tWR", t)
            state.pop(key, None)
            last["pre", rank, bank] = t
        elif cmd == "REFA":
            need(all((rank, b) not in state for b in range(banks)), "REFA with a bank open", t)
            need(all(t - last["pre", rank, b] >= d.nRP for b in range(banks)), "tRP before REFA", t)
            need(t - last["ref", rank, ""] >= d.nRFC, "tRFC (REFA-REFA)", t)
            refs[rank].append(t)
            last["ref", rank, ""] = t
        else:
            bad.append(f"{t}: unexpected command {cmd}")
    end = prev_t
    for rank in range(d.ranks):  # refresh: on average every tREFI, at most 8 postponed (gap <= 9 tREFI)
        times = [0] + refs[rank] + [end]
        need(max(b - a for a, b in zip(times, times[1:])) <= 9 * d.nREFI, f"rank {rank}: refresh gap > 9 tREFI", end)
        need(len(refs[rank]) >= end // d.nREFI - 8, f"rank {rank}: {len(refs[rank])} refreshes in {end} clocks", end)
    return bad


def word_bursts(path, component, burst_bytes):
    """The oracle for the burst stream: every word of every repeat (repeat k from address + k x stride) and, for a
    compute phase's read, of each of its `rows` units' copies (words / rows words each), its byte address cut
    to a burst, runs of the same (op, burst) collapsed."""
    from archsim.trace.reader import read_meta
    level = next(lv for lv in read_meta(path)["arch"]["levels"] if lv["name"] == component)
    word_bytes = level["word_bits"] // 8
    out = []
    for chunk in read_chunks(path):
        for r in chunk[chunk.component == component].itertuples(index=False):
            n = r.rows if (r.phase, r.action) == ("compute", "read") else 1
            for k in range(r.repeat):
                for _ in range(n):
                    for w in range(r.words // n):
                        byte = (r.address + k * r.stride + w) * word_bytes
                        item = (r.action == "write", byte // burst_bytes * burst_bytes)
                        if not out or out[-1] != item:
                            out.append(item)
    return out


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    d = tmp_path_factory.mktemp("traces")
    simulate(load_arch(), load_workload(), "timing", trace=str(d / "default.parquet"))
    simulate(load_arch("configs/cnn-sram.yaml"), load_workload("workloads/cifar10-cnn-pbit.yaml"), "timing",
             trace=str(d / "cifar.parquet"))
    return d


EXPORTS = [("default", "weight_mem", {}), ("cifar", "weight_mem", {}), ("cifar", "act_mem", {}),
           ("cifar", "act_mem", {"speed_bin": "DDR4_3200AA", "ranks": 2, "bank_groups": 2, "banks_per_group": 2}),
           ("cifar", "weight_mem", {"speed_bin": "DDR4_2400R", "ranks": 2})]


@pytest.mark.parametrize("name,component,dram", EXPORTS, ids=[f"{n}-{c}-{len(d)}" for n, c, d in EXPORTS])
def test_exports_parse_upstream_and_the_ddr4_schedule_is_legal(traces, name, component, dram):
    path = traces / f"{name}.parquet"
    d = ddr4(**dram)
    n = export(path, traces / "r.trace", "ramulator2", component=component, **dram)
    requests = ramulator2_parse(traces / "r.trace")
    assert n == len(requests) and [(w, a) for w, a in requests] == word_bursts(path, component, d.burst_bytes)
    assert all(a % d.burst_bytes == 0 for _, a in requests)
    n = export(path, traces / "d.cmds", "drampower", component=component, **dram)
    cmds = drampower_parse(traces / "d.cmds", d.ranks, d.bank_groups * d.banks_per_group, d.burst_bytes)
    assert n == len(cmds)
    assert check_ddr4_schedule(cmds, d) == []
    columns = [(c[1] == "WR", c[2:]) for c in cmds if c[1] in ("RD", "WR")]
    assert [(w, d.decode(a)) for w, a in requests] == [(w, (r, bg, b % d.banks_per_group, row, col))
                                                      for w, (r, bg, b, row, col) in columns]


def test_the_checker_finds_violations():
    d = ddr4()
    legal = [(0, "ACT", 0, 0, 0, 5, 0), (d.nRCD, "RD", 0, 0, 0, 5, 8)]
    assert check_ddr4_schedule(legal, d) == []
    four = [(i * d.nRRD_S, "ACT", 0, i % 4, (i % 4) * 4 + i // 4, 0, 0) for i in range(5)]
    assert any("tFAW" in v for v in check_ddr4_schedule(four, d))
    assert any("tRRD_L" in v for v in check_ddr4_schedule([(0, "ACT", 0, 0, 0, 0, 0), (1, "ACT", 0, 0, 1, 0, 0)], d))
    assert any("tRCD" in v for v in check_ddr4_schedule([(0, "ACT", 0, 0, 0, 5, 0), (1, "RD", 0, 0, 0, 5, 0)], d))
    assert any("refresh" in v for v in check_ddr4_schedule([(0, "ACT", 0, 0, 0, 0, 0),
                                                            (20 * d.nREFI, "RD", 0, 0, 0, 0, 0)], d))


def test_upstream_parsers_reject_the_old_formats(tmp_path):
    (tmp_path / "old.cmds").write_text("0,ACT,0\n11,RD,0\n")   # DRAMPower 4.x: timestamp,command,bank
    with pytest.raises(AssertionError):
        drampower_parse(tmp_path / "old.cmds", 1, 16, 64)
    (tmp_path / "bad.trace").write_text("LD  0x40\n")            # two spaces: three tokens
    with pytest.raises(ValueError):
        ramulator2_parse(tmp_path / "bad.trace")


def test_speed_bin_timings_follow_from_the_ns_values():
    """The data file's cycle counts against the speed bins' nanosecond minimums (JESD79-4: tRAS 35 ns at
    DDR4_1600K, 32 ns at the faster bins; tRC = tRAS + tRP) and the JEDEC rounding of tREFI = 7.8 us."""
    for name, tras_ns in (("DDR4_1600K", 35), ("DDR4_2400R", 32), ("DDR4_3200AA", 32)):
        d = ddr4(name)
        assert d.nRAS == jedec_cycles(tras_ns, d.tCK_ps) and d.nRC == d.nRAS + d.nRP
        assert d.nREFI == round(7800e3 / d.tCK_ps) and d.nFAW >= 4 * d.nRRD_S


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
    head, _, stride = lines[2].rsplit(",", 2)  # the repeat column, then stride
    bad = lines[:2] + [f"{head},x,{stride}"] + lines[3:]
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


def test_trace_on_a_boltzmann_workload_is_refused(tmp_path):
    r = subprocess.run([sys.executable, "-m", "archsim", "run", "--workload", "workloads/ising-3x3.yaml", "--trace",
                        str(tmp_path / "t.csv"), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and "--trace" in r.stderr and "boltzmann" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "t.csv").exists()


def test_export_of_a_huge_record_is_refused_before_writing(tmp_path):
    """One record of 2**40 words would be trillions of burst lines: refused from the columns, at once."""
    import json
    import time

    from archsim.trace.export import MAX_BURSTS
    from archsim.trace.writer import meta_path
    simulate(load_arch(), load_workload(), "timing", trace=str(tmp_path / "t.csv"))
    meta = json.loads(meta_path(tmp_path / "t.csv").read_text())
    writer = TraceWriter(tmp_path / "huge.csv")
    writer.add(0, 0, "load", 0, 10, 0, 0, "weight_mem", "read", 0, 0, 64, 1 << 40, 1, 1, 1 << 40)
    writer.close({k: v for k, v in meta.items() if k != "records"})
    t0 = time.perf_counter()
    with pytest.raises(ArchsimError, match="export limit"):
        export(tmp_path / "huge.csv", tmp_path / "out.trace", "ramulator2")
    assert time.perf_counter() - t0 < 5 and not (tmp_path / "out.trace").exists() and MAX_BURSTS < 1 << 40


# --- The activation address stream against the tiles and the activation layout ------------------------------
def _chunked_run(path):
    """A dense layer whose fan-in (4096 1-bit inputs: 64-word rows) runs in 4 chunks of 1024 inputs (two 64-byte
    bursts) on 16 units (two tiles of 16 of the 32 16-bit outputs: 4 of the 8-word output rows), T = 3 samples
    (consecutive rows), 2 items; partial sums (accumulator-wide) between the chunks."""
    a = arch(**{"levels[weight_buf].capacity": "256Kib", "levels[weight_mem].capacity": "128KiB"})
    w = pdnn([{"type": "dense", "outputs": 32, "weight_bits": 4, "activation": "linear", "output_bits": 16}],
             n_in=4096, T=3, batch=2)
    keep = simulate(a, w, "functional").plan.layers[0].layer_map.keep
    m = Mapping(((), (("M", 2), ("C", 4)), (), (("T", 3), ("C", 1024))), {"M": 16})
    return a, simulate(a, w, "timing", mapping={0: LayerMap(0, keep, m, "chunks")}, trace=str(path))


def layout_bursts(a, result, burst_bytes):
    """The act_mem burst stream from each tile's box (samples s0..s1, fan-in chunk c0..c1, outputs o0..o1) and
    the activation layout alone: the level split in two halves (layer l reads half l % 2, writes the other), one
    row per sample at a pitch of whole words (inputs n x 1 bit, outputs m x 16 bits, partial sums m x the
    accumulator width), each value at its index's bit offset in its row. Per tile: every sample's chunk read by
    each of its units (each its own copy), then (after the first chunk) the partial sums read back, then the
    outputs (last chunk) or partial sums written; bit ranges cut to bursts, runs collapsed."""
    act = a.level("act_mem")
    wb, acc = act.word_bits, max(16, a.synapse.accumulator_bits)
    half_bits = act.capacity // wb // 2 * wb
    pitch = lambda values, bits: -(-values * bits // wb) * wb  # noqa: E731  a row's bits, whole words
    out = []

    def touch(write, lo_bit, hi_bit):
        for b in range(lo_bit // 8 // burst_bytes, (hi_bit - 1) // 8 // burst_bytes + 1):
            if not out or out[-1] != (write, b * burst_bytes):
                out.append((write, b * burst_bytes))

    for _, lp, tiles in result.plan.passes():
        n, m = lp.n, lp.m
        rin, rout = (lp.index % 2) * half_bits, ((lp.index + 1) % 2) * half_bits
        for t in tiles:
            assert t.p0 == 0 and t.positions == 1 and len(t.reps) == 1  # the case: dense, one residency kind
            final = t.c1 == n
            for s in range(t.s0, t.s1):
                row = rin + s * pitch(n, 1)
                for _ in range(t.units):
                    touch(False, row + t.c0, row + t.c1)
            if t.c0 > 0:
                for s in range(t.s0, t.s1):
                    row = rout + s * pitch(m, acc)
                    touch(False, row + t.o0 * acc, row + t.o1 * acc)
            bits = 16 if final else acc
            for s in range(t.s0, t.s1):
                row = rout + s * pitch(m, bits)
                touch(True, row + t.o0 * bits, row + t.o1 * bits)
    return out


def test_activation_bursts_follow_the_tiles_and_the_layout(tmp_path):
    a, result = _chunked_run(tmp_path / "t.csv")
    tiles = [t for _, _, ts in result.plan.passes() for t in ts]
    assert {(t.c1 - t.c0, t.units) for t in tiles} == {(1024, 16)} and len(tiles) == 2 * 2 * 4
    d = ddr4()
    expected = layout_bursts(a, result, d.burst_bytes)
    n = export(tmp_path / "t.csv", tmp_path / "r.trace", "ramulator2", component="act_mem")
    assert ramulator2_parse(tmp_path / "r.trace") == expected and n == len(expected)
    assert word_bursts(tmp_path / "t.csv", "act_mem", d.burst_bytes) == expected
    export(tmp_path / "t.csv", tmp_path / "d.cmds", "drampower", component="act_mem")
    cmds = drampower_parse(tmp_path / "d.cmds", d.ranks, d.bank_groups * d.banks_per_group, d.burst_bytes)
    assert check_ddr4_schedule(cmds, d) == []


def test_a_format_1_trace_reads_with_repeats_back_to_back(tmp_path):
    """A trace written before `stride` (format 1: no column, no format in its metadata) still reads, replays
    and exports, each repeat after the last."""
    import json
    a, result = _chunked_run(tmp_path / "t.csv")
    frame = pd.read_csv(tmp_path / "t.csv")
    frame.drop(columns="stride").to_csv(tmp_path / "old.csv", index=False)
    meta = json.loads(meta_path(tmp_path / "t.csv").read_text())
    meta_path(tmp_path / "old.csv").write_text(json.dumps({k: v for k, v in meta.items() if k != "format"}))
    old = pd.concat(read_chunks(tmp_path / "old.csv"), ignore_index=True)
    assert (old.stride == frame.words).all()
    summary, counts, _ = replay(tmp_path / "old.csv", a)
    assert summary["cycles"] == result.cycles
    pd.testing.assert_frame_equal(counts, replay(tmp_path / "t.csv", a)[1])
    export(tmp_path / "old.csv", tmp_path / "r.trace", "ramulator2", component="act_mem")
    assert ramulator2_parse(tmp_path / "r.trace") == word_bursts(tmp_path / "old.csv", "act_mem", 64)
    meta_path(tmp_path / "old.csv").write_text(json.dumps(dict(meta, format=3)))
    with pytest.raises(ConfigError, match="format: 3; allowed: 1, 2"):
        replay(tmp_path / "old.csv", a)


def test_a_sidecar_naming_an_unknown_level_is_refused(tmp_path):
    """The sidecar's traced `levels` must be levels of the recorded architecture; records of a level outside
    them are refused naming the line."""
    import json
    simulate(load_arch(), load_workload(), "timing", trace=str(tmp_path / "t.csv"))
    meta = json.loads(meta_path(tmp_path / "t.csv").read_text())
    assert (meta["levels"], meta["replayable"]) == (["weight_mem", "act_mem"], True)
    meta_path(tmp_path / "t.csv").write_text(json.dumps(dict(meta, levels=["weight_mem", "l3"])))
    with pytest.raises(ConfigError, match=r"levels: \['weight_mem', 'l3'\]; allowed: levels of the recorded"):
        replay(tmp_path / "t.csv", load_arch())
    meta_path(tmp_path / "t.csv").write_text(json.dumps(dict(meta, levels=["weight_mem"])))
    with pytest.raises(ConfigError, match=r"column 'component': 'act_mem'; allowed: weight_mem"):
        sum(len(c) for c in read_chunks(tmp_path / "t.csv"))
