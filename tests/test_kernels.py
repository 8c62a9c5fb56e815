"""Numba kernels == NumPy references, bit for bit, over random shapes, widths, kinds, T, seeds and tilings."""
import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archsim.kernels import dense, reference, rng, tables

KINDS = list(tables.KIND_CODES)


@st.composite
def layer_case(draw):
    T = draw(st.integers(1, 5))
    items = draw(st.integers(1, 3))
    n = draw(st.integers(1, 40))
    m = draw(st.integers(1, 12))
    ba = draw(st.integers(1, 4))
    bw = draw(st.integers(1, 8))
    kind = draw(st.sampled_from(KINDS))
    out_bits = 1 if kind == "pbit" else draw(st.integers(1, 6))
    table_bits = draw(st.integers(1, 10))
    rng_bits = draw(st.integers(1, 32))
    seed = draw(st.integers(0, 2**63 - 1))
    layer = draw(st.integers(0, 20))
    data_seed = draw(st.integers(0, 2**32 - 1))
    r = np.random.default_rng(data_seed)
    x = r.integers(0, 2**ba, (items * T, n)).astype(np.int64)
    w = r.integers(-(2 ** (bw - 1)), 2 ** (bw - 1), (m, n)).astype(np.int64)
    bias = r.integers(-(2 ** (bw + 2)), 2 ** (bw + 2), m).astype(np.int64) if draw(st.booleans()) else None
    gain = tables.default_gain(n, bw) * draw(st.floats(0.25, 4.0))
    shift = tables.table_shift(gain, table_bits)
    table = tables.activation_table(kind, gain, shift, table_bits, out_bits, rng_bits)
    return dict(x=x, w=w, kind=tables.KIND_CODES[kind], table=table, table_bits=table_bits, shift=shift,
                out_bits=out_bits, rng_bits=rng_bits, seed=seed, layer=layer, T=T, binary=ba == 1, bias=bias)


def run_kernel(c, row_tile=None, col_tile=None):
    R, m = c["x"].shape[0], c["w"].shape[0]
    row_tile, col_tile = row_tile or R, col_tile or m
    y = np.zeros((R, m), np.int64)
    lo = np.zeros(m, np.int64)
    hi = np.zeros(m, np.int64)
    for r0 in range(0, R, row_tile):
        for o0 in range(0, m, col_tile):
            r1, o1 = min(r0 + row_tile, R), min(o0 + col_tile, m)
            yt = np.zeros((r1 - r0, o1 - o0), np.int64)
            lt, ht = np.zeros(o1 - o0, np.int64), np.zeros(o1 - o0, np.int64)
            bias = np.zeros(o1 - o0, np.int64) if c["bias"] is None else c["bias"][o0:o1]
            dense.dense_tile(c["x"][r0:r1], np.ascontiguousarray(c["w"][o0:o1]), bias, c["binary"], c["kind"],
                             c["table"], c["table_bits"], c["shift"], c["out_bits"], c["rng_bits"], c["seed"],
                             c["layer"], c["T"], 1, np.arange(r0, r1), o0, yt, lt, ht)
            y[r0:r1, o0:o1] = yt
            lo[o0:o1] = np.minimum(lo[o0:o1], lt)
            hi[o0:o1] = np.maximum(hi[o0:o1], ht)
    return y, lo, hi


def run_reference(c):
    return reference.dense_layer(c["x"], c["w"], c["kind"], c["table"], c["table_bits"], c["shift"],
                                 c["out_bits"], c["rng_bits"], c["seed"], c["layer"], c["T"], c["bias"])


@given(layer_case())
def test_dense_kernel_matches_reference(c):
    for got, want in zip(run_kernel(c), run_reference(c)):
        np.testing.assert_array_equal(got, want)


@given(layer_case(), st.integers(1, 7), st.integers(1, 7))
def test_dense_kernel_independent_of_tile_size(c, row_tile, col_tile):
    for got, want in zip(run_kernel(c, row_tile, col_tile), run_reference(c)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
@given(layer_case())
def test_dense_kernel_independent_of_thread_count(c):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = run_kernel(c)
        numba.set_num_threads(2)
        two = run_kernel(c)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@given(st.integers(0, 2**63 - 1), st.integers(0, 7), st.lists(st.integers(0, 2**40), min_size=4, max_size=4),
       st.integers(1, 32))
def test_rng_kernel_matches_reference(seed, tag, pos, bits):
    a, b, c, d = pos
    assert rng.draw(seed, tag, a, b, c, d, bits) == reference.draw(seed, tag, a, b, c, d, bits)[()]


def test_rng_is_uniform_and_position_sensitive():
    u = reference.draw(5, 1, 0, 0, np.arange(200_000), 0, 8)
    counts = np.bincount(u, minlength=256)
    expected = 200_000 / 256
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 350  # 255 degrees of freedom: the 0.1% critical value is about 330; margin for 1 in 10^4 luck
    assert reference.draw(5, 1, 0, 0, 1, 0, 32) != reference.draw(5, 1, 0, 1, 0, 0, 32)
