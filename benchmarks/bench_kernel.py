"""The dense/conv kernel against an int8 x int8 -> int32 Numba GEMM of the same shape, measured in the same run
(not a test). Each repeat times every candidate once, in turn; every ratio is taken within a repeat and shown
as median [min, max] over the repeats.

  dense  1024 rows x 1024 inputs x 1024 outputs through dense_tile as the engine calls it (int64 arrays in,
         narrowing included, p-bit activations and their random draws included): the accumulate path (1-bit
         inputs, 8-bit weights) and the MAC path (4-bit inputs, 8-bit weights). Target >= 0.5x the GEMM.
  conv   ResNet-18 conv2_1a (56x56x64 input, 3x3, 64 filters, stride 1, pad 1; 115.6 M MACs), 1-bit inputs,
         8-bit weights: the engine's im2col + dense_tile against the same im2col + the GEMM.
  small  one 8-row x 64 x 64 tile, as the engine calls it per tile, against the same call forced into a
         parallel region (what every tile paid before): microseconds per call.
  1 thread   dense and conv again with one Numba thread each, timed in CPU seconds: the ratio that the load
             of other processes changes least (the wall-time figures above need a quiet machine).
--busy: the same with one competing Numba-parallel process running throughout.
Run: python benchmarks/bench_kernel.py [--busy] [--repeats 7]
"""
import argparse
import time
import types
from unittest import mock

import numpy as np
from benchlib import alternate, busy, fmt, gemm_i8, machine, rates, ratios

from archsim.ops.conv2d import im2col
from archsim.kernels import dense, jit, tables
from archsim.kernels.jit import aligned_empty, threads


def _layer(n, weight_bits):
    gain = tables.default_gain(n, weight_bits)
    shift = tables.table_shift(gain, 8)
    return tables.activation_table("pbit", gain, shift, 8, 1, 16), shift


def dense_candidates(rows, n, m, input_bits, weight_bits=8, P=1, make_x=None):
    """(kernel, gemm) closures over the same data; make_x: a function producing the int64 kernel rows each call
    (conv: im2col), else fixed rows."""
    rng = np.random.default_rng(input_bits)
    w = rng.integers(-(2 ** (weight_bits - 1)), 2 ** (weight_bits - 1), (m, n)).astype(np.int64)
    fixed = rng.integers(0, 2**input_bits, (rows, n)).astype(np.int64)
    table, shift = _layer(n, weight_bits)
    y = np.zeros((rows, m), np.int64)
    lo, hi, bias, row_ids = np.zeros(m, np.int64), np.zeros(m, np.int64), np.zeros(m, np.int64), np.arange(rows)
    # The GEMM's arrays start on cache lines, as the kernel's narrowed copies do (NumPy's own start 16 bytes
    # past a line: the GEMM ran 1.4x slower on them)
    wT8, c, x8 = aligned_empty((n, m), np.int8), aligned_empty((rows, m), np.int32), aligned_empty((rows, n), np.int8)
    wT8[...] = w.T

    def kernel():
        x = make_x() if make_x else fixed
        dense.dense_tile(x, w, bias, input_bits == 1, tables.PBIT, table, 8, shift, 1, 16, 1, 0, 1, P, row_ids, 0,
                         y, lo, hi)

    def gemm():
        x8[...] = make_x() if make_x else fixed
        gemm_i8(x8, wT8, c)

    kernel(), gemm()  # compile or load from the cache
    return kernel, gemm


def conv2_1a():
    lp = types.SimpleNamespace(in_shape=(56, 56, 64), out_shape=(56, 56, 64), kernel=3, stride=1, padding=1)
    maps = np.random.default_rng(0).integers(0, 2, (1, 56 * 56 * 64)).astype(np.int64)
    return dense_candidates(56 * 56, 9 * 64, 64, 1, P=56 * 56, make_x=lambda: im2col(maps, lp))


def small_tile():
    rows, n, m = 8, 64, 64
    kernel, _ = dense_candidates(rows, n, m, 1)
    calls = 2000

    def as_shipped():
        for _ in range(calls):
            kernel()

    def forced_parallel():
        with mock.patch.object(jit, "PARALLEL_MIN_OPS", 0):
            for _ in range(calls):
                kernel()

    forced_parallel()
    return as_shipped, forced_parallel, calls


def report(t, repeats_note):
    R = n = m = 1024
    ops = R * n * m
    print(f"dense {R} rows x {n} x {m} (G synaptic ops/s; ratio to the int8 GEMM, target >= 0.5x){repeats_note}")
    for name, label in (("acc", "accumulate, 1-bit inputs"), ("mac", "MAC, 4-bit inputs")):
        print(f"  {label:28s} kernel {fmt(rates(t[name], ops), 1e-9)}  GEMM {fmt(rates(t[name + '_gemm'], ops), 1e-9)}"
              f"  ratio {fmt(ratios(t, name + '_gemm', name))}")
    conv_ops = 56 * 56 * 64 * 9 * 64
    print(f"conv ResNet-18 conv2_1a, im2col included on both sides (G MAC/s; ratio to im2col + GEMM){repeats_note}")
    print(f"  {'1-bit inputs, 8-bit weights':28s} kernel {fmt(rates(t['conv'], conv_ops), 1e-9)}  "
          f"GEMM {fmt(rates(t['conv_gemm'], conv_ops), 1e-9)}  ratio {fmt(ratios(t, 'conv_gemm', 'conv'))}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", action="store_true", help="run one competing Numba-parallel process throughout")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print(f"bench_kernel ({'busy: one competing Numba-parallel process' if args.busy else 'no competitor started'})")
    print(f"  {machine()}")
    print("  median [min, max] over alternating repeats")
    acc_k, acc_g = dense_candidates(1024, 1024, 1024, 1)
    mac_k, mac_g = dense_candidates(1024, 1024, 1024, 4)
    conv_k, conv_g = conv2_1a()
    small, small_par, calls = small_tile()
    big = {"acc": acc_k, "acc_gemm": acc_g, "mac": mac_k, "mac_gemm": mac_g, "conv": conv_k, "conv_gemm": conv_g}
    with busy(args.busy):
        t = alternate({**big, "small": small, "small_par": small_par}, args.repeats)
        with threads(1):
            alternate(big, 1)  # untimed: the idle worker threads of the last parallel region spin a while (on CPU)
            cpu = alternate(big, args.repeats, clock=time.process_time)
    report(t, "")
    print("small tile 8 x 64 x 64 (us per call; ratio: forced parallel region / as shipped)")
    print(f"  {'one thread (as shipped)':28s} {fmt([s / calls for s in t['small']], 1e6)}   "
          f"forced parallel {fmt([s / calls for s in t['small_par']], 1e6)}   "
          f"ratio {fmt(ratios(t, 'small_par', 'small'))}")
    print("the same on one Numba thread each, in CPU seconds (what the load of other processes changes least)")
    report(cpu, ", 1 thread, CPU time")


if __name__ == "__main__":
    main()
