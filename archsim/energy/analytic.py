"""The closed-form energy model of Ghantasala et al. (2025), from its own inputs:

    eps_EO = n*bw*eps_wM + T*[(n*ba_in + ba_out)*eps_aM + eps_S(n, ba, bw) + eps_N]

per elementary operation (one output neuron of fan-in n, T samples); with ba_in = ba_out = ba this is the paper's
(n+1)*ba. eps_S is n MACs, or on accumulate-only synapses one add per selected input bit (1-bit inputs: the ones;
ba-bit inputs: the set bits of every bit-serial pass).
The weight memory wM is the level the synapses' weight registers are filled from (the source of a tile's last
transfer); the activation memory aM is the level holding the layer's activations.
This module predicts the counts the formula assumes; compare() sets them beside the simulator's ledger and the
counts the executed mapping predicts (its loop-nest count model, mapping/loopnest.py: one definition for the
mapper, the executor and this table), and names the cause of every departure (bias bits, input broadcast,
samples-outer re-reads, weight-stationary reuse, weights streaming from an outer level through the staging
levels, partial sums written and read back).
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config.schema import INPUTS, OUTPUTS, WEIGHTS
from ..mapping.loopnest import BIASES, counts
from ..mapping.mapfile import mapping_text
from .table import unit_energies

DATAPATH = ("synapse", "neuron", "rng")  # eps_EO's datapath components (the rest are memory levels)


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
    selected: int        # total selected input bits over all EOs and samples (accumulate-only synapses)
    wM: str = "weight_mem"  # the level names of the weight and activation memories
    aM: str = "act_mem"


WEIGHT_READ, ACT_READ = "n*bw*eps_wM", "T*n*ba*eps_aM"


def eo_counts(p: EOInputs):
    """[(term, component, action, operand, count)]: the counts eps_EO assumes, summed over the layer's EOs (one
    level may serve two terms, when it holds weights and activations: the operand tells them apart)."""
    return [
        (WEIGHT_READ, p.wM, "read_bits", WEIGHTS, p.eos * p.n * p.bw),
        (ACT_READ, p.aM, "read_bits", INPUTS, p.eos * p.T * p.n * p.ba_in),
        ("T*ba*eps_aM", p.aM, "write_bits", OUTPUTS, p.eos * p.T * p.ba_out),
        ("T*eps_S", "synapse", "adds", "", p.selected if p.op == "adds" else 0),
        ("T*eps_S", "synapse", "macs", "", p.eos * p.T * p.n if p.op == "macs" else 0),
        ("T*eps_N", "neuron", "samples", "", p.eos * p.T),
        ("T*eps_N", "rng", "draws", "", p.eos * p.T if p.stochastic else 0),
    ]


def eps_eo_pj(p: EOInputs, e):
    """Total energy (pJ) of the layer by the formula, e = {(component, action): pJ per unit}."""
    eps_wM, eps_aM_r, eps_aM_w = e[(p.wM, "read_bits")], e[(p.aM, "read_bits")], e[(p.aM, "write_bits")]
    eps_S_total = p.selected * e[("synapse", "adds")] if p.op == "adds" else p.T * p.n * p.eos * e[("synapse", "macs")]
    eps_N = e[("neuron", "samples")] + (e[("rng", "draws")] if p.stochastic else 0.0)
    return p.eos * (p.n * p.bw * eps_wM + p.T * (p.n * p.ba_in * eps_aM_r + p.ba_out * eps_aM_w + eps_N)) \
        + eps_S_total


def _set_bits(x, bits):
    """Ones in the `bits`-bit two's-complement codes of x, one bit plane at a time."""
    x = np.asarray(x, np.int64)
    return sum(int(np.count_nonzero((x >> b) & 1)) for b in range(bits))


def layer_inputs(plan, kernel_inputs):
    """EOInputs for every EO layer (dense, conv2d) of a planned run; `selected` counts the set input bits in each
    layer's kernel input rows (for a convolution, every window of every position)."""
    out = []
    for lp in (lp for lp in plan.layers if lp.is_eo):
        selected = _set_bits(kernel_inputs[lp.index], lp.ba_in) * lp.m if lp.op == "adds" else 0
        out.append((lp, EOInputs(lp.n, lp.bw, lp.ba_in, lp.ba_out, plan.samples, lp.m * lp.P * plan.items,
                                 lp.op, lp.stochastic, selected, lp.hops[-1][0], lp.act_level)))
    return out


def mapped_counts(lp, items):
    """{(level, operand, action): bits over the run} the executed mapping makes, by the loop-nest count model
    (mapping/loopnest.counts of the layer's nest, one pass per input item; biases with the weights, as the
    ledger counts them); ('datapath', '-', 'macs') too."""
    out = {}
    for (level, operand, action), n in counts(*lp.nest).items():
        if action.endswith("_bits") or action == "macs":
            key = (level, WEIGHTS if operand == BIASES else operand, action)
            out[key] = out.get(key, 0) + items * n
    return out


def _weight_causes(lp, plan):
    causes = []
    if lp.bias_bits:
        causes.append(f"bias: {lp.bias_bits} bits per output read with its weights")
    if lp.stationary:  # only an operation with positions (conv2d) holds its weights across them
        causes.append(f"weight stationary: each channel's weights read once per item and reused over "
                      f"{lp.P} output positions")
    if lp.loop_order == "samples_outer":
        causes.append(f"samples outer: weights re-read for each of T = {plan.samples} samples ({lp.reason})")
    return causes


def _cause(lp, plan, mapped, level, action, operand, formula, predicted):
    """Why the mapping's count departs from eps_EO's (named causes; the mapping itself where none applies)."""
    if predicted == formula:
        return ""
    causes = []
    if operand == WEIGHTS:
        causes = _weight_causes(lp, plan)
        wM = lp.hops[-1][0]
        if level != wM or action == "write_bits":
            stages = ", ".join(dst for _, dst in lp.hops[:-1])
            causes.insert(0, f"weights stream from {lp.hops[0][0]} through {stages}: eps_EO reads them from {wM} "
                             f"only")
    elif operand == INPUTS and lp.broadcast:
        causes.append(f"input broadcast: one activation read feeds the {lp.group} synapse units of a tile")
    elif operand == OUTPUTS and mapped.get((level, OUTPUTS, "read_bits")):
        partial = mapped[(level, OUTPUTS, "read_bits")] // lp.partial_bits
        causes.append(f"partial sums: the mapping splits the fan-in C above the accumulators; {partial} partial "
                      f"sums of {lp.partial_bits} bits written to {level} and read back")
    if not causes:
        names = [lv.name for lv in lp.nest[1]]
        causes.append(f"the mapping {mapping_text(lp.layer_map.mapping, names, lp.layer_map.keep)} moves "
                      f"{predicted} bits where eps_EO moves {formula}")
    return "; ".join(causes)


def compare(arch, plan, ledger, kernel_inputs):
    """Term-by-term table for the EO layers: layer, component, action, eps_EO count, the count the executed
    mapping predicts (its loop-nest count model, for every memory access outside the synapses' weight
    registers, including those eps_EO does not have: weights streaming through staging levels, partial sums
    read back), simulated count, match (simulated == eps_EO), explained (simulated == mapping prediction),
    cause of every departure from eps_EO; and the analytic energy (pJ). Datapath terms the mapping does not
    change (adds, neuron samples, RNG draws) are predicted by the formula."""
    rows, energy = [], 0.0
    for lp, p in layer_inputs(plan, kernel_inputs):
        e = {k: v[0] for k, v in unit_energies(arch, lp).items()}
        energy += eps_eo_pj(p, e)
        mapped = mapped_counts(lp, plan.items)
        terms = {}
        for _, comp, action, operand, formula in eo_counts(p):
            key = ("datapath", "-", "macs") if (comp, action) == ("synapse", "macs") and formula else \
                (comp, operand, action)
            terms[(comp, action, operand)] = (formula, mapped.get(key, formula if comp in DATAPATH else 0))
        for (level, operand, action), n in sorted(mapped.items()):
            if level != "datapath" and level != lp.registers and (level, action, operand) not in terms:
                terms[(level, action, operand)] = (0, n)
        for (comp, action, operand), (formula, pred) in terms.items():
            sim = ledger.get(comp, action, lp.index, operand)
            cause = _cause(lp, plan, mapped, comp, action, operand, formula, pred) if comp not in DATAPATH else ""
            rows.append((lp.index, comp, action, operand, formula, pred, sim, sim == formula, sim == pred, cause))
    table = pd.DataFrame(rows, columns=["layer", "component", "action", "operand", "eps_eo_count", "mapping_count",
                                        "simulated_count", "match", "explained", "cause"])
    return table, energy


def gibbs_counts(degrees, coupling_bits, bias_bits, sweeps, chains, stationary, wM="weight_mem", aM="act_mem"):
    """The counts block Gibbs must make, from the updated nodes' degrees alone: per update, deg couplings and
    one bias read (once per stage when stationary), deg neighbour spins read and +-J adds, one draw, one
    compare and one spin written."""
    reps, updates, reads = sweeps * chains, len(degrees), int(np.sum(degrees))
    rows = reads * coupling_bits + updates * bias_bits
    return {(wM, "read_bits"): rows if stationary else reps * rows,
            (aM, "read_bits"): reps * reads, (aM, "write_bits"): reps * updates,
            ("synapse", "adds"): reps * reads, ("neuron", "samples"): reps * updates,
            ("rng", "draws"): reps * updates}


def gibbs_compare(arch, lp, ledger, predicted):
    """Term-by-term table and analytic energy (pJ) for one Gibbs stage (ledger layer = stage)."""
    e = {k: v[0] for k, v in unit_energies(arch, lp).items()}
    rows = [(lp.index, c, a, want, ledger.get(c, a, lp.index), ledger.get(c, a, lp.index) == want)
            for (c, a), want in predicted.items()]
    table = pd.DataFrame(rows, columns=["layer", "component", "action", "analytic_count", "simulated_count", "match"])
    return table, float(sum(want * e[k] for k, want in predicted.items()))
