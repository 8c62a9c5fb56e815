"""Datapath components: the synapse units, the neurons, the RNGs they share, and the pooling unit."""
import numpy as np

from .timing import accumulate_cycles, rng_cycles


def selected_inputs(x, bits):
    """Inputs that select a weight: the set bits of each input's `bits`-bit two's-complement code (one add per
    set bit: bit-serial passes for multi-bit inputs; for 1-bit inputs, the ones)."""
    if bits == 1:
        return int(np.count_nonzero(x))
    return int(np.bitwise_count(np.asarray(x, np.int64) & ((1 << bits) - 1)).sum())


class SynapseArray:
    name = "synapse"

    def __init__(self, spec, ledger):
        self.spec, self.ledger = spec, ledger

    def run(self, layer, n_inputs, unit_samples, op, n_ops, passes=1):
        """unit_samples = units x samples evaluated; op 'adds' (accumulate-only, `passes` bit-serial passes) or
        'macs'. Returns the cycles of one sample's accumulation (units work in parallel)."""
        self.ledger.add(layer, self.name, "samples", unit_samples)
        self.ledger.add(layer, self.name, op, n_ops)
        return accumulate_cycles(n_inputs, self.spec.inputs_per_cycle, passes)


class RngArray:
    """The RNGs: `count` units of `bits_per_cycle` bits each, shared by the neurons."""
    name = "rng"

    def __init__(self, spec, ledger):
        self.spec, self.ledger = spec, ledger

    def draw(self, layer, draws, repeat=1):
        """Count `repeat` x `draws` draws; return the cycles the RNGs take to produce one repeat's bits."""
        bits = draws * self.spec.bits_per_draw
        self.ledger.add(layer, self.name, "draws", repeat * draws)
        self.ledger.add(layer, self.name, "bits", repeat * bits)
        return rng_cycles(bits, self.spec.count, self.spec.bits_per_cycle)


class NeuronArray:
    name = "neuron"

    def __init__(self, spec, ledger):
        self.spec, self.ledger = spec, ledger

    def fire(self, layer, evaluations):
        """Count neuron evaluations; return the neuron latency."""
        self.ledger.add(layer, self.name, "samples", evaluations)
        return self.spec.latency_cycles


class PoolUnit:
    """Max/sum pooling: one compare or add per window element beyond the first."""
    name = "pool"

    def __init__(self, ledger):
        self.ledger = ledger

    def reduce(self, layer, ops):
        self.ledger.add(layer, self.name, "ops", ops)
