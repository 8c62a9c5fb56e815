"""A mapping executed at tile granularity (pure arithmetic): the tiles of one layer pass in execution order, each
with the weight transfers it performs and its compute phase, by loopnest's reuse rule.

Every iteration of the loops of every level but the innermost is one tile, walked in order (an odometer). A tile
covers a box of the loop nest: the innermost level's loops and the spatial unrolling (outputs M over the synapse
units and neurons). For each transfer of the weights between two levels that keep them (a hop, outermost
first), the tile performs the hop when the child level's resident tile changes: when the indices of the loops
above the child that index the weights (M, C) differ from the previous tile's. When the innermost level does not
keep the weights (or also keeps activations), the synapses read them from their innermost holder during the
compute phase: that is a last hop with no destination (a feed), reading what the phase consumes.

Inputs and outputs may be kept at several levels too (the outermost is their home). Each transfer of the inputs
between two levels that keep them (an input hop, parent to child, outermost first) runs when the child's resident
input tile changes: when the indices of the loops above the child that index the inputs (N, T, C) differ from the
previous tile's; it moves the child's tile (N x T rows of C inputs). Outputs move the other way, per pair of
levels that keep them (an output link, child to parent, innermost first): the child's output tile (N x T rows of M
outputs) changes with the loops above it that index the outputs (N, T, M); a residency that starts with a fan-in
(C) loop above the child past its first iteration first reads its partial sums back from the parent (at the
accumulator width), and the residency's last tile drains it to the parent: final (at the outputs' width) when every
fan-in loop above the child is at its last iteration, else partial (at the accumulator width). As in loopnest's
count model, a drain reads the child and writes the parent, a read-back reads the parent and writes the child (the
same rows and bits at both). The compute phase reads the inputs from their innermost holder and writes (and reads
back) the outputs at theirs.

The compute phase steps through the innermost level's loops without events, grouped into accumulator
residencies (`Rep`): the accumulators hold one output per unit; their tile changes with the loops indexing the
outputs (N, T, M) and stays across the innermost run of fan-in (C) loops. A residency reads its inputs and
weights chunk, and ends with a drain: final (all of the fan-in accumulated: random draw, neuron, output written),
partial (the partial sums written at the accumulator width, read back when the outputs return) or none (the next
tile continues the same outputs, when the innermost level has no loop indexing them). The counts equal
loopnest.counts exactly (tests/test_mapping_exec.py checks both against the brute-force walk).

An uneven mapping (loopnest.LAST_TILE) is walked part by part (loopnest.parts): the main part's tiles, then the
remainder part's, whose tiles hold the last outputs on fewer units (Tile.units); the remainder part starts cold
(its first tile performs every hop).
"""
import itertools
from dataclasses import dataclass
from math import prod

import numpy as np

from .loopnest import WEIGHTS, _fills, parts

NONE, PARTIAL, FINAL = "none", "partial", "final"
OUT_DIMS = frozenset("NTM")
ACTIVATIONS = frozenset({"inputs", "outputs"})


@dataclass(frozen=True)
class Rep:
    """`count` accumulator residencies of a compute phase that are alike."""
    count: int
    chunk: int          # fan-in elements each accumulates (inputs read per reader, weights per unit)
    row_start: bool     # starts its outputs' rows (fan-in index 0): each unit reads its output's bias
    readback: bool      # resumes partial sums: reads them back before accumulating
    drain: str          # FINAL, PARTIAL or NONE


@dataclass(frozen=True)
class Tile:
    """One tile of a layer pass: its box (outputs o, samples s, positions p, fan-in c, half-open), the weight
    moves of each hop ((rows, bits per row) pairs; empty: the hop does not run for this tile), its compute
    phase's residencies, the units its outputs are unrolled over (fewer in a partial last tile), and the
    activations' moves between the levels that keep them (same (rows, bits per row) form)."""
    item: int
    layer: int
    o0: int
    o1: int
    s0: int
    s1: int
    p0: int = 0
    p1: int = 1
    c0: int = 0
    c1: int = 0
    moves: tuple = ()
    reps: tuple = ()
    units: int = 1
    in_moves: tuple = ()   # per input hop (outermost first): its moves, or () when the child's tile stays
    readbacks: tuple = ()  # per output link (innermost first): partial sums read back from the parent, or ()
    drains: tuple = ()     # per output link (innermost first): the child's tile written to the parent, or ()

    @property
    def outputs(self):
        return self.o1 - self.o0

    @property
    def samples(self):
        return self.s1 - self.s0

    @property
    def positions(self):
        return self.p1 - self.p0

    def rows(self, T, P):
        """Global kernel rows of the tile: (item * T + sample) * P + position."""
        s = np.arange(self.s0, self.s1)[:, None]
        p = np.arange(self.p0, self.p1)[None, :]
        return ((self.item * T + s) * P + p).reshape(-1)


def tile_count(mapping, op=None):
    """Tiles of one layer pass: the product of the loops of every level but the innermost, summed over the
    parts of an uneven mapping (whose operation `op` it needs)."""
    last = len(mapping.temporal) - 1
    return sum(prod(f for i, _, f in m.loops() if i < last) for _, m, _ in parts(op, mapping))


def activation_path(levels):
    """(input hops as (parent, child) level indices, outermost first; output links as (child, parent),
    innermost first): the transfers of the inputs and outputs between the levels that keep them."""
    ins = [i for i, lv in enumerate(levels) if "inputs" in lv.holds]
    outs = [i for i, lv in enumerate(levels) if "outputs" in lv.holds]
    return list(zip(ins, ins[1:])), [(c, p) for p, c in reversed(list(zip(outs, outs[1:])))]


def weight_path(levels):
    """(the weights' hops as (parent, child) level indices, child None for the feed; True when the innermost
    level is the synapses' weight registers, read during compute without a transfer: a weights-only innermost
    level with another weight level to fill it. A single weight level is the weights' home, which the synapses
    read directly.)"""
    holders = [i for i, lv in enumerate(levels) if WEIGHTS in lv.holds]
    last = len(levels) - 1
    registers = len(holders) > 1 and holders[-1] == last and not (levels[last].holds & ACTIVATIONS)
    hops = list(zip(holders, holders[1:])) + ([] if registers else [(holders[-1], None)])
    return hops, registers


def labels(op, levels, mapping):
    """('samples_inner' | 'samples_outer', stationary): whether the weights' innermost residency spans the
    samples (and the positions): True when removing the T (N) loops above it changes none of its fills. Without
    weight registers the synapses read the weights every step: samples outer, not stationary."""
    hops, registers = weight_path(levels)
    if not registers:
        return "samples_outer", False
    op, mapping, _ = parts(op, mapping)[0]  # the parts differ only in the outputs' extent
    w = len(levels) - 1
    above = [lp for lp in mapping.loops() if lp[0] < w]
    fills = _fills(op, above, WEIGHTS)

    def without(dim):
        return _fills(op, [lp for lp in above if lp[1] != dim], WEIGHTS) == fills

    return "samples_inner" if without("T") else "samples_outer", without("N")


def _phase(phase_loops, tile_c_first, tile_c_last):
    """Residencies of a phase whose loops index the outputs (case: the accumulators start afresh each tile)."""
    run = 0
    while run < len(phase_loops) and phase_loops[len(phase_loops) - 1 - run][0] == "C":
        run += 1
    outer = phase_loops[:len(phase_loops) - run]
    chunk = prod(f for _, f in phase_loops[len(phase_loops) - run:])
    n = prod(f for _, f in outer)
    distinct = prod(f for d, f in outer if d in OUT_DIMS)
    final = FINAL if tile_c_last else PARTIAL
    if n == distinct:  # no fan-in loop among the outer ones: every residency alike
        return [Rep(n, chunk, tile_c_first, not tile_c_first, final)]
    reps = [Rep(distinct, chunk, tile_c_first, not tile_c_first, PARTIAL),
            Rep(n - 2 * distinct, chunk, False, True, PARTIAL),
            Rep(distinct, chunk, False, True, final)]
    return [r for r in reps if r.count]


def tiles(op, levels, mapping, item=0, layer=0):
    """The tiles of one layer pass (op: one pass's loop nest, dimensions N, T, M, C; levels: loopnest.Level with
    `holds` = what the mapping keeps there), in execution order, part after part."""
    return [t for part, m, m0 in parts(op, mapping) for t in _walk(part, levels, m, item, layer, m0)]


def _walk(op, levels, mapping, item, layer, m0):
    """The tiles of one perfect nest, its outputs starting at m0."""
    K = len(levels)
    loops = [(i, d, f) for i, d, f in mapping.loops() if i < K - 1 and f > 1]
    phase_loops = [(d, f) for d, f in mapping.temporal[K - 1] if f > 1]
    extent = {d: mapping.factor(d, [K - 1]) for d in op.dims}
    stride = []
    for k, (_, d, _) in enumerate(loops):
        stride.append(extent[d] * prod(f for _, dd, f in loops[k + 1:] if dd == d))
    g = mapping.spatial.get("M", 1)
    hops, _ = weight_path(levels)
    w_dims = op.operands[WEIGHTS].dims
    hop_info = []
    for parent, child in hops:
        if child is None:
            hop_info.append(None)
            continue
        above = [k for k, (i, _, _) in enumerate(loops) if i < child]
        copies = prod(mapping.factor(d, range(child, K)) for d in w_dims - {"M", "C"})  # never-reused copies
        hop_info.append(([k for k in above if loops[k][1] in w_dims], [k for k in above if loops[k][1] == "C"],
                         mapping.factor("M", range(child, K)), mapping.factor("C", range(child, K)), copies))
    in_hops, out_links = activation_path(levels)
    ba_in, ba_out = op.operands["inputs"].bits, op.operands["outputs"].bits
    acc_bits = max(ba_out, op.accumulator_bits)

    def above(child, dims):
        return [k for k, (i, d, _) in enumerate(loops) if i < child and d in dims]

    def box(child, dims):
        """(rows, elements per row) of the child's tile: N x T rows of the last dimension."""
        *rows, width = (mapping.factor(d, range(child, K)) for d in dims)
        return prod(rows), width

    in_info = [(above(child, "NTC"), box(child, "NTC")) for _, child in in_hops]
    out_info = [(above(child, OUT_DIMS), above(child, "C"), box(child, "NTM")) for child, _ in out_links]
    c_loops = [k for k, (_, d, _) in enumerate(loops) if d == "C"]
    out_loops = [k for k, (_, d, _) in enumerate(loops) if d in OUT_DIMS]
    continues = not any(d in OUT_DIMS for d, _ in phase_loops)  # accumulators may stay across tiles
    chunk_all = prod(f for _, f in phase_loops)
    bw, bias = op.operands[WEIGHTS].bits, op.bias_bits
    indices = list(itertools.product(*(range(f) for _, _, f in loops)))
    out_keys = [tuple(idx[k] for k in out_loops) for idx in indices]
    in_keys = [[tuple(idx[k] for k in keys) for idx in indices] for keys, _ in in_info]
    link_keys = [[tuple(idx[k] for k in keys) for idx in indices] for keys, _, _ in out_info]
    out, last_keys = [], [None] * len(hops)
    for j, idx in enumerate(indices):
        start = {d: 0 for d in op.dims}
        for k, (_, d, _) in enumerate(loops):
            start[d] += idx[k] * stride[k]
        c_first = all(idx[k] == 0 for k in c_loops)
        c_last = all(idx[k] == loops[k][2] - 1 for k in c_loops)
        if continues:
            fresh = j == 0 or out_keys[j - 1] != out_keys[j]
            ends = j == len(indices) - 1 or out_keys[j + 1] != out_keys[j]
            drain = (FINAL if c_last else PARTIAL) if ends else NONE
            reps = [Rep(1, chunk_all, fresh and c_first, fresh and not c_first, drain)]
        else:
            reps = _phase(phase_loops, c_first, c_last)
        moves = []
        for h, info in enumerate(hop_info):
            if info is None:  # the feed: the weights (and biases) the phase consumes
                plain = sum(r.count for r in reps if not r.row_start)
                starting = sum(r.count for r in reps if r.row_start)
                chunk = reps[0].chunk
                moves.append(tuple((g * n, chunk * bw + b) for n, b in ((plain, 0), (starting, bias)) if n))
                continue
            keys, cs, mt, ct, copies = info
            key = tuple(idx[k] for k in keys)
            if key == last_keys[h]:
                moves.append(())
                continue
            last_keys[h] = key
            b = bias if all(idx[k] == 0 for k in cs) else 0  # the rows' biases ride with their first chunk
            moves.append(tuple((r, ct * bw + bb) for r, bb in ((mt * (copies - 1), 0), (mt, b)) if r))
        in_moves = tuple(((rows, width * ba_in),) if j == 0 or keys[j - 1] != keys[j] else ()
                         for keys, (_, (rows, width)) in zip(in_keys, in_info))
        readbacks, drains = [], []
        for keys, (_, cs, (rows, width)) in zip(link_keys, out_info):
            first = j == 0 or keys[j - 1] != keys[j]
            readbacks.append(((rows, width * acc_bits),) if first and any(idx[k] for k in cs) else ())
            last = j == len(indices) - 1 or keys[j + 1] != keys[j]
            done = all(idx[k] == loops[k][2] - 1 for k in cs)
            drains.append(((rows, width * (ba_out if done else acc_bits)),) if last else ())
        o0 = m0 + start["M"]
        out.append(Tile(item, layer, o0, o0 + extent["M"], start["T"], start["T"] + extent["T"],
                        start["N"], start["N"] + extent["N"], start["C"], start["C"] + extent["C"], tuple(moves),
                        tuple(reps), g, in_moves, tuple(readbacks), tuple(drains)))
    return out
