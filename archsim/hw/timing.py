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
- A transfer of a tile between two levels (hop_cycles) reads the source and writes the destination at once: it
  takes the longer of the two transactions. A weight or input hop reads the parent and writes the child (the
  destination's write is 0 when weights go straight to the synapses); an output read-back reads the parent and
  writes the child (partial sums); an output drain reads the child and writes the parent.
- A tile's compute phase processes its samples one after another. One sample: the activation-read stream
  (read latency, then its words), the synapse units consuming `inputs_per_cycle` inputs per cycle (one pass
  per input bit for bit-serial accumulate synapses) and the RNGs producing the sample's random bits run side by
  side; the sample's accumulation ends when all three are done. Then the neurons take `latency_cycles`, then the
  outputs are written (a write transaction). A sample takes at least one cycle.
- Every layer pass (one item through one layer) sends its tiles, in program order (pass, then tile), through one
  pipeline of engines, one engine per stage: the weight hops (a tile moves its weights through every weight
  level inside their home, one hop per level), the input hops (when inputs are kept at several levels: the
  child's input tile read from its parent and written to it, outermost first), the output read-backs (partial
  sums read from the parent into the child before the child's output tile resumes, outermost first), the compute
  engine, then the output drains (the child's output tile read there and written to its parent, innermost
  first). Each engine serves its tiles in program order, one at a time; a stage of a tile that moves nothing
  there takes 0 cycles but keeps its place in that order. A weight or input hop needs a free slot for its
  operand at its destination (2 when the level is double-buffered, else 1; the synapses, when a hop feeds them
  directly, hold one tile), held until the tile has left that level: the end of the stage that reads it there (the
  next hop of that operand, or compute). A read-back takes the tile's output slot at the child, held until the tile's
  drain to that parent ends (the output tile stays at the inner level until drained). A stage that shares a port with
  another stage waits for that port: ports serve their stages in program order (tile, then stage). A pooling tile
  moves no weights: at the activations' home it uses the compute engine only; staged (ops/pool.py) its band takes the
  input hops, the read-back stages (moving nothing, holding its output slot until drained), compute and the drains as
  above.
- Layers overlap where the buffers allow. The next pass's weight tiles are fetched into free slots while the
  current pass computes; only its first read of the activations' home waits for the previous pass to end (its
  first input hop, or its compute when it reads the inputs at their home), since it reads what the previous pass
  wrote there (its last compute, or its last drain). Without input hops and drains this is exactly the in-order
  compute engine's order (a pass's first compute starts after the previous pass's last compute).
- A run of consecutive tiles with the same stages and the same cycles is scheduled at once (Pipeline.run): the
  recurrence is max-plus linear in the pipeline's state (the end of each engine's and port's last operation and
  the leave times of the tiles holding a level's slots), so once one tile's state is the previous one's shifted
  by a constant, every further tile of the run shifts it by the same constant.
"""
from collections import deque
from typing import NamedTuple, Optional


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


class Stage(NamedTuple):
    """One stage of the pipeline's tiles: the engine serving it, the level (key) whose slot it takes (None: none)
    and that level's slots, the ports it uses, the stage whose end frees the slot (None: the next one) and whether
    it waits for the previous pass to end."""
    engine: object
    level: object
    slots: int
    ports: tuple
    release: Optional[int] = None
    waits_pass: bool = False

    def release_at(self, s):
        """The stage whose end frees the slot this stage (stage s of its tile) takes."""
        return s + 1 if self.release is None else self.release


class Pipeline:
    """The in-order pipeline every layer pass's tiles go through, one tile after another (the rules above).
    Stages are Stage: hops fill a level, compute none. Times are exact integers; `end` is the end of the last
    stage scheduled; next_pass() marks a pass boundary."""

    def __init__(self):
        self.engine_free = {}  # engine -> end of its last stage
        self.port_free = {}    # port -> end of its last operation
        self.resident = {}     # level -> leave times of the tiles holding its slots, oldest first
        self.end = 0
        self.pass_start = 0    # end of the previous pass: its stages marked to wait start no earlier

    def next_pass(self):
        """The tiles added from now on belong to a new pass (every earlier stage ends by self.end)."""
        self.pass_start = self.end

    def add(self, stages, row):
        """Schedule one tile whose stage s takes row[s] cycles; returns its stage end times."""
        ends, t = [], 0
        for (engine, level, slots, ports, _, waits), d in zip(stages, row):
            start = max(t, self.engine_free.get(engine, 0))
            if waits:
                start = max(start, self.pass_start)
            for p in ports:
                start = max(start, self.port_free.get(p, 0))
            if level is not None:
                held = self.resident.setdefault(level, deque())
                if len(held) >= slots:
                    start = max(start, held.popleft())
            t = start + d
            self.engine_free[engine] = t
            for p in ports:
                self.port_free[p] = t
            ends.append(t)
        for s, stage in enumerate(stages):
            if stage.level is not None:
                self.resident[stage.level].append(ends[stage.release_at(s)])  # the tile leaves the level
        self.end = max(self.end, t)
        return ends

    def _state(self, stages):
        engines = [self.engine_free[st.engine] for st in stages]
        ports = [self.port_free[p] for st in stages for p in st.ports]
        held = [tuple(self.resident[st.level]) for st in stages if st.level is not None]
        return engines + ports + [t for h in held for t in h], [len(h) for h in held]

    def _shift(self, stages, cycles):
        for engine in {st.engine for st in stages}:
            self.engine_free[engine] += cycles
        for p in {p for st in stages for p in st.ports}:
            self.port_free[p] += cycles
        for level in {st.level for st in stages if st.level is not None}:
            self.resident[level] = deque(t + cycles for t in self.resident[level])
        self.end = max(self.end, self.engine_free[stages[-1].engine])

    def run(self, stages, row, count):
        """Schedule `count` consecutive tiles with the same stages and cycles: one at a time until one tile
        shifts the state by exactly the previous tile's shift, then every remaining tile at once (max-plus
        linearity: the same state shifted by c gives the same schedule shifted by c; the pass boundary a stage may
        wait for binds only the first tile of a pass, whose engine every later tile of the run waits for)."""
        before = None
        for i in range(count):
            self.add(stages, row)
            now = self._state(stages)
            if before is not None and now[1] == before[1]:
                shift = now[0][0] - before[0][0]
                if all(a - b == shift for a, b in zip(now[0], before[0])):
                    self._shift(stages, (count - 1 - i) * shift)
                    return
            before = now


def pipeline(durations, slots, port_stages):
    """Finish time of one pass alone. durations[j][s]: tile j at stage s (hops 0..S-2, then compute S-1);
    slots[s] (s < S-1): slots of hop s's destination; port_stages: for each port, the set of stages using it."""
    if not durations:
        return 0
    S = len(durations[0])
    ports = [tuple(p for p, users in enumerate(port_stages) if s in users) for s in range(S)]
    stages = [Stage(s, s, slots[s], ports[s]) for s in range(S - 1)] + [Stage(S - 1, None, 0, ports[S - 1])]
    p = Pipeline()
    for row in durations:
        p.add(stages, row)
    return p.end


def flow_shop(loads, computes, slots):
    """Finish time of an in-order two-stage pipeline (load, compute) with `slots` buffer slots."""
    return pipeline([[ld, c] for ld, c in zip(loads, computes)], [slots], [])
