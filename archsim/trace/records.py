"""The trace record: one memory transaction (repeated `repeat` times back to back inside its phase).

Columns: pass_id (layer pass: item x layer, in execution order), tile (index within the pass), phase (load |
compute), start_cycle and end_cycle of the phase, layer, item, component (weight_mem | act_mem), action
(read | write), bank and address (the first word's address, and its bank: address mod the level's banks, word-
interleaved as hw/timing.py prices it), bits, words and rows (word-aligned rows) of ONE transaction, and repeat.
A load phase's rows lie one after another from the address; a compute phase's read is `rows` synapse units each
reading its own copy of one input row (words / rows words from the address: every copy occupies the banks)."""
COLUMNS = ["pass_id", "tile", "phase", "start_cycle", "end_cycle", "layer", "item", "component", "action", "bank",
           "address", "bits", "words", "rows", "repeat"]
INT_COLUMNS = [c for c in COLUMNS if c not in ("phase", "component", "action")]
COMPONENTS = ("weight_mem", "act_mem")
ACTIONS = ("read", "write")
PHASES = ("load", "compute")
