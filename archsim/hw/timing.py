"""Pure timing arithmetic of the micro-architecture, shared by the components and the flow-shop recurrence.

The micro-architecture (also stepped cycle by cycle in engine/stepped.py, an independent check):
- A memory transaction of `words` words: `latency` cycles, then the words stream over `banks` banks, one word
  per bank every `cycles_per_access` cycles: latency + ceil(words / banks) * cycles_per_access (0 for a
  combinational register file).
- A tile's compute phase processes its samples one after another. One sample: the activation-read stream
  (read latency, then its words) runs concurrently with the synapse units consuming `inputs_per_cycle` inputs
  per cycle; the sample's accumulation ends when both are done. Then the neurons take `latency_cycles`, then
  the outputs are written (a write transaction). A sample takes at least one cycle.
- Tiles of one layer pass go through two in-order stages: load (weight memory -> weight buffer) and compute.
  A load needs a free buffer slot (2 with double buffering, else 1); a slot frees when its tile's compute ends.
"""


def ceil_div(a, b):
    return -(-a // b)


def transfer_cycles(words, latency, banks, cycles_per_access):
    return latency + ceil_div(words, banks) * cycles_per_access if words else 0


def accumulate_cycles(n_inputs, inputs_per_cycle):
    return ceil_div(n_inputs, inputs_per_cycle)


def sample_cycles(read_latency, read_stream, accumulate, neuron_latency, write):
    """One sample of a compute phase: max(read stream, accumulation) after the read latency, then neuron, write;
    at least one cycle, the clock edge that registers its outputs (all-combinational cells still take one)."""
    return max(1, read_latency + max(read_stream, accumulate) + neuron_latency + write)


def flow_shop(loads, computes, slots):
    """Finish time of an in-order two-stage pipeline (load, compute) with `slots` buffer slots."""
    load_end, comp_end = 0, 0
    comp_ends = []
    for k, (load, comp) in enumerate(zip(loads, computes)):
        slot_free = comp_ends[k - slots] if k >= slots else 0
        load_end = max(load_end, slot_free) + load
        comp_end = max(load_end, comp_end) + comp
        comp_ends.append(comp_end)
    return comp_end
