"""Activation tables, built once in NumPy and passed to every path (kernel, reference, event model).

The integer pre-activation I is mapped to a table index by an arithmetic right shift and a clip:
    idx = clip(I >> shift, -H, H - 1) + H,  H = 2**(table_bits - 1)
Entry i stands for the real pre-activation a = gain * v, v the midpoint of the bucket. With r uniform in [-1, 1],
a p-bit b = sign(tanh(a) - r) is +1 with probability (1 + tanh a) / 2 = sigmoid(2a); its table holds that
probability as an integer threshold over 2**rng_bits, so the run-time test is `u < thr[idx]`, no float.
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


def _bucket_values(gain, shift, table_bits):
    half = 2 ** (table_bits - 1)
    i = np.arange(2 ** table_bits, dtype=np.float64) - half
    return gain * (i * 2.0 ** shift + (2.0 ** shift - 1) / 2)


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
