"""Numba kernels == NumPy references, bit for bit, over random shapes, widths, kinds, T, seeds, tilings, thread
counts and the kernel's internal paths (narrow int8/int16 data, int32/int64 sums, one thread or coarse pieces)."""
import contextlib
from unittest import mock

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archsim.kernels import dense, jit, pool, reference, rng, tables
from archsim.kernels.jit import threads

KINDS = list(tables.KIND_CODES)


PATHS = ("as called", "narrow", "narrow, parallel")  # narrow/parallel: thresholds at 0, every tile takes that path


@contextlib.contextmanager
def path(name):
    """Force the kernel's narrow-type and parallel paths on small tiles (their thresholds exist for speed only)."""
    with contextlib.ExitStack() as stack:
        if "narrow" in name:
            stack.enter_context(mock.patch.object(dense, "NARROW_MIN_OPS", 0))
        if "parallel" in name:
            stack.enter_context(mock.patch.object(jit, "PARALLEL_MIN_OPS", 0))
        yield


def make_case(r, T, items, n, m, ba, bw, kind, table_bits, rng_bits, seed, layer, signed=False, bias=False,
              gain_factor=1.0, out_bits=None, select=False):
    lo_x = -(2 ** (ba - 1)) if signed else 0
    x = r.integers(lo_x, lo_x + 2**ba, (items * T, n)).astype(np.int64)
    w = r.integers(-(2 ** (bw - 1)), 2 ** (bw - 1), (m, n)).astype(np.int64)
    b = r.integers(-(2 ** (bw + 2)), 2 ** (bw + 2), m).astype(np.int64) if bias else None
    out_bits = out_bits or (1 if kind == "pbit" else 4)
    gain = tables.default_gain(n, bw) * gain_factor
    shift = tables.table_shift(gain, table_bits)
    table = tables.activation_table(kind, gain, shift, table_bits, out_bits, rng_bits)
    return dict(x=x, w=w, kind=tables.KIND_CODES[kind], table=table, table_bits=table_bits, shift=shift,
                out_bits=out_bits, rng_bits=rng_bits, seed=seed, layer=layer, T=T,
                binary=select or (ba == 1 and not signed), bias=b, select=select)


@st.composite
def layer_case(draw):
    kind = draw(st.sampled_from(KINDS))
    ba = draw(st.integers(1, 16))  # 1..7 bits: int8 data; up to 15: int16; 16: int64
    return make_case(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), T=draw(st.integers(1, 5)),
                     items=draw(st.integers(1, 3)), n=draw(st.integers(1, 40)), m=draw(st.integers(1, 12)), ba=ba,
                     bw=draw(st.integers(1, 16)), kind=kind, table_bits=draw(st.integers(1, 10)),
                     rng_bits=draw(st.integers(1, 32)), seed=draw(st.integers(0, 2**63 - 1)),
                     layer=draw(st.integers(0, 20)), signed=ba > 1 and draw(st.booleans()), bias=draw(st.booleans()),
                     gain_factor=draw(st.floats(0.25, 4.0)),
                     out_bits=1 if kind == "pbit" else draw(st.integers(1, 6)))


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
                                 c["out_bits"], c["rng_bits"], c["seed"], c["layer"], c["T"], c["bias"], c["select"])


def assert_matches_reference(c, **tiles):
    for got, want in zip(run_kernel(c, **tiles), run_reference(c)):
        np.testing.assert_array_equal(got, want)


@given(layer_case(), st.sampled_from(PATHS))
def test_dense_kernel_matches_reference(c, name):
    with path(name):
        assert_matches_reference(c)


@given(layer_case(), st.integers(1, 7), st.integers(1, 7), st.sampled_from(PATHS))
def test_dense_kernel_independent_of_tile_size(c, row_tile, col_tile, name):
    with path(name):
        assert_matches_reference(c, row_tile=row_tile, col_tile=col_tile)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
@given(layer_case(), st.sampled_from(PATHS))
def test_dense_kernel_independent_of_thread_count(c, name):
    with path(name):
        for n in (1, 2):
            with threads(n):
                assert_matches_reference(c)


# Shapes past one output block (OUT_BLOCK) and several row blocks, at each data/accumulator type, through the
# thresholds as shipped and with the parallel path (rows split when there are many, else outputs).
WIDE = {  # ba, bw, signed inputs, select, n: the types the kernel must pick
    (np.int8, np.int32): (1, 4, False, False, 24),
    (np.int16, np.int32): (4, 12, False, False, 24),
    (np.int16, np.int64): (15, 16, True, False, 24),
    (np.int64, np.int64): (16, 16, False, False, 24),
}


@pytest.mark.parametrize("types", list(WIDE), ids=lambda t: "-".join(d.__name__ for d in t))
@pytest.mark.parametrize("rows", [3, 75])
@pytest.mark.parametrize("name", PATHS)
def test_dense_kernel_wide_tiles_at_each_type(types, rows, name):
    ba, bw, signed, select, n = WIDE[types]
    c = make_case(np.random.default_rng(rows), T=rows, items=1, n=n, m=dense.OUT_BLOCK * 2 + 6, ba=ba, bw=bw,
                  kind="noisy", table_bits=6, rng_bits=12, seed=7, layer=3, signed=signed, bias=True)
    assert dense._types(c["x"], c["w"], np.asarray(c["bias"])) == types
    with path(name), threads(2):
        assert_matches_reference(c)


def test_a_bias_past_int32_keeps_int64_sums():
    c = make_case(np.random.default_rng(2), T=10, items=1, n=40, m=50, ba=1, bw=4, kind="linear", table_bits=4,
                  rng_bits=8, seed=1, layer=0, bias=True)
    c["bias"][3] = -(2**40)
    assert dense._types(c["x"], c["w"], c["bias"]) == (np.int8, np.int64)
    with path("narrow"):
        assert_matches_reference(c)


def test_strided_inputs_and_weights():
    c = make_case(np.random.default_rng(3), T=12, items=1, n=60, m=40, ba=3, bw=5, kind="quantized", table_bits=5,
                  rng_bits=8, seed=2, layer=1, bias=True)
    c["x"], c["w"] = c["x"][:, ::2], c["w"][:, ::3]  # views, not contiguous
    y, lo, hi = (np.zeros((12, 40), np.int64), np.zeros(40, np.int64), np.zeros(40, np.int64))
    with path("narrow"):
        dense.dense_tile(c["x"][:, :20], c["w"], c["bias"], False, c["kind"], c["table"], c["table_bits"],
                         c["shift"], c["out_bits"], c["rng_bits"], c["seed"], c["layer"], c["T"], 1, np.arange(12), 0,
                         y, lo, hi)
    c["x"] = c["x"][:, :20]
    for got, want in zip((y, lo, hi), run_reference(c)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("T, n, m", [(3, 5, 4), (9, 30, 40)])
def test_inputs_flagged_binary_that_are_not_0_or_1_are_selected_literally(T, n, m):
    c = make_case(np.random.default_rng(n), T=T, items=2, n=n, m=m, ba=2, bw=6, kind="linear", table_bits=4,
                  rng_bits=8, seed=1, layer=0, bias=True, select=True)
    assert c["x"].min() < 0 or c["x"].max() > 1
    assert_matches_reference(c)


@given(st.integers(1, 5), st.integers(2, 6), st.integers(1, 3), st.integers(1, 3), st.booleans(),
       st.integers(0, 2**20))
def test_pool_kernel_in_pieces_matches_reference(n, H, C, k, is_max, seed):
    a = np.random.default_rng(seed).integers(0, 8, (n, H, H, C)).astype(np.int64)
    want = reference.pool2d(a, min(k, H), min(k, H), 1, is_max)
    for t in (1, 2):
        got = np.zeros_like(want)
        with path("parallel"), threads(t):
            pool.pool2d(a, min(k, H), min(k, H), 1, is_max, got)
        np.testing.assert_array_equal(got, want)


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


@pytest.mark.parametrize("shape, dtype", [((3, 5), np.int8), ((2, 10, 528), np.int32), ((7,), np.int64)])
def test_aligned_empty_starts_on_a_cache_line(shape, dtype):
    a = jit.aligned_empty(shape, dtype)
    assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.ctypes.data % 64 == 0
