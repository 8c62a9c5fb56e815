"""Simulating Boltzmann machines (block Gibbs) and denoising chains of them on the accelerator.

A colour block of one chain at one sweep is a pass; it is split into rounds of up to min(synapses, neurons)
nodes, the tiles. Couplings are stationary (loaded into the weight buffer once per stage) when every updated
node's row fits the buffer, else re-read from weight memory for every round. functional mode runs the whole
stage in the kernel and accounts each round once, times sweeps x chains (every sweep repeats the same work);
timing mode runs one SimPy event chain per round and the kernel per block. Same counts, samples and cycles.
A multi-chip machine (workload `chips:`) runs the stale-read kernel in either mode and takes its cycles from its
chips' phases and links (engine/links.py: SimPy events in timing mode, the same machine's recurrence in
functional mode)."""
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import simpy

from ..hw.accelerator import Accelerator
from ..hw.timing import flow_shop
from ..kernels import ising, multichip
from ..errors import OverflowError_
from ..inputs import check_memory
from ..ledger import Ledger
from ..workload import graph
from . import links
from .plan import LayerPlan


@dataclass
class GibbsResult:
    kind: str                  # 'boltzmann' or 'dtm'
    name: str
    spec: object               # the validated workload schema
    seed: int
    arch: object
    mode: str
    cycles: int
    ledger: Ledger
    samples: np.ndarray        # (records, chains, n) int8
    final: np.ndarray          # (chains, n) int8
    stages: list               # per stage: what it sampled and how (stage_info)
    plan: object = None        # .layers: a LayerPlan per stage, for the energy table
    wall_s: dict = field(default_factory=dict)
    monolithic: object = None  # multi-chip runs: the monolithic machine's samples on the same graph and seed, and
    #                            the graph (samples, edges, weights, h, clamped, beta, record_every)


def signed_bits(lo, hi):
    """The fewest signed bits that hold every integer in [lo, hi]."""
    return max(int(-lo - 1).bit_length() if lo < 0 else 0, int(hi).bit_length()) + 1


def field_range(bm, nodes, degrees):
    """(plan, values): the local-field range [lo, hi] the accumulator must hold over the updated nodes, from
    the declared widths and degrees (plan) and from the couplings' values (the partial sums h_i +- |J_ij| ...
    of the state that aligns every neighbour with its coupling: a state the chain can be in)."""
    spec = bm.spec
    cmax, bmax = 1 << (spec.coupling_bits - 1), 1 << (spec.bias_bits - 1)
    d = int(degrees[nodes].max()) if len(nodes) else 0
    plan = (-(d * cmax + bmax), d * cmax + bmax - 1)  # |J s| <= cmax: s = -1 turns -cmax into +cmax
    absum = np.bincount(bm.edges.reshape(-1), np.repeat(np.abs(bm.weights.astype(np.int64)), 2),
                        minlength=bm.n).astype(np.int64)
    if not len(nodes):
        return plan, (0, 0)
    h = bm.h[nodes].astype(np.int64)
    return plan, (min(0, int((h - absum[nodes]).min())), max(0, int((h + absum[nodes]).max())))


def check_field(arch, bm, nodes, degrees):
    """The Gibbs accumulator check, as the p-DNN's: nothing to check when the widths and degrees cannot
    overflow the accumulator; else the couplings' values must fit, or the run stops naming the width needed.
    Returns the values' range (the field table's domain)."""
    bits = arch.synapse.accumulator_bits
    plan, (lo, hi) = field_range(bm, nodes, degrees)
    if signed_bits(*plan) > bits and signed_bits(lo, hi) > bits:
        raise OverflowError_(
            f"{bm.path}: overflow: local fields of {bm.spec.name!r} can reach [{lo}, {hi}] (sum of |J| and h over a "
            f"node's {int(degrees[nodes].max())} neighbours, coupling_bits = {bm.spec.coupling_bits}, bias_bits = "
            f"{bm.spec.bias_bits}), which needs {signed_bits(lo, hi)} signed bits; synapse.accumulator_bits is {bits}")
    return lo, hi


def stage_plan(arch, bm, stage):
    """The per-stage quantities: updated nodes by colour, rounds, row bits, stationarity, field table."""
    spec = bm.spec
    degrees = graph.degrees(bm.n, bm.edges)
    row_bits = degrees * spec.coupling_bits + spec.bias_bits
    ptr, nodes = graph.blocks(bm.colours, bm.clamped)
    lo, hi = check_field(arch, bm, nodes, degrees)
    units = min(arch.synapse.count, arch.neuron.count)
    rounds = [[nodes[ptr[c] + k:min(ptr[c] + k + units, ptr[c + 1])] for k in range(0, ptr[c + 1] - ptr[c], units)]
              for c in range(len(ptr) - 1)]
    updated = nodes
    stationary = int(row_bits[updated].sum()) <= arch.holders("couplings")[-1].capacity
    I_max = max(-lo, hi)
    thr = ising.field_table(spec.beta, -I_max, I_max, arch.rng.bits_per_draw)
    lp = LayerPlan(stage, "gibbs", (bm.n,), (bm.n,), int(degrees.max()) if bm.n else 0, bm.n, 1,
                   spec.coupling_bits, 1, 1, "pbit", reason="couplings stationary in the weight buffer"
                   if stationary else "couplings re-read for every round (they exceed the weight buffer)")
    indptr, indices, weights = bm.adjacency()
    return SimpleNamespace(degrees=degrees, row_bits=row_bits, ptr=ptr, nodes=nodes, rounds=rounds,
                           updated=updated, stationary=stationary, I_min=-I_max, thr=thr, lp=lp,
                           layout=ising.layout(indptr, indices, weights, bm.h, ptr, nodes))


PROGRESS_PIECES = 100  # kernel calls a functional run is cut into when progress is reported


def _records(spec):
    return len(range(spec.burn_in, spec.sweeps, spec.record_every))


def sweep_pieces(spec, pieces):
    """[(first sweep, end sweep, first record, end record)]: the sweeps cut into about `pieces` runs, each with
    the slice of recorded samples it fills (the kernel keys every draw by its global sweep, so the cut changes no
    bit)."""
    step = max(1, -(-spec.sweeps // max(1, pieces)))
    recorded = lambda end: len(range(spec.burn_in, end, spec.record_every)) if end > spec.burn_in else 0
    return [(s0, min(s0 + step, spec.sweeps), recorded(s0), recorded(min(s0 + step, spec.sweeps)))
            for s0 in range(0, spec.sweeps, step)]


def _functional(arch, bm, sp, accel, stage, states, out, progress=None):
    spec = bm.spec
    pieces = sweep_pieces(spec, PROGRESS_PIECES if progress is not None else 1)
    for s0, s1, k0, k1 in pieces:
        ising.run(states, sp.layout, sp.thr, sp.I_min, spec.seed, arch.rng.bits_per_draw, s0, s1 - s0,
                  spec.burn_in, spec.record_every, out[k0:k1])
        if progress is not None:
            progress((s1 - s0) * spec.chains * len(sp.updated))
    return _functional_counts(arch, sp, accel, stage, spec.sweeps * spec.chains)


def _functional_counts(arch, sp, accel, stage, times):
    """Account the stage's rounds (`times` sweeps x chains) on the ledger; returns the single chip's cycles."""
    cycles = accel.couplings_load(stage, sp.row_bits[sp.updated]) if sp.stationary else 0
    # Rounds with the same row widths and degrees cost the same: account each kind once, times its count (every
    # count is linear in `times`), and keep each round's cycles in order for the flow shop.
    kinds, order = {}, []
    for colour in sp.rounds:
        order.append([(sp.row_bits[r].tobytes(), sp.degrees[r].tobytes()) for r in colour])
        for key, r in zip(order[-1], colour):
            kinds.setdefault(key, [r, 0])[1] += 1
    phase = {key: (accel.gibbs_load(stage, sp.row_bits[r], sp.stationary, times * count),
                   accel.gibbs_compute(stage, sp.row_bits[r], sp.degrees[r], sp.stationary, times * count))
             for key, (r, count) in kinds.items()}
    per_sweep = sum(flow_shop([phase[k][0] for k in keys], [phase[k][1] for k in keys],
                              2 if arch.holders("couplings")[-1].double_buffered else 1) for keys in order)
    return cycles + times * per_sweep


def _timing(arch, bm, sp, accel, stage, states, out, progress=None):
    spec = bm.spec
    env = simpy.Environment()
    slots = simpy.Resource(env, capacity=2 if arch.holders("couplings")[-1].double_buffered else 1)
    port, datapath = simpy.Resource(env, capacity=1), simpy.Resource(env, capacity=1)
    rng_bits = arch.rng.bits_per_draw

    def round_chain(r, colour, chain, sweep):
        with slots.request() as slot:
            yield slot
            with port.request() as p:
                yield p
                yield env.timeout(accel.gibbs_load(stage, sp.row_bits[r], sp.stationary))
            with datapath.request() as dp:
                yield dp
                if colour is not None:  # the kernel updates the colour block when its first round computes
                    ising.block(states[chain], colour, *sp.layout, sp.thr, sp.I_min,
                                spec.seed, chain, sweep, rng_bits)
                yield env.timeout(accel.gibbs_compute(stage, sp.row_bits[r], sp.degrees[r], sp.stationary))

    def run_all():
        if sp.stationary:
            yield env.timeout(accel.couplings_load(stage, sp.row_bits[sp.updated]))
        j = 0
        for sweep in range(spec.sweeps):
            for chain in range(spec.chains):
                for c, colour in enumerate(sp.rounds):
                    yield simpy.AllOf(env, [env.process(round_chain(r, c if k == 0 else None, chain, sweep))
                                            for k, r in enumerate(colour)])
            if sweep >= spec.burn_in and (sweep - spec.burn_in) % spec.record_every == 0:
                out[j] = states
                j += 1
            if progress is not None:
                progress(spec.chains * len(sp.updated))

    env.process(run_all())
    env.run()
    return int(env.now)


def chips_plan(arch, bm, sp, stage, mode="functional"):
    """The multi-chip machine's timing: each chip's compute cycles per colour (the single-chip flow shop over that
    chip's rounds of the colour, counted on a scratch ledger: the run's counts are the monolithic machine's, as
    every chip does its nodes' same updates), each link's burst cycles per colour (the boundary states of the
    colour it carries), and the phases and links run by links.simulate (timing mode, events) or links.recurrence
    (functional mode): cycles, the stale-read delay d, eta, eta_current (the eta from which every transfer fits
    in the shortest phase, so stale reads are current), link bits per sweep."""
    c, part = bm.spec.chips, bm.partition
    scratch = Accelerator(arch, Ledger())
    slots = 2 if arch.holders("couplings")[-1].double_buffered else 1
    units = min(arch.synapse.count, arch.neuron.count)
    n_colours = len(sp.ptr) - 1
    pairs = sorted(part.boundary)
    compute = np.zeros((c.count, n_colours), np.int64)
    bits_per_phase = np.zeros((len(pairs), n_colours), np.int64)
    bits, words = 0, 0
    for colour in range(n_colours):
        nodes = sp.nodes[sp.ptr[colour]:sp.ptr[colour + 1]]
        for k in range(c.count):
            mine = nodes[part.chip[nodes] == k]
            rounds = [mine[j:j + units] for j in range(0, len(mine), units)]
            compute[k, colour] = flow_shop(
                [scratch.gibbs_load(stage, sp.row_bits[r], sp.stationary) for r in rounds],
                [scratch.gibbs_compute(stage, sp.row_bits[r], sp.degrees[r], sp.stationary) for r in rounds], slots)
        for l, pair in enumerate(pairs):
            b = int(np.isin(part.boundary[pair], nodes).sum())  # the pair's boundary nodes this phase updated
            bits += b
            words = max(words, c.link.latency_cycles + -(-b // c.link.width_bits) if b else 0)
            bits_per_phase[l, colour] = b
    load = max(scratch.couplings_load(stage, sp.row_bits[sp.updated[part.chip[sp.updated] == k]])
               for k in range(c.count)) if sp.stationary else 0
    machine = links.Machine.from_bits(compute, tuple(pairs), bits_per_phase, c.link.width_bits, c.link.latency_cycles,
                                      c.link.clock_hz, arch.clock, bm.spec.chains, bm.spec.sweeps, c.policy)
    model = "events" if mode == "timing" else "recurrence"
    timing = (links.simulate if mode == "timing" else links.recurrence)(machine)
    phase_max = compute.max(axis=0)
    shortest = int(phase_max[phase_max > 0].min()) if (phase_max > 0).any() else 1
    return SimpleNamespace(compute=phase_max, link=machine.transfer.max(axis=0, initial=0), load=load, machine=machine,
                           timing=timing, model=model, delay=timing.delay, link_bits_per_sweep=bits,
                           eta=c.link.clock_hz / arch.clock, eta_current=words / shortest)


def _chips(arch, bm, sp, accel, stage, states, out, progress=None, mode="functional"):
    """Multi-chip: the stale-read kernel, the monolithic machine's counts, cycles from the chips' phases and links
    (chips_plan: events in timing mode, the recurrence in functional mode)."""
    spec = bm.spec
    _functional_counts(arch, sp, accel, stage, spec.sweeps * spec.chains)
    cp = sp.chips = chips_plan(arch, bm, sp, stage, mode)
    indptr, indices, weights = bm.adjacency()
    lay = multichip.layout(indptr, indices, weights, bm.h, sp.ptr, sp.nodes, bm.partition.chip)
    boundary = bm.partition.boundary_nodes
    check_memory(bm.path, f"the stale-read kernel's {cp.delay + 1} phases of boundary states in flight (links "
                 f"{cp.delay} phases late) x {len(boundary)} nodes x {spec.chains} chain(s)",
                 (cp.delay + 1) * len(boundary) * spec.chains)
    buf, ring = multichip.start(states, boundary, cp.delay)
    for s0, s1, k0, k1 in sweep_pieces(spec, PROGRESS_PIECES if progress is not None else 1):
        multichip.run(buf, ring, boundary, cp.delay, lay, sp.thr, sp.I_min, spec.seed, arch.rng.bits_per_draw, s0,
                      s1 - s0, spec.burn_in, spec.record_every, out[k0:k1])
        if progress is not None:
            progress((s1 - s0) * spec.chains * len(sp.updated))
    # the monolithic machine on the same graph, from the same states and seed: the yardstick of sampling quality
    mono, cp.monolithic = bm.initial_states(), np.zeros_like(out)
    ising.run(mono, sp.layout, sp.thr, sp.I_min, spec.seed, arch.rng.bits_per_draw, 0, spec.sweeps, spec.burn_in,
              spec.record_every, cp.monolithic)
    states[:] = buf[:, :bm.n]
    return cp.load + cp.timing.cycles


def run_stage(arch, bm, mode, accel, stage, states, progress=None):
    """Sample one Boltzmann machine from `states` (modified in place); returns (samples, cycles, plan).
    `progress`: called with the p-bit updates done, every so often (a progress bar's update)."""
    sp = stage_plan(arch, bm, stage)
    sp.chips = None
    out = np.zeros((_records(bm.spec), bm.spec.chains, bm.n), np.int8)
    if bm.partition is not None:
        cycles = _chips(arch, bm, sp, accel, stage, states, out, progress, mode)
    else:
        cycles = (_functional if mode == "functional" else _timing)(arch, bm, sp, accel, stage, states, out, progress)
    return out, cycles, sp


def stage_info(bm, sp, cycles):
    s = bm.spec
    return {"degrees": sp.degrees[sp.updated], "coupling_bits": s.coupling_bits, "bias_bits": s.bias_bits,
            "sweeps": s.sweeps, "chains": s.chains, "stationary": sp.stationary, "cycles": int(cycles),
            "updates": int(len(sp.updated)) * s.sweeps * s.chains, "reason": sp.lp.reason,
            "colouring": bm.colouring, "chips": chips_info(bm, sp)}


def chips_info(bm, sp):
    """What the multi-chip machine did (None for one chip): partition, cut, links, eta, delay, link traffic."""
    if sp.chips is None:
        return None
    c, part, cp, s = bm.spec.chips, bm.partition, sp.chips, bm.spec
    bits = cp.link_bits_per_sweep * s.sweeps * s.chains
    return {"count": c.count, "partition": part.method, "policy": c.policy, "cut_edges": int(len(part.cut)),
            "boundary_nodes": int(len(part.boundary_nodes)),
            "boundary": [{"from": a, "to": b, "nodes": m} for a, b, m in part.table()],
            "eta": cp.eta, "eta_current_reads": cp.eta_current, "delay_phases": cp.delay,
            "delay_phases_range": list(cp.timing.delay_range),
            "chip_nodes": np.bincount(part.chip, minlength=c.count).tolist(),
            "compute_cycles_per_phase": cp.compute.tolist(),
            "link_cycles_per_phase": cp.link.tolist(),
            "link_serialise_cycles_per_phase": cp.machine.occupy.max(axis=0, initial=0).tolist(),
            "timing_model": cp.model, "link_bits_per_sweep": int(cp.link_bits_per_sweep),
            "link_bits": int(bits), "link_energy_pj": bits * c.link.energy_per_bit.value}


def simulate_boltzmann(arch, bm, mode="functional", progress=None) -> GibbsResult:
    """`progress`: optional callable taking the number of p-bit updates just done (for a progress bar)."""
    t0 = time.perf_counter()
    ledger = Ledger()
    accel = Accelerator(arch, ledger)
    states = bm.initial_states()
    samples, cycles, sp = run_stage(arch, bm, mode, accel, 0, states, progress)
    mono = None if sp.chips is None else SimpleNamespace(
        samples=sp.chips.monolithic, edges=bm.edges, weights=bm.weights, h=bm.h, clamped=bm.clamped,
        beta=bm.spec.beta, record_every=bm.spec.record_every)
    return GibbsResult("boltzmann", bm.spec.name, bm.spec, bm.spec.seed, arch, mode, cycles, ledger, samples,
                       states, [stage_info(bm, sp, cycles)], SimpleNamespace(layers=(sp.lp,)),
                       {"simulate": time.perf_counter() - t0}, mono)


def simulate_dtm(arch, dtm, mode="functional", progress=None) -> GibbsResult:
    """Run the stages in order on one accelerator; the state carries over, so each stage starts from (and is
    conditioned on) what the previous one produced. Energy and cycles are kept per stage (ledger layer)."""
    t0 = time.perf_counter()
    ledger = Ledger()
    accel = Accelerator(arch, ledger)
    states = dtm.stages[0].initial_states()
    infos, lps, cycles = [], [], 0
    for k, bm in enumerate(dtm.stages):
        samples, c, sp = run_stage(arch, bm, mode, accel, k, states, progress)
        infos.append(stage_info(bm, sp, c))
        lps.append(sp.lp)
        cycles += c
    return GibbsResult("dtm", dtm.spec.name, dtm.spec, dtm.spec.seed, arch, mode, cycles, ledger, samples, states,
                       infos, SimpleNamespace(layers=tuple(lps)), {"simulate": time.perf_counter() - t0})
