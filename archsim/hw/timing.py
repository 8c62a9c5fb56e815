"""Pure timing arithmetic of the micro-architecture, shared by the components, the event model's durations and
the pipeline recurrence; one definition each.

The micro-architecture (also stepped cycle by cycle in engine/stepped.py, an independent check):
- A memory transaction: `latency` cycles, then its words stream out of the level's `banks` banks, each bank
  serving one word every `occupancy` cycles, all banks at once: latency + (the most words any one bank serves)
  x occupancy (latency only for a combinational register file, occupancy 0; a DRAM's occupancy follows from
  its bandwidth and the clock). Banks are word-interleaved: word address a is on bank a mod banks. The words
  of a transaction are runs of consecutive word addresses, each read or written `times` times (the synapse
  units each reading their own copy of one input row: every copy occupies the banks again). One run of w words
  puts ceil(w / banks) words on its busiest bank wherever it starts, so a contiguous stream costs
  latency + ceil(words / banks) x occupancy; a row read by several units whose word count is not a multiple
  of the banks, or runs that overlap in banks (a gather), pay conflicts.
- A transfer of a weight tile from one level to the next (a hop) reads the source and writes the destination
  at once: it takes the longer of the two transactions (the destination's write is 0 when the tile goes
  straight to the synapses).
- A tile's compute phase processes its samples one after another. One sample: the activation-read stream
  (read latency, then its words), the synapse units consuming `inputs_per_cycle` inputs per cycle (one pass
  per input bit for bit-serial accumulate synapses) and the RNGs producing the sample's random bits run side by
  side; the sample's accumulation ends when all three are done. Then the neurons take `latency_cycles`, then the
  outputs are written (a write transaction). A sample takes at least one cycle.
- The tiles of one layer pass go in order through the stages: one hop per weight level inside the home level,
  then compute. A hop needs a free slot at its destination (2 when double-buffered, else 1), held until the
  tile has left that level (the end of the next stage). A stage that shares a port with another stage waits
  for that port: ports serve their stages in program order (tile, then stage).
"""


def ceil_div(a, b):
    return -(-a // b)


def bank_words(runs, banks):
    """The most words any one bank serves in a transaction. runs: (first word address, words, times): `words`
    consecutive word addresses, each accessed `times` times. A run gives every bank words // banks words, and
    one more to the words % banks banks from its first address's bank on (a circular interval); the busiest
    bank is the full share plus the deepest overlap of those intervals (a sweep over their ends)."""
    full, ends = 0, []
    for address, words, times in runs:
        share, rest = divmod(words, banks)
        full += share * times
        if rest:
            first = address % banks
            last = first + rest
            pieces = [(first, last)] if last <= banks else [(first, banks), (0, last - banks)]
            for lo, hi in pieces:
                ends += [(lo, times), (hi, -times)]
    deepest = depth = 0
    for _, change in sorted(ends):  # at one bank, intervals ending there (-) before those starting (+)
        depth += change
        deepest = max(deepest, depth)
    return full + deepest


def transfer_cycles(runs, latency, banks, occupancy):
    """Cycles of one transaction whose words are `runs` (see bank_words); 0 when it moves no word."""
    busiest = bank_words(runs, banks)
    return latency + busiest * occupancy if busiest else 0


def hop_cycles(read, write):
    """A tile moving between two levels: the source's read and the destination's write overlap."""
    return max(read, write)


def accumulate_cycles(n_inputs, inputs_per_cycle, passes=1):
    """Synapse cycles of one sample: `passes` bit-serial passes (1 for MACs and 1-bit inputs)."""
    return passes * ceil_div(n_inputs, inputs_per_cycle)


def rng_cycles(random_bits, rngs, bits_per_cycle):
    """Cycles for the RNGs to produce `random_bits` bits."""
    return ceil_div(random_bits, rngs * bits_per_cycle)


def sample_cycles(read_latency, read_stream, accumulate, rng, neuron_latency, write):
    """One sample of a compute phase: max(read stream, accumulation, RNG) after the read latency, then neuron,
    write; at least one cycle, the clock edge that registers its outputs (all-combinational cells still take
    one)."""
    return max(1, read_latency + max(read_stream, accumulate, rng) + neuron_latency + write)


def pipeline(durations, slots, port_stages):
    """Finish time of an in-order pipeline. durations[j][s]: tile j at stage s (hops 0..S-2, then compute
    S-1); slots[s] (s < S-1): slots of hop s's destination, held from the start of hop s to the end of stage
    s+1; port_stages: for each port, the set of stages using it (served in (tile, stage) order)."""
    if not durations:
        return 0
    stages = len(durations[0])
    uses = [[p for p, users in enumerate(port_stages) if s in users] for s in range(stages)]
    port_free = [0] * len(port_stages)
    end = []
    for j, row in enumerate(durations):
        ends = []
        for s, d in enumerate(row):
            start = max(ends[s - 1] if s else 0, end[j - 1][s] if j else 0)
            if s < stages - 1 and j >= slots[s]:
                start = max(start, end[j - slots[s]][s + 1])
            start = max([start] + [port_free[p] for p in uses[s]])
            ends.append(start + d)
            for p in uses[s]:
                port_free[p] = ends[s]
        end.append(ends)
    return end[-1][-1]


def flow_shop(loads, computes, slots):
    """Finish time of an in-order two-stage pipeline (load, compute) with `slots` buffer slots."""
    return pipeline([[ld, c] for ld, c in zip(loads, computes)], [slots], [])
