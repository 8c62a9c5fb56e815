"""The accelerator: composes the memories, buffer, synapse units, neurons and pooling unit; turns one tile's
load and compute phases into component calls (which count) and returns the phase's cycles."""
import numpy as np

from .memory import Memory
from .timing import sample_cycles
from .units import NeuronArray, PoolUnit, SynapseArray, WeightBuffer


class Accelerator:
    def __init__(self, arch, ledger):
        self.arch = arch
        self.weight_mem = Memory("weight_mem", arch.weight_mem, ledger)
        self.act_mem = Memory("act_mem", arch.act_mem, ledger)
        self.buffer = WeightBuffer(arch.weight_buffer, ledger)
        self.synapse = SynapseArray(arch.synapse, ledger)
        self.neuron = NeuronArray(arch.neuron, ledger)
        self.pool_unit = PoolUnit(ledger)
        self.weight_base = {}

    def map_addresses(self, plan):
        """Word addresses: each EO layer's weight rows contiguous in weight memory, in layer order; activation
        memory split in two halves used ping-pong (layer l reads half l % 2, writes the other)."""
        base = 0
        for lp in plan.layers:
            if lp.is_eo:
                self.weight_base[lp.index] = base
                base += self.weight_mem.words(lp.row_bits, lp.m)

    def trace(self, on):
        for mem in (self.weight_mem, self.act_mem):
            mem.pending = [] if on else None

    def take_pending(self):
        out = self.weight_mem.pending + self.act_mem.pending
        self.weight_mem.pending.clear()
        self.act_mem.pending.clear()
        return out

    def _act_region(self, half):
        return half * (self.act_mem.spec.capacity // self.act_mem.spec.word_bits // 2)

    def load(self, tile, lp):
        """Weight memory -> weight buffer (samples inner) or straight to the synapses (samples outer).
        Pooling tiles load nothing."""
        if not lp.is_eo:
            return 0
        g, row = tile.outputs, lp.row_bits
        address = self.weight_base.get(lp.index, 0) + self.weight_mem.words(row, tile.o0)
        cycles = self.weight_mem.read(lp.index, g * row, self.weight_mem.words(row, g), address=address, rows=g)
        if lp.loop_order == "samples_inner":
            self.buffer.fill(lp.index, g * row)
        return cycles

    def compute(self, tile, lp, x_rows):
        """The tile's (sample, position) pairs one after another: activation reads, synapse accumulation,
        neurons, activation writes. x_rows: the tile's kernel input rows (for data-dependent adds)."""
        if not lp.is_eo:
            return self._pool(tile, lp)
        g, reps, layer = tile.outputs, tile.repeats, lp.index
        readers = 1 if self.arch.mapping.input_broadcast else g
        in_words = self.act_mem.words(lp.n * lp.ba_in, readers)
        out_words = self.act_mem.words(g * lp.ba_out)
        first = tile.s0 * lp.P + tile.p0  # the tile's first (sample, position) row within its item
        read = self.act_mem.read(layer, readers * lp.n * lp.ba_in, in_words, repeat=reps, rows=readers,
                                 address=self._act_region(layer % 2) + first * self.act_mem.words(lp.n * lp.ba_in))
        if lp.loop_order == "samples_inner":
            self.buffer.serve(layer, reps * g * lp.row_bits)
        n_ops = g * int(np.count_nonzero(x_rows)) if lp.op == "adds" else reps * g * lp.n
        acc = self.synapse.run(layer, lp.n, reps * g, lp.op, n_ops)
        neuron = self.neuron.fire(layer, reps * g, lp.stochastic)
        write = self.act_mem.write(layer, g * lp.ba_out, out_words, repeat=reps, address=self._act_region(
            (layer + 1) % 2) + first * self.act_mem.words(lp.m * lp.ba_out) + self.act_mem.words(tile.o0 * lp.ba_out))
        latency = self.act_mem.spec.read_latency_cycles
        return reps * sample_cycles(latency, read - latency, acc, neuron, write)

    def _pool(self, tile, lp):
        """Per sample: read every window element of every output (overlapping windows re-read), reduce,
        write the pooled map."""
        window = lp.kernel * lp.kernel
        outputs = lp.P * lp.m
        in_bits, out_bits = outputs * window * lp.ba_in, outputs * lp.ba_out
        read = self.act_mem.read(lp.index, in_bits, self.act_mem.words(in_bits), repeat=tile.samples,
                                 address=self._act_region(lp.index % 2))
        self.pool_unit.reduce(lp.index, tile.samples * outputs * (window - 1))
        write = self.act_mem.write(lp.index, out_bits, self.act_mem.words(out_bits), repeat=tile.samples,
                                   address=self._act_region((lp.index + 1) % 2))
        latency = self.act_mem.spec.read_latency_cycles
        return tile.samples * sample_cycles(latency, read - latency, 0, 0, write)

    # Gibbs sampling: a round updates up to min(synapses, neurons) nodes of one colour in parallel.

    def couplings_load(self, stage, row_bits):
        """Stationary couplings: every updated node's row (its couplings, then its bias) read once into the
        buffer at the start of a stage."""
        words = sum(self.weight_mem.words(int(b)) for b in row_bits)
        cycles = self.weight_mem.read(stage, int(row_bits.sum()), words, rows=len(row_bits))
        self.buffer.fill(stage, int(row_bits.sum()))
        return cycles

    def gibbs_load(self, stage, row_bits, stationary, times=1):
        """Couplings of one round's nodes, re-read from weight memory when they are not stationary."""
        if stationary:
            return 0
        words = sum(self.weight_mem.words(int(b)) for b in row_bits)
        return self.weight_mem.read(stage, int(row_bits.sum()), words, repeat=times, rows=len(row_bits))

    def gibbs_compute(self, stage, row_bits, degrees, stationary, times=1):
        """One round: neighbour spins read (one scattered 1-bit read per neighbour), +-J accumulated (no
        multiplier), one draw and compare per node, the new spins written (one scattered write each)."""
        g, reads = len(degrees), int(degrees.sum())
        read = self.act_mem.read(stage, reads, reads, repeat=times, rows=reads)
        if stationary:
            self.buffer.serve(stage, times * int(row_bits.sum()))
        acc = self.synapse.run(stage, int(degrees.max()) if g else 0, times * g, "adds", times * reads)
        neuron = self.neuron.fire(stage, times * g, True)
        write = self.act_mem.write(stage, g, g, repeat=times, rows=g)
        latency = self.act_mem.spec.read_latency_cycles
        return sample_cycles(latency, read - latency, acc, neuron, write)
