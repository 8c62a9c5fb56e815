"""A cycle-stepped reference of the micro-architecture (small cases only): a plain loop that advances one
cycle at a time, moving words, inputs and random bits, with no closed-form timing. It shares no arithmetic with
hw/timing.py and the event model (it takes only the port assignment, a structural fact, from hw); tests require
the same total cycles from all three.

Each layer pass (one item through one layer) runs to completion before the next (barrier). Inside a pass, one
engine per stage (a transfer engine per hop between memory levels, then the compute engine) processes the tiles
in order. A hop starts when the tile has arrived at its source, its destination has a free slot (freed when the
tile leaves that level) and each of its ports is free and at this operation in its program order (tile, then
stage)."""
from ..hw.memory import READ, WRITE, assign_ports


class _Transfer:
    """latency cycles, then words streamed over banks, one word per bank every `occupancy` cycles."""

    def __init__(self, words, latency, banks, occupancy):
        self.wait, self.words, self.banks, self.occ, self.tick_in_access = latency, words, banks, occupancy, 0
        if words == 0:
            self.wait = 0
        elif occupancy == 0:  # combinational register file: the words move without occupying a cycle
            self.words = 0

    def done(self):
        return self.wait == 0 and self.words == 0

    def step(self):
        if self.wait:
            self.wait -= 1
            return
        if self.words:
            self.tick_in_access += 1
            if self.tick_in_access == self.occ:
                self.words -= min(self.banks, self.words)
                self.tick_in_access = 0


def _mem_transfer(spec, action, words):
    latency = spec.read_latency_cycles if action == READ else spec.write_latency_cycles
    return _Transfer(words, latency, spec.banks, spec.occupancy_cycles)


class _Hop:
    """A tile's weights leaving one level and entering the next at once."""

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

    def __init__(self, arch, act, in_words, n, passes, random_bits, out_words, neuron_cycles):
        self.wait = act.read_latency_cycles
        self.stream = _Transfer(in_words, 0, act.banks, act.occupancy_cycles)  # after the wait above
        self.n, self.inputs, self.passes, self.per_cycle = n, n, passes, arch.synapse.inputs_per_cycle
        self.random_bits, self.rng_rate = random_bits, arch.rng.count * arch.rng.bits_per_cycle
        self.neuron = neuron_cycles
        self.write = _mem_transfer(act, WRITE, out_words)
        self.ticks = 0  # a sample occupies at least one cycle, even when every part of it is combinational

    def _accumulating(self):
        return not self.stream.done() or self.inputs or self.random_bits

    def done(self):
        return self.ticks > 0 and self.wait == 0 and not self._accumulating() and self.neuron == 0 and \
            self.write.done()

    def step(self):
        self.ticks += 1
        if self.wait:
            self.wait -= 1
        elif self._accumulating():
            self.stream.step()
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


def _words(bits, word_bits, rows=1):
    return rows * (-(-bits // word_bits))


def _hop(arch, lp, tile, k):
    src, dst = lp.hops[k]
    moves = tile.moves[k] if lp.is_eo else ()
    source = arch.level(src)
    parts = [_mem_transfer(source, READ, sum(_words(b, source.word_bits, r) for r, b in moves))]
    if dst is not None and not (lp.feed and k == len(lp.hops) - 1):  # else the synapses read the source
        dest = arch.level(dst)
        parts.append(_mem_transfer(dest, WRITE, sum(_words(b, dest.word_bits, r) for r, b in moves)))
    return _Hop(parts)


def _compute(arch, lp, tile):
    act = arch.level(lp.act_level)
    W = act.word_bits
    if not lp.is_eo:  # pooling: read every window element, no weights, no accumulation, no neuron
        outputs = lp.P * lp.m
        args = (_words(outputs * lp.kernel ** 2 * lp.ba_in, W), 0, 1, 0, _words(outputs * lp.ba_out, W), 0)
        return _Compute([(lambda: _Sample(arch, act, *args), tile.samples)])
    g = lp.group
    readers = 1 if arch.mapping.input_broadcast else g
    passes = lp.ba_in if arch.synapse.kind == "accumulate" else 1
    kinds = []
    for rep in tile.reps:  # accumulator residencies: inputs (+ partial sums read back), accumulate, drain
        final = rep.drain == "final"
        in_words = readers * _words(rep.chunk * lp.ba_in, W) + (_words(g * lp.partial_bits, W) if rep.readback
                                                                 else 0)
        random_bits = g * arch.rng.bits_per_draw if final and lp.activation in ("pbit", "noisy") else 0
        out_words = _words(g * (lp.ba_out if final else lp.partial_bits), W) if rep.drain != "none" else 0
        args = (in_words, rep.chunk, passes, random_bits, out_words, arch.neuron.latency_cycles if final else 0)
        kinds.append(((lambda a=args: _Sample(arch, act, *a)), rep.count))
    return _Compute(kinds)


def _port_needs(lp):
    needs = []
    for k, (src, dst) in enumerate(lp.hops):
        needs.append((k, src, READ))
        if dst is not None and not (k == len(lp.hops) - 1 and lp.feed):
            needs.append((k, dst, WRITE))
    S = len(lp.hops)
    return needs + [(S, lp.act_level, READ), (S, lp.act_level, WRITE)]


def _pass_cycles(arch, lp, tiles):
    S = len(lp.hops) + 1
    n = len(tiles)
    ports = [sorted(users) for *_, users in assign_ports({lv.name: lv for lv in arch.levels}, _port_needs(lp))]
    order = [[(j, s) for j in range(n) for s in users] for users in ports]  # each port's program order
    at = [0] * len(ports)
    capacity = [arch.level(dst).slots if dst is not None else 1 for _, dst in lp.hops]
    resident = [0] * (S - 1)
    finished = [[False] * S for _ in range(n)]
    running = [None] * S   # (tile, work) per stage
    nxt = [0] * S          # next tile per stage
    t = 0

    def ready(j, s):
        if s and not finished[j][s - 1]:
            return False
        if s < S - 1 and resident[s] >= capacity[s]:
            return False
        return all(order[p][at[p]] == (j, s) for p, users in enumerate(ports) if s in users)

    while n and not finished[n - 1][S - 1]:
        progressed = True
        while progressed:  # settle every transition that happens at cycle t
            progressed = False
            for s in range(S):
                if running[s] is not None and running[s][1].done():
                    j = running[s][0]
                    finished[j][s], running[s], progressed = True, None, True
                    if s:
                        resident[s - 1] -= 1  # the tile has left the level hop s-1 filled
                    for p, users in enumerate(ports):
                        if s in users:
                            at[p] += 1
                j = nxt[s]
                if running[s] is None and j < n and ready(j, s):
                    work = _hop(arch, lp, tiles[j], s) if s < S - 1 else _compute(arch, lp, tiles[j])
                    if s < S - 1:
                        resident[s] += 1
                    running[s], nxt[s], progressed = (j, work), j + 1, True
        if finished[n - 1][S - 1]:
            break
        for r in running:
            if r is not None:
                r[1].step()
        t += 1
    return t


def stepped_cycles(arch, plan):
    """Total cycles of a planned run, one cycle at a time."""
    return sum(_pass_cycles(arch, lp, tiles) for _, lp, tiles in plan.passes())
