"""The accelerator: composes the memories, buffer, synapse units and neurons; turns one tile's load and compute
phases into component calls (which count) and returns the phase's cycles."""
import numpy as np

from .memory import Memory
from .units import NeuronArray, SynapseArray, WeightBuffer


class Accelerator:
    def __init__(self, arch, ledger):
        self.arch = arch
        self.weight_mem = Memory("weight_mem", arch.weight_mem, ledger)
        self.act_mem = Memory("act_mem", arch.act_mem, ledger)
        self.buffer = WeightBuffer(arch.weight_buffer, ledger)
        self.synapse = SynapseArray(arch.synapse, ledger)
        self.neuron = NeuronArray(arch.neuron, ledger)

    def load(self, tile, lp):
        """Weight memory -> weight buffer (samples inner) or straight to the synapses (samples outer)."""
        g, row = tile.outputs, lp.n * lp.bw
        cycles = self.weight_mem.read(lp.index, g * row, self.weight_mem.words(row, g))
        if lp.loop_order == "samples_inner":
            self.buffer.fill(lp.index, g * row)
        return cycles

    def compute(self, tile, lp, x_rows):
        """All samples of the tile: activation reads, synapse accumulation, neurons, activation writes.
        x_rows: the tile's input activations, one row per sample (needed for data-dependent adds)."""
        g, S, layer = tile.outputs, tile.samples, lp.index
        readers = 1 if self.arch.mapping.input_broadcast else g
        in_words = self.act_mem.words(lp.n * lp.ba_in, readers)
        out_words = self.act_mem.words(g * lp.ba_out)
        read = self.act_mem.read(layer, readers * lp.n * lp.ba_in, in_words, repeat=S)
        if lp.loop_order == "samples_inner":
            self.buffer.serve(layer, S * g * lp.n * lp.bw)
        n_ops = g * int(np.count_nonzero(x_rows)) if lp.op == "adds" else S * g * lp.n
        acc = self.synapse.run(layer, lp.n, S * g, lp.op, n_ops)
        neuron = self.neuron.fire(layer, S * g, lp.stochastic)
        write = self.act_mem.write(layer, g * lp.ba_out, out_words, repeat=S)
        latency = self.act_mem.spec.read_latency_cycles
        return S * (max(read, latency + acc) + neuron + write)
