"""A cycle-stepped reference of the micro-architecture (small cases only): a plain loop that advances one
cycle at a time, moving words and inputs, with no closed-form timing. It shares no arithmetic with hw/timing.py
and the event model; tests require the same total cycles from all three.

Each layer pass (one item through one layer) runs to completion before the next (barrier). Inside a pass, a
load engine (weight memory -> buffer) and a compute engine process the tiles in order; a load needs a free
buffer slot, freed when that tile's compute ends."""


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


class _Sample:
    """One sample of a compute phase: read latency, then the input stream and the accumulation side by side,
    then the neuron latency, then the output write."""

    def __init__(self, arch, in_words, n, out_words, neuron_cycles):
        a = arch.act_mem
        self.wait = a.read_latency_cycles
        self.stream = _Transfer(in_words, 0, a.banks, a.cycles_per_access)
        self.inputs, self.per_cycle = n, arch.synapse.inputs_per_cycle
        self.neuron = neuron_cycles
        self.write = _Transfer(out_words, a.write_latency_cycles, a.banks, a.cycles_per_access)
        self.ticks = 0  # a sample occupies at least one cycle, even when every part of it is combinational

    def done(self):
        return self.ticks > 0 and self.wait == 0 and self.stream.done() and self.inputs == 0 and \
            self.neuron == 0 and self.write.done()

    def step(self):
        self.ticks += 1
        if self.wait:
            self.wait -= 1
        elif not self.stream.done() or self.inputs:
            self.stream.step()
            self.inputs = max(0, self.inputs - self.per_cycle)
        elif self.neuron:
            self.neuron -= 1
        else:
            self.write.step()


def _ceil(a, b):
    return -(-a // b)


def _tile_work(arch, lp, tile):
    """(weight words to load, input words, inputs, output words, neuron cycles) of one (sample, position)."""
    W = arch.act_mem.word_bits
    if not lp.is_eo:  # pooling: read every window element, no weights, no accumulation, no neuron
        outputs = lp.P * lp.m
        return 0, _ceil(outputs * lp.kernel ** 2 * lp.ba_in, W), 0, _ceil(outputs * lp.ba_out, W), 0
    g = tile.outputs
    readers = 1 if arch.mapping.input_broadcast else g
    load_words = g * _ceil(lp.row_bits, arch.weight_mem.word_bits)
    return load_words, readers * _ceil(lp.n * lp.ba_in, W), lp.n, _ceil(g * lp.ba_out, W), \
        arch.neuron.latency_cycles


def _repeats(lp, tile):
    return tile.repeats if lp.is_eo else tile.samples


def _pass_cycles(arch, plan, lp, tiles):
    w = arch.weight_mem
    work = [_tile_work(arch, lp, t) for t in tiles]
    k_load = k_comp = comp_done = 0
    load = comp = None
    samples_left = 0
    t = 0
    while comp_done < len(tiles):
        progressed = True
        while progressed:  # settle every transition that happens at cycle t
            progressed = False
            if load is not None and load.done():
                load, k_load, progressed = None, k_load + 1, True
            if load is None and k_load < len(tiles) and k_load - comp_done < plan.slots:
                load, progressed = _Transfer(work[k_load][0], w.read_latency_cycles, w.banks,
                                             w.cycles_per_access), True
            if comp is not None and comp.done():
                samples_left -= 1
                comp, progressed = None, True
                if samples_left == 0:
                    k_comp, comp_done = k_comp + 1, comp_done + 1
                else:
                    comp = _Sample(arch, *work[k_comp][1:])
            if comp is None and k_comp < k_load and samples_left == 0 and k_comp < len(tiles):
                samples_left = _repeats(lp, tiles[k_comp])
                comp, progressed = _Sample(arch, *work[k_comp][1:]), True
        if comp_done == len(tiles):
            break
        if load is not None:
            load.step()
        if comp is not None:
            comp.step()
        t += 1
    return t


def stepped_cycles(arch, plan):
    """Total cycles of a planned run, one cycle at a time."""
    return sum(_pass_cycles(arch, plan, lp, tiles) for _, lp, tiles in plan.passes())
