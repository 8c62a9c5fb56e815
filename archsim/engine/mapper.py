"""archsim map: for every layer with weights, the mapper's search on the architecture's levels (pure data in,
typed results out; writing is report/mappings.py). The levels keep what the planner's placement puts there (the
weights' home and the levels inside it, the activations' level), with and without the synapses' weight
registers (samples inner or outer); capacities are what the homes leave. The planner's own mapping of the layer
starts the search of its variant, so the choice is never worse than the planner's (a prime number of outputs
too: both unroll them unevenly, the last tile partial). The choice is the best candidate the executor accepts
(at most MAX_TILES_PER_PASS tiles). Counts are per layer pass (one item); `passes` scales them
to the run."""
import time
from dataclasses import dataclass

from ..mapping.execute import tile_count
from .. import ops
from ..mapping.hierarchy import levels_of, pdnn_levels
from ..mapping.mapfile import LayerMap
from ..mapping.search import rank, search
from .plan import MAX_TILES_PER_PASS, make_plan, place


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


def keep_variants(arch, spec):
    """What each level keeps: the planner's placement with the weight registers, then without them."""
    p = place(arch, spec)
    names = [lv.name for lv in pdnn_levels(arch)]
    out = []
    for registers in ([p.tile] if p.tile is not None else []) + [None]:
        keep = {n: set() for n in names}
        for lv in [p.home, *p.stages] + ([registers] if registers is not None else []):
            keep[lv.name].add("weights")
        keep[p.act.name] |= {"inputs", "outputs"}
        out.append({n: frozenset(k) for n, k in keep.items()})
    return out


def map_workload(arch, workload, objective="energy", budget=2000, seed=0):
    """(level names, [LayerMapping]) for the workload's dense and conv2d layers."""
    plan = make_plan(arch, workload)
    units = min(arch.synapse.count, arch.neuron.count)
    names = [lv.name for lv in pdnn_levels(arch)]
    variants = keep_variants(arch, workload.spec)
    out = []
    for lp in (lp for lp in plan.layers if lp.is_eo):
        op = ops.loop_nest(arch, lp, plan.samples)
        t0 = time.perf_counter()
        found, methods = [], []
        for keep in variants:
            starts = [lp.layer_map.mapping] if lp.layer_map.keep == keep else []
            best, candidates, method = search(op, levels_of(arch, keep, plan.reserved), objective,
                                              spatial_dims=("M",), units=min(units, lp.m), budget=budget, seed=seed,
                                              starts=starts)
            found += [(keep, c) for c in candidates]
            methods.append(method)
        fitting = [(k, c) for k, c in found if c is not None and tile_count(c.mapping, op) <= MAX_TILES_PER_PASS]
        best = min(fitting, key=lambda kc: rank(kc[1], objective)) if fitting else (variants[0], None)
        method = "exhaustive" if all(m == "exhaustive" for m in methods) else "sampled+climb"
        out.append(LayerMapping(lp.index, op, best[1], found, method, time.perf_counter() - t0, best[0],
                                plan.items))
    return names, out
