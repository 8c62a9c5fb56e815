"""Datapath components: the weight buffer, the synapse units and the neurons with their RNGs."""
from .timing import accumulate_cycles


class WeightBuffer:
    name = "weight_buf"

    def __init__(self, spec, ledger):
        self.spec, self.ledger = spec, ledger
        self.slots = 2 if spec.double_buffered else 1
        self.slot_bits = spec.capacity // self.slots

    def fill(self, layer, bits):
        self.ledger.add(layer, self.name, "write_bits", bits)

    def serve(self, layer, bits):
        self.ledger.add(layer, self.name, "read_bits", bits)


class SynapseArray:
    name = "synapse"

    def __init__(self, spec, ledger):
        self.spec, self.ledger = spec, ledger

    def run(self, layer, n_inputs, unit_samples, op, n_ops):
        """unit_samples = units x samples evaluated; op 'adds' (accumulate-only) or 'macs'. Returns the cycles
        of one sample's accumulation (units work in parallel)."""
        self.ledger.add(layer, self.name, "samples", unit_samples)
        self.ledger.add(layer, self.name, op, n_ops)
        return accumulate_cycles(n_inputs, self.spec.inputs_per_cycle)


class NeuronArray:
    name = "neuron"

    def __init__(self, spec, ledger):
        self.spec, self.ledger = spec, ledger

    def fire(self, layer, evaluations, stochastic):
        """Count neuron evaluations (and one RNG draw each when stochastic); return the neuron latency."""
        self.ledger.add(layer, self.name, "samples", evaluations)
        if stochastic:
            self.ledger.add(layer, "rng", "draws", evaluations)
            self.ledger.add(layer, "rng", "bits", evaluations * self.spec.rng.bits_per_draw)
        return self.spec.latency_cycles


class PoolUnit:
    """Max/sum pooling: one compare or add per window element beyond the first."""
    name = "pool"

    def __init__(self, ledger):
        self.ledger = ledger

    def reduce(self, layer, ops):
        self.ledger.add(layer, self.name, "ops", ops)
