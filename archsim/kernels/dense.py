"""The synapse + neuron kernel for dense and (im2col-lowered) convolutional layers: integer synapses
(accumulate-only or MAC), then the activation, for a set of input rows and a range of output channels.

Row numbering is global: row = (item * T + sample) * P + position, P = output positions of the layer (1 for
dense). The neuron at (channel c, position p) has global index c * P + p. Every random draw is keyed by
(layer, item, sample, neuron), so any tiling, thread count or mode gives the same bits.

How it runs at integer-GEMM rate, with the same bits:
- Narrow types: inputs and weights are copied to int8 (or int16) when every value fits, and the sums are
  kept in int32 when a static bound proves that no running sum of the tile can leave int32:
  |running sum of output i| <= |bias_i| + max|x| * sum_j |w_ij|. Otherwise int64, as before.
- The running extremes the engine checks against the accumulator width stay exact: they are taken across
  a block of ROW_BLOCK rows, two inputs and OUT_BLOCK outputs at once (vector min/max over outputs, one
  store of the sums per two inputs), not with a branch per term.
- The narrowed copies and the block's sums start on cache lines, and the sums' rows are not 4 KiB apart:
  misaligned or aliasing rows made the same loop run at half speed, depending on where NumPy put them.
- 1-bit inputs (the accumulate path) select weights: w & -x = w * x for x in {0, 1}, so they run through the
  same vector loop as the MAC path; inputs flagged binary that are not 0/1 keep the literal select (the
  plain int64 loop that also serves tiles under NARROW_MIN_OPS).
- One thread below jit.PARALLEL_MIN_OPS multiply-accumulates; above it, one coarse piece per thread (rows,
  or outputs when there are few rows), each with its own extremes, merged at the end: one parallel region
  per tile, copies included.
- The RNG chain of a row (seed, tag, layer, item, sample) is absorbed once per row; each neuron absorbs
  only its own index (rng.absorb), which is the same draw as rng.draw.
"""
import numpy as np

from .jit import aligned, n_chunks, njit, prange
from .rng import TAG_PDNN, absorb, finish, stream
from .tables import LINEAR, PBIT, QUANTIZED

ROW_BLOCK = 4      # rows sharing each weight load, written out in _block (4 x OUT_BLOCK int32 sums: 16 KiB, L1)
OUT_BLOCK = 1024   # outputs per block: its weights (n x 1024 narrow ints) stay in L2 while the rows pass
STRIDE = OUT_BLOCK + 16  # scratch row length: rows 4 KiB apart would alias in the store-to-load forwarding
NARROW_MIN_OPS = 1 << 14  # below this, the plain int64 loop: narrowing (copies, a scan) would cost more
_INT8 = (-(1 << 7), (1 << 7) - 1)
_INT16 = (-(1 << 15), (1 << 15) - 1)
_INT32_MAX = (1 << 31) - 1


@njit
def _extent(a):
    """(min, max) of a 2-d integer array, 0 included."""
    lo, hi = np.int64(0), np.int64(0)
    for r in range(a.shape[0]):
        for v in a[r]:
            lo = min(lo, np.int64(v))
            hi = max(hi, np.int64(v))
    return lo, hi


@njit
def _bound(w, bias, x_abs):
    """The static bound on every running sum of the tile: max_i |bias_i| + x_abs * sum_j |w_ij|, for narrow w
    and x (|w|, x_abs <= 2**15, so the int64 sums cannot wrap); past int32 at once if a bias is."""
    bound = np.int64(0)
    for i in range(w.shape[0]):
        if bias[i] < -_INT32_MAX or bias[i] > _INT32_MAX:
            return np.int64(_INT32_MAX) + 1
        s = np.int64(0)
        for j in range(w.shape[1]):
            s += abs(w[i, j])
        bound = max(bound, abs(bias[i]) + x_abs * s)
    return bound


@njit
def _scan(x, w, bias):
    """(x's min, x's max, data type code, accumulator type code) in one call: codes index _DATA and _ACC."""
    xmin, xmax = _extent(x)
    wmin, wmax = _extent(w)
    lo, hi = min(xmin, wmin), max(xmax, wmax)
    if _INT8[0] <= lo and hi <= _INT8[1]:
        data = 0
    elif _INT16[0] <= lo and hi <= _INT16[1]:
        data = 1
    else:
        return xmin, xmax, 2, 1
    return xmin, xmax, data, 0 if _bound(w, bias, max(-xmin, xmax)) <= _INT32_MAX else 1


_DATA = (np.int8, np.int16, np.int64)
_ACC = (np.int32, np.int64)


def _types(x, w, bias):
    """(data dtype, accumulator dtype) for one tile: the narrowest exact choice."""
    _, _, data, acc = _scan(x, w, bias)
    return _DATA[data], _ACC[acc]


@njit
def _activate_row(acc, y, r, i0, kind, table, shift, half, out_max, rng_bits, h_row, neuron0, P):
    """y[r, i0 + i] = act(acc[i]) for one row; h_row: the RNG chain after (seed, tag, layer, item, sample);
    neuron0: the global neuron index of output i0 (outputs are P neurons apart)."""
    for i in range(acc.shape[0]):
        a = np.int64(acc[i])
        if kind == LINEAR:
            y[r, i0 + i] = a
            continue
        idx = (a + ((np.int64(1) << shift) >> 1)) >> shift  # round to the nearest bucket centre (tables.py)
        if idx < -half:
            idx = -half
        elif idx > half - 1:
            idx = half - 1
        idx += half
        if kind == QUANTIZED:
            y[r, i0 + i] = table[idx]
            continue
        u = finish(absorb(h_row, neuron0 + i * P), rng_bits)
        if kind == PBIT:
            y[r, i0 + i] = 1 if u < table[idx] else 0
        else:  # NOISY: stochastic rounding
            v = (table[idx] + u) >> rng_bits
            y[r, i0 + i] = v if v < out_max else out_max


@njit
def _row_stream(h_layer, row, T, P):
    """The RNG chain of a kernel row: the layer's, then the row's item and sample."""
    return absorb(absorb(h_layer, row // (T * P)), (row // P) % T)


@njit
def _limits(table_bits, out_bits):
    """(half the table, the largest output level)."""
    return np.int64(1) << (table_bits - 1), (np.int64(1) << out_bits) - 1


@njit
def _block(xs, wT, bias, kind, table, shift, half, out_max, rng_bits, h_layer, T, P, rows, col0,
           r0, r1, i0, i1, y, lo, hi, scratch):
    """Rows [r0, r1) x outputs [i0, i1) of the tile: sums in scratch's type, extremes into lo/hi, activations
    into y. Two inputs per step (xs and wT have an even number of inputs; a padding input adds 0, which moves
    no running sum). A short last row block repeats its last row: the same sums, so the same extremes.
    scratch (ROW_BLOCK + 2, STRIDE), 64-byte aligned: the sums of ROW_BLOCK rows, then the block's extremes;
    its rows are separate arrays of constant shape, so that the compiler sees them apart and vectorises over
    outputs. Each intermediate sum is cast to the accumulator type, or the compiler would widen to int64."""
    n = xs.shape[1]
    cast = scratch.dtype.type
    a0, a1, a2, a3 = scratch[0], scratch[1], scratch[2], scratch[3]
    lb, hb = scratch[ROW_BLOCK], scratch[ROW_BLOCK + 1]
    for ib in range(i0, i1, OUT_BLOCK):
        ie = min(ib + OUT_BLOCK, i1)
        gb = ie - ib
        lb[:gb] = lo[ib:ie]
        hb[:gb] = hi[ib:ie]
        bb = bias[ib:ie]
        for rb in range(r0, r1, ROW_BLOCK):
            q1, q2, q3 = min(rb + 1, r1 - 1), min(rb + 2, r1 - 1), min(rb + 3, r1 - 1)
            for k in range(ROW_BLOCK):
                scratch[k, :gb] = bb
            for j in range(0, n, 2):
                x0, x1, x2, x3 = xs[rb, j], xs[q1, j], xs[q2, j], xs[q3, j]
                z0, z1, z2, z3 = xs[rb, j + 1], xs[q1, j + 1], xs[q2, j + 1], xs[q3, j + 1]
                wj, wk = wT[j, ib:ie], wT[j + 1, ib:ie]
                for i in range(gb):
                    v, u = wj[i], wk[i]
                    s0, s1, s2, s3 = cast(a0[i] + v * x0), cast(a1[i] + v * x1), cast(a2[i] + v * x2), \
                        cast(a3[i] + v * x3)
                    t0, t1, t2, t3 = cast(s0 + u * z0), cast(s1 + u * z1), cast(s2 + u * z2), cast(s3 + u * z3)
                    a0[i], a1[i], a2[i], a3[i] = t0, t1, t2, t3
                    lb[i] = min(lb[i], min(min(min(s0, s1), min(s2, s3)), min(min(t0, t1), min(t2, t3))))
                    hb[i] = max(hb[i], max(max(max(s0, s1), max(s2, s3)), max(max(t0, t1), max(t2, t3))))
            for k in range(min(ROW_BLOCK, r1 - rb)):
                row = rows[rb + k]
                _activate_row(scratch[k, :gb], y, rb + k, ib, kind, table, shift, half, out_max, rng_bits,
                              _row_stream(h_layer, row, T, P), (col0 + ib) * P + row % P, P)
        lo[ib:ie] = lb[:gb]
        hi[ib:ie] = hb[:gb]


@njit
def _extremes(bias, pieces, acc_like):
    """Per-piece running extremes, started at the bias and at 0 (the empty sum)."""
    lo = np.empty((pieces, bias.shape[0]), acc_like.dtype)
    hi = np.empty((pieces, bias.shape[0]), acc_like.dtype)
    for p in range(pieces):
        for i in range(bias.shape[0]):
            lo[p, i] = min(np.int64(0), bias[i])
            hi[p, i] = max(np.int64(0), bias[i])
    return lo, hi


@njit
def _merge(lo, hi, acc_min, acc_max):
    for i in range(acc_min.shape[0]):
        acc_min[i] = lo[:, i].min()
        acc_max[i] = hi[:, i].max()


@njit
def _narrowed(x, w, data_like):
    """Room for (x, w transposed) as data_like's type, each starting on a cache line, with a zero input appended
    when n is odd (_block takes inputs two at a time); _narrow fills them."""
    R, n = x.shape
    xs, wT = aligned((R, n + n % 2), data_like), aligned((n + n % 2, w.shape[0]), data_like)
    xs[:, n:] = 0
    wT[n:] = 0
    return xs, wT


@njit
def _narrow(x, w, xs, wT, r0, r1, i0, i1):
    """Copy rows [r0, r1) of x and outputs [i0, i1) of w (transposed by square blocks, so that both sides stay in
    cache)."""
    n = x.shape[1]
    for r in range(r0, r1):
        for j in range(n):
            xs[r, j] = x[r, j]
    for ib in range(i0, i1, 32):
        for j0 in range(0, n, 32):
            for i in range(ib, min(ib + 32, i1)):
                for j in range(j0, min(j0 + 32, n)):
                    wT[j, i] = w[i, j]


@njit
def _tile_serial(x, w, bias, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, P, rows,
                 col0, y, acc_min, acc_max, data_like, acc_like):
    xs, wT = _narrowed(x, w, data_like)
    _narrow(x, w, xs, wT, 0, x.shape[0], 0, w.shape[0])
    scratch = aligned((1, ROW_BLOCK + 2, STRIDE), acc_like)
    lo, hi = _extremes(bias, 1, scratch)
    half, out_max = _limits(table_bits, out_bits)
    _block(xs, wT, bias, kind, table, shift, half, out_max, rng_bits, absorb(stream(seed, TAG_PDNN), layer),
           T, P, rows, col0, 0, xs.shape[0], 0, wT.shape[1], y, lo[0], hi[0], scratch[0])
    _merge(lo, hi, acc_min, acc_max)


@njit(parallel=True)
def _tile_parallel(x, w, bias, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, P,
                   rows, col0, y, acc_min, acc_max, data_like, acc_like, pieces, split_rows):
    """One coarse piece per thread, in one parallel region: a share of the rows (split_rows) or of the outputs,
    each piece with its own scratch and extremes (merged at the end). The copy that every piece reads (w's when
    rows are split, x's when outputs are) is made before the region; each piece copies its own share."""
    R, g = x.shape[0], w.shape[0]
    xs, wT = _narrowed(x, w, data_like)
    if split_rows:
        _narrow(x, w, xs, wT, 0, 0, 0, g)
    else:
        _narrow(x, w, xs, wT, 0, R, 0, 0)
    scratch = aligned((pieces, ROW_BLOCK + 2, STRIDE), acc_like)
    lo, hi = _extremes(bias, pieces, scratch)
    half, out_max = _limits(table_bits, out_bits)
    h_layer = absorb(stream(seed, TAG_PDNN), layer)
    for c in prange(pieces):
        r0, r1 = (c * R // pieces, (c + 1) * R // pieces) if split_rows else (0, R)
        i0, i1 = (0, g) if split_rows else (c * g // pieces, (c + 1) * g // pieces)
        if split_rows:
            _narrow(x, w, xs, wT, r0, r1, 0, 0)
        else:
            _narrow(x, w, xs, wT, 0, 0, i0, i1)
        _block(xs, wT, bias, kind, table, shift, half, out_max, rng_bits, h_layer, T, P, rows, col0, r0, r1, i0, i1,
               y, lo[c], hi[c], scratch[c])
    _merge(lo, hi, acc_min, acc_max)


@njit
def _tile_small(x, w, bias, select, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, P, rows, col0,
                y, acc_min, acc_max):
    """The plain loop, term by term in int64: for tiles too small to pay for narrowing (it also compiles in a
    fraction of the time), and for inputs flagged binary that are not 0/1, which keep the literal w & -x."""
    g = w.shape[0]
    half, out_max = _limits(table_bits, out_bits)
    h_layer = absorb(stream(seed, TAG_PDNN), layer)
    acc = np.empty(g, np.int64)
    for i in range(g):
        acc_min[i] = min(np.int64(0), bias[i])
        acc_max[i] = max(np.int64(0), bias[i])
    for r in range(x.shape[0]):
        for i in range(g):
            a = bias[i]
            for j in range(x.shape[1]):
                a += (w[i, j] & -x[r, j]) if select else w[i, j] * x[r, j]
                acc_min[i] = min(acc_min[i], a)
                acc_max[i] = max(acc_max[i], a)
            acc[i] = a
        _activate_row(acc, y, r, 0, kind, table, shift, half, out_max, rng_bits, _row_stream(h_layer, rows[r], T, P),
                      col0 * P + rows[r] % P, P)


def dense_tile(x, w, bias, binary, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, P, rows,
               col0, y, acc_min, acc_max):
    """y[r, i] = act(bias[i] + sum_j w[i, j] * x[r, j]) for x's rows (global indices `rows`) and outputs
    col0 + i; acc_min/acc_max[i] get the extreme running sums (bias first, then inputs j = 0, 1, ...).
    x: (R, n) int64; w: (g, n) int64; bias: (g,) int64; binary: 1-bit inputs select weights (w & -x)."""
    R, n = x.shape
    g = w.shape[0]
    ops = R * n * g
    small = ops < NARROW_MIN_OPS
    if not small:
        xmin, xmax, data, acc = _scan(x, w, bias)
        small = binary and (xmin < 0 or xmax > 1)
    if small:
        _tile_small(x, w, bias, binary, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, P, rows,
                    col0, y, acc_min, acc_max)
        return
    args = (x, w, bias, kind, table, table_bits, shift, out_bits, rng_bits, seed, layer, T, P, rows, col0,
            y, acc_min, acc_max, np.empty(0, _DATA[data]), np.empty(0, _ACC[acc]))
    pieces = n_chunks(ops)
    if pieces == 1:
        _tile_serial(*args)
    else:
        _tile_parallel(*args, pieces, R >= 4 * ROW_BLOCK * pieces)
