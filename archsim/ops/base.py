"""The interface every operation implements (ops/__init__.py), with the defaults of an operation without
weights that runs as one tile per layer pass (all of its outputs, samples and positions)."""
import numpy as np

from ..mapping.execute import Tile


def words(bits, word_bits, rows=1):
    """Words of `rows` rows of `bits` bits, each row starting on a word boundary."""
    return rows * (-(-bits // word_bits))


class Operation:
    weighted = False     # neurons with weights (elementary operations): mapped, weights placed, priced by eps_EO
    positions = False    # its weights may stay resident across output positions (mapping.weight_stationary)
    banded = False       # without weights, staged in bands of output rows (band_bits; engine/plan._staged_bands)
    outside_eps_eo = ""  # how the report names its layers when they spend energy outside eps_EO ("" none)

    def out_bits(self, layer, ba_in):
        """Bits of each output activation, given `ba_in`-bit inputs."""
        return ba_in

    def weight_bits(self, layer, in_shape):
        """Bits of the layer's weights and biases (from its shapes alone)."""
        return 0

    def plan_fields(self, arch, index, layer, in_shape, out_shape, ba_in):
        """The LayerPlan fields of the layer before any mapping (engine/plan.LayerPlan(**fields))."""
        raise NotImplementedError

    def tiles(self, plan, item, lp):
        """The tiles of one layer pass (one input item through the layer), in execution order."""
        return [Tile(item, lp.index, 0, lp.m, 0, plan.samples, 0, lp.P)]

    def allocate(self, layers, lp):
        """Append the layer's output map to the run's maps (engine/simulate._Layers) and stage its buffers."""
        layers.maps.append(np.zeros((layers.rows_total, int(np.prod(lp.out_shape))), np.int64))

    def kernel(self, layers, workload, lp, rows):
        """The layer's kernel over `rows` (a slice of item x T rows) in one piece; its inputs are final."""
        raise NotImplementedError

    def tile_inputs(self, layers, lp, tile):
        """The kernel input rows a tile's compute count reads (None: the count does not depend on data)."""
        return None

    def count(self, accel, tile, lp, x_rows):
        """The tile's compute phase on the accelerator (hw/accelerator.py): its components count; its cycles."""
        raise NotImplementedError

    def stepped_samples(self, arch, lp, tile):
        """The tile's compute phase in the cycle-stepped reference (engine/stepped._Sample): [(args, count)],
        args = (input words (at the layer's in_level), readers, inputs accumulated, passes, random bits, output
        words, neuron cycles, partial-sum words read back (both at its out_level)), run `count` times one after
        another."""
        raise NotImplementedError


class SweepOperation(Operation):
    """The Gibbs-shaped variant of the interface (ops/colour_block.py): an operation a sweep runs over the colour
    blocks of a Boltzmann machine, stage by stage, rather than over a layer's input items. Its methods of the
    interface above take the stage's declaration where a layer pass takes the plan and an item or a tile
    (plan_fields: the stage's LayerPlan; tiles: a colour's rounds; count: a colour's rounds on the accelerator;
    stepped_samples: a round's compute), and it adds the methods below."""

    def declare(self, arch, stage, degrees, ptr, nodes, spec):
        """A stage's declaration: its loop nests (mapping/loopnest.Operation), rounds, and where its couplings
        stay, from its updated nodes per colour (ptr, nodes), their degrees and the machine's spec."""
        raise NotImplementedError

    def load(self, accel, declared, lp):
        """What the stage loads once before its sweeps (on the accelerator, which counts): its cycles."""
        raise NotImplementedError

    def predict(self, arch, declared):
        """The counts of the stage's declared loop nests, keyed as the ledger: {(component, action, operand): n}."""
        raise NotImplementedError
