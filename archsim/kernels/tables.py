"""Activation tables, built once in NumPy and passed to every path (kernel, reference, event model).

The integer pre-activation I is mapped to a table index by a rounding right shift and a clip:
    idx = clip((I + bucket_offset(shift)) >> shift, -H, H - 1) + H,  H = 2**(table_bits - 1)
so bucket k holds the integers nearest to its centre k * 2**shift, and entry k stands for the real
pre-activation a = gain * k * 2**shift: the table is exact at the centres, I = 0 included (a floor shift with
the bucket's midpoint put P(1 | I = 0) at 0.508 for 8-bit weights). With r uniform in [-1, 1], a p-bit
b = sign(tanh(a) - r) is +1 with probability (1 + tanh a) / 2 = sigmoid(2a); its table holds that probability
as an integer threshold over 2**rng_bits, so the run-time test is `u < thr[idx]`, no float.
`pbit_error_bound` gives the exact largest |P_table(1 | I) - (1 + tanh(gain * I)) / 2| over every integer I
(bucket width, clipping beyond the table, threshold rounding); table_bits sets the resolution.
"""
import math

import numpy as np

PBIT, NOISY, QUANTIZED, LINEAR = 0, 1, 2, 3
KIND_CODES = {"pbit": PBIT, "noisy": NOISY, "quantized": QUANTIZED, "linear": LINEAR}
TABLE_SPAN = 4.0  # the table covers |a| <= TABLE_SPAN (sigmoid(2*4) = 0.99966)


def default_gain(fan_in, weight_bits):
    """Scale from integer pre-activation to real: keeps random-weight pre-activations of order 1."""
    return 2.0 / (2 ** (weight_bits - 1) * math.sqrt(fan_in))


def table_shift(gain, table_bits):
    """Smallest right shift for which the table's 2**table_bits buckets cover |gain * I| <= TABLE_SPAN."""
    half = 2 ** (table_bits - 1)
    need = TABLE_SPAN / (gain * half)
    return max(0, math.ceil(math.log2(need))) if need > 1 else 0


def bucket_offset(shift):
    """Added to I before the right shift so that buckets round to the nearest centre (0 when shift is 0)."""
    return (1 << shift) >> 1


def _bucket_values(gain, shift, table_bits):
    half = 2 ** (table_bits - 1)
    i = np.arange(2 ** table_bits, dtype=np.float64) - half
    return gain * i * 2.0 ** shift


def _sigmoid2(a):
    return 0.5 * (1.0 + np.tanh(a))


def activation_table(kind, gain, shift, table_bits, out_bits, rng_bits):
    """int64 table for one layer: thresholds (pbit), scaled means (noisy), levels (quantized), empty (linear)."""
    code = KIND_CODES[kind]
    if code == LINEAR:
        return np.zeros(1, dtype=np.int64)
    p = _sigmoid2(_bucket_values(gain, shift, table_bits))
    if code == PBIT:
        return np.rint(p * 2 ** rng_bits).astype(np.int64)
    levels = 2 ** out_bits - 1
    if code == QUANTIZED:
        return np.rint(p * levels).astype(np.int64)
    return np.rint(p * levels * 2 ** rng_bits).astype(np.int64)  # NOISY: stochastic rounding of the level


def pbit_error_bound(table, gain, shift, table_bits, rng_bits):
    """Exact sup over all integers I of |table[idx(I)] / 2**rng_bits - (1 + tanh(gain * I)) / 2| for a p-bit
    table: P(1) is monotone in I, so within each bucket the worst I is at one of its ends, and the end buckets
    (clipped) reach towards P = 0 and P = 1."""
    half, step = 2 ** (table_bits - 1), 2 ** shift
    k = np.arange(-half, half, dtype=np.float64)
    lo_end = (k * step - bucket_offset(shift)) * gain
    hi_end = (k * step - bucket_offset(shift) + step - 1) * gain
    p_lo, p_hi = _sigmoid2(lo_end), _sigmoid2(hi_end)
    p_lo[0], p_hi[-1] = 0.0, 1.0  # I below the first bucket / above the last are clipped into them
    q = np.asarray(table, dtype=np.float64) / 2.0 ** rng_bits
    return float(max(np.abs(q - p_lo).max(), np.abs(q - p_hi).max()))
