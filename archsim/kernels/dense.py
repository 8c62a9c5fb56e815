"""Dense p-DNN layer kernel: integer synapses (accumulate-only or MAC), then the activation, for a tile of
rows (item x sample) and output neurons. Rows are global row0 + r with item = row // T, sample = row % T;
outputs are global col0 + i. Every random draw is keyed by that global position."""
import numpy as np

from .jit import njit, prange
from .rng import TAG_PDNN, draw
from .tables import LINEAR, NOISY, PBIT, QUANTIZED


@njit
def activate(acc, kind, table, shift, half, out_max, rng_bits, seed, layer, item, sample, neuron):
    if kind == LINEAR:
        return acc
    idx = (acc >> shift)
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
def dense_tile(x, w, binary, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, row0, col0,
               y, acc_min, acc_max):
    """y[r, i] = act(sum_j w[i, j] * x[r, j]) for the tile; acc_min/acc_max[i] get the extreme running sums."""
    R, n = x.shape
    g = w.shape[0]
    half = np.int64(1) << (table_bits - 1)
    out_max = (np.int64(1) << out_bits) - 1
    for i in prange(g):
        lo = np.int64(0)
        hi = np.int64(0)
        for r in range(R):
            acc = np.int64(0)
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
            row = row0 + r
            y[r, i] = activate(acc, kind, table, shift, half, out_max, rng_bits, seed, layer,
                               row // T, row % T, col0 + i)
        acc_min[i] = lo
        acc_max[i] = hi
