"""The trace record: one memory transaction (repeated `repeat` times back to back inside its phase).

Columns: pass_id (layer pass: item x layer, in execution order), tile (index within the pass), phase (load: a
transfer between two levels, i.e. a weight or input hop, a read-back or a drain | compute), start_cycle and
end_cycle of the phase, layer, item, component (the memory level, one of the traced levels), action
(read | write), bank and address (the first word's address, and its bank: address mod the level's banks, word-
interleaved as hw/timing.py prices it), bits, words and rows (word-aligned rows) of ONE transaction, repeat, and
stride: the words from the first word of one repeat to the first word of the next (repeat k starts at address +
k x stride; = words when the repeats lie back to back, the row pitch when they are consecutive rows of a wider
layout, e.g. a chunk of each sample's input row).
A load phase's rows lie one after another from the address; a compute phase's read is `rows` synapse units each
reading its own copy of one input row (words / rows words from the address: every copy occupies the banks).

Format 2 added `stride`; a format-1 trace (no `stride` column) reads with stride = words.

The traced levels (the sidecar's `levels`; README's trace section): the weights' home, the activations' home and
the levels that stage activations between their home and the datapath. A trace of one weight memory and one
activation memory named COMPONENTS, with one transfer per tile, can be replayed (the sidecar's `replayable`);
a trace without `levels` (written before them) records COMPONENTS and is replayable."""
FORMAT = 2
COLUMNS = ["pass_id", "tile", "phase", "start_cycle", "end_cycle", "layer", "item", "component", "action", "bank",
           "address", "bits", "words", "rows", "repeat", "stride"]
ADDED = {"stride": "words"}  # column added since format 1 -> the column whose value it takes when absent
INT_COLUMNS = [c for c in COLUMNS if c not in ("phase", "component", "action")]


def copies(phase, action, rows):
    """Copies of one row a transaction reads: a compute phase's read is its `rows` units' copies; else 1."""
    return rows if (phase, action) == ("compute", "read") else 1
COMPONENTS = ("weight_mem", "act_mem")  # the levels of a replayable trace
ACTIONS = ("read", "write")
PHASES = ("load", "compute")
