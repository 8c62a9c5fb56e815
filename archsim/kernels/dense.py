"""The synapse + neuron kernel for dense and (im2col-lowered) convolutional layers: integer synapses
(accumulate-only or MAC), then the activation, for a set of input rows and a range of output channels.

Row numbering is global: row = (item * T + sample) * P + position, P = output positions of the layer (1 for
dense). The neuron at (channel c, position p) has global index c * P + p. Every random draw is keyed by
(layer, item, sample, neuron), so any tiling, thread count or mode gives the same bits."""
import numpy as np

from .jit import njit, prange
from .rng import TAG_PDNN, draw
from .tables import LINEAR, PBIT, QUANTIZED


@njit
def activate(acc, kind, table, shift, half, out_max, rng_bits, seed, layer, item, sample, neuron):
    if kind == LINEAR:
        return acc
    idx = (acc + ((np.int64(1) << shift) >> 1)) >> shift  # round to the nearest bucket centre (tables.py)
    if idx < -half:
        idx = -half
    elif idx > half - 1:
        idx = half - 1
    idx += half
    if kind == QUANTIZED:
        return table[idx]
    u = draw(seed, TAG_PDNN, layer, item, sample, neuron, rng_bits)
    if kind == PBIT:
        return np.int64(1) if u < table[idx] else np.int64(0)
    v = (table[idx] + u) >> rng_bits  # NOISY: stochastic rounding
    return v if v < out_max else out_max


@njit(parallel=True)
def dense_tile(x, w, bias, binary, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, P, rows,
               col0, y, acc_min, acc_max):
    """y[r, i] = act(bias[i] + sum_j w[i, j] * x[r, j]) for x's rows (global indices `rows`) and outputs
    col0 + i; acc_min/acc_max[i] get the extreme running sums (bias first, then inputs j = 0, 1, ...)."""
    R, n = x.shape
    g = w.shape[0]
    half = np.int64(1) << (table_bits - 1)
    out_max = (np.int64(1) << out_bits) - 1
    for i in prange(g):
        lo = min(np.int64(0), bias[i])
        hi = max(np.int64(0), bias[i])
        for r in range(R):
            acc = bias[i]
            if binary:  # accumulate-only: add the weights selected by 1-bit inputs (w & -1 = w, w & 0 = 0)
                for j in range(n):
                    acc += w[i, j] & -x[r, j]
                    if acc < lo:
                        lo = acc
                    elif acc > hi:
                        hi = acc
            else:
                for j in range(n):
                    acc += w[i, j] * x[r, j]
                    if acc < lo:
                        lo = acc
                    elif acc > hi:
                        hi = acc
            row = rows[r]
            pos = row % P
            y[r, i] = activate(acc, kind, table, shift, half, out_max, rng_bits, seed, layer,
                               row // (T * P), (row // P) % T, (col0 + i) * P + pos)
        acc_min[i] = lo
        acc_max[i] = hi
