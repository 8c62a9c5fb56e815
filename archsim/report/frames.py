"""Tidy DataFrames and plots of one run, for notebooks: what `RunResult.counts()`, `.energy()`, `.layers()`,
`.levels()`, `.plot_breakdown()` and `.plot_timeline()` return. Units are in the column names (`_bits`,
`_words`, `_pj`, `_cycles`); an action's unit is the end of its name (`read_bits`, `read_words`, `adds`).

The busy timeline comes from a trace written by the event model (`simulate(..., mode="timing", trace=PATH)`):
each transaction record carries the start and end cycle of the phase it belongs to, so the load phases are
the intervals the weight-memory port is held and the compute phases those the datapath is held (the two
SimPy resources of the timing model)."""
import pandas as pd

from ..errors import ArchsimError
from ..energy.table import energy_frame
from .run import plan_frame

RESOURCES = {"load": "weight_port", "compute": "datapath"}
MEMORY_ACTIONS = ("read_bits", "write_bits", "read_words", "write_words")


def counts(result):
    """[layer, component, action, count]: the exact ledger, one row per (layer, component, action)."""
    return result.ledger.frame()


def energy(result):
    """[layer, component, action, count, pj_per_unit, energy_pj, source]: each count times its energy."""
    return energy_frame(result.arch, result.plan, result.ledger)


def layers(result):
    """One row per layer: the plan (shapes, fan-in, loop order, why) with energy_pj and the memory traffic
    bits of every memory level (e.g. weight_mem_read_bits, act_mem_write_bits) of the layer. A Boltzmann or
    DTM run has one row per stage (its ledger layer): see gibbs_stages."""
    plan = gibbs_stages(result) if result.kind != "pdnn" else plan_frame(result.plan)
    e = energy(result).groupby("layer").energy_pj.sum().rename("energy_pj")
    c = counts(result)
    c = c[c.component.isin([lv.name for lv in result.arch.levels]) & c.action.str.endswith("_bits")]
    traffic = c.assign(column=c.component + "_" + c.action).pivot_table(index="layer", columns="column",
                                                                       values="count", aggfunc="sum")
    out = plan.merge(e, left_on="layer", right_index=True, how="left").merge(traffic, left_on="layer",
                                                                            right_index=True, how="left")
    return out.fillna({col: 0 for col in ["energy_pj", *traffic.columns]}).astype(
        {col: "int64" for col in traffic.columns})


def gibbs_stages(result):
    """One row per stage of a Boltzmann (one stage) or DTM run: its nodes, the updated (unclamped) ones, its
    colour blocks and the rounds of synapse units they take per sweep, the updated nodes' fan-in, coupling
    bits, sweeps x chains, whether the couplings stay in the innermost coupling level (and why), its cycles and
    p-bit updates."""
    rows = []
    for k, (bm, sp, info) in enumerate(zip(result.plan.machines, result.plan.stages, result.stages)):
        deg = info["degrees"]
        rows.append({"layer": k, "stage": bm.spec.name, "type": sp.lp.type, "nodes": bm.n,
                     "updated_nodes": len(deg), "colour_blocks": info["colouring"].n_colours,
                     "rounds_per_sweep": sum(len(r) for r in sp.rounds),
                     "fan_in_max": int(deg.max(initial=0)), "fan_in_mean": float(deg.mean()) if len(deg) else 0.0,
                     "coupling_bits": info["coupling_bits"], "sweeps": info["sweeps"], "chains": info["chains"],
                     "couplings_stationary": info["stationary"], "reason": info["reason"],
                     "cycles": info["cycles"], "updates": info["updates"]})
    return pd.DataFrame(rows)


def levels(result):
    """One row per memory level, outermost first: kind, capacity_bits, word_bits, the bits and words read and
    written over the run, and energy_pj."""
    c = counts(result).groupby(["component", "action"])["count"].sum()
    e = energy(result).groupby("component").energy_pj.sum()
    rows = []
    for lv in result.arch.levels:
        rows.append({"level": lv.name, "kind": lv.kind, "capacity_bits": int(lv.capacity), "word_bits": lv.word_bits,
                     **{a: int(c.get((lv.name, a), 0)) for a in MEMORY_ACTIONS},
                     "energy_pj": float(e.get(lv.name, 0.0))})
    return pd.DataFrame(rows)


def busy(trace):
    """[resource, pass_id, tile, start_cycle, end_cycle, busy_cycles]: each interval the weight port (load
    phases) or the datapath (compute phases) is held, from a trace of a timing run."""
    from ..trace.reader import read_chunks
    parts = [c[["phase", "pass_id", "tile", "start_cycle", "end_cycle"]].drop_duplicates() for c in read_chunks(trace)]
    frame = pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
    frame.insert(0, "resource", frame.pop("phase").map(RESOURCES))
    frame["busy_cycles"] = frame.end_cycle - frame.start_cycle
    return frame.sort_values(["resource", "start_cycle"], ignore_index=True)


def utilisation(trace, cycles):
    """[resource, busy_cycles, utilisation]: the share of the run's `cycles` each resource is held."""
    b = busy(trace).groupby("resource").busy_cycles.sum()
    return pd.DataFrame({"resource": b.index, "busy_cycles": b.to_numpy(), "utilisation": b.to_numpy() / cycles})


def plot_breakdown(result, ax=None):
    """Energy per layer (per stage for a Gibbs run), stacked by component (pJ). Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt
    table = energy(result).pivot_table(index="layer", columns="component", values="energy_pj", aggfunc="sum")
    table = table.loc[:, table.sum() > 0]
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    table.plot.bar(stacked=True, ax=ax)
    ax.set_xlabel("layer" if result.kind == "pdnn" else "stage")
    ax.set_ylabel("energy (pJ)")
    ax.set_title(f"{result.workload.spec.name} on {result.arch.name}")
    return ax


def plot_timeline(result, trace, ax=None):
    """Busy intervals of the weight port and the datapath over the run's cycles, from the run's trace (p-DNN
    timing runs; a Boltzmann or DTM run records none: its cycles per stage are in layers()). Returns the Axes."""
    import matplotlib.pyplot as plt
    if result.kind != "pdnn":
        raise ArchsimError(f"plot_timeline: a {result.kind} run records no trace (simulate() takes trace= for "
                           f"p-DNN workloads only); its cycles per stage are in layers()")
    frame = busy(trace)
    ax = ax or plt.subplots(figsize=(9, 3))[1]
    names = list(RESOURCES.values())
    for y, name in enumerate(names):
        part = frame[frame.resource == name]
        ax.broken_barh(list(zip(part.start_cycle, part.busy_cycles)), (y - 0.4, 0.8))
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(0, result.cycles)
    ax.set_xlabel("cycle")
    ax.set_title(f"busy resources, {result.cycles:,} cycles")
    return ax
