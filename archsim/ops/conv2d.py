"""2-D convolutions, lowered to dense: each output position's window (k x k x Cin, in (ky, kx, c) order) is one
kernel row (im2col), the channels are the outputs; the weights may stay resident across the positions
(mapping.weight_stationary), else every position reads its own copy (the paper's no-reuse building block)."""
import numpy as np

from .dense import Dense


def im2col(maps, lp):
    """(N, H*W*C) NHWC rows -> (N * Ho * Wo, k * k * C) kernel rows in (ky, kx, c) order."""
    H, W, C = lp.in_shape
    k, s, pad = lp.kernel, lp.stride, lp.padding
    a = np.pad(maps.reshape(-1, H, W, C), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(a, (k, k), axis=(1, 2))[:, ::s, ::s]  # N, Ho, Wo, C, k, k
    Ho, Wo, _ = lp.out_shape
    return win[:, :Ho, :Wo].transpose(0, 1, 2, 4, 5, 3).reshape(-1, k * k * C)


class Conv2d(Dense):
    positions = True

    def shape(self, layer, in_shape, out_shape):
        P = out_shape[0] * out_shape[1] if out_shape is not None else 0
        return layer.kernel * layer.kernel * in_shape[2], layer.channels, P, \
            dict(kernel=layer.kernel, stride=layer.stride, padding=layer.padding)

    def no_reuse(self, arch, lp):
        return "N" if not arch.mapping.weight_stationary and lp.P > 1 else ""

    def kernel_rows(self, layers, lp):
        return np.zeros((layers.rows_total * lp.P, lp.n), np.int64)

    def prepare(self, layers, lp, rows):
        layers.x[lp.index][rows.start * lp.P:rows.stop * lp.P] = im2col(layers.maps[lp.index][rows], lp)


OP = Conv2d()
