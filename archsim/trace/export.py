"""Exporting one memory's traffic from a trace to the formats DRAM simulators read, streaming.

Both formats see the traffic as DRAM bursts (`burst_bytes`, 64 bytes for BL8 on a 64-bit channel): the words
of each transaction become the byte range they occupy (word address x word bytes), cut into the bursts that
cover it. Repeat k starts at address + k x stride (e.g. a chunk of consecutive samples' input rows, or a tile's
outputs in each output row); a compute phase's read is its units' copies of one row, one pass over the row's
words each (trace/records.py). A burst repeating the one just before it in the stream (the same 64 bytes
again, e.g. two 8-byte words of one burst) is fetched once. Repeated transactions are issued evenly over their
phase.

- ramulator2: Ramulator 2's LoadStoreTrace frontend, `LD 0x<byte address>` or `ST 0x<byte address>`, one
  burst per line, in issue order (the frontend reads exactly two space-separated tokens per line).
- drampower: DRAMPower 5.x/6.x's command list (its CLI's CSV reader), `timestamp,command,rank,bank_group,bank,
  row,column[,data]` in DRAM clocks, from the legal DDR4 schedule of trace/dram.py (speed bin, ranks, bank
  groups and banks as given); bank is the bank index within the rank, data (RD, WR) one burst of zero bytes
  in hex (the trace carries addresses, not values)."""
from fractions import Fraction

from ..errors import ArchsimError
from .dram import Scheduler, ddr4
from .reader import read_chunks, read_meta
from .records import copies

FORMATS = ("ramulator2", "drampower")
MAX_BURSTS = 200_000_000  # an export of more bursts (about 4 GB of text or more) is refused before writing


def _word_bits(meta, component):
    return next(lv for lv in meta["arch"]["levels"] if lv["name"] == component)["word_bits"]


def burst_bound(path, component, burst_bytes):
    """An upper bound on the bursts of `component` in trace `path`: per record, repeat x copies x (bursts one
    copy's words span + 1), from the columns alone (no loop over words)."""
    word_bits = _word_bits(read_meta(path), component)
    total = 0
    for chunk in read_chunks(path):
        rows = chunk[chunk.component == component]
        n = rows.rows.where((rows.phase == "compute") & (rows.action == "read"), 1).astype(object)
        span = (rows.words.astype(object) // n * word_bits // 8) // burst_bytes + 2
        total += int((rows.repeat.astype(object) * n * span).sum())
    return total


def bursts(path, component, burst_bytes):
    """(accelerator cycle, is_write, burst byte address) of `component`'s traffic in trace `path`, in order:
    repeat k of a record at address + k x stride, each of its copies (records.copies) a pass over the same
    words // copies words."""
    word_bits = _word_bits(read_meta(path), component)
    last = None
    for chunk in read_chunks(path):
        for r in chunk[chunk.component == component].itertuples(index=False):
            span = r.end_cycle - r.start_cycle
            n = copies(r.phase, r.action, r.rows)
            words = r.words // n
            for k in range(r.repeat):
                t = r.start_cycle + (k * span) // r.repeat
                first_bit = (r.address + k * r.stride) * word_bits
                lo = first_bit // 8 // burst_bytes
                hi = ((first_bit + words * word_bits + 7) // 8 - 1) // burst_bytes
                for _ in range(n):
                    for b in range(lo, hi + 1):
                        key = (r.action == "write", b)
                        if key != last:
                            yield t, key[0], b * burst_bytes
                            last = key


def export(path, out, fmt, component="weight_mem", speed_bin="DDR4_1600K", ranks=None, bank_groups=None,
           banks_per_group=None):
    """Write `component`'s traffic of trace `path` to `out` in `fmt`; returns the number of lines."""
    if fmt not in FORMATS:
        raise ArchsimError(f"trace export format {fmt!r}; allowed: {', '.join(FORMATS)}")
    meta = read_meta(path)
    if component not in meta["levels"]:
        raise ArchsimError(f"trace export component {component!r}; allowed: the traced levels, "
                           f"{', '.join(meta['levels'])}")
    dev = ddr4(speed_bin, ranks, bank_groups, banks_per_group)
    bound = burst_bound(path, component, dev.burst_bytes)
    if bound > MAX_BURSTS:
        raise ArchsimError(f"{path}: {component}'s traffic spans up to {bound:,} DRAM bursts, more than the "
                           f"export limit of {MAX_BURSTS:,} lines; export a shorter trace")
    lines = 0
    with open(out, "w") as f:
        if fmt == "ramulator2":
            for _, is_write, address in bursts(path, component, dev.burst_bytes):
                f.write(f"{'ST' if is_write else 'LD'} 0x{address:x}\n")
                lines += 1
            return lines
        ratio = Fraction(round(dev.clock_hz)) / Fraction(int(float(meta["arch"]["clock"])))
        data = "0x" + "00" * dev.burst_bytes
        sched = Scheduler(dev)
        for cycle, is_write, address in bursts(path, component, dev.burst_bytes):
            sched.request(int(cycle * ratio), is_write, address)
            lines += _write_commands(f, sched.take(), data)
        lines += _write_commands(f, sched.take(), data)
    return lines


def _write_commands(f, commands, data):
    for t, cmd, rank, bg, bank, row, col in commands:
        f.write(f"{t},{cmd},{rank},{bg},{bank},{row},{col}" + (f",{data}\n" if cmd in ("RD", "WR") else "\n"))
    return len(commands)
