"""The mapper's and the executor's view of an architecture and a layer: the levels that hold p-DNN operands as
loopnest.Level (holding what a mapping keeps there, with the capacity left beside the operands that reside whole
in a level), and one layer pass as a loop nest. Takes the validated Arch and LayerPlan objects by their
attributes (no import of config or engine)."""
from .loopnest import Level, dense_operation

PDNN_OPERANDS = frozenset({"weights", "inputs", "outputs"})


def pdnn_levels(arch):
    """The architecture's levels that may hold p-DNN operands, outermost first (the levels of a mapping)."""
    return [lv for lv in arch.levels if frozenset(lv.holds) & PDNN_OPERANDS]


def levels_of(arch, keep=None, reserved=None):
    """loopnest levels, outermost first. keep: {level name: operands the mapping keeps there} (default: all it
    may hold); reserved: {level name: bits taken by operands resident there whole} (their capacity is checked
    by the caller), subtracted from the capacity left for tiles. Bits per cycle: a level streams word_bits from
    each bank every occupancy cycles (a combinational register file is unbounded)."""
    out = []
    for lv in pdnn_levels(arch):
        holds = frozenset(lv.holds) & PDNN_OPERANDS if keep is None else frozenset(keep.get(lv.name, ()))
        per_cycle = lv.word_bits * lv.banks // lv.occupancy_cycles if lv.occupancy_cycles else 0
        out.append(Level(lv.name, max(0, lv.capacity - (reserved or {}).get(lv.name, 0)), holds,
                         multicast=arch.mapping.input_broadcast, double_buffered=lv.double_buffered,
                         read_pj_per_bit=lv.read_pj_per_bit.value, write_pj_per_bit=lv.write_pj_per_bit.value,
                         bits_per_cycle=per_cycle))
    return out


def operation_of(lp, samples, accumulator_bits, no_reuse=""):
    """One layer pass (one input item through a dense or conv2d layer) as a loop nest: N = output positions (the
    im2col view; 1 for dense), T samples, M outputs, C fan-in; each output's bias rides with its weights.
    no_reuse: dimensions over which the weights are never reused (each position's or sample's evaluation reads
    its own copy, as the paper's building block assumes): they index the weights too. A conv layer without
    mapping.weight_stationary has "N"; the planner's samples-outer mapping adds "T"."""
    return dense_operation(f"layers[{lp.index}]", lp.P, samples, lp.m, lp.n, lp.bw, lp.ba_in, lp.ba_out,
                           accumulator_bits, lp.bias_bits, weight_dims="MC" + no_reuse)


def no_reuse_of(arch, lp):
    """The dimensions a layer's weights are never reused over on `arch` (operation_of)."""
    return "N" if lp.type == "conv2d" and not arch.mapping.weight_stationary and lp.P > 1 else ""
