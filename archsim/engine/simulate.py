"""simulate(): run a planned workload through the kernels, counting every access, in one of two modes.

functional: each layer's kernel runs once over all rows; every tile's load/compute is still accounted by the
            components, and cycles come from the flow-shop recurrence (hw/timing.py).
timing:     a SimPy model with one event chain per tile (buffer slot -> weight-memory port -> datapath); the
            kernel runs per tile inside the chain. Same counts, same outputs, cycles from the event model.
"""
import time
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..errors import OverflowError_
from ..hw.accelerator import Accelerator
from ..hw.timing import flow_shop
from ..kernels.dense import dense_tile
from ..ledger import Ledger
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
    activations: list = field(repr=False)  # per layer input, index 0 = network input rows
    acc_range: list = field(default_factory=list)  # per layer (min, max) running accumulator value
    wall_s: dict = field(default_factory=dict)

    @property
    def output_mean(self):
        """Outputs averaged over the T samples: (items, outputs) float64."""
        T = self.plan.samples
        return self.outputs.reshape(-1, T, self.outputs.shape[1]).mean(axis=1)


class _Layers:
    """Activation arrays and accumulator extremes of one run; the kernel call for one tile."""

    def __init__(self, plan, inputs):
        T = plan.samples
        self.plan = plan
        self.acts = [np.repeat(inputs, T, axis=0)] + [np.zeros((inputs.shape[0] * T, lp.m), np.int64)
                                                      for lp in plan.layers]
        self.lo = [np.zeros(lp.m, np.int64) for lp in plan.layers]
        self.hi = [np.zeros(lp.m, np.int64) for lp in plan.layers]

    def rows(self, tile):
        T = self.plan.samples
        return tile.item * T + tile.s0, tile.item * T + tile.s1

    def run(self, lp, weights, r0, r1, o0, o1):
        p = self.plan
        x = self.acts[lp.index][r0:r1]
        y = np.zeros((r1 - r0, o1 - o0), np.int64)
        lo = np.zeros(o1 - o0, np.int64)
        hi = np.zeros(o1 - o0, np.int64)
        dense_tile(x, np.ascontiguousarray(weights[o0:o1]), lp.binary, lp.kind_code, lp.table, p.table_bits,
                   lp.shift, lp.ba_out, p.rng_bits, p.seed, lp.index, p.samples, r0, o0, y, lo, hi)
        self.acts[lp.index + 1][r0:r1, o0:o1] = y
        np.minimum(self.lo[lp.index][o0:o1], lo, out=self.lo[lp.index][o0:o1])
        np.maximum(self.hi[lp.index][o0:o1], hi, out=self.hi[lp.index][o0:o1])


def _functional(plan, workload, accel, layers):
    for lp, w in zip(plan.layers, workload.weights):
        layers.run(lp, w, 0, layers.acts[0].shape[0], 0, lp.m)
    cycles = 0
    for _, lp, tiles in plan.passes():
        loads = [accel.load(t, lp) for t in tiles]
        computes = [accel.compute(t, lp, layers.acts[lp.index][slice(*layers.rows(t))]) for t in tiles]
        cycles += flow_shop(loads, computes, plan.slots)
    return cycles


def _timing(plan, workload, accel, layers):
    env = simpy.Environment()
    slots = simpy.Resource(env, capacity=plan.slots)
    weight_port = simpy.Resource(env, capacity=1)
    datapath = simpy.Resource(env, capacity=1)

    def tile_chain(tile, lp, w):
        with slots.request() as slot:
            yield slot
            with weight_port.request() as port:
                yield port
                yield env.timeout(accel.load(tile, lp))
            with datapath.request() as dp:
                yield dp
                r0, r1 = layers.rows(tile)
                layers.run(lp, w, r0, r1, tile.o0, tile.o1)
                yield env.timeout(accel.compute(tile, lp, layers.acts[lp.index][r0:r1]))

    def run_all():
        for _, lp, tiles in plan.passes():  # layer passes are separated by a barrier
            w = workload.weights[lp.index]
            yield simpy.AllOf(env, [env.process(tile_chain(t, lp, w)) for t in tiles])

    env.process(run_all())
    env.run()
    return int(env.now)


def _check_overflow(arch, plan, layers):
    bits = arch.synapse.accumulator_bits
    lo_ok, hi_ok = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    problems = []
    for lp in plan.layers:
        lo, hi = int(layers.lo[lp.index].min()), int(layers.hi[lp.index].max())
        if lo < lo_ok or hi > hi_ok:
            need = max(lo.bit_length() if lo < 0 else 0, hi.bit_length()) + 1
            problems.append(f"layers[{lp.index}]: accumulator reached [{lo}, {hi}], which needs {need} signed "
                            f"bits; synapse.accumulator_bits is {bits}")
        if lp.activation == "linear":
            out = layers.acts[lp.index + 1]
            olo, ohi = -(1 << (lp.ba_out - 1)), (1 << (lp.ba_out - 1)) - 1
            if out.size and (out.min() < olo or out.max() > ohi):
                problems.append(f"layers[{lp.index}]: linear outputs reached [{out.min()}, {out.max()}], outside "
                                f"output_bits = {lp.ba_out} (signed range [{olo}, {ohi}])")
    if problems:
        raise OverflowError_("overflow detected:\n  - " + "\n  - ".join(problems))


def simulate(arch, workload, mode="functional") -> RunResult:
    """Plan and run `workload` on `arch`; a fresh ledger and state per call."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    t0 = time.perf_counter()
    plan = make_plan(arch, workload)
    ledger = Ledger()
    accel = Accelerator(arch, ledger)
    layers = _Layers(plan, workload.inputs)
    t1 = time.perf_counter()
    cycles = (_functional if mode == "functional" else _timing)(plan, workload, accel, layers)
    t2 = time.perf_counter()
    _check_overflow(arch, plan, layers)
    acc_range = [(int(lo.min()), int(hi.max())) for lo, hi in zip(layers.lo, layers.hi)]
    return RunResult(arch, workload, plan, mode, int(cycles), ledger, layers.acts[-1], layers.acts, acc_range,
                     {"plan": t1 - t0, "simulate": t2 - t1})
