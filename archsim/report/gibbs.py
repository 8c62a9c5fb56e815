"""Summaries and files of Boltzmann-machine and denoising-chain runs (samples.npy beside the tables)."""
import hashlib

import numpy as np
import pandas as pd

from ..energy.analytic import gibbs_compare, gibbs_counts
from ..energy.table import energy_by_component, energy_frame
from . import quality
from .run import write_files


def samples_sha256(samples):
    a = np.ascontiguousarray(samples, dtype=np.int8)
    h = hashlib.sha256(str(a.shape).encode())
    h.update(a.tobytes())
    return h.hexdigest()


def colouring_summary(c):
    return {"method": c.method, "colours": c.n_colours, "lower_bound": c.lower_bound, "bound": c.bound_reason}


def summarize_gibbs(result):
    energy = energy_frame(result.arch, result.plan, result.ledger)
    tables, analytic_pj = [], 0.0
    for info, lp in zip(result.stages, result.plan.layers):
        table, pj = gibbs_compare(result.arch, lp, result.ledger, gibbs_counts(
            info["degrees"], info["coupling_bits"], info["bias_bits"], info["sweeps"], info["chains"],
            info["stationary"]))
        tables.append(table)
        analytic_pj += pj
    analytic = pd.concat(tables, ignore_index=True)
    total = float(energy.energy_pj.sum())
    updates = sum(info["updates"] for info in result.stages)
    chains = result.stages[0]["chains"]
    per_stage = energy.groupby("layer").energy_pj.sum()
    summary = {
        "kind": result.kind, "arch": result.arch.name, "workload": result.workload.spec.name, "mode": result.mode,
        "seed": result.workload.spec.seed, "chains": chains, "stages": len(result.stages),
        "sweeps": [info["sweeps"] for info in result.stages], "cycles": result.cycles,
        "time_s": result.cycles / result.arch.clock, "energy_pj": total,
        "energy_pj_by_component": energy_by_component(energy), "analytic_energy_pj": analytic_pj,
        "counts_match_analytic": bool(analytic["match"].all()),
        "updates": updates, "energy_pj_per_update": total / updates if updates else 0.0,
        "updates_per_s": updates / (result.cycles / result.arch.clock) if result.cycles else 0.0,
        "energy_pj_per_sample": total / chains,
        "stage_energy_pj": [float(per_stage.get(i, 0.0)) for i in range(len(result.stages))],
        "stage_cycles": [info["cycles"] for info in result.stages],
        "couplings_stationary": [info["stationary"] for info in result.stages],
        "colouring": colouring_summary(result.stages[0]["colouring"]),
        "samples": int(result.samples.shape[0]), "outputs_sha256": samples_sha256(result.samples),
    }
    chips = result.stages[0].get("chips")
    if chips is not None:  # energy_pj stays the chips' own; the links' energy is beside it
        summary["chips"] = {**chips, "energy_pj_with_links": total + chips["link_energy_pj"]}
        m = result.monolithic
        summary["quality"] = quality.versus_monolithic(result.samples, m.samples, m.edges, m.weights, m.h, m.beta,
                                                       m.record_every, m.clamped)
    return summary, {"counts": result.ledger.frame(), "energy": energy, "analytic": analytic}


def write_gibbs(result, out_dir, wall_s=None, argv=None):
    """The run's files (see report.run.write_files) with samples.npy: int8 in {-1, +1}, one row per recorded
    sweep and chain (sweep-major)."""
    summary, tables = summarize_gibbs(result)
    samples = result.samples.reshape(-1, result.samples.shape[-1])
    return write_files(out_dir, summary, tables, result.arch, result.workload.spec, {"samples": samples},
                       result.workload.spec.seed, result.mode, {**result.wall_s, **(wall_s or {})}, argv)
