"""Operations as loop nests and the counts a mapping of them implies, per memory level. Pure arithmetic.

An operation is a perfect loop nest over named dimensions (a p-DNN dense layer: items N, samples T, outputs M,
fan-in C). Each operand is indexed by a subset of the dimensions: weights by (M, C), inputs by (N, T, C), outputs
by (N, T, M); an output is reduced over the dimensions that index the operation but not the output (C).

A memory hierarchy is a list of levels, outermost first; each level holds some operands. A mapping gives, for
each level, the temporal loops that run *at* that level (outermost first, each a dimension and a factor), and the
spatial unrolling over the datapath's units. Level i's tile of an operand is what the loops of levels i, i+1, ...
and the spatial unrolling cover; the loops of levels 0..i-1 are "above" it and choose which tile is resident.

Counting rule (the reuse analysis of Timeloop and ZigZag, stated once here):
- A level that holds an operand, and is not its outermost holder, is filled from its parent (the next outer
  holder) each time the resident tile changes. Walking the loops above the level from the innermost outwards,
  loops that do not index the operand leave the tile unchanged (it stays resident: weights across the samples
  loop T, for example) until the first loop that does; from there outwards every iteration brings a new tile.
  fills = product of the factors of the loops above, minus the innermost run of loops that do not index it.
- The datapath reads its operands from their innermost holder once per compute step (one iteration of every
  temporal loop); each unit reads its own copy unless the level multicasts (then one read serves every unit
  that needs the same element).
- Outputs flow the other way. The accumulators are the innermost output storage: each time their tile changes
  (same rule), the finished or partial tile drains to the innermost output holder; a tile that returns after a
  reduction loop moved it out is read back first (a partial sum). A drain is final when the reduction of its
  elements is complete (written at the output's width), partial otherwise (written at the accumulator width).
  The same drain / read-back rule applies between every pair of output holders (parent, child), and there a
  transfer touches both levels: a drain reads the child and writes the parent (each at the drain's width), a
  read-back reads the parent and writes the child (at the accumulator width). The accumulators are not a memory
  level: their drains count only the innermost holder's write, their read-backs only its read.
- Biases (an operation may have them) ride with the weights: they are indexed by M only and move with every
  weight chunk that starts a row (fan-in index 0): each fill of a weight tile that starts its rows carries its
  outputs' biases, and the datapath reads an output's bias in the step that starts its accumulation. They are
  counted under the operand name 'biases' at the weights' levels.
- An operand's outermost holder is its home: the operand resides there whole before the operation runs, so it is
  never filled and its tile is not charged to that level's capacity (the caller reserves the home's bits).

Uneven output tiles (Mapping.remainder = LAST_TILE, a mapping's opt-in): the outputs M are unrolled over g units
and M = q*g + r with 0 < r < g; the temporal M loops multiply to ceil(M/g) = q + 1, at most one of them with a
factor above 1. The pass then runs as two parts, one after the other (parts()): the main part, the same nest with
M = q*g (that loop's factor q: full tiles of g outputs), then the remainder part, the same nest with M = r (that
loop's factor 1, r units: one partial tile per iteration of the other loops), its outputs after the main part's.
Each part is a perfect nest counted by the rule above and starts cold: its first tiles are filled afresh (no tile
stays resident across the boundary) and its outputs drain at its end. Counts, steps and tiles are the sums over
the parts; a level's resident tile (capacity) is the main part's, the largest. With the outputs' loop outermost
(the planner's mappings) this is the uneven nest itself: q full tiles of g outputs, then one of r.
The brute-force oracle in tests/test_loopnest.py walks the nest literally (for an uneven mapping, both parts in
order, the last output tile partial) and must agree on every case.
"""
from dataclasses import dataclass, field, replace
from functools import cached_property
from math import prod

from ..errors import MappingError

READ, WRITE = "read", "write"
EXACT, LAST_TILE = "exact", "last_tile"  # Mapping.remainder: tiles divide M exactly | the last tile is partial
REMAINDERS = (EXACT, LAST_TILE)
WEIGHTS, BIASES = "weights", "biases"


@dataclass(frozen=True)
class Operand:
    """An operand of an operation: the dimensions that index it, its bits per element, read or written."""
    dims: frozenset
    bits: int
    role: str = READ


@dataclass(frozen=True)
class Operation:
    """A loop nest: dimension sizes, operands, and the accumulator width of written operands' partial sums."""
    name: str
    dims: dict
    operands: dict
    accumulator_bits: int = 32
    bias_bits: int = 0     # bits of one output's bias (0: no biases)

    def reduction_dims(self, operand):
        return frozenset(self.dims) - self.operands[operand].dims

    @property
    def steps(self):
        """Multiply-accumulates (or selected adds, at most) of the whole operation."""
        return prod(self.dims.values())


def dense_operation(name, items, samples, outputs, fan_in, weight_bits, in_bits, out_bits, accumulator_bits,
                    bias_bits=0, weight_dims="MC"):
    """A p-DNN dense layer (and a conv layer in its im2col view, positions folded into the items). weight_dims:
    the dimensions indexing the weights (M, C, and any dimension they are never reused over)."""
    return Operation(name, {"N": items, "T": samples, "M": outputs, "C": fan_in}, {
        WEIGHTS: Operand(frozenset(weight_dims), weight_bits),
        "inputs": Operand(frozenset("NTC"), in_bits),
        "outputs": Operand(frozenset("NTM"), out_bits, WRITE)}, accumulator_bits, bias_bits)


@dataclass(frozen=True)
class Level:
    """A memory level as the mapping sees it: capacity, the operands it may hold, whether one read feeds
    every unit that needs the same element (multicast), and its per-bit energies."""
    name: str
    capacity_bits: int
    holds: frozenset
    multicast: bool = False
    double_buffered: bool = False
    read_pj_per_bit: float = 0.0
    write_pj_per_bit: float = 0.0
    bits_per_cycle: int = 0  # bits the level moves per cycle (reads and writes together); 0: unbounded


@dataclass(frozen=True)
class Mapping:
    """temporal[i]: the loops of level i, outermost first, as (dimension, factor); spatial: dimension -> units;
    remainder: EXACT (factors multiply to each dimension) or LAST_TILE (the outputs' last tile is partial)."""
    temporal: tuple
    spatial: dict = field(default_factory=dict)
    remainder: str = EXACT

    def loops(self):
        """Every temporal loop as (level, dimension, factor), outermost first."""
        return [(i, d, f) for i, level in enumerate(self.temporal) for d, f in level]

    def factor(self, dim, levels=None, spatial=True):
        """Product of `dim`'s factors over the given levels (all when None; a range is a run of levels), and the
        spatial unrolling."""
        out = self.spatial.get(dim, 1) if spatial else 1
        at = self._per_level.get(dim)
        if at is None:
            return out
        if levels is None:
            levels = range(len(at))
        if isinstance(levels, range) and levels.step == 1:
            return out * prod(at[levels.start:levels.stop])
        return out * prod(at[i] for i in levels if 0 <= i < len(at))

    @cached_property
    def _per_level(self):
        """{dimension: [product of its temporal factors at level i for each level]} (the mapping is immutable)."""
        out = {}
        for i, level in enumerate(self.temporal):
            for d, f in level:
                out.setdefault(d, [1] * len(self.temporal))[i] *= f
        return out


def check(op, levels, mapping):
    """Every problem of a mapping against its operation and hierarchy, as messages (empty: valid)."""
    problems = []
    if len(mapping.temporal) != len(levels):
        problems.append(f"the mapping has loops for {len(mapping.temporal)} levels; the hierarchy has {len(levels)}")
        return problems
    for i, loops in enumerate(mapping.temporal):
        for d, f in loops:
            if d not in op.dims:
                problems.append(f"{levels[i].name}: loop over unknown dimension {d!r} (allowed: {sorted(op.dims)})")
            if f < 1:
                problems.append(f"{levels[i].name}: loop {d} has factor {f}; factors are >= 1")
    for d in mapping.spatial:
        if d not in op.dims:
            problems.append(f"spatial: unknown dimension {d!r} (allowed: {sorted(op.dims)})")
    if mapping.remainder not in REMAINDERS:
        problems.append(f"remainder: {mapping.remainder!r}; allowed: {', '.join(REMAINDERS)}")
    if problems:
        return problems
    problems += _remainder_problems(op, mapping)
    for d, size in op.dims.items():
        if mapping.remainder == LAST_TILE and d == "M" or mapping.factor(d) == size:
            continue
        problems.append(f"dimension {d} = {size}, but the mapping's factors multiply to {mapping.factor(d)} "
                        f"(tiles must divide and cover it exactly" +
                        ("; for outputs, or say remainder: last_tile)" if d == "M" else ")"))
    for name in op.operands:
        if not any(name in lv.holds for lv in levels):
            problems.append(f"operand {name!r} is held by no level")
    if problems:
        return problems
    nests = parts(op, mapping)
    for i, lv in enumerate(levels):
        need = max(resident_bits(part, levels, m, i) for part, m, _ in nests)
        if need > lv.capacity_bits:
            problems.append(f"{lv.name}: the mapping keeps {need} bits resident, more than its capacity of "
                            f"{lv.capacity_bits} bits")
    return problems


def _remainder_problems(op, mapping):
    """The shape an uneven mapping must have (module docstring): messages, empty when it has it (or is exact)."""
    if mapping.remainder != LAST_TILE:
        return []
    g, size = mapping.spatial.get("M", 1), op.dims["M"]
    temporal = mapping.factor("M", spatial=False)
    problems = []
    if temporal != -(-size // g):
        problems.append(f"remainder last_tile: dimension M = {size} over {g} units is ceil({size}/{g}) = "
                        f"{-(-size // g)} tiles, but the temporal M loops multiply to {temporal}")
    if sum(1 for _, d, f in mapping.loops() if d == "M" and f > 1) > 1:
        problems.append("remainder last_tile: at most one temporal loop over M may have a factor above 1 (the "
                        "loop whose last iteration is the partial tile)")
    return problems


def parts(op, mapping):
    """[(operation, mapping, first output)] run one after the other for one pass: the nest itself when exact (or
    when the units divide the outputs), else the main part of full tiles and the remainder part (module
    docstring). Call on a checked mapping."""
    if mapping.remainder != LAST_TILE:
        return [(op, mapping, 0)]
    g = mapping.spatial.get("M", 1)
    q, r = divmod(op.dims["M"], g)
    exact = replace(mapping, remainder=EXACT)
    if not r:
        return [(op, exact, 0)]

    def part(m, outer, units):
        temporal = tuple(tuple((d, outer if d == "M" and f > 1 else f) for d, f in lv) for lv in mapping.temporal)
        spatial = {d: f for d, f in mapping.spatial.items() if d != "M"} | ({"M": units} if units > 1 else {})
        return replace(op, dims={**op.dims, "M": m}), Mapping(temporal, spatial)

    return ([(*part(q * g, q, g), 0)] if q else []) + [(*part(r, 1, r), q * g)]


def tile_elements(op, mapping, level, operand):
    """Elements of `operand` in level `level`'s tile: its dimensions' factors at that level and inside it."""
    inner = range(level, len(mapping.temporal))
    return prod(mapping.factor(d, inner) for d in op.operands[operand].dims)


def resident_bits(op, levels, mapping, level):
    """Bits level `level` must keep for the operands it holds and is not the home of (twice with double
    buffering); outputs that are partial somewhere are kept at the accumulator width; biases with the weights."""
    copies = 2 if levels[level].double_buffered else 1
    total = 0
    for name in levels[level].holds & op.operands.keys():
        if home(levels, name) == level:
            continue
        o = op.operands[name]
        bits = max(o.bits, op.accumulator_bits) if o.role == WRITE and _has_partials(op, mapping, name) else o.bits
        total += copies * tile_elements(op, mapping, level, name) * bits
        if name == WEIGHTS:
            total += copies * mapping.factor("M", range(level, len(mapping.temporal))) * op.bias_bits
    return total


def home(levels, operand):
    """Index of the operand's outermost holder (None when no level holds it)."""
    return next((i for i, lv in enumerate(levels) if operand in lv.holds), None)


def _has_partials(op, mapping, operand):
    return _fills(op, mapping.loops(), operand) > _distinct(op, mapping.loops(), operand)


def _fills(op, loops, operand):
    """Tile changes along `loops` (outermost first): the innermost run of loops not indexing the operand keeps
    the tile resident; every loop from the first one that does outwards multiplies."""
    dims = op.operands[operand].dims
    live = [(d, f) for _, d, f in loops if f > 1]
    while live and live[-1][0] not in dims:
        live.pop()
    return prod(f for _, f in live)


def _distinct(op, loops, operand):
    """Distinct tiles along `loops`: the product of the factors of the loops that index the operand."""
    dims = op.operands[operand].dims
    return prod(f for _, d, f in loops if d in dims)


def _spatial_elements(op, mapping, operand, multicast):
    """Elements the units need from the operand's innermost holder per compute step."""
    dims = op.operands[operand].dims
    needed = prod(f for d, f in mapping.spatial.items() if d in dims)
    copies = 1 if multicast else prod(f for d, f in mapping.spatial.items() if d not in dims)
    return needed * copies


def counts(op, levels, mapping):
    """Predicted accesses: {(level name, operand, action): count} with actions read_bits, write_bits,
    read_elements, write_elements; plus ('datapath', '-', 'steps') and ('datapath', '-', 'macs'); summed over
    the parts of an uneven mapping."""
    problems = check(op, levels, mapping)
    if problems:
        raise MappingError("invalid mapping:\n  - " + "\n  - ".join(problems))
    out = {}
    for part, m, _ in parts(op, mapping):
        for k, v in _counts(part, levels, m).items():
            out[k] = out.get(k, 0) + v
    return out


def _counts(op, levels, mapping):
    """counts() of one perfect nest."""
    out = {}

    def add(level, operand, action, elements, bits):
        for key, value in (((levels[level].name, operand, f"{action}_elements"), elements),
                           ((levels[level].name, operand, f"{action}_bits"), elements * bits)):
            out[key] = out.get(key, 0) + value

    loops = mapping.loops()
    steps = prod(f for _, _, f in loops)
    for name, o in op.operands.items():
        holders = [i for i, lv in enumerate(levels) if name in lv.holds]
        innermost = holders[-1]
        if o.role == READ:
            for parent, child in zip(holders, holders[1:]):
                above = [lp for lp in loops if lp[0] < child]
                fills = _fills(op, above, name)
                n = fills * tile_elements(op, mapping, child, name)
                add(parent, name, "read", n, o.bits)
                add(child, name, "write", n, o.bits)
                if name == WEIGHTS and op.bias_bits:  # the fills that start rows carry their outputs' biases
                    nb = fills // prod(f for _, d, f in above if d == "C") * \
                        mapping.factor("M", range(child, len(levels)))
                    add(parent, BIASES, "read", nb, op.bias_bits)
                    add(child, BIASES, "write", nb, op.bias_bits)
            add(innermost, name, "read", steps * _spatial_elements(op, mapping, name, levels[innermost].multicast),
                o.bits)
            if name == WEIGHTS and op.bias_bits:  # steps at fan-in index 0 read each unit's bias
                row_steps = steps // mapping.factor("C", spatial=False)
                units = prod(f for d, f in mapping.spatial.items() if d != "C")
                needed = units if not levels[innermost].multicast else mapping.spatial.get("M", 1)
                add(innermost, BIASES, "read", row_steps * needed, op.bias_bits)
        else:
            acc_bits = max(o.bits, op.accumulator_bits)
            unit_tile = _spatial_elements(op, mapping, name, True)
            # the accumulators (not a memory level: source None) drain to the innermost holder; each holder
            # drains to its parent, read at the child as it is written at the parent (and read back the other way)
            chain = [(innermost, None, loops, unit_tile)] + [
                (parent, child, [lp for lp in loops if lp[0] < child], tile_elements(op, mapping, child, name))
                for parent, child in zip(holders, holders[1:])]
            for target, source, above, tile in chain:
                fills, distinct = _fills(op, above, name), _distinct(op, above, name)
                final, partial = distinct * tile, (fills - distinct) * tile
                add(target, name, "write", final, o.bits)         # final drains
                add(target, name, "write", partial, acc_bits)     # partial drains
                add(target, name, "read", partial, acc_bits)      # read back to resume
                if source is not None:
                    add(source, name, "read", final, o.bits)      # the drains read the child
                    add(source, name, "read", partial, acc_bits)
                    add(source, name, "write", partial, acc_bits)  # the read-backs write it
    out[("datapath", "-", "steps")] = steps
    out[("datapath", "-", "macs")] = op.steps
    return {k: v for k, v in out.items() if v}


def energy_pj(levels, predicted):
    """Memory energy of predicted counts (pJ), from each level's per-bit energies."""
    by_name = {lv.name: lv for lv in levels}
    total = 0.0
    for (level, _, action), n in predicted.items():
        if level in by_name and action == "read_bits":
            total += n * by_name[level].read_pj_per_bit
        elif level in by_name and action == "write_bits":
            total += n * by_name[level].write_pj_per_bit
    return total
