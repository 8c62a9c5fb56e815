"""Summarise a RunResult and write its files."""
import hashlib
import json
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import __version__, ops
from ..energy.analytic import cause_kind, compare, departures
from ..energy.table import energy_by_component, energy_frame, unit_energies
from ..kernels.tables import pbit_error_bound


def outputs_sha256(outputs):
    a = np.ascontiguousarray(outputs, dtype="<i8")
    h = hashlib.sha256(str(a.shape).encode())
    h.update(a.tobytes())
    return h.hexdigest()


def accuracy(output_mean, labels):
    """Fraction of items whose largest T-averaged output is the label (ties: lowest index); None without labels."""
    if labels is None:
        return None
    return float(np.mean(np.argmax(output_mean, axis=1) == labels))


def pbit_error(lp, plan):
    """Largest |P(1) of the layer's p-bit table - (1 + tanh(gain I)) / 2| over every I (None: not a p-bit layer)."""
    if lp.activation != "pbit":
        return None
    return pbit_error_bound(lp.table, lp.gain, lp.shift, plan.table_bits, plan.rng_bits)


def plan_frame(plan):
    """One row per layer; weight_path: the levels a weight tile passes, outermost first (home first);
    level_tiles: level:role:tile bits for each weight level (role home, stage, tile or bypassed)."""
    return pd.DataFrame([(lp.index, lp.type, "x".join(map(str, lp.in_shape)), "x".join(map(str, lp.out_shape)),
                          lp.n, lp.m, lp.P, lp.bw, lp.ba_in, lp.ba_out, lp.activation, lp.op, lp.group,
                          lp.loop_order, lp.stationary,
                          ">".join([lp.hops[0][0]] + [d or "synapse" for _, d in lp.hops]) if lp.hops else "",
                          " ".join(f"{name}:{role}:{bits}" for name, role, bits in lp.level_tiles), lp.act_level,
                          lp.gain, lp.shift, pbit_error(lp, plan), lp.reason) for lp in plan.layers],
                        columns=["layer", "type", "in_shape", "out_shape", "fan_in", "outputs", "positions",
                                 "weight_bits", "in_bits", "out_bits", "activation", "synapse_op",
                                 "outputs_per_tile", "loop_order", "weight_stationary", "weight_path",
                                 "level_tiles", "act_level", "gain", "table_shift", "pbit_p1_max_abs_error", "reason"])


def _outside_eps_eo(arch, plan, energy, analytic):
    """Every priced count eps_EO does not have, by component, with its energy and share of the run's energy:
    pooling layers (not elementary operations), and in EO layers every count above (or below) the formula's,
    e.g. the weight buffer / synapse registers, weights streaming from DRAM, bias bits, re-reads."""
    total = float(energy["energy_pj"].sum()) or 1.0
    out = []
    outside = {}  # how the operation names its layers -> their indices
    for lp in plan.layers:
        if ops.of(lp).outside_eps_eo:
            outside.setdefault(ops.of(lp).outside_eps_eo, []).append(lp.index)
    for name, indices in outside.items():
        pj = float(energy[energy["layer"].isin(indices)]["energy_pj"].sum())
        out.append(f"{name} {indices} are not elementary operations: {pj:.6g} pJ "
                   f"({100 * pj / total:.3g} % of the energy) outside eps_EO")
    formula = {(r.layer, r.component, r.action, r.operand): r.eps_eo_count for r in analytic.itertuples()}
    priced = {lp.index: unit_energies(arch, lp) for lp in plan.layers if lp.is_eo}
    extra = {}
    for r in energy[energy["layer"].isin(list(priced))].itertuples():
        if (r.component, r.action) not in priced[r.layer]:
            continue
        beyond = r.count - formula.get((r.layer, r.component, r.action, r.operand), 0)
        if beyond:
            key = (r.component, r.action)
            n, pj = extra.get(key, (0, 0.0))
            extra[key] = (n + beyond, pj + beyond * r.pj_per_unit)
    for (comp, action), (n, pj) in sorted(extra.items()):
        out.append(f"{comp} {action}: {n:+d} against eps_EO's count, {pj:+.6g} pJ ({100 * pj / total:+.3g} % of "
                   f"the energy)")
    return out


def departure_groups(plan, energy, analytic, parts):
    """The run's energy beyond eps_EO's, grouped by cause (energy.analytic.cause_kind), largest first: [{cause,
    layers, energy_pj, share_of_energy}]. The groups are the causes of the mapping's departures (analytic
    `departures`), the priced counts of EO layers that are no eps_EO term (the synapses' weight registers: the
    buffer energy eps_EO does not charge), the layers that are no elementary operations, and any simulated count
    the mapping does not predict; their energies sum to the run's energy minus eps_EO's."""
    total = float(energy["energy_pj"].sum()) or 1.0
    layers = {lp.index: lp for lp in plan.layers}
    groups = {}

    def add(cause, layer, pj):
        at, sum_pj = groups.get(cause, (set(), 0.0))
        groups[cause] = (at | {int(layer)}, sum_pj + pj)

    for r in parts.itertuples():
        add(cause_kind(r.cause), r.layer, r.energy_pj)
    predicted = {(r.layer, r.component, r.action, r.operand): r.mapping_count for r in analytic.itertuples()}
    for r in energy[energy["pj_per_unit"] != 0].itertuples():
        lp = layers[r.layer]
        key = (r.layer, r.component, r.action, r.operand)
        if not lp.is_eo:
            add(f"{ops.of(lp).outside_eps_eo or lp.type + ' layers'}, not elementary operations", r.layer,
                r.energy_pj)
        elif key not in predicted:
            add(f"weight registers {r.component}, not charged by eps_EO" if r.component == lp.registers else
                f"{r.component} {r.operand or r.action}, not in eps_EO", r.layer, r.energy_pj)
        elif r.count != predicted[key]:
            add("simulated counts the mapping does not predict", r.layer, (r.count - predicted[key]) * r.pj_per_unit)
    return [{"cause": cause, "layers": sorted(at), "energy_pj": pj, "share_of_energy": pj / total}
            for cause, (at, pj) in sorted(groups.items(), key=lambda kv: -abs(kv[1][1])) if pj]


def departure_line(groups, width=300):
    """The groups as one short line for the terminal: each cause with its signed share of the run's energy and
    its layers, largest first, as many as fit in `width` characters; the rest counted (summary.json has all)."""
    def layers(at):
        return f"layer {at[0]}" if len(at) == 1 else f"layers {', '.join(map(str, at))}" if len(at) <= 4 else \
            f"{len(at)} layers"
    items = [f"{g['cause']} {100 * g['share_of_energy']:+.3g} % ({layers(g['layers'])})" for g in groups]
    shown = []
    for item in items:
        if len("; ".join(shown + [item])) > width:
            break
        shown.append(item)
    rest = len(items) - len(shown)
    return "; ".join(shown) + (f"; {rest} more in summary.json" if rest else "")


def summarize(result):
    """(summary dict, tables dict) for a run (a Boltzmann or DTM run: report/gibbs.py's)."""
    if result.kind != "pdnn":
        from .gibbs import summarize_gibbs  # it writes through this module's write_files
        return summarize_gibbs(result)
    energy = energy_frame(result.arch, result.plan, result.ledger)
    analytic, analytic_pj = compare(result.arch, result.plan, result.ledger, result.kernel_inputs)
    parts = departures(result.arch, result.plan, result.kernel_inputs)
    total = float(energy["energy_pj"].sum())
    plan = result.plan
    summary = {
        "arch": result.arch.name,
        "workload": result.workload.spec.name,
        "mode": result.mode,
        "samples": plan.samples,
        "seed": plan.seed,
        "items": plan.items,
        "cycles": result.cycles,
        "time_s": result.cycles / result.arch.clock,
        "energy_pj": total,
        "energy_pj_per_item": total / plan.items,
        "energy_pj_by_component": energy_by_component(energy),
        "analytic_energy_pj": analytic_pj,
        "energy_rel_diff_vs_analytic": (total - analytic_pj) / analytic_pj if analytic_pj else 0.0,
        "counts_match_analytic": bool(analytic["match"].all()),
        "departures_explained": bool(analytic["explained"].all()),
        "departures": sorted(set(parts["cause"])) + _outside_eps_eo(result.arch, plan, energy, analytic),
        "departure_groups": departure_groups(plan, energy, analytic, parts),
        "loop_order": {f"layer{lp.index}": lp.loop_order for lp in plan.layers if lp.is_eo},
        "outputs_sha256": outputs_sha256(result.outputs),
        "output_mean_first_item": result.output_mean[0].tolist(),  # float64 -> the same Python floats
        "accuracy": accuracy(result.output_mean, result.workload.labels),
        "accumulator_range": {f"layer{i}": list(r) for i, r in result.acc_range.items()},
        "pbit_p1_max_abs_error": max((e for e in (pbit_error(lp, plan) for lp in plan.layers) if e is not None),
                                     default=None),
    }
    tables = {"counts": result.ledger.frame(), "energy": energy, "analytic": analytic, "plan": plan_frame(plan)}
    return summary, tables


def manifest(seed, mode, wall_s, argv=None):
    import numba
    return {
        "archsim_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "seed": seed,
        "mode": mode,
        "wall_s": {k: round(v, 6) for k, v in wall_s.items()},
        "command": argv,
    }


def summary_json(summary):
    """json.dumps(summary, indent=2, allow_nan=False) + newline, byte for byte, with each top-level list of plain
    numbers (an output row can hold 10^5 to 10^6 of them) encoded by json's C encoder rather than its indenting
    Python one, which takes about 1 us per number."""
    plain = {int, float}  # exact types: bools, NumPy scalars and nested values take the plain path
    lists = {k: v for k, v in summary.items() if isinstance(v, list) and v and set(map(type, v)) <= plain}
    marks = {k: f"@archsim-list-{i}@" for i, k in enumerate(lists)}
    text = json.dumps({k: marks.get(k, v) for k, v in summary.items()}, indent=2, allow_nan=False)
    for k, v in lists.items():
        if text.count(json.dumps(marks[k])) != 1:  # a value of the summary spells the mark: no shortcut
            return json.dumps(summary, indent=2, allow_nan=False) + "\n"
        items = json.dumps(v, allow_nan=False)[1:-1].split(", ")
        text = text.replace(json.dumps(marks[k]), "[\n    " + ",\n    ".join(items) + "\n  ]", 1)
    return text + "\n"


def write_files(out_dir, summary, tables, arch, spec, arrays, seed, mode, wall_s, argv):
    """The files every run writes: summary.json, one CSV per table, the resolved arch.yaml and workload.yaml,
    manifest.json, and the named .npy arrays."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    (out / "summary.json").write_text(summary_json(summary))  # strict JSON
    (out / "arch.yaml").write_text(yaml.safe_dump(arch.model_dump(mode="json"), sort_keys=False))
    (out / "workload.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json", exclude_none=True),
                                                      sort_keys=False))
    for name, array in arrays.items():
        np.save(out / f"{name}.npy", array)
    (out / "manifest.json").write_text(json.dumps(manifest(seed, mode, wall_s, argv), indent=2) + "\n")
    return summary


def write_run(result, out_dir, wall_s=None, argv=None):
    """Write summary.json, counts.csv, energy.csv, analytic.csv, plan.csv, arch.yaml, workload.yaml,
    manifest.json and outputs.npy into out_dir (a Boltzmann or DTM run: report/gibbs.write_gibbs's files);
    return the summary."""
    if result.kind != "pdnn":
        from .gibbs import write_gibbs
        return write_gibbs(result, out_dir, wall_s, argv)
    summary, tables = summarize(result)
    return write_files(out_dir, summary, tables, result.arch, result.workload.spec, {"outputs": result.outputs},
                       result.plan.seed, result.mode, {**result.wall_s, **(wall_s or {})}, argv)
