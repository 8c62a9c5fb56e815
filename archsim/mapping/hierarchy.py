"""The mapper's and the executor's view of an architecture and a layer: the levels that hold p-DNN operands as
loopnest.Level (holding what a mapping keeps there, with the capacity left beside the operands that reside whole
in a level); a layer pass's loop nest is its operation's (ops/). Takes the validated Arch and LayerPlan objects by their
attributes (no import of config or engine)."""
from .loopnest import Level

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

