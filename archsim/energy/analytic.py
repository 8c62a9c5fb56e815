"""The closed-form energy model of Ghantasala et al. (2025), from its own inputs:

    eps_EO = n*bw*eps_wM + T*[(n*ba_in + ba_out)*eps_aM + eps_S(n, ba, bw) + eps_N]

per elementary operation (one output neuron of fan-in n, T samples); with ba_in = ba_out = ba this is the paper's
(n+1)*ba. eps_S is n MACs, or on accumulate-only synapses one add per selected input bit (1-bit inputs: the ones;
ba-bit inputs: the set bits of every bit-serial pass).
The weight memory wM is the level the synapses' weight registers are filled from (the source of a tile's last
transfer). The activation memory aM is the memory the synapses read their inputs from and the neurons write their
outputs to: the layer's innermost input holder (its reads) and innermost output holder (its writes), the same level
unless a mapping file keeps them apart. Where the activations are homed further out (a DRAM) and staged through
inner levels, eps_EO prices nothing at the home: the staging (input fills, output drains, partial sums read back
from the home) is a departure.
This module predicts the counts the formula assumes; compare() sets them beside the simulator's ledger and the
counts the executed mapping predicts (its loop-nest count model, mapping/loopnest.py: one definition for the
mapper, the executor and this table), and departures() splits every difference into its causes, each derived
from those counts: bias bits, input broadcast, samples-outer re-reads, weight-stationary reuse, weights streaming
from an outer level through the staging levels, activations staged from their home (the counts of the same
mapping with the activations kept at their innermost holders only, set against the mapping's), partial sums
written and read back. A cause reads "<what>: <detail>"; the report groups the causes by <what> (cause_kind).
"""
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..config.schema import INPUTS, OUTPUTS, WEIGHTS
from ..mapping.loopnest import BIASES, counts
from .table import unit_energies

DATAPATH = ("synapse", "neuron", "rng")  # eps_EO's datapath components (the rest are memory levels)
OUT_DIMS = frozenset("NTM")  # the dimensions indexing a layer's outputs


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
    wM: str = "weight_mem"  # the level names of the weight memory and of the activation memory, where the
    aM_in: str = "act_mem"  # synapses read the inputs (aM_in) and the neurons write the outputs (aM_out)
    aM_out: str = "act_mem"


WEIGHT_READ, ACT_READ = "n*bw*eps_wM", "T*n*ba*eps_aM"


def eo_counts(p: EOInputs):
    """[(term, component, action, operand, count)]: the counts eps_EO assumes, summed over the layer's EOs (one
    level may serve two terms, when it holds weights and activations: the operand tells them apart)."""
    return [
        (WEIGHT_READ, p.wM, "read_bits", WEIGHTS, p.eos * p.n * p.bw),
        (ACT_READ, p.aM_in, "read_bits", INPUTS, p.eos * p.T * p.n * p.ba_in),
        ("T*ba*eps_aM", p.aM_out, "write_bits", OUTPUTS, p.eos * p.T * p.ba_out),
        ("T*eps_S", "synapse", "adds", "", p.selected if p.op == "adds" else 0),
        ("T*eps_S", "synapse", "macs", "", p.eos * p.T * p.n if p.op == "macs" else 0),
        ("T*eps_N", "neuron", "samples", "", p.eos * p.T),
        ("T*eps_N", "rng", "draws", "", p.eos * p.T if p.stochastic else 0),
    ]


def eps_eo_pj(p: EOInputs, e):
    """Total energy (pJ) of the layer by the formula, e = {(component, action): pJ per unit}."""
    eps_wM, eps_aM_r, eps_aM_w = e[(p.wM, "read_bits")], e[(p.aM_in, "read_bits")], e[(p.aM_out, "write_bits")]
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
                                 lp.op, lp.stochastic, selected, lp.hops[-1][0], lp.in_level, lp.out_level)))
    return out


def mapped_counts(nest, items):
    """{(level, operand, action): bits over the run} a layer's loop nest (op, levels, mapping) makes, by the
    loop-nest count model (mapping/loopnest.counts, one pass per input item; biases under their own operand,
    loopnest.BIASES); ('datapath', '-', 'macs') too."""
    return {key: items * n for key, n in counts(*nest).items() if key[2].endswith("_bits") or key[2] == "macs"}


def _as_ledger(mapped):
    """mapped_counts with the biases counted with the weights, as the ledger counts them."""
    out = {}
    for (level, operand, action), n in mapped.items():
        key = (level, WEIGHTS if operand == BIASES else operand, action)
        out[key] = out.get(key, 0) + n
    return out


def _unstaged(nest):
    """The nest with the inputs and the outputs kept at their innermost holders only (eps_EO's activation
    memory): what the same loops count without staging the activations."""
    op, levels, mapping = nest
    inner = {operand: max(i for i, lv in enumerate(levels) if operand in lv.holds) for operand in (INPUTS, OUTPUTS)}
    return op, [replace(lv, holds=frozenset(h for h in lv.holds if inner.get(h, i) == i))
                for i, lv in enumerate(levels)], mapping


def _loops(nest, where):
    """The loops of the levels `where` (indices) as text, e.g. 'dram: N1024 M2; global_buf: T8'."""
    _, levels, mapping = nest
    return "; ".join(f"{levels[i].name}: " + " ".join(f"{d}{f}" for d, f in mapping.temporal[i])
                     for i in where if mapping.temporal[i]) or "none"


def _index(nest, name):
    return [lv.name for lv in nest[1]].index(name)


def _reuse_cause(lp, plan):
    """Why the weight memory's reads of the weights (biases aside) depart from n*bw per EO."""
    _, levels, mapping = lp.nest
    causes = []
    if lp.stationary:  # only an operation with positions (conv2d) holds its weights across them
        causes.append(f"weight stationary: each channel's weights read once per item and reused over {lp.P} "
                      f"output positions")
    if lp.loop_order == "samples_outer":
        at = [lv.name for lv, loops in zip(levels, mapping.temporal) if any(d == "T" and f > 1 for d, f in loops)]
        causes.append(f"samples outer: weights re-read for each of T = {plan.samples} samples (" +
                      (f"loop T at {', '.join(at)} above the weight registers {lp.registers})" if lp.registers else
                       f"no weight registers: the synapses read them from {lp.hops[-1][0]})"))
    if not causes:
        wM = _index(lp.nest, lp.hops[-1][0])
        causes.append(f"loops above {lp.hops[-1][0]}: {_loops(lp.nest, range(wM + 1))} re-read or reuse them")
    return "; ".join(causes)


def _partial_cause(lp):
    """The partial sums of the outputs at their innermost holder: the fan-in loops with an output loop inside."""
    _, levels, mapping = lp.nest
    loops = [(levels[i].name, d, f) for i, d, f in mapping.loops() if f > 1]
    split = [f"C{f} at {name}" for k, (name, d, f) in enumerate(loops)
             if d == "C" and any(d2 in OUT_DIMS for _, d2, _ in loops[k + 1:])]
    return (f"partial sums: loop {', '.join(split) or 'C'} splits the accumulation; {lp.partial_bits}-bit partial "
            f"sums written to {lp.out_level} and read back")


def _staging_cause(lp):
    stages = sorted({c for _, c in lp.in_hops} | {c for c, _ in lp.out_hops}, key=lambda n: _index(lp.nest, n))
    at = f"reads and writes them at {lp.in_level}" if lp.in_level == lp.out_level else \
        f"reads the inputs at {lp.in_level} and writes the outputs at {lp.out_level}"
    return f"activations staged from {lp.act_level} through {', '.join(stages)}: eps_EO {at} only"


def _stream_cause(lp):
    stages = ", ".join(dst for _, dst in lp.hops[:-1])
    return f"weights stream from {lp.hops[0][0]} through {stages}: eps_EO reads them from {lp.hops[-1][0]} only"


def _parts(lp, plan, key, formula, predicted, raw, base):
    """[(cause, bits)]: the departure of one count (level, operand, action) from eps_EO's, split by cause; the
    bits sum to predicted - formula (a remainder no named cause explains is named by the loops above the level).
    raw: the mapping's counts with the biases apart; base: its counts without staging the activations."""
    level, operand, action = key
    if level in DATAPATH:  # the mapping changes none but the MACs (the steps of its loop nest)
        return [(f"loop nest: {_loops(lp.nest, range(len(lp.nest[1])))} makes its {level} {action}",
                 predicted - formula)]
    staged = predicted - base.get(key, 0)  # 0 unless the activations are staged
    parts = [(_staging_cause(lp), staged)] if staged else []
    rest = base.get(key, 0) - formula
    if operand == WEIGHTS and level == lp.hops[-1][0] and action == "read_bits":
        bias = raw.get((level, BIASES, action), 0)
        parts += [(f"bias: {lp.bias_bits} bits per output read with its weights", bias),
                  (_reuse_cause(lp, plan), rest - bias)]
    elif operand == WEIGHTS:
        parts.append((_stream_cause(lp), rest))
    elif operand == INPUTS and lp.broadcast and level == lp.in_level:
        parts.append((f"input broadcast: one input read feeds the {lp.group} synapse units of a tile", rest))
    elif operand == OUTPUTS and level == lp.out_level and base.get((level, OUTPUTS, "read_bits")):
        parts.append((_partial_cause(lp), rest))
    parts = [(cause, bits) for cause, bits in parts if bits]
    left = predicted - formula - sum(bits for _, bits in parts)
    if left:
        parts.append((f"loops above {level}: {_loops(lp.nest, range(_index(lp.nest, level)))} move its {operand}",
                      left))
    return parts


def cause_kind(cause):
    """The <what> of a cause '<what>: <detail>' (the report groups causes by it)."""
    return cause.split(":", 1)[0]


def _terms(plan, kernel_inputs):
    """Per EO layer: (lp, EOInputs, [(component, action, operand, eps_EO count, mapping count, [(cause, bits)])]).
    Datapath terms the mapping does not change (adds, neuron samples, RNG draws) are predicted by the formula."""
    for lp, p in layer_inputs(plan, kernel_inputs):
        raw = mapped_counts(lp.nest, plan.items)
        mapped = _as_ledger(raw)
        base = _as_ledger(mapped_counts(_unstaged(lp.nest), plan.items)) if lp.in_hops or lp.out_hops else mapped
        terms = {}
        for _, comp, action, operand, formula in eo_counts(p):
            key = ("datapath", "-", "macs") if (comp, action) == ("synapse", "macs") and formula else \
                (comp, operand, action)
            terms[(comp, action, operand)] = (formula, mapped.get(key, formula if comp in DATAPATH else 0))
        for (level, operand, action), n in sorted(mapped.items()):
            if level != "datapath" and level != lp.registers and (level, action, operand) not in terms:
                terms[(level, action, operand)] = (0, n)
        yield lp, p, [(comp, action, operand, formula, pred,
                       [] if pred == formula else _parts(lp, plan, (comp, operand, action), formula, pred, raw, base))
                      for (comp, action, operand), (formula, pred) in terms.items()]


def compare(arch, plan, ledger, kernel_inputs):
    """Term-by-term table for the EO layers: layer, component, action, eps_EO count, the count the executed
    mapping predicts (its loop-nest count model, for every memory access outside the synapses' weight
    registers, including those eps_EO does not have: weights streaming through staging levels, activations
    staged from their home, partial sums read back), simulated count, match (simulated == eps_EO), explained
    (simulated == mapping prediction), cause of every departure from eps_EO (its causes joined by '; ', each with
    its bits when there are several); and the analytic energy (pJ)."""
    rows, energy = [], 0.0
    for lp, p, terms in _terms(plan, kernel_inputs):
        energy += eps_eo_pj(p, {k: v[0] for k, v in unit_energies(arch, lp).items()})
        for comp, action, operand, formula, pred, parts in terms:
            sim = ledger.get(comp, action, lp.index, operand)
            cause = "; ".join(c if len(parts) == 1 else f"{c} ({bits:+d} bits)" for c, bits in parts)
            rows.append((lp.index, comp, action, operand, formula, pred, sim, sim == formula, sim == pred, cause))
    table = pd.DataFrame(rows, columns=["layer", "component", "action", "operand", "eps_eo_count", "mapping_count",
                                        "simulated_count", "match", "explained", "cause"])
    return table, energy


def departures(arch, plan, kernel_inputs):
    """Tidy table of every departure of the mapping's counts from eps_EO's, one row per cause of a count: layer,
    component, action, operand, cause, bits (signed), energy_pj (the bits at the count's energy per bit)."""
    rows = []
    for lp, _, terms in _terms(plan, kernel_inputs):
        e = unit_energies(arch, lp)
        rows += [(lp.index, comp, action, operand, cause, bits, bits * e[(comp, action)][0])
                 for comp, action, operand, _, _, parts in terms for cause, bits in parts]
    return pd.DataFrame(rows, columns=["layer", "component", "action", "operand", "cause", "bits", "energy_pj"])


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
