"""Timing of a multi-chip machine: its chips' colour phases and the links between them, as an event model
(SimPy, timing mode) and as a recurrence over the phases (functional mode). Both take the same structural facts
(a Machine: each chip's compute cycles per colour, each link's burst cycles per colour) and must give the same
cycles and delays; tests/test_chips.py also steps the machine cycle by cycle.

The machine. Phases run in the order sweep, chain, colour (as on one chip); phase i updates colour i mod C on
every chip at once, each chip in compute[k, c] f_pbit cycles. A link is one direction between two chips that
share edges: when its sender starts a phase whose colour has boundary nodes the receiver reads, the link
carries their 1-bit states as one burst. Bursts leave in order: a burst starts when its sender's phase starts and
the link has finished serialising the one before. Serialising takes occupy[l, c] f_pbit cycles (width_bits per
link cycle); the burst lands transfer[l, c] f_pbit cycles after its start (serialising, then the link's latency,
which is pipelined: the next burst may serialise while this one is in flight). Both are link_cycles: the link
clock starts with the burst, rounded up to an f_pbit edge. The states stream out as they are computed,
so a burst neither finishes serialising nor lands before its sender's phase has ended.

- wait: a chip starts phase i when its own phase i - 1 is done and the last burst sent before phase i on each
  of its incoming links has landed (FIFO: so has every earlier one). Reads are current (d = 0) and chips run
  ahead of one another only as far as their links allow. The run ends when every chip and link is done.
- stale: a shared phase clock: phase i lasts the slowest chip's compute, nobody waits for links. The receiver
  applies a delivery at a fixed delay: the states of phase p (of one chain) are read from phase p + 1 + d of
  that chain, d the largest lateness of any burst (the number of the chain's phases after p that start before
  the burst lands; a burst landing after the run is never read). When the link keeps up every burst is equally
  late; when it falls behind, lateness grows over the run and d is its largest value (delay_range reports the
  smallest beside it). The run ends with its last phase."""
import bisect
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import simpy


def link_cycles(bits, width_bits, latency_cycles, f_comm_hz, f_pbit_hz):
    """Architecture (f_pbit) cycles for `bits` boundary bits to cross a link from the start of their burst (the
    link clock starts with it): width_bits per link cycle, then its latency, rounded up to the next f_pbit clock
    edge; 0 when nothing crosses. With latency_cycles 0: the cycles the link is busy serialising them."""
    if not bits:
        return 0
    link = -(-bits // width_bits) + latency_cycles
    return int(-(-(link * Fraction(f_pbit_hz)) // Fraction(f_comm_hz)))


@dataclass(frozen=True)
class Machine:
    compute: np.ndarray    # (K, C) int64: f_pbit cycles of chip k's phase of colour c
    links: tuple           # ((sender, receiver), ...): the links that carry anything
    occupy: np.ndarray     # (L, C) int64: f_pbit cycles link l serialises its burst of colour c; 0: no burst
    transfer: np.ndarray   # (L, C) int64: f_pbit cycles from that burst's start to its landing
    chains: int
    sweeps: int
    policy: str            # 'wait' | 'stale'

    @classmethod
    def from_bits(cls, compute, links, bits, width_bits, latency_cycles, f_comm_hz, f_pbit_hz, chains, sweeps,
                  policy):
        """The machine whose link l carries bits[l, c] boundary states in each phase of colour c (links that
        carry nothing, as when every boundary node on them is clamped, are left out)."""
        cycles = np.vectorize(lambda b, lat: link_cycles(int(b), width_bits, lat, f_comm_hz, f_pbit_hz), otypes=[
            np.int64])
        bits = np.asarray(bits, np.int64).reshape(len(links), np.shape(compute)[1])
        used = bits.any(axis=1)
        bits = bits[used]
        return cls(np.asarray(compute, np.int64), tuple(p for p, u in zip(links, used) if u), cycles(bits, 0),
                   cycles(bits, latency_cycles), chains, sweeps, policy)

    @property
    def colours(self):
        return self.compute.shape[1]

    @property
    def phases(self):
        return self.sweeps * self.chains * self.colours

    def own(self, i):
        """(chain, index among that chain's phases) of global phase i."""
        C, H = self.colours, self.chains
        return (i // C) % H, (i // (C * H)) * C + i % C


@dataclass(frozen=True)
class Timing:
    cycles: int            # from the first phase's start to the end of the run
    delay: int             # d of the stale-read kernel (0 for wait)
    delay_range: tuple     # (smallest, largest) lateness of a burst, in the chain's phases


def _stale_delays(m, starts, lands):
    """Lateness of each burst: lands[(l, i)] the landing time of link l's burst of phase i; starts the global
    phases' start times."""
    own_starts = [[] for _ in range(m.chains)]
    for i, t in enumerate(starts):
        own_starts[m.own(i)[0]].append(t)
    late = [bisect.bisect_left(own_starts[m.own(i)[0]], t) - (m.own(i)[1] + 1) for (_, i), t in lands.items()]
    return (min(late), max(late)) if late else (0, 0)


# ---- functional mode: the recurrence -------------------------------------------------------------------------

def _in_links(m):
    """For each chip, the indices of its incoming links."""
    return [np.array([l for l, (_, b) in enumerate(m.links) if b == k], np.int64) for k in range(len(m.compute))]


def _wait_cycle(m, ins, senders, E, free, land, i0):
    """Advance the wait recurrence over the C * chains phases from global phase i0; E (K,) each chip's end of its
    last phase, free (L,) when each link finished serialising, land (L,) its last landing (updated in place)."""
    for i in range(i0, i0 + m.colours * m.chains):
        c = i % m.colours
        S = np.array([max(E[k], land[ins[k]].max(initial=0)) for k in range(len(E))], np.int64)
        E[:] = S + m.compute[:, c]
        for l in np.flatnonzero(m.occupy[:, c]):
            a = senders[l]
            start = max(S[a], free[l])
            free[l] = max(start + m.occupy[l, c], E[a])
            land[l] = max(start + m.transfer[l, c], E[a])


def _wait_recurrence(m):
    K, L = m.compute.shape[0], len(m.links)
    ins, senders = _in_links(m), np.array([a for a, _ in m.links], np.int64)
    E, free, land = np.zeros(K, np.int64), np.zeros(L, np.int64), np.zeros(L, np.int64)
    seen, shift, s = {}, 0, 0
    per = m.colours * m.chains
    while s < m.sweeps:
        _wait_cycle(m, ins, senders, E, free, land, s * per)
        s += 1
        top = int(E.max())
        key = (tuple(E - top), tuple(free - top), tuple(land - top))
        if key in seen and not shift:  # the recurrence repeats (it only shifts in time): skip whole periods
            s0, t0 = seen[key]
            skip = (m.sweeps - s) // (s - s0)
            shift = skip * (top - t0)
            s += skip * (s - s0)
        seen.setdefault(key, (s, top))
    return int(max(E.max(initial=0), land.max(initial=0))) + shift


def _stale_recurrence(m):
    """Phase starts a_j from the shared clock; each link's serialiser by the cumulative-maximum form of
    free_j = max(free_{j-1} + occupy_j, a_j + max(occupy_j, compute_j)), its bursts' starts max(a_j, free_{j-1})
    and landings max(start_j + transfer_j, a_j + compute_j); the lateness by counting the chain's starts."""
    C = m.colours
    length = m.compute.max(axis=0)
    order = np.tile(np.arange(C), m.sweeps * m.chains)
    starts = np.concatenate([[0], np.cumsum(length[order])])
    cycles, starts = int(starts[-1]), starts[:-1]
    chain = (np.arange(m.phases) // C) % m.chains
    own = (np.arange(m.phases) // (C * m.chains)) * C + order
    late = []
    for l, (a, _) in enumerate(m.links):
        i = np.flatnonzero(m.occupy[l, order])
        if not len(i):
            continue
        occ, cs = m.occupy[l, order[i]], m.compute[a, order[i]]
        cum = np.cumsum(occ)
        free = cum + np.maximum.accumulate(starts[i] + np.maximum(occ, cs) - cum)
        begin = np.maximum(starts[i], np.concatenate([[0], free[:-1]]))
        lands = np.maximum(begin + m.transfer[l, order[i]], starts[i] + cs)
        for ch in range(m.chains):
            mine = chain[i] == ch
            own_starts = starts[chain == ch]
            late.append(np.searchsorted(own_starts, lands[mine], "left") - (own[i[mine]] + 1))
    late = np.concatenate(late) if late else np.zeros(1, np.int64)
    return cycles, (int(late.min()), int(late.max()))


def recurrence(m: Machine) -> Timing:
    """The functional mode's timing (no events)."""
    if m.policy == "wait":
        return Timing(_wait_recurrence(m), 0, (0, 0))
    cycles, rng = _stale_recurrence(m)
    return Timing(cycles, rng[1], rng)


# ---- timing mode: the event model ----------------------------------------------------------------------------

class _Events:
    """Named one-shot events made on first use: ('start' | 'done', chip, phase), ('land', link, phase)."""

    def __init__(self, env):
        self.env, self.events = env, {}

    def __call__(self, *key):
        ev = self.events.get(key)
        if ev is None:
            ev = self.events[key] = self.env.event()
        return ev


def simulate(m: Machine) -> Timing:
    """The timing mode's event model: a process per chip (its phases), per link (its bursts, in order) and, for
    stale, the shared phase clock. Events per phase and per burst."""
    env = simpy.Environment()
    ev = _Events(env)
    bursts = [[i for i in range(m.phases) if m.occupy[l, i % m.colours]] for l in range(len(m.links))]
    starts, lands, ends = [], {}, []

    def flight(l, a, i):
        yield env.timeout(int(m.transfer[l, i % m.colours]))
        yield ev("done", a, i)               # its last state is computed
        lands[(l, i)] = env.now
        ev("land", l, i).succeed()

    def link(l):
        """The link's serialiser: one burst after another, each in flight on its own once it starts."""
        a = m.links[l][0]
        for i in bursts[l]:
            yield ev("start", a, i)          # the sender's phase begins (the serialiser is free)
            env.process(flight(l, a, i))
            yield env.timeout(int(m.occupy[l, i % m.colours]))
            yield ev("done", a, i)

    def waiting_chip(k):
        ins = [l for l, (_, b) in enumerate(m.links) if b == k]
        for i in range(m.phases):
            needed = []
            for l in ins:
                j = bisect.bisect_left(bursts[l], i) - 1  # the link's last burst sent before phase i
                if j >= 0:
                    needed.append(ev("land", l, bursts[l][j]))
            yield env.all_of(needed)
            ev("start", k, i).succeed()
            yield env.timeout(int(m.compute[k, i % m.colours]))
            ev("done", k, i).succeed()
        ends.append(env.now)

    def chip_phase(k, i):
        ev("start", k, i).succeed()
        yield env.timeout(int(m.compute[k, i % m.colours]))
        ev("done", k, i).succeed()

    def clock():
        for i in range(m.phases):
            starts.append(env.now)
            yield env.all_of([env.process(chip_phase(k, i)) for k in range(len(m.compute))])
        ends.append(env.now)

    for l in range(len(m.links)):
        env.process(link(l))
    if m.policy == "wait":
        for k in range(len(m.compute)):
            env.process(waiting_chip(k))
        env.run()
        return Timing(int(max(ends + list(lands.values()))), 0, (0, 0))
    env.process(clock())
    env.run()
    rng = _stale_delays(m, starts, lands)
    return Timing(int(ends[0]), rng[1], rng)
