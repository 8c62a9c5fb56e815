"""Dense layers: every output neuron sums all the layer's inputs times its weights (plus its bias) on the synapse
units, then its neuron draws the output. Also the base of conv2d (ops/conv2d.py: the same kernel on im2col rows).
Loop nest: N output positions (1 here), T samples, M outputs, C fan-in (mapping/loopnest.dense_operation)."""
from dataclasses import replace

import numpy as np

from ..kernels import tables
from ..kernels.dense import dense_tile
from ..mapping.execute import tiles as walk
from ..mapping.loopnest import dense_operation
from .base import Operation, words


class Dense(Operation):
    weighted = True

    def shape(self, layer, in_shape, out_shape):
        """(fan-in n, outputs per position m, positions P, extra LayerPlan fields)."""
        return int(np.prod(in_shape)), layer.outputs, 1, {}

    def out_bits(self, layer, ba_in):
        return layer.output_bits

    def weight_bits(self, layer, in_shape):
        n, m, _, _ = self.shape(layer, in_shape, None)
        return m * (n * layer.weight_bits + (layer.bias_bits if layer.bias else 0))

    def plan_fields(self, arch, index, layer, in_shape, out_shape, ba_in):
        """The layer's shape, activation table and synapse operation (its mapping comes after)."""
        table_bits, rng_bits = arch.neuron.table_bits, arch.rng.bits_per_draw
        n, m, P, extra = self.shape(layer, in_shape, out_shape)
        gain = layer.gain if layer.gain is not None else tables.default_gain(n, layer.weight_bits)
        shift = tables.table_shift(gain, table_bits)
        table = tables.activation_table(layer.activation, gain, shift, table_bits, layer.output_bits, rng_bits)
        reason = ""
        if arch.synapse.kind == "accumulate" and ba_in > 1:
            reason = f"; {ba_in}-bit inputs on accumulate synapses: {ba_in} bit-serial passes of selected adds"
        return dict(index=index, type=layer.type, in_shape=in_shape, out_shape=out_shape, n=n, m=m, P=P,
                    bw=layer.weight_bits, ba_in=ba_in, ba_out=layer.output_bits, activation=layer.activation,
                    gain=gain, shift=shift, table=table, op="adds" if arch.synapse.kind == "accumulate" else "macs",
                    reason=reason, bias_bits=layer.bias_bits if layer.bias else 0, **extra)

    def no_reuse(self, arch, lp):
        """The dimensions the layer's weights are never reused over on `arch` (see `operation`)."""
        return ""

    def operation(self, lp, samples, accumulator_bits, no_reuse=""):
        """One layer pass (one input item through the layer) as a loop nest: N = output positions (the im2col
        view; 1 for dense), T samples, M outputs, C fan-in; each output's bias rides with its weights.
        no_reuse: dimensions over which the weights are never reused (each position's or sample's evaluation
        reads its own copy, as the paper's building block assumes): they index the weights too. A conv layer
        without mapping.weight_stationary has "N"; the planner's samples-outer mapping adds "T"."""
        return dense_operation(f"layers[{lp.index}]", lp.P, samples, lp.m, lp.n, lp.bw, lp.ba_in, lp.ba_out,
                               accumulator_bits, lp.bias_bits, weight_dims="MC" + no_reuse)

    def tiles(self, plan, item, lp):
        """The executor's walk of the layer's mapping (the same for every item, walked once per plan)."""
        if lp.index not in plan.walked:
            plan.walked[lp.index] = walk(*lp.nest, layer=lp.index)
        return [replace(t, item=item) for t in plan.walked[lp.index]] if item else plan.walked[lp.index]

    def allocate(self, layers, lp):
        super().allocate(layers, lp)
        layers.lo[lp.index] = np.zeros(lp.m, np.int64)
        layers.hi[lp.index] = np.zeros(lp.m, np.int64)
        layers.x[lp.index] = self.kernel_rows(layers, lp)

    def kernel_rows(self, layers, lp):
        """The array of the layer's kernel input rows: for dense, its input map itself."""
        return layers.maps[lp.index]

    def prepare(self, layers, lp, rows):
        """Stage the kernel inputs of `rows` (a slice of item*T rows) once their layer input is final."""

    def kernel(self, layers, workload, lp, rows):
        self.prepare(layers, lp, rows)
        run_rows(layers, lp, workload.weights[lp.index], np.arange(rows.start * lp.P, rows.stop * lp.P), 0, lp.m)

    def tile_inputs(self, layers, lp, tile):
        return layers.x[lp.index][tile.rows(layers.plan.samples, lp.P)]

    def count(self, accel, tile, lp, x_rows):
        return accel.compute(tile, lp, x_rows)

    def stepped_samples(self, arch, lp, tile):
        """Accumulator residencies: inputs (+ partial sums read back), accumulate, drain."""
        W, Wo = arch.level(lp.in_level).word_bits, arch.level(lp.out_level).word_bits
        g = tile.units  # fewer units in a partial last tile
        readers = 1 if arch.mapping.input_broadcast else g
        passes = lp.ba_in if arch.synapse.kind == "accumulate" else 1
        out = []
        for rep in tile.reps:
            final = rep.drain == "final"
            back_words = words(g * lp.partial_bits, Wo) if rep.readback else 0
            random_bits = g * arch.rng.bits_per_draw if final and lp.stochastic else 0
            out_words = words(g * (lp.ba_out if final else lp.partial_bits), Wo) if rep.drain != "none" else 0
            out.append(((readers * words(rep.chunk * lp.ba_in, W), readers, rep.chunk, passes, random_bits,
                         out_words, arch.neuron.latency_cycles if final else 0, back_words), rep.count))
        return out


def run_rows(layers, lp, weights, rows, o0, o1):
    """The synapse + neuron kernel for global kernel rows `rows` and output channels [o0, o1): outputs into the
    layer's output map, accumulator extremes into the run's."""
    p = layers.plan
    x = layers.x[lp.index][rows]
    y = np.zeros((len(rows), o1 - o0), np.int64)
    lo, hi = np.zeros(o1 - o0, np.int64), np.zeros(o1 - o0, np.int64)
    w = np.ascontiguousarray(weights.reshape(lp.m, -1)[o0:o1])
    b = layers.biases[lp.index][o0:o1] if lp.index in layers.biases else np.zeros(o1 - o0, np.int64)
    dense_tile(x, w, b, lp.binary, lp.kind_code, lp.table, p.table_bits, lp.shift, lp.ba_out, p.rng_bits,
               p.seed, lp.index, p.samples, lp.P, rows, o0, y, lo, hi)
    layers.maps[lp.index + 1].reshape(-1, lp.m)[rows, o0:o1] = y
    np.minimum(layers.lo[lp.index][o0:o1], lo, out=layers.lo[lp.index][o0:o1])
    np.maximum(layers.hi[lp.index][o0:o1], hi, out=layers.hi[lp.index][o0:o1])


OP = Dense()
