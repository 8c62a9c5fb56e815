"""The loop-nest count model against a brute-force oracle that walks the nest literally, step by step and unit by
unit, keeps each level's resident tile as a set of elements, and counts every fill, read, drain and read-back
(a transfer between two levels at both: read at one, written at the other)."""
import itertools
from math import prod

import pytest
from hypothesis import event, given, settings, strategies as st

from archsim.errors import MappingError
from archsim.mapping.loopnest import (EXACT, LAST_TILE, WRITE, Level, Mapping, check, counts, dense_operation,
                                      energy_pj)
from archsim.mapping.search import OBJECTIVES, evaluate, search

BIG = 1 << 40


def _coordinates(op, mapping):
    """For each temporal step (indices of every loop) and each unit, the global coordinate of every dimension."""
    loops = mapping.loops()
    spatial = sorted(mapping.spatial.items())

    def strides(dim):
        """Mixed radix of one dimension: its temporal loops outermost first, then its spatial unrolling."""
        radices = [f for _, d, f in loops if d == dim] + [f for d, f in spatial if d == dim]
        out, s = [], 1
        for r in reversed(radices):
            out.append(s)
            s *= r
        return list(reversed(out))

    st_ = {d: strides(d) for d in op.dims}
    for idx in itertools.product(*(range(f) for _, _, f in loops)):
        units = []
        for uidx in itertools.product(*(range(f) for _, f in spatial)):
            coord = {}
            for d in op.dims:
                digits = [i for i, (_, dd, _) in zip(idx, loops) if dd == d] + \
                         [u for u, (dd, _) in zip(uidx, spatial) if dd == d]
                coord[d] = sum(a * b for a, b in zip(digits, st_[d]))
            units.append(coord)
        yield idx, units


def _segments(op, mapping):
    """The steps of the nest in execution order, as segments that start cold. Exact: one segment. Uneven
    (remainder last_tile): the nest with its full factors, the units past the last output idle; the iterations
    of the outputs' loop before its last (the full tiles) first, then its last iteration (the partial tile)."""
    steps = list(_coordinates(op, mapping))
    if mapping.remainder != LAST_TILE:
        return [steps]
    size = op.dims["M"]
    q = size // mapping.spatial.get("M", 1)
    k = next((j for j, (_, d, f) in enumerate(mapping.loops()) if d == "M" and f > 1), None)
    main, last = [], []
    for idx, units in steps:
        units = [c for c in units if c["M"] < size]
        (last if (idx[k] == q if k is not None else q == 0) else main).append((idx, units))
    return [seg for seg in (main, last) if seg]


def brute_force(op, levels, mapping):
    loops = mapping.loops()
    out = {}

    def add(level, operand, action, elements, bits):
        if elements:
            for key, v in (((level, operand, f"{action}_elements"), elements),
                           ((level, operand, f"{action}_bits"), elements * bits)):
                out[key] = out.get(key, 0) + v

    def elem(operand, coord):
        return tuple(coord[d] for d in sorted(op.operands[operand].dims))

    segments = _segments(op, mapping)
    for name, o in op.operands.items():
        holders = [i for i, lv in enumerate(levels) if name in lv.holds]
        done = {}
        for steps in segments:
            keys = {h: [tuple(i for i, (lvl, _, _) in zip(idx, loops) if lvl < h) for idx, _ in steps]
                    for h in holders}
            contents = {h: {} for h in holders}
            for k, (_, units) in enumerate(steps):
                for h in holders:
                    contents[h].setdefault(keys[h][k], set()).update(elem(name, c) for c in units)
            if o.role != WRITE:
                _walk_reads(op, levels, name, o, steps, holders, keys, contents, elem, add)
            else:
                _walk_writes(op, levels, name, o, steps, holders, keys, contents, elem, add, done)
    out[("datapath", "-", "steps")] = sum(len(steps) for steps in segments)
    out[("datapath", "-", "macs")] = sum(len(units) for steps in segments for _, units in steps)
    return out


def _walk_reads(op, levels, name, o, steps, holders, keys, contents, elem, add):
    resident = {h: None for h in holders}
    for k, (_, units) in enumerate(steps):
        for parent, child in zip(holders, holders[1:]):
            tile = contents[child][keys[child][k]]
            if tile != resident[child]:
                add(levels[parent].name, name, "read", len(tile), o.bits)
                add(levels[child].name, name, "write", len(tile), o.bits)
                resident[child] = tile
                if name == "weights" and op.bias_bits:  # biases of the rows the tile starts
                    at = sorted(op.operands["weights"].dims)
                    starts = {e[at.index("M")] for e in tile if e[at.index("C")] == 0}
                    add(levels[parent].name, "biases", "read", len(starts), op.bias_bits)
                    add(levels[child].name, "biases", "write", len(starts), op.bias_bits)
        need = [elem(name, c) for c in units]
        add(levels[holders[-1]].name, name, "read", len(set(need)) if levels[holders[-1]].multicast
            else len(need), o.bits)
        if name == "weights" and op.bias_bits:  # each unit starting a row reads its output's bias
            starting = [c["M"] for c in units if c["C"] == 0]
            add(levels[holders[-1]].name, "biases", "read", len(set(starting))
                if levels[holders[-1]].multicast else len(starting), op.bias_bits)


def _walk_writes(op, levels, name, o, steps, holders, keys, contents, elem, add, done):
    full = prod(op.dims[d] for d in op.reduction_dims(name))
    acc_bits = max(o.bits, op.accumulator_bits)
    # storage chain, innermost first: the accumulators, then the holders from the innermost outwards
    chain = [None] + holders[::-1]
    resident = {s: None for s in chain}

    def drain(s, target):
        """Every element of storage s copied out to level `target`: read at s (a level; the accumulators are
        not one) and written at the target, at the outputs' width when its reduction is complete."""
        for e in resident[s] or ():
            bits = o.bits if done.get(e, 0) == full else acc_bits
            add(levels[target].name, name, "write", 1, bits)
            if s is not None:
                add(levels[s].name, name, "read", 1, bits)

    def load(s, tile, source):
        """Storage s takes `tile`: each element already accumulated in part comes back from level `source`,
        read there and written at s (when s is a level), at the accumulator width."""
        for e in tile:
            if done.get(e, 0):
                add(levels[source].name, name, "read", 1, acc_bits)
                if s is not None:
                    add(levels[s].name, name, "write", 1, acc_bits)
        resident[s] = tile

    for k, (_, units) in enumerate(steps):
        want = {None: frozenset(elem(name, c) for c in units)}
        want.update({h: frozenset(contents[h][keys[h][k]]) for h in holders})
        for s, target in zip(chain, chain[1:]):  # drains, innermost first
            if resident[s] is not None and want[s] != resident[s]:
                drain(s, target)
                resident[s] = None
        for s, source in reversed(list(zip(chain, chain[1:]))):  # loads, outermost first
            if resident[s] is None:
                load(s, want[s], source)
        for c in units:
            e = elem(name, c)
            done[e] = done.get(e, 0) + 1
    for s, target in zip(chain, chain[1:]):
        drain(s, target)


def _factorisations(n, parts):
    """Every way to write n as an ordered product of `parts` factors."""
    if parts == 1:
        return [(n,)]
    return [(d,) + rest for d in range(1, n + 1) if n % d == 0 for rest in _factorisations(n // d, parts - 1)]


def _uneven_split(size, units, n_levels, level):
    """An uneven split of M over n_levels: ceil(size/units) tiles at `level`, the units last."""
    return tuple(-(-size // units) if i == level else 1 for i in range(n_levels)) + (units,)


@st.composite
def cases(draw, uneven=False):
    """(operation, levels, mapping); uneven: M does not divide its unrolling (remainder last_tile)."""
    sizes = {d: draw(st.sampled_from([1, 2, 3, 4, 6])) for d in "NTMC"}
    units = 0
    if uneven:
        units = draw(st.integers(2, 4))
        sizes["M"] = draw(st.sampled_from([m for m in range(1, 12) if m % units]))
    op = dense_operation("layer", sizes["N"], sizes["T"], sizes["M"], sizes["C"], draw(st.integers(1, 8)),
                         draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(4, 24)),
                         draw(st.sampled_from([0, 0, 1, 5])))
    n_levels = draw(st.integers(2, 4))
    levels = []
    for i in range(n_levels):
        holds = frozenset(op.operands) if i == 0 else frozenset(
            draw(st.sets(st.sampled_from(sorted(op.operands)))))
        levels.append(Level(f"L{i}", BIG, holds, multicast=draw(st.booleans()), read_pj_per_bit=i + 1.0,
                            write_pj_per_bit=i + 0.5))
    spatial_ok = draw(st.sets(st.sampled_from("MCN"), max_size=2)) | ({"M"} if uneven else set())
    per_level = [[] for _ in range(n_levels)]
    spatial = {}
    for d, size in sizes.items():
        parts = n_levels + (1 if d in spatial_ok else 0)
        if uneven and d == "M":
            split = _uneven_split(size, units, n_levels, draw(st.integers(0, n_levels - 1)))
        else:
            split = draw(st.sampled_from(_factorisations(size, parts)))
        for i in range(n_levels):
            if split[i] > 1 or draw(st.booleans()):
                per_level[i].append((d, split[i]))
        if d in spatial_ok and split[-1] > 1:
            spatial[d] = split[-1]
    temporal = tuple(tuple(draw(st.permutations(loops))) for loops in per_level)
    return op, levels, Mapping(temporal, spatial, LAST_TILE if uneven else EXACT)


def _output_event(levels, counted):
    """Which output case was drawn: the levels keeping outputs, and whether partial sums left their innermost
    holder (read back from an outer one: a read-back between levels, its child written)."""
    holders = [lv.name for lv in levels if "outputs" in lv.holds]
    back = any(counted.get((h, "outputs", "read_elements")) for h in holders[:-1])
    event(f"outputs at {len(holders)} level(s)" + (", partial sums read back between levels" if back else ""))


@settings(max_examples=150, deadline=None)
@given(cases())
def test_counts_equal_brute_force(case):
    op, levels, mapping = case
    predicted = counts(op, levels, mapping)
    assert predicted == {k: v for k, v in brute_force(op, levels, mapping).items() if v}
    _output_event(levels, predicted)


@settings(max_examples=150, deadline=None)
@given(cases(uneven=True))
def test_uneven_counts_equal_brute_force(case):
    """A partial last output tile: the count model's two parts equal the literal walk of the uneven nest."""
    op, levels, mapping = case
    predicted = counts(op, levels, mapping)
    assert predicted == {k: v for k, v in brute_force(op, levels, mapping).items() if v}
    _output_event(levels, predicted)


def _building_block(n, m, T, bw):
    """The paper's building block: weights read once into the synapse registers, then T samples."""
    op = dense_operation("bb", 1, T, m, n, bw, 1, 1, 24)
    levels = [Level("weight_mem", BIG, frozenset({"weights"})),
              Level("act_mem", BIG, frozenset({"inputs", "outputs"})),
              Level("weight_regs", BIG, frozenset({"weights"}))]
    mapping = Mapping(((("N", 1),), (("M", m),), (("T", T), ("C", n))))
    return op, levels, mapping


def test_building_block_meets_eps_eo_terms():
    """Samples inside the weights' residence: weight memory read n*bw per EO, activations T*n*ba in, T*ba out."""
    n, m, T, bw = 12, 5, 4, 3
    c = counts(*_building_block(n, m, T, bw))
    assert c[("weight_mem", "weights", "read_bits")] == m * n * bw
    assert c[("act_mem", "inputs", "read_bits")] == m * T * n
    assert c[("act_mem", "outputs", "write_bits")] == m * T


def test_samples_outer_re_reads_weights():
    n, m, T, bw = 12, 5, 4, 3
    op, levels, _ = _building_block(n, m, T, bw)
    outer = Mapping(((("T", T),), (("M", m),), (("C", n),)))
    assert counts(op, levels, outer)[("weight_mem", "weights", "read_bits")] == T * m * n * bw


def test_reduction_split_above_the_accumulators_spills_partial_sums():
    op = dense_operation("p", 1, 1, 2, 4, 4, 1, 1, 20)
    levels = [Level("mem", BIG, frozenset(op.operands))]
    mapping = Mapping(((("C", 2), ("M", 2), ("C", 2)),))
    c = counts(op, levels, mapping)
    # each of 2 outputs is visited twice: one partial drain and one read-back each, then a final drain
    assert c[("mem", "outputs", "read_elements")] == 2
    assert c[("mem", "outputs", "write_bits")] == 2 * 20 + 2 * 1


def test_invalid_mappings_name_the_problem():
    op, levels, _ = _building_block(4, 2, 2, 2)
    with pytest.raises(MappingError, match="dimension C = 4"):
        counts(op, levels, Mapping(((("N", 1),), (("M", 2),), (("T", 2), ("C", 3)))))
    small = [Level(lv.name, 7 if lv.name == "weight_regs" else lv.capacity_bits, lv.holds) for lv in levels]
    problems = check(op, small, Mapping(((("N", 1),), (("M", 2),), (("T", 2), ("C", 4)))))
    assert any("weight_regs" in p and "capacity of 7 bits" in p for p in problems)
    orphan = [Level("only", BIG, frozenset({"weights", "inputs"}))]
    assert any("'outputs' is held by no level" in p for p in check(op, orphan, Mapping(((("N", 1),),))))


def test_energy_prices_each_level():
    op, levels, mapping = _building_block(4, 2, 2, 2)
    priced = [Level(lv.name, lv.capacity_bits, lv.holds, read_pj_per_bit=2.0, write_pj_per_bit=3.0)
              for lv in levels]
    c = counts(op, priced, mapping)
    reads = sum(v for (lv, _, a), v in c.items() if a == "read_bits")
    writes = sum(v for (lv, _, a), v in c.items() if a == "write_bits")
    assert energy_pj(priced, c) == pytest.approx(2.0 * reads + 3.0 * writes)


def _all_mappings(op, n_levels, spatial_dims, units):
    """The unpruned space: every split of every dimension, factor-1 loops included, every order at every level;
    exact, and (when M may be unrolled) uneven: M over every g up to the units, every split of ceil(M/g) over the
    levels, remainder last_tile (the count model refuses the splits it cannot run: evaluate() gives None)."""
    dims = sorted(op.dims)
    splits = {d: [(s if d in spatial_dims else s[:-1] + (1,), EXACT)
                  for s in _factorisations(op.dims[d], n_levels + 1) if d in spatial_dims or s[-1] == 1]
              for d in dims}
    if "M" in spatial_dims:
        splits["M"] += [(s + (g,), LAST_TILE) for g in range(1, units + 1)
                        for s in _factorisations(-(-op.dims["M"] // g), n_levels)]
    for choice in itertools.product(*(splits[d] for d in dims)):
        split = {d: s for d, (s, _) in zip(dims, choice)}
        remainder = LAST_TILE if LAST_TILE in (r for _, r in choice) else EXACT
        spatial = {d: split[d][-1] for d in dims if split[d][-1] > 1}
        if prod(spatial.values()) > units:
            continue
        levels = [[(d, split[d][i]) for d in dims] for i in range(n_levels)]
        for orders in itertools.product(*(itertools.permutations(lv) for lv in levels)):
            yield Mapping(tuple(orders), spatial, remainder)


@st.composite
def small_spaces(draw):
    op = dense_operation("s", 1, draw(st.sampled_from([1, 2])), draw(st.sampled_from([2, 4])),
                         draw(st.sampled_from([2, 3])), draw(st.integers(1, 8)), 1, 1, 16)
    levels = [Level("dram", BIG, frozenset(op.operands), read_pj_per_bit=100.0, write_pj_per_bit=100.0,
                    bits_per_cycle=draw(st.sampled_from([0, 8, 64]))),
              Level("buf", draw(st.sampled_from([16, 64, 256, BIG])), frozenset(
                  draw(st.sets(st.sampled_from(sorted(op.operands)), min_size=1))), read_pj_per_bit=2.0,
                  write_pj_per_bit=2.0, double_buffered=draw(st.booleans()))]
    return op, levels, draw(st.sampled_from(OBJECTIVES)), draw(st.sampled_from([1, 2, 4]))


@settings(max_examples=25, deadline=None)
@given(small_spaces())
def test_exhaustive_mapper_is_optimal(case):
    """The pruned enumeration loses nothing: its best equals the best of the unpruned space, evaluated apart."""
    op, levels, objective, units = case
    best, candidates, method = search(op, levels, objective, spatial_dims=("M",), units=units, budget=10 ** 6)
    assert method == "exhaustive"
    scores = [c.score(objective) for c in (evaluate(op, levels, m) for m in _all_mappings(op, 2, ("M",), units))
              if c is not None]
    if not scores:
        assert best is None
    else:
        assert best.score(objective) == min(scores)
        for c in candidates:  # every candidate's prediction is the count model's (and so the oracle's)
            assert c.counts == counts(op, levels, c.mapping)


def test_sampled_search_ends_at_a_local_optimum():
    op = dense_operation("big", 16, 8, 64, 144, 4, 1, 1, 24)
    levels = [Level("dram", BIG, frozenset(op.operands), read_pj_per_bit=20.0, write_pj_per_bit=20.0),
              Level("gbuf", 64 * 1024, frozenset(op.operands), read_pj_per_bit=1.0, write_pj_per_bit=1.0),
              Level("regs", 512, frozenset({"weights"}), read_pj_per_bit=0.1, write_pj_per_bit=0.1)]
    best, candidates, method = search(op, levels, "energy", units=16, budget=100, seed=3)
    assert method == "sampled+climb"
    assert all(c.energy_pj >= best.energy_pj for c in candidates)
    from archsim.mapping.search import _neighbours
    for m in _neighbours(op, best.mapping, ("M",), 16):
        c = evaluate(op, levels, m)
        assert c is None or c.energy_pj >= best.energy_pj
