"""archsim map: for every layer with weights, the mapper's search on the architecture's levels (pure data in,
typed results out; writing is report/mappings.py). The search covers where the operands are kept
(keep_variants): the weights where the planner's placement puts them (their home and the levels inside it), with
and without the synapses' weight registers (samples inner or outer); the inputs and the outputs at the plan's
activation home (one home for every layer: a layer's outputs are the next layer's inputs) and, each on its own,
staged at any subset of the levels inside it that may hold them. Capacities are what the homes leave. The
planner's own mapping of the layer starts the search on every keep-set variant, so the choice is never worse
than the planner's (a prime number of outputs too: both unroll them unevenly, the last tile partial; activations
staged too: the planner's staged placement is one of the variants). The choice is the best candidate the executor
accepts (at most MAX_TILES_PER_PASS tiles). Counts are per layer pass (one item); `passes` scales them to the
run."""
import itertools
import time
from dataclasses import dataclass

from ..mapping.execute import tile_count
from .. import ops
from ..mapping.hierarchy import levels_of, pdnn_levels
from ..mapping.mapfile import LayerMap
from ..mapping.search import SAMPLES, rank, search
from .plan import MAX_TILES_PER_PASS, make_plan, place

ACTIVATIONS = ("inputs", "outputs")


@dataclass(frozen=True)
class LayerMapping:
    layer: int
    operation: object
    best: object          # search.Candidate, or None when no mapping fits
    candidates: list      # [(keep, Candidate)] every candidate evaluated
    method: str           # exhaustive | sampled+climb
    seconds: float
    keep: dict            # what each level keeps in the best candidate
    passes: int           # layer passes of the run (items): counts, energy and cycles scale by it

    def layer_map(self):
        return LayerMap(self.layer, self.keep, self.best.mapping, f"layers[{self.layer}]")


def _subsets(names):
    """Every subset of `names`, the largest first."""
    return [set(c) for r in range(len(names), -1, -1) for c in itertools.combinations(names, r)]


def keep_variants(arch, spec, act_home=None):
    """What each level keeps, every variant the mapper searches: the weights at the planner's placement with the
    weight registers, then without them; for each, the inputs and the outputs at their home `act_home` (the plan's;
    default the placement's) and at every subset of the levels inside it that may hold them, each operand on its
    own, every stage first (the planner's staged placement), none last."""
    p = place(arch, spec)
    levels = pdnn_levels(arch)
    names = [lv.name for lv in levels]
    home = act_home or p.act.name
    inner = levels[names.index(home) + 1:]
    stages = [_subsets([lv.name for lv in inner if operand in lv.holds]) for operand in ACTIVATIONS]
    out = []
    for registers in ([p.tile] if p.tile is not None else []) + [None]:
        for staged in itertools.product(*stages):
            keep = {n: set() for n in names}
            for lv in [p.home, *p.stages] + ([registers] if registers is not None else []):
                keep[lv.name].add("weights")
            keep[home] |= set(ACTIVATIONS)
            for operand, at in zip(ACTIVATIONS, staged):
                for n in at:
                    keep[n].add(operand)
            out.append({n: frozenset(k) for n, k in keep.items()})
    return out


def map_workload(arch, workload, objective="energy", budget=2000, seed=0, samples=SAMPLES):
    """(level names, [LayerMapping]) for the workload's dense and conv2d layers."""
    plan = make_plan(arch, workload)
    units = min(arch.synapse.count, arch.neuron.count)
    names = [lv.name for lv in pdnn_levels(arch)]
    variants = keep_variants(arch, workload.spec, plan.act_level)
    out = []
    for lp in (lp for lp in plan.layers if lp.is_eo):
        op = ops.loop_nest(arch, lp, plan.samples)
        t0 = time.perf_counter()
        _, candidates, method = search(op, [levels_of(arch, keep, plan.reserved) for keep in variants], objective,
                                       spatial_dims=("M",), units=min(units, lp.m), budget=budget, seed=seed,
                                       samples=samples, starts=[lp.layer_map.mapping])
        fitting = [c for c in candidates if tile_count(c.mapping, op) <= MAX_TILES_PER_PASS]
        best = min(fitting, key=lambda c: rank(c, objective)) if fitting else None
        out.append(LayerMapping(lp.index, op, best, [(c.keep, c) for c in candidates], method,
                                time.perf_counter() - t0, best.keep if best else variants[0], plan.items))
    return names, out
