"""Cycle-stepped reference of the multi-chip machine (tests only; small cases): a plain loop over time in ticks
of 1 / lcm(f_pbit, f_comm) s that counts down each chip's compute at the f_pbit clock and shifts each link's bits
at its own clock (started with each burst), with no closed-form timing and no shared code with engine/links.py.

The machine as engine/links.py describes it: phases in the order sweep, chain, colour; a link's bursts leave in
order (one serialising at a time, each then in flight for the link's latency); a burst finishes serialising and
lands no earlier than its sender's phase ends, and is seen at the next f_pbit edge. wait: a chip starts phase i
once its phase i - 1 is done and every burst sent on its incoming links before phase i has landed; stale: every
chip starts phase i once all chips are done with phase i - 1."""
import math


class _Burst:
    def __init__(self, phase, bits):
        self.phase, self.bits, self.ticks, self.link_cycles = phase, bits, 0, 0
        self.serialised = self.landed = None   # f_pbit edge (tick) at which each is seen


def stepped(compute, links, bits, width_bits, latency_cycles, f_pbit_hz, f_comm_hz, chains, sweeps, policy):
    """(cycles, (smallest, largest) lateness) of the machine: compute[k][c] f_pbit cycles, bits[l][c] bits of
    link l = (sender, receiver) per phase of colour c."""
    K, C = len(compute), len(compute[0])
    phases = sweeps * chains * C
    lcm = math.lcm(int(f_pbit_hz), int(f_comm_hz))
    p_tick, c_tick = lcm // int(f_pbit_hz), lcm // int(f_comm_hz)
    nxt = [0] * K                 # next phase each chip starts
    left = [None] * K             # f_pbit cycles left of the phase a chip computes (None: idle)
    done = [[None] * phases for _ in range(K)]   # tick each chip finished each phase
    start = [None] * phases       # tick phase i started (its first chip)
    queue = [[_Burst(i, bits[l][i % C]) for i in range(phases) if bits[l][i % C]] for l in range(len(links))]
    sending = [None] * len(links)
    flying = [[] for _ in links]
    history = [[] for _ in links]  # every burst of each link, in order
    t = 0
    stale_end = None
    while True:
        # link clocks: every burst on its way (serialising or in flight) counts its own link cycles
        for l in range(len(links)):
            for b in flying[l]:
                b.ticks += 1
                if b.ticks % c_tick == 0:
                    b.link_cycles += 1
        if t % p_tick == 0:
            for k in range(K):
                if left[k] is not None and left[k] == 0:
                    done[k][nxt[k] - 1], left[k] = t, None
            changed = True
            while changed:
                changed = False
                for l, (a, _) in enumerate(links):
                    b = sending[l]
                    if b and b.link_cycles * width_bits >= b.bits and done[a][b.phase] is not None:
                        b.serialised, sending[l] = t, None
                        changed = True
                    for f in list(flying[l]):
                        ser = -(-f.bits // width_bits)
                        if f.link_cycles >= ser + latency_cycles and done[a][f.phase] is not None:
                            f.landed = t
                            flying[l].remove(f)
                            changed = True
                for k in range(K):
                    i = nxt[k]
                    if left[k] is not None or i >= phases:
                        continue
                    if policy == "wait":
                        ready = all(bb.landed is not None for l, (_, r) in enumerate(links) if r == k
                                    for bb in history[l] + queue[l] if bb.phase < i)
                    else:
                        ready = i == 0 or all(done[j][i - 1] is not None for j in range(K))
                    if ready:
                        if start[i] is None:
                            start[i] = t
                        nxt[k], left[k] = i + 1, compute[k][i % C]
                        if left[k] == 0:
                            done[k][i], left[k] = t, None
                        changed = True
                for l, (a, _) in enumerate(links):
                    if sending[l] is None and queue[l] and nxt[a] > queue[l][0].phase:
                        b = queue[l].pop(0)
                        sending[l] = b
                        flying[l].append(b)
                        history[l].append(b)
                        changed = True
            for k in range(K):
                if left[k] is not None:
                    left[k] -= 1 if left[k] else 0
            all_done = all(d[-1] is not None for d in done)
            if all_done and stale_end is None:
                stale_end = max(d[-1] for d in done)
            if all_done and not any(queue) and not any(sending) and not any(flying):
                break
        t += 1
    if policy == "wait":
        end = max([d[-1] for d in done] + [b.landed for h in history for b in h])
        return end // p_tick, (0, 0)
    late = []
    for h in history:
        for b in h:
            chain, own = (b.phase // C) % chains, (b.phase // (C * chains)) * C + b.phase % C
            starts = [start[i] for i in range(phases) if (i // C) % chains == chain]
            late.append(sum(1 for s in starts if s < b.landed) - (own + 1))
    return stale_end // p_tick, (min(late), max(late)) if late else (0, 0)
