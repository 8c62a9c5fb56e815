"""archsim map: for every layer with weights, the mapper's search on the architecture's levels (pure data in,
typed results out; writing is report/mappings.py)."""
import time
from dataclasses import dataclass

from ..mapping.hierarchy import levels_of, operation_of
from ..mapping.search import search
from .plan import make_plan


@dataclass(frozen=True)
class LayerMapping:
    layer: int
    operation: object
    best: object          # search.Candidate, or None when no mapping fits
    candidates: list
    method: str           # exhaustive | sampled+climb
    seconds: float


def map_workload(arch, workload, objective="energy", budget=2000, seed=0):
    """(levels, [LayerMapping]) for the workload's dense and conv2d layers."""
    plan = make_plan(arch, workload)
    levels = levels_of(arch)
    units = min(arch.synapse.count, arch.neuron.count)
    out = []
    for lp in (lp for lp in plan.layers if lp.is_eo):
        op = operation_of(lp, plan.samples, plan.items, arch.synapse.accumulator_bits)
        t0 = time.perf_counter()
        best, candidates, method = search(op, levels, objective, spatial_dims=("M",), units=units, budget=budget,
                                          seed=seed)
        out.append(LayerMapping(lp.index, op, best, candidates, method, time.perf_counter() - t0))
    return levels, out
