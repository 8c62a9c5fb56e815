"""Slow, obvious NumPy oracles for every Numba kernel. They share no code with the kernels beyond the tables
(built once, in NumPy) and the activation codes."""
import numpy as np

from .tables import LINEAR, NOISY, PBIT, QUANTIZED

_G = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def _mix(z):
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the definition
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def draw(seed, tag, a, b, c, d, bits):
    """Vectorised counter-based draw: broadcasts a, b, c, d; returns int64 in [0, 2**bits)."""
    a, b, c, d = np.broadcast_arrays(*(np.asarray(v, dtype=np.uint64) for v in (a, b, c, d)))
    g = np.uint64(_G)
    h = _mix(np.full(a.shape, seed & _MASK, dtype=np.uint64) ^ g)
    with np.errstate(over="ignore"):
        for key in (np.full(a.shape, tag, dtype=np.uint64), a, b, c, d):
            h = _mix(h ^ (key + g))
    return (h >> np.uint64(64 - bits)).astype(np.int64)


def dense_layer(x, w, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T):
    """Whole-layer reference: returns (y, acc_min, acc_max) exactly as the kernel over all rows and outputs.
    x: (R, n) int64 rows (item-major, sample-minor); w: (m, n) int64."""
    x = np.asarray(x, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    R, m = x.shape[0], w.shape[0]
    partial = np.cumsum(x[:, None, :] * w[None, :, :], axis=2)  # (R, m, n) running sums in input order
    if partial.shape[2] == 0:
        partial = np.zeros((R, m, 1), dtype=np.int64)
    acc = partial[:, :, -1]
    acc_min = np.minimum(partial.min(axis=(0, 2)), 0) if R else np.zeros(m, np.int64)
    acc_max = np.maximum(partial.max(axis=(0, 2)), 0) if R else np.zeros(m, np.int64)
    if kind == LINEAR:
        return acc.copy(), acc_min, acc_max
    half = 1 << (table_bits - 1)
    idx = np.clip(acc >> shift, -half, half - 1) + half
    if kind == QUANTIZED:
        return table[idx], acc_min, acc_max
    rows = np.arange(R)[:, None]
    u = draw(seed, 1, layer, rows // T, rows % T, np.arange(m)[None, :], rng_bits)
    if kind == PBIT:
        return (u < table[idx]).astype(np.int64), acc_min, acc_max
    assert kind == NOISY
    return np.minimum((table[idx] + u) >> rng_bits, (1 << out_bits) - 1), acc_min, acc_max
