"""The colour-block update of a Gibbs sweep: the operation Boltzmann and DTM workloads run as, through the same
pipeline as a p-DNN's layers (engine/simulate.py). This module plans it (rounds, stationarity, the field range
check and table), groups its rounds into runs for hw/timing.Pipeline and runs its kernels; simulate() accounts
and times it.

Its loop nest is declared by the operation (ops/colour_block.py: dimensions sweeps S, chains X, spins V and
neighbour slots K; operands couplings, biases, neighbour states and states; a ragged block as perfect nests per
degree class), as are its rounds (the pipeline's tiles: up to min(synapses, neurons) spins of a colour at a time,
the colour blocks one after another) and their count on the accelerator; this module plans the stages (the field
range check and table, the kernel's layout), times the rounds (a load stage: the couplings' hop into the
innermost coupling level, 0 cycles when stationary; a compute stage) and runs the kernels.

A multi-chip machine (workload `chips:`) runs the stale-read kernel and takes its cycles from its chips' phases
and links (engine/links.py: SimPy events in timing mode, the same machine's recurrence in functional mode)."""
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .. import ops
from ..hw.accelerator import Accelerator
from ..hw.timing import Pipeline, Stage
from ..kernels import ising, multichip
from ..errors import OverflowError_
from ..inputs import check_memory
from ..ledger import Ledger
from ..ops.colour_block import GIBBS, block_rounds, units
from ..workload import graph
from ..workload.boltzmann import BoltzmannWorkload, DtmWorkload
from . import links
from .plan import LayerPlan

KINDS = {BoltzmannWorkload: "boltzmann", DtmWorkload: "dtm"}


def kind_of(workload):
    """'boltzmann' or 'dtm' for a Gibbs workload, else None."""
    return KINDS.get(type(workload))


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
    """The per-stage quantities: the operation's declaration (ops/colour_block.Declaration as `declared`: updated
    nodes by colour, rounds, row bits, stationarity, loop nests), the field table and the kernel's layout."""
    spec, op = bm.spec, ops.REGISTRY[GIBBS]
    degrees = graph.degrees(bm.n, bm.edges)
    ptr, nodes = graph.blocks(bm.colours, bm.clamped)
    lo, hi = check_field(arch, bm, nodes, degrees)
    declared = op.declare(arch, stage, degrees, ptr, nodes, spec)
    I_max = max(-lo, hi)
    thr = ising.field_table(spec.beta, -I_max, I_max, arch.rng.bits_per_draw)
    lp = LayerPlan(**op.plan_fields(arch, stage, (spec, declared), (bm.n,), (bm.n,), 1))
    indptr, indices, weights = bm.adjacency()
    return SimpleNamespace(declared=declared, degrees=degrees, row_bits=declared.row_bits, ptr=ptr, nodes=nodes,
                           rounds=declared.rounds, runs=declared.runs, updated=nodes, stationary=declared.stationary,
                           I_min=-I_max, thr=thr, lp=lp, chips=None,
                           layout=ising.layout(indptr, indices, weights, bm.h, ptr, nodes))


@dataclass
class GibbsPlan:
    """The plan of a Boltzmann (one stage) or DTM workload: per stage its machine and its stage_plan; `layers`
    the LayerPlan per stage (the energy table's layers)."""
    kind: str
    machines: list
    stages: list

    @property
    def layers(self):
        return tuple(sp.lp for sp in self.stages)

    def passes(self):
        """(stage, LayerPlan, rounds) per colour block of one sweep of one chain, in program order: every sweep
        of every chain repeats them."""
        for k, sp in enumerate(self.stages):
            for rounds in sp.rounds:
                yield k, sp.lp, rounds


def make_plan(arch, workload):
    """Plan every stage (a stage's plan does not depend on the states the previous stage leaves)."""
    kind = kind_of(workload)
    machines = list(workload.stages) if isinstance(workload, DtmWorkload) else [workload]
    return GibbsPlan(kind, machines, [stage_plan(arch, bm, k) for k, bm in enumerate(machines)])


def pipeline_stages(arch):
    """A round's stages in hw/timing.Pipeline: the couplings' hop into the innermost coupling level (its slots:
    2 when double-buffered), then compute. They share no port (the couplings' memory and the states' are
    separate paths, as in the flow shop of a round's load and compute)."""
    buffer = arch.holders("couplings")[-1]
    return (Stage(("hop", "couplings"), ("level", buffer.name), buffer.slots, ()), Stage(("compute",), None, 0, ()))


def block_runs(accel, stage, sp, colour, times):
    """[(row, count)]: the (load, compute) cycles of the colour block's rounds, consecutive rounds with the same
    cycles grouped; every round is accounted `times` times on the ledger (the operation's count)."""
    return ops.of(sp.lp).count(accel, (sp.declared, colour), sp.lp, times)


def stepped_samples(arch, degrees):
    """A round's compute in the cycle-stepped reference (the operation's stepped_samples; degrees: the round's
    nodes' degrees)."""
    return ops.REGISTRY[GIBBS].stepped_samples(arch, None, degrees)


def block_cycles(stages, runs):
    """Cycles of one colour block alone: its runs of rounds through the pipeline (hw/timing.Pipeline)."""
    pipe = Pipeline()
    for row, count in runs:
        pipe.run(stages, row, count)
    return pipe.end


def couplings_load(accel, stage, sp):
    """Stationary couplings loaded once at the start of the stage: its cycles (0 when not stationary)."""
    return ops.of(sp.lp).load(accel, sp.declared, sp.lp)


PROGRESS_PIECES = 100  # kernel calls a functional run is cut into when progress is reported


def records(spec):
    return len(range(spec.burn_in, spec.sweeps, spec.record_every))


def sweep_pieces(spec, pieces):
    """[(first sweep, end sweep, first record, end record)]: the sweeps cut into about `pieces` runs, each with
    the slice of recorded samples it fills (the kernel keys every draw by its global sweep, so the cut changes no
    bit)."""
    step = max(1, -(-spec.sweeps // max(1, pieces)))
    recorded = lambda end: len(range(spec.burn_in, end, spec.record_every)) if end > spec.burn_in else 0
    return [(s0, min(s0 + step, spec.sweeps), recorded(s0), recorded(min(s0 + step, spec.sweeps)))
            for s0 in range(0, spec.sweeps, step)]


def chips_plan(arch, bm, sp, stage, mode="functional"):
    """The multi-chip machine's timing: each chip's compute cycles per colour (the single-chip flow shop over that
    chip's rounds of the colour through the pipeline, counted on a scratch ledger: the run's counts are the
    monolithic machine's, as every chip does its nodes' same updates), each link's burst cycles per colour (the
    boundary states of the colour it carries), and the phases and links run by links.simulate (timing mode, events)
    or links.recurrence (functional mode): cycles, the stale-read delay d, eta, eta_current (the eta from which every
    transfer fits in the shortest phase, so stale reads are current), link bits per sweep."""
    c, part = bm.spec.chips, bm.partition
    scratch = Accelerator(arch, Ledger())
    stages = pipeline_stages(arch)
    n_colours = len(sp.ptr) - 1
    pairs = sorted(part.boundary)
    compute = np.zeros((c.count, n_colours), np.int64)
    bits_per_phase = np.zeros((len(pairs), n_colours), np.int64)
    bits, words = 0, 0
    for colour in range(n_colours):
        nodes = sp.nodes[sp.ptr[colour]:sp.ptr[colour + 1]]
        for k in range(c.count):
            mine = nodes[part.chip[nodes] == k]
            rounds = block_rounds(mine, units(arch))
            compute[k, colour] = block_cycles(stages, [((scratch.gibbs_load(stage, sp.row_bits[r], sp.stationary),
                                                         scratch.gibbs_compute(stage, sp.row_bits[r], sp.degrees[r],
                                                                               sp.stationary)), 1) for r in rounds])
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


def run_sweeps(arch, bm, sp, states, out, progress=None):
    """The kernel over every sweep of every chain from `states` (updated in place), recording into `out`; cut
    into pieces when `progress` (called with the p-bit updates done) is given."""
    spec = bm.spec
    for s0, s1, k0, k1 in sweep_pieces(spec, PROGRESS_PIECES if progress is not None else 1):
        ising.run(states, sp.layout, sp.thr, sp.I_min, spec.seed, arch.rng.bits_per_draw, s0, s1 - s0,
                  spec.burn_in, spec.record_every, out[k0:k1])
        if progress is not None:
            progress((s1 - s0) * spec.chains * len(sp.updated))


def run_block(arch, bm, sp, states, colour, chain, sweep):
    """The kernel's update of one colour block of one chain at one sweep."""
    ising.block(states[chain], colour, *sp.layout, sp.thr, sp.I_min, bm.spec.seed, chain, sweep,
                arch.rng.bits_per_draw)


def is_recorded(spec, sweep):
    return sweep >= spec.burn_in and (sweep - spec.burn_in) % spec.record_every == 0


def run_chips(arch, bm, sp, states, out, progress=None):
    """Multi-chip: the stale-read kernel with the links' delay (sp.chips, from chips_plan), from `states`
    (updated in place), recording into `out`; then the monolithic machine on the same graph, from the same
    states and seed, into sp.chips.monolithic: the yardstick of sampling quality."""
    spec, cp = bm.spec, sp.chips
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
    mono, cp.monolithic = bm.initial_states(), np.zeros_like(out)
    ising.run(mono, sp.layout, sp.thr, sp.I_min, spec.seed, arch.rng.bits_per_draw, 0, spec.sweeps, spec.burn_in,
              spec.record_every, cp.monolithic)
    states[:] = buf[:, :bm.n]


def monolithic(bm, sp):
    """A multi-chip run's yardstick for the report (None for one chip): the monolithic machine's samples and the
    graph."""
    if sp.chips is None:
        return None
    return SimpleNamespace(samples=sp.chips.monolithic, edges=bm.edges, weights=bm.weights, h=bm.h,
                           clamped=bm.clamped, beta=bm.spec.beta, record_every=bm.spec.record_every)


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


