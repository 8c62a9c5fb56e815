"""Pooling (maxpool, avgpool): per sample, every window element of every output read where the layer's compute
reads its inputs (overlapping windows re-read), reduced on the pooling unit, the pooled map written. avgpool sums
the window (the division is folded into the next gain). Not an elementary operation: no weights, no neurons.

Unstaged (the activations at one level): one tile per layer pass (every sample's whole map), read and written at
the activations' home. Staged (the planner, engine/plan._staged_bands: the nearest layer with weights before it,
else after it, stages its tiles of the activations through inner levels): the pool is staged through the same
levels, tiled in bands: a tile is `band_rows` output rows of one sample (the last band of a sample may be shorter)
with the input rows their windows read, (rows - 1) x stride + kernel of them. An input hop per staging level
moves the band's input rows from the home inwards (rows shared by neighbouring bands, when stride < kernel, are
re-read from the home: no band keeps another's rows), the compute phase reads the window elements and writes the
output rows at the innermost staging level, and a drain per level moves the output rows back to the home. A band
is the most output rows whose input and output rows fit every staging level's slots beside what resides there
whole; when not even one row fits, the layer reads and writes its maps at the home as unstaged. Its counts come
from this module alone (no loopnest Operation: the count model and its oracle cover the layers with weights)."""
import numpy as np

from ..kernels.pool import pool2d
from ..mapping.execute import Tile
from .base import Operation, words


class Pool(Operation):
    outside_eps_eo = "pooling layers"
    banded = True

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

    @staticmethod
    def input_rows(lp, r0, r1):
        """The input rows [first, end) the windows of output rows [r0, r1) read."""
        return r0 * lp.stride, (r1 - 1) * lp.stride + lp.kernel

    def band(self, lp, r0, r1):
        """(input bits, output bits) of the band of output rows [r0, r1) of one sample: the input rows its windows
        read, its output rows."""
        (_, W, C), (_, Wo, _) = lp.in_shape, lp.out_shape
        first, end = self.input_rows(lp, r0, r1)
        return (end - first) * W * C * lp.ba_in, (r1 - r0) * Wo * C * lp.ba_out

    def band_bits(self, lp, rows):
        """Bits a band of `rows` output rows keeps at a staging level: its input rows and its output rows."""
        return sum(self.band(lp, 0, rows))

    def tiles(self, plan, item, lp):
        """Unstaged: one tile (every sample, every output). Staged: per sample, bands of lp.band_rows output rows,
        each moving its input rows in through every input hop and its output rows out through every drain."""
        if not lp.band_rows:
            return super().tiles(plan, item, lp)
        Ho, Wo, _ = lp.out_shape
        out = []
        for s in range(plan.samples):
            for r0 in range(0, Ho, lp.band_rows):
                r1 = min(Ho, r0 + lp.band_rows)
                in_bits, out_bits = self.band(lp, r0, r1)
                out.append(Tile(item, lp.index, 0, lp.m, s, s + 1, r0 * Wo, r1 * Wo,
                                in_moves=(((1, in_bits),),) * len(lp.in_hops), readbacks=((),) * len(lp.out_hops),
                                drains=(((1, out_bits),),) * len(lp.out_hops)))
        return out

    def kernel(self, layers, workload, lp, rows):
        H, W, C = lp.in_shape
        src = layers.maps[lp.index][rows].reshape(-1, H, W, C)
        out = np.zeros((src.shape[0],) + tuple(lp.out_shape), np.int64)
        pool2d(src, lp.kernel, lp.kernel, lp.stride, self.is_max, out)
        layers.maps[lp.index + 1][rows] = out.reshape(src.shape[0], -1)

    def count(self, accel, tile, lp, x_rows):
        return accel.pool(tile, lp)

    def stepped_samples(self, arch, lp, tile):
        """Per sample of the tile: read every window element of its outputs, no weights, no accumulation, no
        neuron; write its outputs."""
        outputs = tile.positions * lp.m
        return [((words(outputs * lp.kernel ** 2 * lp.ba_in, arch.level(lp.in_level).word_bits), 1, 0, 1, 0,
                  words(outputs * lp.ba_out, arch.level(lp.out_level).word_bits), 0), tile.samples)]


MAX, AVG = Pool(True), Pool(False)
