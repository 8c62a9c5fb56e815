"""The mapper's view of an architecture and a layer: memory levels as loopnest.Level, a p-DNN layer as a loop
nest. Takes the validated Arch and LayerPlan objects by their attributes (no import of config or engine)."""
from .loopnest import Level, dense_operation

PDNN_OPERANDS = frozenset({"weights", "inputs", "outputs"})


def levels_of(arch):
    """The levels that hold p-DNN operands, outermost first. Bits per cycle: a level streams word_bits from
    each bank every occupancy cycles (a combinational register file is unbounded)."""
    out = []
    for lv in arch.levels:
        holds = frozenset(lv.holds) & PDNN_OPERANDS
        if not holds:
            continue
        per_cycle = lv.word_bits * lv.banks // lv.occupancy_cycles if lv.occupancy_cycles else 0
        out.append(Level(lv.name, lv.capacity, holds, multicast=arch.mapping.input_broadcast,
                         double_buffered=lv.double_buffered, read_pj_per_bit=lv.read_pj_per_bit.value,
                         write_pj_per_bit=lv.write_pj_per_bit.value, bits_per_cycle=per_cycle))
    return out


def operation_of(lp, samples, items, accumulator_bits):
    """A dense or conv2d layer as a loop nest: N = items x output positions (im2col view), T, M outputs, C
    fan-in. A bias (read with each output's weights) is not part of the nest."""
    return dense_operation(f"layers[{lp.index}]", items * lp.P, samples, lp.m, lp.n, lp.bw, lp.ba_in, lp.ba_out,
                           accumulator_bits)
