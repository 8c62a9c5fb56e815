"""A cycle-stepped reference of the micro-architecture (small cases only): a plain loop that advances one
cycle at a time, moving words, inputs and random bits, with no closed-form timing. It shares no arithmetic with
hw/timing.py and the event model (it takes only the port assignment, a structural fact, from hw); tests require
the same total cycles from all three.

One engine per stage of a tile (each weight hop between two memory levels, each input hop, each output read-back
(the parent read, the child written), the compute phase, each output drain (the child read, the parent written);
a transfer's read and write run side by side) processes the tiles of every layer pass in program order (pass, then
tile). A stage starts when the tile has finished its previous stage, its engine and each of its ports are free
and at this operation in their program order (tile, then stage), for a weight or input hop when its destination
has a free slot for that operand (freed when the stage that reads the tile there finishes), for a read-back when
its child has a free output slot (freed when the tile's drain to that parent finishes), and, for the pass's first
read of the activations' home (its first input hop, else its compute), when every tile of the earlier passes has
finished. So the next pass's weight hops run while the current pass computes.

Gibbs (stepped_gibbs_cycles): each colour block's rounds through a load engine and a compute engine, the blocks
one after another (a block reads the states the previous one wrote), every sweep of every chain stepped."""
import numpy as np

from .. import ops
from ..hw.memory import READ, WRITE, assign_ports
from ..ops.base import words as _words
from . import colour_block


class _Transfer:
    """latency cycles, then every bank serves its own queue of words, one word every `occupancy` cycles, all
    banks side by side. The queues are filled word by word: word address a goes to bank a mod banks. runs:
    (first word address, words, times), each run's consecutive words accessed `times` times."""

    def __init__(self, runs, latency, banks, occupancy):
        self.wait, self.occ = latency, occupancy
        self.queue = {}  # bank -> [words waiting, cycles spent on the word being served]
        for address, words, times in runs:
            for _ in range(times):
                for a in range(address, address + words):
                    self.queue.setdefault(a % banks, [0, 0])[0] += 1
        if not self.queue:
            self.wait = 0
        elif occupancy == 0:  # combinational register file: the words move without occupying a cycle
            self.queue = {}

    def done(self):
        return self.wait == 0 and not self.queue

    def step(self):
        if self.wait:
            self.wait -= 1
            return
        for bank, served in list(self.queue.items()):
            served[1] += 1
            if served[1] == self.occ:
                served[0], served[1] = served[0] - 1, 0
                if served[0] == 0:
                    del self.queue[bank]


def _mem_transfer(spec, action, words):
    """`words` consecutive words. From word 0: where a single run starts does not change its cycles (its
    busiest bank serves ceil(words / banks) words wherever it starts; the tests draw random addresses)."""
    latency = spec.read_latency_cycles if action == READ else spec.write_latency_cycles
    return _Transfer(((0, words, 1),), latency, spec.banks, spec.occupancy_cycles)


class _Hop:
    """A tile leaving one level and entering another at once: its read there and its write here run side by
    side (a weight or input hop, an output read-back or drain)."""

    def __init__(self, parts):
        self.parts = parts

    def done(self):
        return all(p.done() for p in self.parts)

    def step(self):
        for p in self.parts:
            p.step()


class _Sample:
    """One sample of a compute phase: read latency, then the input stream, the accumulation (one pass per input
    bit when bit-serial) and the RNGs' random bits side by side, then the neuron latency, then the output write."""

    def __init__(self, arch, src, dst, in_words, readers, n, passes, random_bits, out_words, neuron_cycles,
                 back_words=0):
        self.wait = src.read_latency_cycles
        # after the wait above: `readers` units each read their own copy of one input row (level src), then the
        # partial sums read back (back_words, level dst), a second stream (with dst's latency when dst is not src)
        back_wait = 0 if dst.name == src.name else dst.read_latency_cycles
        self.streams = [_Transfer(((0, in_words // readers, readers),), 0, src.banks, src.occupancy_cycles),
                        _Transfer(((0, back_words, 1),), back_wait, dst.banks, dst.occupancy_cycles)]
        self.n, self.inputs, self.passes, self.per_cycle = n, n, passes, arch.synapse.inputs_per_cycle
        self.random_bits, self.rng_rate = random_bits, arch.rng.count * arch.rng.bits_per_cycle
        self.neuron = neuron_cycles
        self.write = _mem_transfer(dst, WRITE, out_words)
        self.ticks = 0  # a sample occupies at least one cycle, even when every part of it is combinational

    def _accumulating(self):
        return not all(t.done() for t in self.streams) or self.inputs or self.random_bits

    def done(self):
        return self.ticks > 0 and self.wait == 0 and not self._accumulating() and self.neuron == 0 and \
            self.write.done()

    def step(self):
        self.ticks += 1
        if self.wait:
            self.wait -= 1
        elif self._accumulating():
            for stream in self.streams:  # one after another
                if not stream.done():
                    stream.step()
                    break
            self.random_bits = max(0, self.random_bits - self.rng_rate)
            if self.inputs:
                self.inputs = max(0, self.inputs - self.per_cycle)
                if self.inputs == 0 and self.passes > 1:
                    self.passes -= 1
                    self.inputs = self.n
        elif self.neuron:
            self.neuron -= 1
        else:
            self.write.step()


class _Compute:
    """The tile's samples (x positions), or its accumulator residencies, one after another: [(make, count)]."""

    def __init__(self, kinds):
        self.queue = [make for make, count in kinds for _ in range(count)]
        self.current = self.queue.pop(0)() if self.queue else None

    def done(self):
        return self.current is None

    def step(self):
        self.current.step()
        if self.current.done():
            self.current = self.queue.pop(0)() if self.queue else None


def _moves_words(spec, moves):
    return sum(_words(b, spec.word_bits, r) for r, b in moves)


def _hop(arch, lp, tile, k):
    """Stage k (not compute) of a tile: the transactions it runs side by side."""
    w, i, c = len(lp.hops), len(lp.in_hops), len(lp.hops) + len(lp.in_hops) + len(lp.out_hops)
    if k < w:
        src, dst = lp.hops[k]
        moves = tile.moves[k]  # only layers with weights have hops
        write = dst is not None and not (lp.feed and k == w - 1)  # else the synapses read the source
    elif k < w + i:
        (src, dst), moves, write = lp.in_hops[k - w], tile.in_moves[k - w], True
    elif k < c:  # read-backs, outermost link first: the parent read, the child written
        link = c - 1 - k
        (dst, src), moves, write = lp.out_hops[link], tile.readbacks[link], True
    else:  # drains, innermost link first: the child read, the parent written
        link = k - c - 1
        (src, dst), moves, write = lp.out_hops[link], tile.drains[link], True
    source = arch.level(src)
    parts = [_mem_transfer(source, READ, _moves_words(source, moves))]
    if write:
        dest = arch.level(dst)
        parts.append(_mem_transfer(dest, WRITE, _moves_words(dest, moves)))
    return _Hop(parts)


def _compute(arch, lp, tile):
    """The tile's compute phase: the samples its operation describes (ops/), one after another."""
    src, dst = arch.level(lp.in_level), arch.level(lp.out_level)
    return _Compute([((lambda a=args: _Sample(arch, src, dst, *a)), count)
                     for args, count in ops.of(lp).stepped_samples(arch, lp, tile)])


def _port_needs(lp):
    needs = []
    for k, (src, dst) in enumerate(lp.hops):
        needs.append((k, src, READ))
        if dst is not None and not (k == len(lp.hops) - 1 and lp.feed):
            needs.append((k, dst, WRITE))
    k = len(lp.hops)
    for src, dst in lp.in_hops:
        needs += [(k, src, READ), (k, dst, WRITE)]
        k += 1
    for child, parent in lp.out_hops[::-1]:
        needs += [(k, parent, READ), (k, child, WRITE)]
        k += 1
    needs += [(k, lp.in_level, READ), (k, lp.out_level, WRITE)]
    if lp.in_level != lp.out_level:
        needs.append((k, lp.out_level, READ))
    for j, (child, parent) in enumerate(lp.out_hops):
        needs += [(k + 1 + j, child, READ), (k + 1 + j, parent, WRITE)]
    return needs


def _shape(arch, lp):
    """A pass's stages: [(engine, slot pool it takes or None, the pool's slots, ports, the stage freeing the
    slot, first read of the activations' home?)] in stage order (engine/stepped module docstring)."""
    w, i, n = len(lp.hops), len(lp.in_hops), len(lp.out_hops)
    c = w + i + n
    ports = assign_ports({lv.name: lv for lv in arch.levels}, _port_needs(lp))
    uses = [tuple((name, kind, k) for name, kind, k, users in ports if s in users) for s in range(c + 1 + n)]
    out = [(("hop", src, dst), ("weights", dst), arch.level(dst).slots if dst is not None else 1, uses[k],
            k + 1 if k + 1 < w else c, False) for k, (src, dst) in enumerate(lp.hops)]
    out += [(("in", src, dst), ("inputs", dst), arch.level(dst).slots, uses[w + k], w + k + 1 if k + 1 < i else c,
             k == 0) for k, (src, dst) in enumerate(lp.in_hops)]
    for j in range(n):  # read-back stages, outermost link first
        child, parent = lp.out_hops[n - 1 - j]
        out.append((("back", parent, child), ("outputs", child), arch.level(child).slots, uses[w + i + j],
                    c + 1 + (n - 1 - j), False))
    out.append(("compute", None, 0, uses[c], None, i == 0))
    out += [(("drain", child, parent), None, 0, uses[c + 1 + j], None, False)
            for j, (child, parent) in enumerate(lp.out_hops)]
    return out


def _program(arch, plan):
    """Every tile of every pass in program order, each with its pass and its stages (_shape)."""
    out, shapes = [], {}
    for pass_id, (_, lp, tiles) in enumerate(plan.passes()):
        if lp.index not in shapes:
            shapes[lp.index] = _shape(arch, lp)
        out.extend((lp, tile, shapes[lp.index], pass_id) for tile in tiles)
    return out


def stepped_cycles(arch, plan):
    """Total cycles of a planned run, one cycle at a time: every pass's tiles in program order through the
    transfer engines and the compute engine, passes overlapping where the slots allow (only a pass's first read of
    the activations' home waits for the earlier passes)."""
    program = _program(arch, plan)
    order = {}  # engine or port -> its operations (tile, stage) in program order
    engines = []
    open_tiles = {}  # pass -> its tiles not finished
    for _, _, _, pass_id in program:
        open_tiles[pass_id] = open_tiles.get(pass_id, 0) + 1
    for i, (_, _, stages, _) in enumerate(program):
        for s, (engine, _, _, ports, _, _) in enumerate(stages):
            if engine not in order:
                engines.append(engine)
            for key in (engine,) + ports:
                order.setdefault(key, []).append((i, s))
    at = dict.fromkeys(order, 0)          # index of each engine's and port's next operation
    resident = {}                         # level -> tiles holding one of its slots
    finished = [[False] * len(st) for _, _, st, _ in program]
    running = {}                          # engine -> (tile, stage, work)
    left = len(program)
    t = 0

    def ready(i, s):
        engine, level, capacity, ports, _, first_read = program[i][2][s]
        if s and not finished[i][s - 1]:
            return False
        if level is not None and resident.get(level, 0) >= capacity:
            return False
        if first_read and any(n for p, n in open_tiles.items() if p < program[i][3]):
            return False
        return all(order[k][at[k]] == (i, s) for k in (engine,) + ports)

    while left:
        progressed = True
        while progressed:  # settle every transition that happens at cycle t
            progressed = False
            for engine, (i, s, work) in list(running.items()):
                if work.done():
                    del running[engine]
                    finished[i][s], progressed = True, True
                    stages = program[i][2]
                    for r in range(s):
                        if stages[r][4] == s:
                            resident[stages[r][1]] -= 1  # the tile has left the slot stage r took
                    for k in (engine,) + stages[s][3]:
                        at[k] += 1
                    if s == len(stages) - 1:
                        left -= 1
                        open_tiles[program[i][3]] -= 1
            for engine in engines:
                ops = order[engine]
                if engine not in running and at[engine] < len(ops) and ready(*ops[at[engine]]):
                    i, s = ops[at[engine]]
                    lp, tile, stages, _ = program[i]
                    level = stages[s][1]
                    if level is not None:
                        resident[level] = resident.get(level, 0) + 1
                    work = _compute(arch, lp, tile) if stages[s][0] == "compute" else _hop(arch, lp, tile, s)
                    running[engine], progressed = (i, s, work), True
        if not left:
            break
        for _, _, work in running.values():
            work.step()
        t += 1
    return t


# ---- Gibbs: the colour-block update ----------------------------------------------------------------------------

class _Done:
    """A phase that moves nothing: it takes no cycle."""

    @staticmethod
    def done():
        return True

    def step(self):
        pass


def _coupling_words(spec, row_bits):
    """Words of a set of coupling rows at a level, each row starting on a word boundary."""
    return sum(_words(int(b), spec.word_bits) for b in row_bits)


def _coupling_memory(arch):
    """The level the couplings are read from: the one outside the innermost coupling level, if any."""
    holders = arch.holders("couplings")
    return holders[-2] if len(holders) > 1 else holders[-1]


def _round_work(arch, bm, memory, nodes, stationary):
    """(load, compute) makers of one round: the coupling rows read from the coupling memory when they are not
    stationary; the colour block's compute (engine/colour_block.stepped_samples)."""
    degrees = np.bincount(bm.edges.reshape(-1), minlength=bm.n)[nodes]
    row_bits = degrees * bm.spec.coupling_bits + bm.spec.bias_bits
    act = arch.holders("states")[-1]

    def load():
        return _Done() if stationary else _mem_transfer(memory, READ, _coupling_words(memory, row_bits))

    def compute():
        return _Compute([((lambda a=args: _Sample(arch, act, act, *a)), count)
                         for args, count in colour_block.stepped_samples(arch, degrees)])
    return load, compute


def _step_block(rounds, slots):
    """Cycles of one colour block alone, stepped: one load engine and one compute engine take the rounds in
    order; a load needs a free slot of the coupling buffer, held until its round has computed; a round computes
    once it is loaded and the previous round has computed."""
    n, t = len(rounds), 0
    loads_started = computes_started = computed = held = 0
    load = compute = None
    while computed < n:
        progressed = True
        while progressed:  # settle every transition at cycle t
            progressed = False
            if load is not None and load.done():
                load, progressed = None, True
            if compute is not None and compute.done():
                compute, computed, held, progressed = None, computed + 1, held - 1, True
            if load is None and loads_started < n and held < slots:
                load, loads_started, held, progressed = rounds[loads_started][0](), loads_started + 1, held + 1, True
            loaded = loads_started - (load is not None)
            if compute is None and computes_started < loaded:
                compute, computes_started, progressed = rounds[computes_started][1](), computes_started + 1, True
        if computed == n:
            break
        for work in (load, compute):
            if work is not None:
                work.step()
        t += 1
    return t


def _step(work):
    t = 0
    while not work.done():
        work.step()
        t += 1
    return t


def stepped_gibbs_cycles(arch, plan):
    """Total cycles of a Boltzmann or DTM run (engine/colour_block.GibbsPlan: its stages' rounds and whether their
    couplings are stationary), one cycle at a time: per stage, the stationary couplings' read from the coupling
    memory, then every sweep of every chain steps each colour block alone (the next block reads its states)."""
    buffer = arch.holders("couplings")[-1]
    slots = 2 if buffer.double_buffered else 1
    memory = _coupling_memory(arch)
    t = 0
    for bm, sp in zip(plan.machines, plan.stages):
        degrees = np.bincount(bm.edges.reshape(-1), minlength=bm.n)
        updated = np.concatenate([r for rounds in sp.rounds for r in rounds]) if any(sp.rounds) else \
            np.zeros(0, np.int64)
        if sp.stationary:
            rows = degrees[updated] * bm.spec.coupling_bits + bm.spec.bias_bits
            t += _step(_mem_transfer(memory, READ, _coupling_words(memory, rows)))
        blocks = [[_round_work(arch, bm, memory, r, sp.stationary) for r in rounds] for rounds in sp.rounds]
        for _ in range(bm.spec.sweeps * bm.spec.chains):
            for rounds in blocks:
                t += _step_block(rounds, slots)
    return t
