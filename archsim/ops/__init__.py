"""Operations: every layer type of a p-DNN workload is one module behind one interface (ops/base.Operation): its
shapes and widths for planning, its loop nest (dimensions and the operands each indexes), its tiles, its kernel
on a layer pass, which accelerator phase counts its compute, and its compute in the cycle-stepped reference.
The engine, the accelerator, the stepped reference and the reports look a layer's operation up here (`of`) and
never test its type string; adding a layer type touches its module, its kernel and reference, and the schema.

The colour-block update of a Gibbs sweep (ops/colour_block.py) is registered the same way: a Boltzmann or DTM
stage's LayerPlan has its type, and the engine (engine/colour_block.py) takes its loop nests, rounds and counts
from it; its interface is Gibbs-shaped where a sweep differs from a layer pass (a stage, not an item)."""
from . import colour_block, conv2d, dense, flatten, pool

REGISTRY = {"dense": dense.OP, "conv2d": conv2d.OP, "maxpool": pool.MAX, "avgpool": pool.AVG,
            "flatten": flatten.OP, colour_block.GIBBS: colour_block.OP}


def of(layer):
    """The operation of a workload layer or a LayerPlan (anything with the layer's `type`)."""
    return REGISTRY[layer.type]


def loop_nest(arch, lp, samples, no_reuse=""):
    """One pass of a layer with weights on `arch` as a loop nest (its operation's `operation`): its weights
    never reused over the dimensions its operation names on `arch`, nor over `no_reuse`."""
    op = of(lp)
    return op.operation(lp, samples, arch.synapse.accumulator_bits, op.no_reuse(arch, lp) + no_reuse)
