"""Slow, obvious NumPy oracles for every Numba kernel. They share no code with the kernels beyond the tables
(built once, in NumPy) and the activation codes."""
import numpy as np

from .tables import LINEAR, NOISY, PBIT, QUANTIZED, bucket_offset

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


def _activate(acc, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, item, sample, neuron):
    if kind == LINEAR:
        return acc.copy()
    half = 1 << (table_bits - 1)
    idx = np.clip((acc + bucket_offset(shift)) >> shift, -half, half - 1) + half
    if kind == QUANTIZED:
        return table[idx]
    u = draw(seed, 1, layer, item, sample, neuron, rng_bits)
    if kind == PBIT:
        return (u < table[idx]).astype(np.int64)
    assert kind == NOISY
    return np.minimum((table[idx] + u) >> rng_bits, (1 << out_bits) - 1)


def dense_layer(x, w, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, bias=None, select=False):
    """Whole-layer reference: returns (y, acc_min, acc_max) exactly as the kernel over all rows and outputs.
    x: (R, n) int64 rows (item-major, sample-minor); w: (m, n) int64; bias: (m,) int64 or None;
    select: terms are w & -x (the accumulate-only synapse's selection) instead of w * x."""
    x = np.asarray(x, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    R, m = x.shape[0], w.shape[0]
    b = np.zeros(m, np.int64) if bias is None else np.asarray(bias, dtype=np.int64)
    synapses = (w[None, :, :] & -x[:, None, :]) if select else x[:, None, :] * w[None, :, :]
    terms = np.concatenate([np.broadcast_to(b[None, :, None], (R, m, 1)), synapses], axis=2)
    partial = np.cumsum(terms, axis=2)  # (R, m, 1 + n) running sums: bias, then inputs in order
    acc = partial[:, :, -1]
    acc_min = np.minimum(partial.min(axis=(0, 2)), 0) if R else np.minimum(b, 0)
    acc_max = np.maximum(partial.max(axis=(0, 2)), 0) if R else np.maximum(b, 0)
    rows = np.arange(R)[:, None]
    y = _activate(acc, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, rows // T, rows % T,
                  np.arange(m)[None, :])
    return y, acc_min, acc_max


def conv2d_layer(a, w, stride, padding, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T,
                 bias=None):
    """Direct convolution, no im2col. a: (items*T, H, W, Cin) NHWC rows (item-major, sample-minor);
    w: (Cout, kh, kw, Cin). Returns (y (items*T, Ho, Wo, Cout), acc_min, acc_max) with running sums taken in
    (kh, kw, Cin) order, as the kernel sees them."""
    a = np.asarray(a, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    N, H, W, C = a.shape
    Co, kh, kw, _ = w.shape
    ap = np.pad(a, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    terms = np.zeros((N, Ho, Wo, Co, 1 + kh * kw * C), np.int64)
    terms[..., 0] = 0 if bias is None else np.asarray(bias, dtype=np.int64)
    for oy in range(Ho):
        for ox in range(Wo):
            patch = ap[:, oy * stride:oy * stride + kh, ox * stride:ox * stride + kw, :].reshape(N, 1, -1)
            terms[:, oy, ox, :, 1:] = patch * w.reshape(Co, -1)[None]
    partial = np.cumsum(terms, axis=-1)
    acc = partial[..., -1]
    acc_min = np.minimum(partial.min(axis=(0, 1, 2, 4)), 0)
    acc_max = np.maximum(partial.max(axis=(0, 1, 2, 4)), 0)
    P = Ho * Wo
    row = np.arange(N)[:, None, None, None]
    pos = (np.arange(Ho)[:, None] * Wo + np.arange(Wo)[None, :])[None, :, :, None]
    neuron = np.arange(Co)[None, None, None, :] * P + pos
    y = _activate(acc, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, row // T, row % T, neuron)
    return y, acc_min, acc_max


def pool2d(a, kh, kw, stride, is_max):
    N, H, W, C = a.shape
    Ho, Wo = (H - kh) // stride + 1, (W - kw) // stride + 1
    win = np.stack([a[:, i:i + stride * (Ho - 1) + 1:stride, j:j + stride * (Wo - 1) + 1:stride, :]
                    for i in range(kh) for j in range(kw)])
    return win.max(axis=0) if is_max else win.sum(axis=0)


def gibbs(states, J, h, beta_thr, I_min, colours, clamped, seed, rng_bits, sweep0, n_sweeps, burn_in,
          record_every):
    """Dense-matrix block Gibbs: for each sweep and colour, all unclamped nodes of the colour at once.
    states: (chains, n) int8 (copied); J: (n, n) int; beta_thr: the field table. Returns (final, records)."""
    s = np.array(states, dtype=np.int64)
    J = np.asarray(J, dtype=np.int64)
    chains = np.arange(s.shape[0])[:, None]
    records = []
    for sweep in range(sweep0, sweep0 + n_sweeps):
        for c in range(int(colours.max()) + 1 if colours.size else 0):
            nodes = np.flatnonzero((colours == c) & ~clamped)
            field = s @ J[nodes].T + h[nodes][None, :]
            u = draw(seed, 2, chains, sweep, nodes[None, :], 0, rng_bits)
            s[:, nodes] = np.where(u < beta_thr[field - I_min], 1, -1)
        if sweep >= burn_in and (sweep - burn_in) % record_every == 0:
            records.append(s.astype(np.int8))
    return s.astype(np.int8), np.array(records, dtype=np.int8).reshape(-1, *s.shape)


def gibbs_multichip(states, J, h, beta_thr, I_min, colours, clamped, chip, delay, seed, rng_bits, n_sweeps, burn_in,
                    record_every):
    """Dense block Gibbs on chips: in phase q (= sweep * C + colour) a node reads neighbours on its own chip as
    they are now and neighbours on other chips as they were at the end of phase q - 1 - delay (the initial
    states before phase 0). Keeps the whole history of states. Returns (final, records)."""
    s = np.array(states, dtype=np.int64)
    J = np.asarray(J, dtype=np.int64)
    chains = np.arange(s.shape[0])[:, None]
    n_colours = int(colours.max()) + 1 if colours.size else 0
    history = []  # history[p]: states at the end of phase p
    records = []
    for sweep in range(n_sweeps):
        for c in range(n_colours):
            q = sweep * n_colours + c
            old = history[q - 1 - delay] if q - 1 - delay >= 0 else np.array(states, dtype=np.int64)
            nodes = np.flatnonzero((colours == c) & ~clamped)
            same = chip[nodes][:, None] == chip[None, :]  # (nodes, n): neighbour on the reader's chip
            seen = np.where(same[None], s[:, None, :], old[:, None, :])  # (chains, nodes, n)
            field = np.einsum("knj,nj->kn", seen, J[nodes]) + h[nodes][None, :]
            u = draw(seed, 2, chains, sweep, nodes[None, :], 0, rng_bits)
            s[:, nodes] = np.where(u < beta_thr[field - I_min], 1, -1)
            history.append(s.copy())
        if sweep >= burn_in and (sweep - burn_in) % record_every == 0:
            records.append(s.astype(np.int8))
    return s.astype(np.int8), np.array(records, dtype=np.int8).reshape(-1, *s.shape)
