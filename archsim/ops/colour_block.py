"""The colour-block update of a Gibbs sweep as an operation: its loop nests declared in mapping/loopnest terms, its
tiles (rounds), its count on the accelerator and its compute in the cycle-stepped reference. Boltzmann and DTM
workloads run as it (engine/colour_block.py plans a stage from it, runs the kernels and times the rounds).

Dimensions (the loops of one stage, outermost first, as the engine runs them):

    S  sweeps      temporal; the sample loop of a Gibbs chain (a record every record_every sweeps after burn_in)
    X  chains      temporal; the chains share the couplings, not the states
       colours     the blocks, one after another with a barrier (the next block reads the states this one wrote):
                   each block is its own operation, not a loop dimension of one
    V  spins       the block's updated (unclamped) nodes, in the colouring's order
    K  neighbours  the spin's neighbour slots, 0 .. degree - 1

Operands and the dimensions indexing them:

    couplings         (V, K)        coupling_bits  J of the spin's k-th neighbour; no chain, sweep or stage loop of a
                                                   machine indexes them (reusable across all of them)
    neighbour_states  (X, S, V, K)  1 bit          the k-th neighbour's state in chain x at sweep s; sweeps rewrite
                                                   the states, so no loop reuses them (each read is its own)
    biases            (V)           bias_bits      the spin's bias: the initial value of its local field
    states            (X, S, V)     1 bit, written the spin's new state, drawn by its neuron (one RNG draw)

Degree classes (the exact construction of a ragged block): a loop nest is perfect, but a spin's neighbour loop K runs
over its degree, which varies over irregular graphs. So a block's update is declared as perfect nests that
partition its iteration points:
- a field nest per degree class d >= 1: X x S x V_d x K(d) over the block's spins of degree d, reading
  couplings and neighbour_states: one +-J add per point, the sum staying in the spin's accumulator (the synapses'
  accumulator width; engine/colour_block.check_field checks the field's signed range fits it);
- an update nest X x S x V over all the block's spins: each point reads the spin's bias and writes its new state
  (after its field is complete: one draw and one neuron compare per point; a spin of degree 0 has only this).
Every count of the colour-block update is a sum over these points (bits moved, adds, draws), so the block's counts
are the sums of its nests' loopnest.counts. Chains and sweeps are ordinary temporal loops of each nest: in the
program they enclose all the blocks (per sweep, per chain, every colour in turn), and declaring them as each
nest's outer loops gives the same counts, as no tile stays resident from one block to the next (the states are
read and written at their home; the couplings are stationary for the whole stage or re-read at every update).

The hierarchy the nests are counted on (`levels`) is the engine's: the couplings reside whole in the coupling
memory (the level outside the innermost coupling level; the innermost itself when it is the only one, which then
loads stationary couplings into itself, as the engine counts); when every
updated spin's row (couplings, then bias) fits the innermost coupling level, they are stationary there (filled once
per stage: no loop above it indexes them), else the synapses read them from the coupling memory at every update.
The states reside in the innermost states level. Every loop runs at the innermost level, so a stationary coupling
tile is filled once; without multicast (each unit reads its own neighbours) the counts do not depend on the
spatial unrolling, which is the rounds below.

Rounds (the block's tiles in time): the block's spins in order, min(synapses, neurons) at a time, all in parallel;
a round may mix degree classes: its compute takes its longest row. Consecutive rounds with the same rows form
runs, each accounted once times its count (every count is linear)."""
from dataclasses import dataclass

import numpy as np

from ..config.schema import COUPLINGS, STATES
from ..mapping.loopnest import WRITE, Level, Mapping, Operand
from ..mapping.loopnest import Operation as Nest
from ..mapping.loopnest import counts
from .base import SweepOperation

GIBBS = "gibbs"  # the LayerPlan type of a Gibbs stage
SWEEPS, CHAINS, SPINS, NEIGHBOURS = "S", "X", "V", "K"
LOOP_ORDER = (SWEEPS, CHAINS, SPINS, NEIGHBOURS)  # outermost first, as the engine runs them
BIASES, NEIGHBOUR_STATES = "biases", "neighbour_states"
LEDGER_OPERAND = {COUPLINGS: COUPLINGS, BIASES: COUPLINGS,  # a row: its couplings, then its bias
                  NEIGHBOUR_STATES: STATES, STATES: STATES}


def field_nest(name, chains, sweeps, spins, degree, coupling_bits, accumulator_bits):
    """The field of `spins` spins of one degree: X x S x V x K, one +-J add per point into the spin's
    accumulator (`accumulator_bits` wide: engine/colour_block.check_field checks the field fits it)."""
    return Nest(name, {CHAINS: chains, SWEEPS: sweeps, SPINS: spins, NEIGHBOURS: degree}, {
        COUPLINGS: Operand(frozenset((SPINS, NEIGHBOURS)), coupling_bits),
        NEIGHBOUR_STATES: Operand(frozenset((CHAINS, SWEEPS, SPINS, NEIGHBOURS)), 1)}, accumulator_bits)


def update_nest(name, chains, sweeps, spins, bias_bits):
    """The draw of `spins` spins: X x S x V, the bias read and the new state written per point."""
    return Nest(name, {CHAINS: chains, SWEEPS: sweeps, SPINS: spins}, {
        BIASES: Operand(frozenset((SPINS,)), bias_bits),
        STATES: Operand(frozenset((CHAINS, SWEEPS, SPINS)), 1, WRITE)})


def degree_classes(spins, degrees):
    """[(degree, spins)]: a block's spins grouped by degree (increasing), each group in the block's order."""
    d = degrees[spins]
    return [(int(k), spins[d == k]) for k in np.unique(d)]


def nests(stage, ptr, nodes, degrees, chains, sweeps, coupling_bits, bias_bits, accumulator_bits):
    """The declared loop nests of one stage: per colour block, its field nests (one per degree class >= 1) and its
    update nest (module docstring). ptr, nodes: the blocks' updated nodes (workload/graph.blocks)."""
    out = []
    for c in range(len(ptr) - 1):
        spins = nodes[ptr[c]:ptr[c + 1]]
        if not len(spins):
            continue
        out += [field_nest(f"stage{stage}.colour{c}.degree{d}", chains, sweeps, len(v), d, coupling_bits,
                           accumulator_bits) for d, v in degree_classes(spins, degrees) if d]
        out.append(update_nest(f"stage{stage}.colour{c}.update", chains, sweeps, len(spins), bias_bits))
    return out


def levels(arch, stationary):
    """The nests' hierarchy (module docstring): the coupling memory, the innermost coupling level when the
    couplings are stationary, the states level. A level holding several roles appears once per role."""
    couplings = arch.holders(COUPLINGS)
    memory = couplings[-2] if len(couplings) > 1 else couplings[-1]
    held = frozenset((COUPLINGS, BIASES))
    roles = [(memory, held)] + ([(couplings[-1], held)] if stationary else []) + \
        [(arch.holders(STATES)[-1], frozenset((NEIGHBOUR_STATES, STATES)))]
    return [Level(lv.name, lv.capacity, holds, read_pj_per_bit=lv.read_pj_per_bit.value,
                  write_pj_per_bit=lv.write_pj_per_bit.value) for lv, holds in roles]


def mapping(nest, n_levels):
    """Every loop at the innermost level, in the engine's order; no spatial unrolling (module docstring)."""
    inner = tuple((d, nest.dims[d]) for d in LOOP_ORDER if d in nest.dims)
    return Mapping(((),) * (n_levels - 1) + (inner,))


def updates(nest):
    """Spin updates of a nest (one draw, one neuron compare, one synapse sample each): the update nests' points."""
    return nest.steps if NEIGHBOURS not in nest.dims else 0


def predict(arch, declared, stationary):
    """The counts of a stage's declared nests in the ledger's terms: {(component, action, operand): count} (operand
    "" for the datapath): each level's bits and elements per ledger operand (loopnest.counts, summed over the
    nests), synapse samples and adds, neuron samples, RNG draws and bits."""
    lv = levels(arch, stationary)
    out = {}

    def add(key, n):
        if n:
            out[key] = out.get(key, 0) + n

    for nest in declared:
        for (level, operand, action), n in counts(nest, lv, mapping(nest, len(lv))).items():
            if level != "datapath":
                add((level, action, LEDGER_OPERAND[operand]), n)
        add(("synapse", "adds", ""), nest.steps - updates(nest))
        for component, action in (("synapse", "samples"), ("neuron", "samples"), ("rng", "draws")):
            add((component, action, ""), updates(nest))
        add(("rng", "bits", ""), updates(nest) * arch.rng.bits_per_draw)
    return out


def units(arch):
    """Spins a round updates in parallel: each needs a synapse unit and a neuron."""
    return min(arch.synapse.count, arch.neuron.count)


def block_rounds(spins, n_units):
    """A block's rounds: its spins in order, `n_units` at a time."""
    return [spins[k:k + n_units] for k in range(0, len(spins), n_units)]


def runs(rounds, row_bits, degrees):
    """Per colour block, [[a round, count]]: consecutive rounds with the same row widths and degrees."""
    out = []
    for colour in rounds:
        out.append([])
        last = None
        for r in colour:
            key = (row_bits[r].tobytes(), degrees[r].tobytes())
            if key == last:
                out[-1][-1][1] += 1
            else:
                out[-1].append([r, 1])
            last = key
    return out


@dataclass(frozen=True)
class Declaration:
    """What the operation declares of one stage: updated nodes per colour (ptr, nodes), degrees and row bits per
    node, whether the couplings are stationary, the rounds and runs per colour, the declared nests."""
    ptr: np.ndarray
    nodes: np.ndarray
    degrees: np.ndarray
    row_bits: np.ndarray
    stationary: bool
    rounds: list
    runs: list
    nests: list


class ColourBlock(SweepOperation):
    """The colour-block update behind ops/base.SweepOperation: `declare` (a stage's loop nests, rounds and
    stationarity), `plan_fields` (the stage's LayerPlan), `tiles` (a colour's rounds), `count` (a colour's runs
    of rounds on the accelerator), `load` (stationary couplings), `predict` (the declared nests' counts),
    `stepped_samples` (a round's compute in the cycle-stepped reference)."""

    def declare(self, arch, stage, degrees, ptr, nodes, spec):
        """The stage's Declaration from its updated nodes per colour (workload/graph.blocks) and its spec (chains,
        sweeps, coupling and bias bits)."""
        row_bits = degrees * spec.coupling_bits + spec.bias_bits
        rounds = [block_rounds(nodes[ptr[c]:ptr[c + 1]], units(arch)) for c in range(len(ptr) - 1)]
        stationary = int(row_bits[nodes].sum()) <= arch.holders(COUPLINGS)[-1].capacity
        return Declaration(ptr, nodes, degrees, row_bits, stationary, rounds, runs(rounds, row_bits, degrees),
                     nests(stage, ptr, nodes, degrees, spec.chains, spec.sweeps, spec.coupling_bits, spec.bias_bits,
                           arch.synapse.accumulator_bits))

    def plan_fields(self, arch, index, layer, in_shape, out_shape, ba_in):
        """A stage's LayerPlan fields; layer: (the stage's spec, its Declaration from `declare`)."""
        spec, declared = layer
        return dict(index=index, type=GIBBS, in_shape=in_shape, out_shape=out_shape,
                    n=int(declared.degrees.max()) if len(declared.degrees) else 0, m=len(declared.degrees), P=1,
                    bw=spec.coupling_bits, ba_in=ba_in, ba_out=1, activation="pbit",
                    reason="couplings stationary in the weight buffer" if declared.stationary
                    else "couplings re-read for every round (they exceed the weight buffer)")

    def tiles(self, plan, item, lp):
        """The rounds of colour `item` of a stage (plan: its Declaration)."""
        return plan.rounds[item]

    def count(self, accel, tile, lp, times):
        """A colour's runs of rounds on the accelerator (hw/accelerator.gibbs_load, gibbs_compute): tile = (Declaration,
        colour); every round is accounted `times` times (sweeps x chains, or 1). Returns [[(load, compute) cycles,
        rounds]], consecutive runs with the same cycles merged."""
        declared, colour = tile
        out = []
        for r, n in declared.runs[colour]:
            row = (accel.gibbs_load(lp.index, declared.row_bits[r], declared.stationary, times * n),
                   accel.gibbs_compute(lp.index, declared.row_bits[r], declared.degrees[r], declared.stationary,
                                       times * n))
            if out and out[-1][0] == row:
                out[-1][1] += n
            else:
                out.append([row, n])
        return out

    def load(self, accel, declared, lp):
        """Stationary couplings loaded once at the start of the stage: its cycles (0 when not stationary)."""
        return accel.couplings_load(lp.index, declared.row_bits[declared.nodes]) if declared.stationary else 0

    def predict(self, arch, declared):
        return predict(arch, declared.nests, declared.stationary)

    def stepped_samples(self, arch, lp, tile):
        """A round's compute (engine/stepped._Sample): one sample: the neighbours' states (one word each) read,
        +-J of the longest row accumulated and one draw per node side by side, the neuron latency, one state word
        written per node. tile: the round's nodes' degrees."""
        g = len(tile)
        return [((int(tile.sum()), 1, int(tile.max()), 1, g * arch.rng.bits_per_draw, g,
                  arch.neuron.latency_cycles), 1)]


OP = ColourBlock()
