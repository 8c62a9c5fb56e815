"""The closed-form energy model of Ghantasala et al. (2025), from its own inputs:

    eps_EO = n*bw*eps_wM + T*[(n*ba_in + ba_out)*eps_aM + eps_S(n, ba, bw) + eps_N]

per elementary operation (one output neuron of fan-in n, T samples); with ba_in = ba_out = ba this is the paper's
(n+1)*ba. eps_S is n MACs, or for 1-bit inputs on accumulate-only synapses, one add per selected (1) input.
This module predicts the counts the formula assumes; compare() sets them beside the simulator's ledger and names
the cause of every departure (input broadcast, samples-outer re-reads), predicting the departed count too.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .table import unit_energies

@dataclass(frozen=True)
class EOInputs:
    """What eps_EO needs for one layer: per EO n, bw, ba_in, ba_out, T; how many EOs; selected inputs."""
    n: int
    bw: int
    ba_in: int
    ba_out: int
    T: int
    eos: int             # elementary operations = outputs x input items
    op: str              # 'adds' or 'macs'
    stochastic: bool
    selected: int        # total selected inputs over all EOs and samples (accumulate-only synapses)


def eo_counts(p: EOInputs):
    """The counts eps_EO assumes, summed over the layer's EOs."""
    return {
        ("weight_mem", "read_bits"): p.eos * p.n * p.bw,
        ("act_mem", "read_bits"): p.eos * p.T * p.n * p.ba_in,
        ("act_mem", "write_bits"): p.eos * p.T * p.ba_out,
        ("synapse", "adds"): p.selected if p.op == "adds" else 0,
        ("synapse", "macs"): p.eos * p.T * p.n if p.op == "macs" else 0,
        ("neuron", "samples"): p.eos * p.T,
        ("rng", "draws"): p.eos * p.T if p.stochastic else 0,
    }


def eps_eo_pj(p: EOInputs, e):
    """Total energy (pJ) of the layer by the formula, e = {(component, action): pJ per unit}."""
    eps_wM, eps_aM_r, eps_aM_w = e[("weight_mem", "read_bits")], e[("act_mem", "read_bits")], \
        e[("act_mem", "write_bits")]
    eps_S_total = p.selected * e[("synapse", "adds")] if p.op == "adds" else p.T * p.n * p.eos * e[("synapse", "macs")]
    eps_N = e[("neuron", "samples")] + (e[("rng", "draws")] if p.stochastic else 0.0)
    return p.eos * (p.n * p.bw * eps_wM + p.T * (p.n * p.ba_in * eps_aM_r + p.ba_out * eps_aM_w + eps_N)) \
        + eps_S_total


def layer_inputs(plan, kernel_inputs):
    """EOInputs for every EO layer (dense, conv2d) of a planned run; `selected` counts the ones in each layer's
    kernel input rows (for a convolution, every window of every position)."""
    out = []
    for lp in (lp for lp in plan.layers if lp.is_eo):
        selected = int(np.count_nonzero(kernel_inputs[lp.index])) * lp.m if lp.op == "adds" else 0
        out.append((lp, EOInputs(lp.n, lp.bw, lp.ba_in, lp.ba_out, plan.samples, lp.m * lp.P * plan.items,
                                 lp.op, lp.stochastic, selected)))
    return out


def _mapping_prediction(arch, lp, plan, comp, action, formula):
    """(count the mapping predicts, cause) for a term the mapping changes; (formula, "") where it does not."""
    groups = -(-lp.m // lp.group)
    if (comp, action) == ("weight_mem", "read_bits"):
        causes, count = [], plan.items * lp.m * lp.row_bits
        if lp.bias_bits:
            causes.append(f"bias: {lp.bias_bits} bits per output read with its weights")
        if lp.type == "conv2d" and not lp.stationary:
            count *= lp.P
        elif lp.type == "conv2d":
            causes.append(f"weight stationary: each channel's weights read once per item and reused over "
                          f"{lp.P} output positions")
        if lp.loop_order == "samples_outer":
            count *= plan.samples
            causes.append(f"samples outer: weights re-read for each of T = {plan.samples} samples ({lp.reason})")
        return count, "; ".join(causes)
    if (comp, action) == ("act_mem", "read_bits") and arch.mapping.input_broadcast:
        return plan.items * groups * plan.samples * lp.P * lp.n * lp.ba_in, \
            f"input broadcast: one activation read feeds the {lp.group} synapse units of a tile " \
            f"({groups} tiles instead of {lp.m} outputs per position)"
    return formula, ""


def compare(arch, plan, ledger, kernel_inputs):
    """Term-by-term table for the EO layers: layer, component, action, eps_EO count, mapping-predicted count,
    simulated count, match (simulated == eps_EO), explained (simulated == mapping prediction), cause; and the
    analytic energy (pJ)."""
    rows, energy = [], 0.0
    for lp, p in layer_inputs(plan, kernel_inputs):
        e = {k: v[0] for k, v in unit_energies(arch, lp).items()}
        energy += eps_eo_pj(p, e)
        for (comp, action), formula in eo_counts(p).items():
            sim = ledger.get(comp, action, lp.index)
            pred, cause = _mapping_prediction(arch, lp, plan, comp, action, formula)
            rows.append((lp.index, comp, action, formula, pred, sim, sim == formula, sim == pred, cause))
    table = pd.DataFrame(rows, columns=["layer", "component", "action", "eps_eo_count", "mapping_count",
                                        "simulated_count", "match", "explained", "cause"])
    return table, energy


def gibbs_counts(degrees, coupling_bits, bias_bits, sweeps, chains, stationary):
    """The counts block Gibbs must make, from the updated nodes' degrees alone: per update, deg couplings and
    one bias read (once per stage when stationary), deg neighbour spins read and +-J adds, one draw, one
    compare and one spin written."""
    reps, updates, reads = sweeps * chains, len(degrees), int(np.sum(degrees))
    rows = reads * coupling_bits + updates * bias_bits
    return {("weight_mem", "read_bits"): rows if stationary else reps * rows,
            ("act_mem", "read_bits"): reps * reads, ("act_mem", "write_bits"): reps * updates,
            ("synapse", "adds"): reps * reads, ("neuron", "samples"): reps * updates,
            ("rng", "draws"): reps * updates}


def gibbs_compare(arch, lp, ledger, predicted):
    """Term-by-term table and analytic energy (pJ) for one Gibbs stage (ledger layer = stage)."""
    e = {k: v[0] for k, v in unit_energies(arch, lp).items()}
    rows = [(lp.index, c, a, want, ledger.get(c, a, lp.index), ledger.get(c, a, lp.index) == want)
            for (c, a), want in predicted.items()]
    table = pd.DataFrame(rows, columns=["layer", "component", "action", "analytic_count", "simulated_count", "match"])
    return table, float(sum(want * e[k] for k, want in predicted.items()))
