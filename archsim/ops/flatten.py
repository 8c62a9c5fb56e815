"""Flatten: an image map read as a flat vector (HWC order). It moves and computes nothing: no tiles, and its
output map is its input map."""
import numpy as np

from .base import Operation


class Flatten(Operation):
    def plan_fields(self, arch, index, layer, in_shape, out_shape, ba_in):
        return dict(index=index, type=layer.type, in_shape=in_shape, out_shape=out_shape, n=0,
                    m=int(np.prod(out_shape)), P=1, bw=0, ba_in=ba_in, ba_out=ba_in, activation="none")

    def tiles(self, plan, item, lp):
        return []

    def allocate(self, layers, lp):
        layers.maps.append(layers.maps[-1])

    def kernel(self, layers, workload, lp, rows):
        """Nothing to compute: the output map is the input map."""


OP = Flatten()
