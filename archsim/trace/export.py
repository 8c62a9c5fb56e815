"""Exporting one memory's traffic from a trace to the formats DRAM simulators read, streaming.

- ramulator2: Ramulator 2's LoadStoreTrace frontend, one request per line, `LD 0x<byte address>` or
  `ST 0x<byte address>`, one line per word (a DRAM burst when word_bits is the burst size), in issue order.
- drampower: DRAMPower's command trace, `<timestamp>,<command>,<bank>` in DRAM clock cycles, expanded from the
  transactions with a closed-page policy (ACT, RD/WR, PRE per burst) and nominal DDR4-1600 timings in DRAM
  cycles (tRCD 11, tRP 11, tRAS 28, tRTP 6, write recovery 12 after tCWL 9 + 4 burst cycles), bank =
  burst index modulo `banks`. Repeated transactions are issued evenly over their phase; timestamps are
  converted from accelerator cycles with the clock ratio."""
import heapq

from .reader import read_chunks, read_meta

DDR4_1600 = dict(tRCD=11, tRP=11, tRAS=28, tRTP=6, tWR=12, tCWL=9, tBURST=4)
FORMATS = ("ramulator2", "drampower")


def _bursts(r):
    """(issue cycle, word address) of every word of a record, in order."""
    span = r.end_cycle - r.start_cycle
    for k in range(r.repeat):
        t = r.start_cycle + (k * span) // r.repeat
        for w in range(r.words):
            yield t, r.address + k * r.words + w


def export(path, out, fmt, component="weight_mem", dram_clock_hz=800e6, banks=16):
    """Write `component`'s transactions of trace `path` to `out` in `fmt`; returns the number of lines."""
    meta = read_meta(path)
    level = next(lv for lv in meta["arch"]["levels"] if lv["name"] == component)
    word_bytes = max(1, level["word_bits"] // 8)
    ratio = dram_clock_hz / float(meta["arch"]["clock"])
    lines = 0
    with open(out, "w") as f:
        if fmt == "ramulator2":
            for chunk in read_chunks(path):
                for r in chunk[chunk.component == component].itertuples(index=False):
                    op = "LD" if r.action == "read" else "ST"
                    for _, addr in _bursts(r):
                        f.write(f"{op} 0x{addr * word_bytes:x}\n")
                        lines += 1
            return lines
        t_ = DDR4_1600
        bank_free, heap = [0] * banks, []
        for chunk in read_chunks(path):
            for r in chunk[chunk.component == component].itertuples(index=False):
                for t_acc, addr in _bursts(r):
                    issue = int(t_acc * ratio)
                    while heap and heap[0][0] < issue:  # no later burst can produce an earlier command
                        f.write("%d,%s,%d\n" % heapq.heappop(heap))
                        lines += 1
                    b = addr % banks
                    act = max(issue, bank_free[b])
                    col = act + t_["tRCD"]
                    if r.action == "read":
                        pre = max(act + t_["tRAS"], col + t_["tRTP"])
                        cmd = "RD"
                    else:
                        pre = max(act + t_["tRAS"], col + t_["tCWL"] + t_["tBURST"] + t_["tWR"])
                        cmd = "WR"
                    bank_free[b] = pre + t_["tRP"]
                    for event in ((act, "ACT", b), (col, cmd, b), (pre, "PRE", b)):
                        heapq.heappush(heap, event)
        while heap:
            f.write("%d,%s,%d\n" % heapq.heappop(heap))
            lines += 1
    return lines
