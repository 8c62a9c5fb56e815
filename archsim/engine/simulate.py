"""simulate(): run a planned workload through the kernels, counting every access, in one of two modes.

functional: each layer's kernel runs once over all rows; every tile's transfers and compute are still
            accounted by the components, and cycles come from the pipeline recurrence (hw/timing.py).
timing:     a SimPy model: each level's slots and ports are Resources; one process per tile walks its stages
            (one event per hop between levels, then one per compute phase) and stalls while a slot, a port or
            the previous tile is late; the kernel runs per layer pass, when the pass's first tile computes.
            Same counts, same outputs, cycles from the event model.
"""
import time
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..errors import ArchsimError, OverflowError_
from ..trace.records import COMPONENTS
from ..hw.accelerator import Accelerator
from ..hw.timing import pipeline
from ..kernels.dense import dense_tile
from ..kernels.pool import pool2d
from ..ledger import Ledger
from ..trace.writer import TraceWriter
from .plan import Plan, make_plan

MODES = ("functional", "timing")


@dataclass
class RunResult:
    arch: object
    workload: object
    plan: Plan
    mode: str
    cycles: int
    ledger: Ledger
    outputs: np.ndarray              # last layer, (items * T, outputs) int64, row = item * T + sample
    activations: list = field(repr=False)    # activation map at each layer boundary, (items * T, H*W*C or n)
    kernel_inputs: dict = field(repr=False)  # EO layer index -> kernel input rows (im2col for conv2d)
    acc_range: dict = field(default_factory=dict)  # EO layer index -> (min, max) running accumulator value
    wall_s: dict = field(default_factory=dict)

    @property
    def output_mean(self):
        """Outputs averaged over the T samples: (items, outputs) float64."""
        T = self.plan.samples
        return self.outputs.reshape(-1, T, self.outputs.shape[1]).mean(axis=1)


def im2col(maps, lp):
    """(N, H*W*C) NHWC rows -> (N * Ho * Wo, k * k * C) kernel rows in (ky, kx, c) order."""
    H, W, C = lp.in_shape
    k, s, pad = lp.kernel, lp.stride, lp.padding
    a = np.pad(maps.reshape(-1, H, W, C), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(a, (k, k), axis=(1, 2))[:, ::s, ::s]  # N, Ho, Wo, C, k, k
    Ho, Wo, _ = lp.out_shape
    return win[:, :Ho, :Wo].transpose(0, 1, 2, 4, 5, 3).reshape(-1, k * k * C)


class _Layers:
    """Activation maps, kernel inputs and accumulator extremes of one run; the kernel calls."""

    def __init__(self, plan, inputs, biases):
        T = plan.samples
        self.biases = biases
        self.plan, self.rows_total = plan, inputs.shape[0] * T
        self.maps = [np.repeat(inputs, T, axis=0)]
        self.x, self.lo, self.hi = {}, {}, {}
        for lp in plan.layers:
            if lp.type == "flatten":
                self.maps.append(self.maps[-1])
                continue
            self.maps.append(np.zeros((self.rows_total, int(np.prod(lp.out_shape))), np.int64))
            if lp.is_eo:
                self.lo[lp.index] = np.zeros(lp.m, np.int64)
                self.hi[lp.index] = np.zeros(lp.m, np.int64)
                self.x[lp.index] = self.maps[lp.index] if lp.type == "dense" else \
                    np.zeros((self.rows_total * lp.P, lp.n), np.int64)

    def item_rows(self, item, items=1):
        T = self.plan.samples
        return slice(item * T, (item + items) * T)

    def prepare(self, lp, rows):
        """Stage the kernel inputs of `rows` (a slice of item*T rows) once their layer input is final."""
        if lp.type == "conv2d":
            self.x[lp.index][rows.start * lp.P:rows.stop * lp.P] = im2col(self.maps[lp.index][rows], lp)

    def run(self, lp, weights, rows, o0, o1):
        """The kernel for global kernel rows `rows` and output channels [o0, o1)."""
        p = self.plan
        x = self.x[lp.index][rows]
        y = np.zeros((len(rows), o1 - o0), np.int64)
        lo, hi = np.zeros(o1 - o0, np.int64), np.zeros(o1 - o0, np.int64)
        w = np.ascontiguousarray(weights.reshape(lp.m, -1)[o0:o1])
        b = self.biases[lp.index][o0:o1] if lp.index in self.biases else np.zeros(o1 - o0, np.int64)
        dense_tile(x, w, b, lp.binary, lp.kind_code, lp.table, p.table_bits, lp.shift, lp.ba_out, p.rng_bits,
                   p.seed, lp.index, p.samples, lp.P, rows, o0, y, lo, hi)
        self.maps[lp.index + 1].reshape(-1, lp.m)[rows, o0:o1] = y
        np.minimum(self.lo[lp.index][o0:o1], lo, out=self.lo[lp.index][o0:o1])
        np.maximum(self.hi[lp.index][o0:o1], hi, out=self.hi[lp.index][o0:o1])

    def pool(self, lp, rows):
        H, W, C = lp.in_shape
        src = self.maps[lp.index][rows].reshape(-1, H, W, C)
        out = np.zeros((src.shape[0],) + tuple(lp.out_shape), np.int64)
        pool2d(src, lp.kernel, lp.kernel, lp.stride, lp.type == "maxpool", out)
        self.maps[lp.index + 1][rows] = out.reshape(src.shape[0], -1)

    def tile_inputs(self, lp, tile):
        return self.x[lp.index][tile.rows(self.plan.samples, lp.P)] if lp.is_eo else None


def _stage_slots(arch, lp):
    """Slots of each hop's destination (the synapses, when a hop feeds them directly, hold one tile)."""
    return [arch.level(dst).slots if dst is not None else 1 for _, dst in lp.hops]


def _functional(plan, workload, accel, layers, progress):
    everything = layers.item_rows(0, plan.items)
    for lp in plan.layers:
        if lp.is_eo:
            layers.prepare(lp, everything)
            layers.run(lp, workload.weights[lp.index], np.arange(layers.rows_total * lp.P), 0, lp.m)
        elif lp.type != "flatten":
            layers.pool(lp, everything)
        progress(plan.items)  # the layer's passes of every item are computed
    cycles = 0
    for _, lp, tiles in plan.passes():
        hops = range(len(lp.hops))
        durations = [[accel.transfer(t, lp, k) for k in hops] + [accel.compute(t, lp, layers.tile_inputs(lp, t))]
                     for t in tiles]
        cycles += pipeline(durations, _stage_slots(accel.arch, lp), [u for *_, u in accel.stage_ports(lp)])
    return cycles


def _timing(plan, workload, accel, layers, progress, tracer=None):
    env = simpy.Environment()

    def record(where, phase, tile, lp, cycles):
        if tracer is not None:
            for rec in accel.take_pending():
                tracer.add(*where, phase, env.now, env.now + cycles, lp.index, tile.item, *rec)

    def stage(where, j, tile, lp, w, s):
        """One stage of one tile: hop s, or compute; returns its cycles (counted as it runs). The kernel runs
        for the whole layer pass when its first tile computes (one large piece; the pass's outputs are read
        only after its barrier)."""
        if s < len(lp.hops):
            cycles = accel.transfer(tile, lp, s)
            record(where, "load", tile, lp, cycles)
            return cycles
        if j == 0 and lp.is_eo:
            rows = layers.item_rows(tile.item)
            layers.run(lp, w, np.arange(rows.start * lp.P, rows.stop * lp.P), 0, lp.m)
        elif j == 0:
            layers.pool(lp, layers.item_rows(tile.item))
        cycles = accel.compute(tile, lp, layers.tile_inputs(lp, tile))
        record(where, "compute", tile, lp, cycles)
        return cycles

    def tile_chain(where, j, tile, lp, w, slots, stage_ports, done):
        """Tile j through its stages in order: wait for tile j-1 to leave the stage, take a slot at the
        destination (held until the tile leaves that level), the stage's ports in program order, then spend
        the stage's cycles."""
        held = None
        for s in range(len(done[j])):
            if j:
                yield done[j - 1][s]
            slot = slots[s].request() if s < len(slots) else None
            if slot is not None:
                yield slot
            mine = stage_ports[s]
            for p in mine:
                yield p.turn(j, s)
            requests = [p.resource.request() for p in mine]
            for req in requests:
                yield req
            yield env.timeout(stage(where, j, tile, lp, w, s))
            for p, req in zip(mine, requests):
                p.resource.release(req)
                p.served(j, s)
            if held is not None:
                slots[s - 1].release(held)
            held = slot
            done[j][s].succeed()

    def run_all():
        for pass_id, (item, lp, tiles) in enumerate(plan.passes()):  # passes are separated by a barrier
            layers.prepare(lp, layers.item_rows(item))
            w = workload.weights.get(lp.index)
            slots = [simpy.Resource(env, capacity=n) for n in _stage_slots(accel.arch, lp)]
            ports = [_Port(env, users, len(lp.hops) + 1) for *_, users in accel.stage_ports(lp)]
            stage_ports = [[p for p in ports if s in p.users] for s in range(len(lp.hops) + 1)]
            done = [[env.event() for _ in range(len(lp.hops) + 1)] for _ in tiles]
            yield simpy.AllOf(env, [env.process(tile_chain((pass_id, j), j, t, lp, w, slots, stage_ports, done))
                                    for j, t in enumerate(tiles)])
            progress(1)

    env.process(run_all())
    env.run()
    return int(env.now)


class _Port:
    """A level's port as a SimPy Resource that serves its stages in program order (tile, then stage): an
    operation waits for the port's previous operation to finish before it requests it."""

    def __init__(self, env, users, stages):
        self.env, self.users, self.stages = env, sorted(users), stages
        self.resource = simpy.Resource(env, capacity=1)
        self.finished = {}

    def _previous(self, j, s):
        earlier = [u for u in self.users if u < s]
        if earlier:
            return j, earlier[-1]
        return (j - 1, self.users[-1]) if j else None

    def turn(self, j, s):
        prev = self._previous(j, s)
        if prev is None:
            return self.env.timeout(0)
        return self.finished.setdefault(prev, self.env.event())

    def served(self, j, s):
        event = self.finished.setdefault((j, s), self.env.event())
        event.succeed()
        self.finished.pop(self._previous(j, s) or (-1, -1), None)


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


def _check_traceable(plan):
    """Traces name the components weight_mem and act_mem (trace/records.py) and one load per tile."""
    if (plan.weight_home, plan.act_level) != COMPONENTS or any(len(lp.hops) > 1 for lp in plan.layers):
        raise ArchsimError(f"traces cover a weight memory and an activation memory named {COMPONENTS} with one "
                           f"transfer per tile; this run keeps its weights in {plan.weight_home!r} and activations "
                           f"in {plan.act_level!r} with {max(len(lp.hops) for lp in plan.layers)} transfer(s) "
                           f"per tile")


def simulate(arch, workload, mode="functional", trace=None, progress=None, mapping=None) -> RunResult:
    """Plan and run `workload` on `arch`; a fresh ledger and state per call. `trace`: a .parquet or .csv path
    to stream every memory transaction to (timing mode only). `progress`: called with the number of layer
    passes (one item through one layer) just finished; there are items x layers in all. `mapping`: a mapping
    file (or {layer: LayerMap}) to execute instead of the planner's choice (engine/plan.py)."""
    progress = progress or (lambda done: None)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
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
            _check_traceable(plan)
            tracer = TraceWriter(trace)
            accel.trace([plan.weight_home, plan.act_level])
        cycles = _timing(plan, workload, accel, layers, progress, tracer)
        if tracer is not None:
            tracer.close({"arch": arch.model_dump(mode="json"), "cycles": int(cycles),
                          "workload": workload.spec.name})
    t2 = time.perf_counter()
    _check_overflow(arch, plan, layers)
    acc_range = {i: (int(layers.lo[i].min()), int(layers.hi[i].max())) for i in layers.lo}
    return RunResult(arch, workload, plan, mode, int(cycles), ledger, layers.maps[-1], layers.maps, layers.x,
                     acc_range, {"plan": t1 - t0, "simulate": t2 - t1})


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
