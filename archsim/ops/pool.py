"""Pooling (maxpool, avgpool): per sample, every window element of every output read from the activation level
(overlapping windows re-read), reduced on the pooling unit, the pooled map written. avgpool sums the window
(the division is folded into the next layer's gain). Not an elementary operation: no weights, no neurons; one
tile per layer pass.

Pooling is not staged: when the activations are homed in an outer level and the other layers' tiles pass through
inner ones (engine/plan.py, configs/dram-activations.yaml), a pooling layer still reads its input map and writes
its output map at the activations' home (LayerPlan.act_level, e.g. DRAM), its compute priced at that level. Its
counts come from this module alone (no loopnest Operation: the count model and its oracle cover the layers with
weights). Staging it would need per-sample tiles sized to the staging level, placed by the planner."""
import numpy as np

from ..kernels.pool import pool2d
from .base import Operation, words


class Pool(Operation):
    outside_eps_eo = "pooling layers"

    def __init__(self, is_max):
        self.is_max = is_max

    def out_bits(self, layer, ba_in):
        """maxpool keeps the width, avgpool sums the window."""
        return ba_in if self.is_max else ba_in + int(np.ceil(np.log2(layer.kernel ** 2)))

    def plan_fields(self, arch, index, layer, in_shape, out_shape, ba_in):
        k = layer.kernel
        return dict(index=index, type=layer.type, in_shape=in_shape, out_shape=out_shape, n=0, m=in_shape[2],
                    P=out_shape[0] * out_shape[1], bw=0, ba_in=ba_in, ba_out=self.out_bits(layer, ba_in),
                    activation="none", kernel=k, stride=layer.stride or k,
                    reason="" if self.is_max else "avgpool sums the window (division folded into the next gain)")

    def kernel(self, layers, workload, lp, rows):
        H, W, C = lp.in_shape
        src = layers.maps[lp.index][rows].reshape(-1, H, W, C)
        out = np.zeros((src.shape[0],) + tuple(lp.out_shape), np.int64)
        pool2d(src, lp.kernel, lp.kernel, lp.stride, self.is_max, out)
        layers.maps[lp.index + 1][rows] = out.reshape(src.shape[0], -1)

    def count(self, accel, tile, lp, x_rows):
        return accel.pool(tile, lp)

    def stepped_samples(self, arch, lp, tile):
        """Per sample: read every window element, no weights, no accumulation, no neuron; write the map."""
        W = arch.level(lp.act_level).word_bits
        outputs = lp.P * lp.m
        return [((words(outputs * lp.kernel ** 2 * lp.ba_in, W), 1, 0, 1, 0, words(outputs * lp.ba_out, W), 0),
                 tile.samples)]


MAX, AVG = Pool(True), Pool(False)
