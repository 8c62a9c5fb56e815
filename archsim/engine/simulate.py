"""simulate(): run a planned workload through the kernels, counting every access, in one of two modes. One entry
point for every workload kind: a p-DNN's layer passes (engine/plan.py) and a Boltzmann or DTM workload's colour
blocks (engine/colour_block.py) run through the same pipeline (hw/timing.Pipeline) and give one RunResult.

functional: each layer's kernel runs once over all rows; every tile's transfers and compute are still
            accounted by the components, and cycles come from the pipeline recurrence (hw/timing.py).
timing:     a SimPy model of the same pipeline (hw/timing.py: passes overlap where the buffers allow). By default
            one event per run of identical tiles, scheduled by the pipeline's closed form; when tracing (or
            with batch=False) one process per tile, created lazily, that walks its stages (one event per
            transfer between levels, one per compute phase, one per output drain) and stalls while a slot, a
            port, the engine or its own previous stage is late; there the kernel runs per layer pass, when the
            pass's first tile computes.
            Same counts, same outputs, same cycles.

Gibbs workloads: a colour block of one chain at one sweep is a pass, its rounds the tiles (a couplings load, then
compute); blocks do not overlap (the next reads the states this one writes), so a block's cycles are its rounds'
alone through the pipeline, and every sweep of every chain repeats them. functional mode runs the kernel over all
sweeps and accounts each block once, times sweeps x chains; timing mode runs the kernel per block and one event
per run of identical rounds (per round with batch=False). A multi-chip machine takes its cycles from its chips
and links (engine/links.py).
"""
import time
from dataclasses import dataclass, field

import numpy as np
import simpy

from .. import ops
from ..errors import ArchsimError, OverflowError_
from ..trace.records import COMPONENTS
from ..hw.accelerator import Accelerator
from ..hw.timing import Pipeline, Stage
from ..ledger import Ledger
from ..trace.writer import TraceWriter
from . import colour_block
from .plan import make_plan

MODES = ("functional", "timing")


@dataclass
class RunResult:
    arch: object
    workload: object
    plan: object                     # a Plan (p-DNN) or a colour_block.GibbsPlan
    mode: str
    cycles: int
    ledger: Ledger
    outputs: np.ndarray              # p-DNN: last layer, (items * T, outputs) int64, row = item * T + sample;
    #                                  Gibbs: the recorded samples, (records, chains, n) int8
    activations: list = field(default=None, repr=False)    # activation map at each layer boundary (p-DNN)
    kernel_inputs: dict = field(default=None, repr=False)  # EO layer index -> kernel input rows (p-DNN)
    acc_range: dict = field(default_factory=dict)  # EO layer index -> (min, max) running accumulator value
    wall_s: dict = field(default_factory=dict)
    kind: str = "pdnn"               # 'pdnn', 'boltzmann' or 'dtm'
    final: np.ndarray = field(default=None, repr=False)  # Gibbs: the last states, (chains, n) int8
    stages: list = field(default_factory=list)  # Gibbs: per stage what it sampled and how (colour_block.stage_info)
    monolithic: object = None        # multi-chip Gibbs: the monolithic machine's samples and graph (the yardstick)

    @property
    def samples(self):
        """A Gibbs run's recorded samples: (records, chains, n) int8, sweep-major."""
        return self.outputs

    @property
    def output_mean(self):
        """Outputs averaged over the T samples: (items, outputs) float64."""
        T = self.plan.samples
        return self.outputs.reshape(-1, T, self.outputs.shape[1]).mean(axis=1)


class _Layers:
    """Activation maps, kernel inputs and accumulator extremes of one run (each layer's operation allocates its
    map and kernel inputs and runs its kernel on them: ops/)."""

    def __init__(self, plan, inputs, biases):
        T = plan.samples
        self.biases = biases
        self.plan, self.rows_total = plan, inputs.shape[0] * T
        self.maps = [np.repeat(inputs, T, axis=0)]
        self.x, self.lo, self.hi = {}, {}, {}
        for lp in plan.layers:
            ops.of(lp).allocate(self, lp)

    def item_rows(self, item, items=1):
        T = self.plan.samples
        return slice(item * T, (item + items) * T)


def _stages(accel, lp):
    """The stages of a layer pass's tiles (hw/timing.Pipeline, which states the rules; order: LayerPlan.
    compute_stage): each on its own engine, with the ports it uses, named (level, kind, index). A weight hop fills
    its destination's weight slots (the synapses, when it feeds them directly, hold one tile) until the next
    stage, the last until compute ends; an input hop fills its child's input slots until the next input hop or
    compute ends; a read-back takes its child's output slot until that link's drain ends. The pass's first read
    of the activations' home (its first input hop, else compute) waits for the previous pass to end."""
    S, c = lp.n_stages, lp.compute_stage
    ports = [tuple((lv, kind, k) for lv, kind, k, users in accel.stage_ports(lp) if s in users) for s in range(S)]
    w, i = len(lp.hops), len(lp.in_hops)
    stages = [Stage(("hop", src, dst), ("level", dst), accel.arch.level(dst).slots if dst is not None else 1,
                    ports[k], k + 1 if k < w - 1 else c) for k, (src, dst) in enumerate(lp.hops)]
    stages += [Stage(("inputs", src, dst), ("level", dst, "inputs"), accel.arch.level(dst).slots, ports[w + k],
                     w + k + 1 if k < i - 1 else c, k == 0) for k, (src, dst) in enumerate(lp.in_hops)]
    links = len(lp.out_hops)
    stages += [Stage(("readback", parent, child), ("level", child, "outputs"), accel.arch.level(child).slots,
                     ports[w + i + k], c + links - k) for k, (child, parent) in enumerate(reversed(lp.out_hops))]
    stages.append(Stage(("compute",), None, 0, ports[c], None, not lp.in_hops))
    stages += [Stage(("drain", child, parent), None, 0, ports[c + 1 + k]) for k, (child, parent) in
               enumerate(lp.out_hops)]
    return tuple(stages)


class _PassStages(dict):
    """Each layer's stages by layer index, built once per run."""

    def __init__(self, accel, plan):
        super().__init__()
        self.accel, self.plan = accel, plan

    def __missing__(self, index):
        self[index] = _stages(self.accel, self.plan.layers[index])
        return self[index]


def _runs(accel, layers, lp, tiles):
    """[(row, count)]: each tile's stage cycles (its transfers and its compute; the components count as they are
    asked), consecutive tiles with the same cycles grouped into one run."""
    c = lp.compute_stage
    runs = []
    for t in tiles:
        row = tuple(_compute(accel, layers, lp, t) if k == c else accel.transfer(t, lp, k)
                    for k in range(lp.n_stages))
        if runs and runs[-1][0] == row:
            runs[-1][1] += 1
        else:
            runs.append([row, 1])
    return runs


def _compute(accel, layers, lp, tile):
    """A tile's compute phase on the accelerator (its operation's count), its cycles."""
    op = ops.of(lp)
    return op.count(accel, tile, lp, op.tile_inputs(layers, lp, tile))


def _kernel(workload, layers, lp, rows):
    """A layer's kernel over `rows` (a slice of item x T rows) in one piece; its inputs must be final."""
    ops.of(lp).kernel(layers, workload, lp, rows)


def _functional(plan, workload, accel, layers, progress):
    for lp in plan.layers:
        _kernel(workload, layers, lp, layers.item_rows(0, plan.items))
        progress(plan.items)  # the layer's passes of every item are computed
    pipe, stages = Pipeline(), _PassStages(accel, plan)
    for _, lp, tiles in plan.passes():
        pipe.next_pass()
        for row, count in _runs(accel, layers, lp, tiles):
            pipe.run(stages[lp.index], row, count)
    return pipe.end


def _timing_batched(plan, workload, accel, layers, progress):
    """The event model with one event per run of identical tiles: the run's schedule is the pipeline's closed
    form (hw/timing.Pipeline.run), its event fires when the run's last tile's compute ends. The kernels run
    first, a layer over every item at once (the schedule does not depend on them; the counts of a tile's adds
    read its inputs)."""
    for lp in plan.layers:
        _kernel(workload, layers, lp, layers.item_rows(0, plan.items))
    env = simpy.Environment()
    pipe, stages = Pipeline(), _PassStages(accel, plan)

    def run_all():
        for _, lp, tiles in plan.passes():
            pipe.next_pass()
            for row, count in _runs(accel, layers, lp, tiles):
                pipe.run(stages[lp.index], row, count)
                yield env.timeout(pipe.end - env.now)
            progress(1)

    env.process(run_all())
    env.run()
    return int(env.now)


def _timing(plan, workload, accel, layers, progress, tracer=None):
    """The event model, one process per tile (created lazily, in program order, a few tiles ahead of the last
    one still running): each stage waits for the tile's previous stage, the engine's previous tile, the previous
    operation of each port it uses and, for a hop, the tile whose slot it takes leaving its level; then it
    spends its cycles (counted as it starts); the stage marked to wait for the previous pass waits for that
    pass's last tile's last stage. The kernel runs per layer pass, when the pass's first tile computes (in-order
    compute: the previous pass has computed)."""
    env = simpy.Environment()
    stages_of = _PassStages(accel, plan)
    last = {}      # engine or port -> done event of its last operation so far
    leaving = {}   # level -> events of its resident tiles leaving it, oldest first
    ends = {}      # "previous": last stage of the pass before the current one; "last": of the last tile registered
    # tiles that can be in flight at once: each holds a slot (of the weights, or of the staged activations)
    window = sum(lv.slots for lv in accel.arch.levels) + 1 + sum(
        accel.arch.level(level).slots for level in {lv for lp in plan.layers for hop in lp.in_hops + lp.out_hops
                                                    for lv in hop})
    alive = 0      # weight tiles created and not finished

    def program():
        """(trace id (pass, tile), tile, layer plan, last of its pass?) in program order."""
        for pass_id, (_, lp, tiles) in enumerate(plan.passes()):
            if not tiles:
                progress(1)  # flatten: nothing to move or compute
            for j, tile in enumerate(tiles):
                yield (pass_id, j), tile, lp, j == len(tiles) - 1

    upcoming = program()

    def record(where, phase, tile, lp, cycles):
        if tracer is not None:
            for rec in accel.take_pending():
                tracer.add(*where, phase, env.now, env.now + cycles, lp.index, tile.item, *rec)

    def stage(where, tile, lp, s):
        if s != lp.compute_stage:
            cycles = accel.transfer(tile, lp, s)
            record(where, "load", tile, lp, cycles)
            return cycles
        if where[1] == 0:
            _kernel(workload, layers, lp, layers.item_rows(tile.item))
        cycles = _compute(accel, layers, lp, tile)
        record(where, "compute", tile, lp, cycles)
        return cycles

    def tile_process(where, tile, lp, waits, done, last_of_pass):
        nonlocal alive
        for s, wait in enumerate(waits):
            for event in wait:
                yield event
            yield env.timeout(stage(where, tile, lp, s))
            done[s].succeed()
        if lp.hops:
            alive -= 1
        if last_of_pass:
            progress(1)
        create()

    def register(where, tile, lp, last_of_pass):
        nonlocal alive
        stages = stages_of[lp.index]
        done = [env.event() for _ in stages]
        if where[1] == 0 and "last" in ends:
            ends["previous"] = ends["last"]
        ends["last"] = done[-1]
        waits = []
        for s, stage in enumerate(stages):
            engine, level, slots, ports = stage.engine, stage.level, stage.slots, stage.ports
            wait = [last[k] for k in (engine,) + ports if k in last]
            if stage.waits_pass and "previous" in ends:
                wait.append(ends["previous"])
            if level is not None:
                queue = leaving.setdefault(level, [])
                if len(queue) >= slots:
                    wait.append(queue.pop(0))
                queue.append(done[stage.release_at(s)])
            for k in (engine,) + ports:
                last[k] = done[s]
            waits.append(wait)
        if lp.hops:
            alive += 1
        env.process(tile_process(where, tile, lp, waits, done, last_of_pass))

    def create():
        """Create tiles in program order while fewer than `window` weight tiles are unfinished; called again
        whenever one finishes. This never delays a tile: every weight tile's first hop runs on the same engine
        (one weight path per plan), so a weight tile can start only once every earlier one has started, and each
        started, unfinished tile holds a slot until its compute ends; a pooling tile (no weight slot: not
        counted) starts its pass only once every earlier tile has finished (its compute at the home, or its
        first band's input hop when staged), and its later bands follow on its own stages' engines."""
        while alive < window:
            nxt = next(upcoming, None)
            if nxt is None:
                return
            register(*nxt)

    create()
    env.run()
    return int(env.now)


def _check_overflow(arch, plan, layers):
    bits = arch.synapse.accumulator_bits
    lo_ok, hi_ok = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    problems = []
    for lp in (lp for lp in plan.layers if lp.is_eo):
        lo, hi = int(layers.lo[lp.index].min()), int(layers.hi[lp.index].max())
        if lo < lo_ok or hi > hi_ok:
            need = max(lo.bit_length() if lo < 0 else 0, hi.bit_length()) + 1
            problems.append(f"layers[{lp.index}]: accumulator reached [{lo}, {hi}], which needs {need} signed "
                            f"bits; synapse.accumulator_bits is {bits}")
        if lp.activation == "linear":
            out = layers.maps[lp.index + 1]
            olo, ohi = -(1 << (lp.ba_out - 1)), (1 << (lp.ba_out - 1)) - 1
            if out.size and (out.min() < olo or out.max() > ohi):
                problems.append(f"layers[{lp.index}]: linear outputs reached [{out.min()}, {out.max()}], outside "
                                f"output_bits = {lp.ba_out} (signed range [{olo}, {ohi}])")
    if problems:
        raise OverflowError_("overflow detected:\n  - " + "\n  - ".join(problems))


def levels_to_trace(plan):
    """The levels a trace of the run records (README's trace section): each layer's weights' home, the activations'
    home and the levels that stage activations between it and the datapath (their input hops and drains), in
    that order."""
    names = [lp.hops[0][0] for lp in plan.layers if lp.hops] + [plan.act_level]
    names += [level for lp in plan.layers for hop in lp.in_hops + lp.out_hops for level in hop]
    return list(dict.fromkeys(names))


def replayable(plan):
    """Can trace/replay.py re-cost the run's trace? Its load/compute pipeline covers one weight memory and one
    activation memory named trace/records.COMPONENTS with at most one transfer per tile."""
    return (plan.weight_home, plan.act_level) == COMPONENTS and \
        not any(len(lp.hops) > 1 or lp.in_hops or lp.out_hops for lp in plan.layers)


def simulate(arch, workload, mode="functional", trace=None, progress=None, batch=True, mapping=None) -> RunResult:
    """Plan and run `workload` on `arch`; a fresh ledger and state per call. `trace`: a .parquet or .csv path
    to stream every transaction of the traced levels to (levels_to_trace; timing mode only). `progress`: called
    with the number of layer passes (one item through one layer) just finished; there are items x layers in
    all. `batch` (timing mode):
    one event per run of identical tiles (False: one process per tile, as when tracing; same cycles).
    `mapping`: a mapping file (or {layer: LayerMap}) to execute instead of the planner's choice
    (engine/plan.py). A Boltzmann or DTM workload (workload/boltzmann.py) runs its colour blocks (progress: p-bit
    updates done; no trace, no mapping)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if colour_block.kind_of(workload) is not None:
        return _simulate_gibbs(arch, workload, mode, trace, progress, batch, mapping)
    progress = progress or (lambda done: None)
    if trace is not None and mode != "timing":
        raise ArchsimError("traces need event times: use --mode timing with --trace")
    t0 = time.perf_counter()
    plan = make_plan(arch, workload, mapping)
    ledger = Ledger()
    accel = Accelerator(arch, ledger)
    layers = _Layers(plan, workload.inputs, workload.biases)
    t1 = time.perf_counter()
    accel.map_addresses(plan)
    if mode == "functional":
        cycles = _functional(plan, workload, accel, layers, progress)
    else:
        tracer = None
        if trace is not None:
            tracer = TraceWriter(trace)
            accel.trace(levels_to_trace(plan))
        if tracer is None and batch:
            cycles = _timing_batched(plan, workload, accel, layers, progress)
        else:
            cycles = _timing(plan, workload, accel, layers, progress, tracer)
        if tracer is not None:
            tracer.close({"arch": arch.model_dump(mode="json"), "cycles": int(cycles),
                          "workload": workload.spec.name, "levels": levels_to_trace(plan),
                          "replayable": replayable(plan)})
    t2 = time.perf_counter()
    _check_overflow(arch, plan, layers)
    acc_range = {i: (int(layers.lo[i].min()), int(layers.hi[i].max())) for i in layers.lo}
    return RunResult(arch, workload, plan, mode, int(cycles), ledger, layers.maps[-1], layers.maps, layers.x,
                     acc_range, {"plan": t1 - t0, "simulate": t2 - t1})


def _gibbs_functional(arch, bm, sp, accel, stage, states, out, progress):
    """The kernel over every sweep; each colour block accounted once, times sweeps x chains; cycles: the
    stationary couplings' load, then every block's pipeline cycles, sweeps x chains times."""
    colour_block.run_sweeps(arch, bm, sp, states, out, progress)
    times, stages = bm.spec.sweeps * bm.spec.chains, colour_block.pipeline_stages(arch)
    load = colour_block.couplings_load(accel, stage, sp)
    return load + times * sum(colour_block.block_cycles(stages, colour_block.block_runs(accel, stage, sp, c, times))
                              for c in range(len(sp.runs)))


def _gibbs_timing(arch, bm, sp, accel, stage, states, out, progress, batch):
    """The event model: per sweep, chain and colour block, the kernel's block update, then one event per run
    of identical rounds (batch=False: per round), scheduled by the pipeline; the next block starts when this
    one's last round has computed."""
    spec, stages = bm.spec, colour_block.pipeline_stages(arch)
    env = simpy.Environment()

    def run_all():
        yield env.timeout(colour_block.couplings_load(accel, stage, sp))
        j = 0
        for sweep in range(spec.sweeps):
            for chain in range(spec.chains):
                for c in range(len(sp.runs)):
                    if not sp.runs[c]:
                        continue
                    colour_block.run_block(arch, bm, sp, states, c, chain, sweep)
                    pipe, start = Pipeline(), env.now
                    for row, count in colour_block.block_runs(accel, stage, sp, c, 1):
                        for piece in ((count,) if batch else (1,) * count):
                            pipe.run(stages, row, piece)
                            yield env.timeout(start + pipe.end - env.now)
            if colour_block.is_recorded(spec, sweep):
                out[j] = states
                j += 1
            if progress is not None:
                progress(spec.chains * len(sp.updated))

    env.process(run_all())
    env.run()
    return int(env.now)


def _gibbs_chips(arch, bm, sp, accel, stage, states, out, progress, mode):
    """Multi-chip: the monolithic machine's counts (every chip does its nodes' same updates), the stale-read
    kernel, cycles from the chips' phases and links (events in timing mode, the recurrence in functional)."""
    colour_block.couplings_load(accel, stage, sp)
    times = bm.spec.sweeps * bm.spec.chains
    for c in range(len(sp.runs)):
        colour_block.block_runs(accel, stage, sp, c, times)
    sp.chips = colour_block.chips_plan(arch, bm, sp, stage, mode)
    colour_block.run_chips(arch, bm, sp, states, out, progress)
    return sp.chips.load + sp.chips.timing.cycles


def _simulate_gibbs(arch, workload, mode, trace, progress, batch, mapping):
    """A Boltzmann or DTM workload: its stages in order on one accelerator; the state carries over, so each
    stage starts from (and is conditioned on) what the previous one produced. Energy and cycles are kept per
    stage (ledger layer); the samples are the last stage's."""
    kind = colour_block.kind_of(workload)
    if trace is not None:
        raise ArchsimError(f"traces are recorded for p-DNN workloads only; this is a {kind} workload")
    if mapping is not None:
        raise ArchsimError(f"mapping files map p-DNN workloads; this is a {kind} workload")
    t0 = time.perf_counter()
    plan = colour_block.make_plan(arch, workload)
    ledger = Ledger()
    accel = Accelerator(arch, ledger)
    states = plan.machines[0].initial_states()
    t1 = time.perf_counter()
    infos, cycles = [], 0
    for k, (bm, sp) in enumerate(zip(plan.machines, plan.stages)):
        samples = np.zeros((colour_block.records(bm.spec), bm.spec.chains, bm.n), np.int8)
        if bm.partition is not None:
            c = _gibbs_chips(arch, bm, sp, accel, k, states, samples, progress, mode)
        elif mode == "functional":
            c = _gibbs_functional(arch, bm, sp, accel, k, states, samples, progress)
        else:
            c = _gibbs_timing(arch, bm, sp, accel, k, states, samples, progress, batch)
        infos.append(colour_block.stage_info(bm, sp, c))
        cycles += c
    mono = colour_block.monolithic(plan.machines[0], plan.stages[0]) if kind == "boltzmann" else None
    return RunResult(arch, workload, plan, mode, int(cycles), ledger, samples,
                     wall_s={"plan": t1 - t0, "simulate": time.perf_counter() - t1}, kind=kind, final=states,
                     stages=infos, monolithic=mono)


def _notebook_method(name):
    """A RunResult method delegating to report.frames.<name>(result, ...) (imported late: report sits above)."""
    def method(self, *args, **kwargs):
        from ..report import frames
        return getattr(frames, name)(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"See archsim.report.frames.{name}."
    return method


for _name in ("counts", "energy", "layers", "levels", "plot_breakdown", "plot_timeline"):
    setattr(RunResult, _name, _notebook_method(_name))
