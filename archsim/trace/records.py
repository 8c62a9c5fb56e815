"""The trace record: one memory transaction (repeated `repeat` times back to back inside its phase).

Columns: pass_id (layer pass: item x layer, in execution order), tile (index within the pass), phase (load |
compute), start_cycle and end_cycle of the phase, layer, item, component (weight_mem | act_mem), action
(read | write), bank and address (word address of the first word), bits, words and rows (word-aligned rows)
of ONE transaction, and repeat."""
COLUMNS = ["pass_id", "tile", "phase", "start_cycle", "end_cycle", "layer", "item", "component", "action", "bank",
           "address", "bits", "words", "rows", "repeat"]
INT_COLUMNS = [c for c in COLUMNS if c not in ("phase", "component", "action")]
COMPONENTS = ("weight_mem", "act_mem")
ACTIONS = ("read", "write")
PHASES = ("load", "compute")
