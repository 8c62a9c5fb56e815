"""The mapper: searches where one operation's operands are kept, its tilings, loop orders and spatial unrollings on
a hierarchy for an objective (`energy`, `cycles` or `edp`), predicting every candidate's counts with
loopnest.counts.

The space: the keep-set variants the caller gives times the mappings. A keep-set variant is the hierarchy's levels
keeping given operands (the levels differ only in `holds`): the mapper's (engine/mapper.keep_variants) keep the
weights at their home and the levels inside it with and without the synapses' registers, and the inputs and the
outputs at their home and, each on its own, at every subset of the levels inside it that may hold them (their
tiles staged there); a caller that gives one hierarchy searches its mappings alone. The mappings: every dimension
is split into one factor per level (and one spatial factor where the dimension may be unrolled over the units,
their product at most the unit count); at each level the loops with a factor above 1 take every order. Exact
splits multiply to the dimension's size. The outputs M, when they may be unrolled, also take uneven splits
(loopnest's LAST_TILE): every unrolling g up to the units (and below M) that does not divide M, with its
ceil(M/g) temporal tiles in one loop at any one level (the shape loopnest requires: full tiles of g outputs, then
a partial one of M mod g), so a prime M, or 1000 outputs on 16 units, has the planner's mapping and its
neighbours in the space. The other dimensions split exactly only (loopnest and the executor run a partial tile of
the outputs alone). Loops of factor 1 are left out (they change no count) and orders are enumerated only over the
loops a level actually has, so no two candidates in the enumeration are the same mapping on the same keep-set
variant. Candidates that overflow a level (an uneven one: its full tiles) are dropped before they are counted.

Exhaustive when the space (every keep-set variant times every mapping, exact and uneven) has at most `budget`
candidates; otherwise a documented pruned search: candidates drawn at random (seeded: a split per dimension, the
outputs' uneven splits drawn like their exact ones, then a shuffled order per level) over the keep-set variants
by successive halving (1 + ceil(log2(variants)) rounds of `samples` draws, each round spread evenly over the
variants still in, the better half of them by their best candidate so far going on to the next round: of 8
variants, the last one standing gets 15/32 of the draws; a variant far behind, one reading its inputs at a
costly home at every step say, drops out early), the caller's `starts` on every variant too, then a
steepest-descent climb from each of the `climbs` best so far. The defaults (SAMPLES = 500 draws per round, CLIMBS =
8) were measured on ResNet-18's conv layers, 4 seeds each: on configs/three-level.yaml the choice is within 0.5 %
of the best any setting found for energy and under 1.3 % for edp; on the machine benchmarks/bench_zigzag.py
compares (broadcast inputs, MAC synapses) within 1.3 % for energy, where 2,000 draws came within 3.1 % and 4 climbs
within 9.2 %: in about half the time of 2,000 draws, the climbs, not the draws, find the optimum.

A move takes one prime factor of one dimension from one level (or the spatial unrolling) to another (not the outputs
of an uneven candidate: its tiles are no product of factors), swaps two adjacent loops of a level, or re-unrolls the
outputs over one unit fewer or more with their ceil(M/g) temporal tiles in one loop at any level (exact when g
divides M, else uneven: the climb crosses between the two), or moves an uneven candidate's tiles' loop to another
level, or keeps the mapping with one operand kept at one level more or fewer (a neighbouring keep-set variant: an
input or output stage, or the weight registers, switched on or off). The climb stops when no move improves the
objective. The keep-set variants share the draws of each round, they do not multiply them: the candidates counted
are at most the space, or the rounds' draws plus the climbs' moves.
"""
import itertools
import random
from dataclasses import dataclass
from math import prod

from ..errors import MappingError
from .loopnest import EXACT, LAST_TILE, Level, Mapping, counts, energy_pj

OBJECTIVES = ("energy", "cycles", "edp")
UNEVEN_DIM = "M"  # the dimension whose last tile may be partial (loopnest.LAST_TILE)


@dataclass(frozen=True)
class Candidate:
    mapping: Mapping
    counts: dict
    energy_pj: float
    cycles: int
    levels: tuple = ()  # the hierarchy it is counted on: what each level keeps (its keep-set variant)

    def score(self, objective):
        return {"energy": self.energy_pj, "cycles": self.cycles, "edp": self.energy_pj * self.cycles}[objective]

    @property
    def keep(self):
        """{level name: operands the candidate keeps there}."""
        return {lv.name: lv.holds for lv in self.levels}


def cycles_bound(levels, predicted, units_per_step_cycles=1):
    """A roofline bound on cycles: the compute steps, or the busiest level's traffic over its bits per cycle."""
    steps = predicted[("datapath", "-", "steps")] * units_per_step_cycles
    busiest = 0
    for lv in levels:
        if lv.bits_per_cycle:
            bits = sum(v for (name, _, a), v in predicted.items() if name == lv.name and a.endswith("_bits"))
            busiest = max(busiest, -(-bits // lv.bits_per_cycle))
    return max(steps, busiest)


def evaluate(op, levels, mapping):
    """A candidate, or None when the mapping does not fit (loopnest.counts checks it)."""
    try:
        c = counts(op, levels, mapping)
    except MappingError:
        return None
    return Candidate(mapping, c, energy_pj(levels, c), cycles_bound(levels, c), tuple(levels))


def _factorisations(n, parts):
    if parts == 1:
        return [(n,)]
    return [(d,) + rest for d in range(1, n + 1) if n % d == 0 for rest in _factorisations(n // d, parts - 1)]


def _ceil(a, b):
    return -(-a // b)


def _uneven_splits(size, n_levels, units):
    """The uneven splits of the outputs: an unrolling g below the size that does not divide it, its ceil(size/g)
    tiles at one level, the other levels' factors 1."""
    return [tuple(_ceil(size, g) if i == level else 1 for i in range(n_levels)) + (g,)
            for g in range(2, min(units, size - 1) + 1) if size % g for level in range(n_levels)]


def _splits(op, n_levels, spatial_dims, units):
    """Per dimension, every split into n_levels temporal factors (and a spatial factor where allowed); the
    outputs' uneven splits after their exact ones."""
    out = {}
    for d, size in op.dims.items():
        if d in spatial_dims:
            out[d] = [s for s in _factorisations(size, n_levels + 1) if s[-1] <= units]
            if d == UNEVEN_DIM:
                out[d] += _uneven_splits(size, n_levels, units)
        else:
            out[d] = [s + (1,) for s in _factorisations(size, n_levels)]
    return out


def _remainder(op, split):
    """LAST_TILE when the outputs' split covers more than their size (an uneven split), else EXACT."""
    d = UNEVEN_DIM
    return LAST_TILE if d in split and prod(split[d]) != op.dims[d] else EXACT


def _mappings_of(op, split, n_levels, units):
    """Every loop order of one choice of splits (as Mapping), or nothing when the unrolling exceeds the units."""
    dims = sorted(op.dims)
    spatial = {d: split[d][-1] for d in dims if split[d][-1] > 1}
    if prod(spatial.values()) > units:
        return
    per_level = [[(d, split[d][i]) for d in dims if split[d][i] > 1] for i in range(n_levels)]
    for orders in itertools.product(*(itertools.permutations(loops) for loops in per_level)):
        yield Mapping(tuple(tuple(o) for o in orders), spatial, _remainder(op, split))


def space_size(op, levels, spatial_dims=(), units=1, stop_above=None):
    """Candidates in the enumeration (before capacity pruning); counting stops once it passes `stop_above`."""
    splits = _splits(op, len(levels), spatial_dims, units)
    total = 0
    for choice in itertools.product(*(splits[d] for d in sorted(op.dims))):
        split = dict(zip(sorted(op.dims), choice))
        if prod(split[d][-1] for d in split) > units:
            continue
        total += prod(_perm_count(sum(1 for d in split if split[d][i] > 1)) for i in range(len(levels)))
        if stop_above is not None and total > stop_above:
            break
    return total


def _perm_count(k):
    return prod(range(1, k + 1))


def _enumerate(op, levels, spatial_dims, units):
    splits = _splits(op, len(levels), spatial_dims, units)
    dims = sorted(op.dims)
    for choice in itertools.product(*(splits[d] for d in dims)):
        yield from _mappings_of(op, dict(zip(dims, choice)), len(levels), units)


def _random_mapping(op, splits, n_levels, units, rng):
    dims = sorted(op.dims)
    for _ in range(100):
        split = {d: rng.choice(splits[d]) for d in dims}
        if prod(split[d][-1] for d in dims) <= units:
            break
    else:
        split = {d: next(s for s in splits[d] if s[-1] == 1) for d in dims}
    per_level = []
    for i in range(n_levels):
        loops = [(d, split[d][i]) for d in dims if split[d][i] > 1]
        rng.shuffle(loops)
        per_level.append(tuple(loops))
    return Mapping(tuple(per_level), {d: split[d][-1] for d in dims if split[d][-1] > 1}, _remainder(op, split))


def _smallest_prime(n):
    return next(p for p in range(2, n + 1) if n % p == 0)


def _neighbours(op, mapping, spatial_dims, units):
    """Mappings one move away: a prime factor of a dimension moved between two levels (or the spatial
    unrolling; not the outputs of an uneven mapping), two adjacent loops of a level swapped, or the outputs
    re-unrolled (_unrollings)."""
    n = len(mapping.temporal)
    dims = sorted(op.dims)
    places = list(range(n)) + (["s"] if spatial_dims else [])

    def factor_at(d, place):
        return mapping.spatial.get(d, 1) if place == "s" else mapping.factor(d, [place], spatial=False)

    for d in dims:
        if d == UNEVEN_DIM and mapping.remainder == LAST_TILE:
            continue
        for src, dst in itertools.permutations([p for p in places if p != "s" or d in spatial_dims], 2):
            f = factor_at(d, src)
            if f == 1:
                continue
            p = _smallest_prime(f)
            split = {pl: factor_at(d, pl) for pl in places}
            split[src] //= p
            split[dst] *= p
            spatial = dict(mapping.spatial)
            if "s" in places:
                spatial[d] = split["s"]
            spatial = {k: v for k, v in spatial.items() if v > 1}
            if prod(spatial.values()) > units:
                continue
            temporal = []
            for i, loops in enumerate(mapping.temporal):
                kept = [(dd, ff) for dd, ff in loops if dd != d]
                if split[i] > 1:
                    pos = next((k for k, (dd, _) in enumerate(loops) if dd == d), len(kept))
                    kept.insert(min(pos, len(kept)), (d, split[i]))
                temporal.append(tuple(kept))
            yield Mapping(tuple(temporal), spatial, mapping.remainder)
    for i, loops in enumerate(mapping.temporal):
        for k in range(len(loops) - 1):
            swapped = list(loops)
            swapped[k], swapped[k + 1] = swapped[k + 1], swapped[k]
            yield Mapping(mapping.temporal[:i] + (tuple(swapped),) + mapping.temporal[i + 1:], mapping.spatial,
                          mapping.remainder)
    if UNEVEN_DIM in spatial_dims:
        yield from _unrollings(op, mapping, units)


def _unrollings(op, mapping, units):
    """The outputs unrolled over one unit fewer or more (and, for an uneven mapping, over as many), their
    ceil(M/g) temporal tiles in one loop at each level in turn (where the level had an outputs' loop, in its
    place, else outermost): exact when g divides M, else uneven."""
    d, size = UNEVEN_DIM, op.dims[UNEVEN_DIM]
    g = mapping.spatial.get(d, 1)
    free = units // prod(f for dd, f in mapping.spatial.items() if dd != d)
    for h in [h for h in (g - 1, g + 1) if 1 <= h <= min(size, free)] + ([g] if mapping.remainder == LAST_TILE
                                                                           else []):
        tiles = _ceil(size, h)
        spatial = {dd: f for dd, f in mapping.spatial.items() if dd != d} | ({d: h} if h > 1 else {})
        for level in range(len(mapping.temporal) if tiles > 1 else 1):
            temporal = []
            for i, loops in enumerate(mapping.temporal):
                kept = [(dd, f) for dd, f in loops if dd != d]
                if i == level and tiles > 1:
                    pos = next((k for k, (dd, _) in enumerate(loops) if dd == d), 0)
                    kept.insert(min(pos, len(kept)), (d, tiles))
                temporal.append(tuple(kept))
            yield Mapping(tuple(temporal), spatial, EXACT if size % h == 0 else LAST_TILE)


def _variants(levels):
    """The keep-set variants of `levels`: one hierarchy (a list of loopnest.Level) or several (a list of them)."""
    return [list(levels)] if isinstance(levels[0], Level) else [list(h) for h in levels]


def _keep_moves(variants):
    """For each variant, the variants that keep one operand at one level more or fewer."""
    kept = [{(lv.name, o) for lv in h for o in lv.holds} for h in variants]
    return [[j for j, other in enumerate(kept) if len(k ^ other) == 1] for k in kept]


def _best_score(evaluated, v, objective):
    """The best score of variant v's candidates so far (infinite when none fits)."""
    return min((c.score(objective) for key, c in evaluated.items() if key[0] == v and c is not None),
               default=float("inf"))


SAMPLES, CLIMBS = 500, 8  # the sampled search's draws per round and climbs (module docstring)


def search(op, levels, objective="energy", spatial_dims=("M",), units=1, budget=2_000, seed=0, climbs=CLIMBS,
           starts=(), samples=SAMPLES):
    """(best candidate, every candidate evaluated, 'exhaustive' | 'sampled+climb'). levels: one hierarchy, or its
    keep-set variants (a list of hierarchies of the same levels keeping different operands); starts: mappings
    evaluated first on every variant (the planner's own, say), candidates like the drawn ones: the choice is never
    worse than they are."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    spatial_dims = tuple(d for d in spatial_dims if d in op.dims)
    variants = _variants(levels)
    n_levels = len(variants[0])
    evaluated = {}

    def consider(v, mapping):
        key = (v, mapping.temporal, tuple(sorted(mapping.spatial.items())), mapping.remainder)
        if key not in evaluated:
            evaluated[key] = evaluate(op, variants[v], mapping)
        return evaluated[key]

    for m in starts:
        for v in range(len(variants)):
            consider(v, m)
    if len(variants) * space_size(op, variants[0], spatial_dims, units, stop_above=budget) <= budget:
        method = "exhaustive"
        for m in _enumerate(op, variants[0], spatial_dims, units):
            for v in range(len(variants)):
                consider(v, m)
    else:
        method = "sampled+climb"
        rng = random.Random(seed)
        splits = _splits(op, n_levels, spatial_dims, units)
        live, rounds = list(range(len(variants))), max(1, (len(variants) - 1).bit_length() + 1)
        for r in range(rounds):
            for k in range(samples):
                consider(live[k % len(live)], _random_mapping(op, splits, n_levels, units, rng))
            live = sorted(live, key=lambda v: _best_score(evaluated, v, objective))[:max(1, len(live) // 2)]
        moves = _keep_moves(variants)
        ranked = sorted(((key[0], c) for key, c in evaluated.items() if c is not None),
                        key=lambda vc: vc[1].score(objective))
        for v, best in ranked[:climbs]:
            while best is not None:
                steps = [(v, m) for m in _neighbours(op, best.mapping, spatial_dims, units)] + \
                    [(w, best.mapping) for w in moves[v]]
                better = [(w, c) for w, c in ((w, consider(w, m)) for w, m in steps)
                          if c is not None and c.score(objective) < best.score(objective)]
                v, best = min(better, key=lambda wc: wc[1].score(objective)) if better else (v, None)
    candidates = [c for c in evaluated.values() if c is not None]
    return _best(candidates, objective), candidates, method


def rank(candidate, objective):
    """Sort key of the choice: the objective, ties broken by the other figure, then by the mapping's text and what
    each level keeps, so the choice is reproducible."""
    c = candidate
    return c.score(objective), c.energy_pj + c.cycles, repr(c.mapping), [sorted(lv.holds) for lv in c.levels]


def _best(candidates, objective):
    fitting = [c for c in candidates if c is not None]
    return min(fitting, key=lambda c: rank(c, objective)) if fitting else None
