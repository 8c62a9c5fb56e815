"""Speed of the core, as ratios against references measured in the same run (not a test).

1. Functional-mode dense-layer kernel throughput vs an integer GEMM of the same shape (NumPy int64 matmul),
   in multiply-accumulates per second. Target: >= 0.5x.
2. Timing-mode wall time vs functional-mode wall time on a large dense workload (1024-wide layers, T = 32).
   Target: <= 2x.
Run: python benchmarks/bench_core.py
"""
import time

import numpy as np

from archsim import simulate
from archsim.config.loader import arch_from_data, default_arch_path
from archsim.kernels import dense, tables
from archsim.workload.loader import workload_from_data
import yaml


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def kernel_vs_gemm(rows=1024, n=1024, m=1024):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (rows, n)).astype(np.int64)
    w = rng.integers(-8, 8, (m, n)).astype(np.int64)
    table = tables.activation_table("pbit", tables.default_gain(n, 4), tables.table_shift(
        tables.default_gain(n, 4), 8), 8, 1, 16)
    shift = tables.table_shift(tables.default_gain(n, 4), 8)
    y = np.zeros((rows, m), np.int64)
    row_ids = np.arange(rows)
    lo, hi = np.zeros(m, np.int64), np.zeros(m, np.int64)

    def kernel(binary):
        dense.dense_tile(x, w, np.zeros(m, np.int64), binary, tables.PBIT, table, 8, shift, 1, 16, 1, 0, 32, 1, row_ids, 0, y, lo, hi)

    kernel(True)  # compile / load from cache
    wt = np.ascontiguousarray(w.T)
    t_gemm = best_of(lambda: x @ wt, 3)
    t_acc = best_of(lambda: kernel(True), 3)
    t_mac = best_of(lambda: kernel(False), 3)
    macs = rows * n * m
    return macs / t_gemm, macs / t_acc, macs / t_mac


def timing_vs_functional():
    arch = yaml.safe_load(default_arch_path().read_text())
    arch["weight_mem"]["capacity"] = "4MiB"
    arch["act_mem"]["capacity"] = "1MiB"
    arch["weight_buffer"]["capacity"] = "128KiB"
    arch["synapse"]["count"] = arch["neuron"]["count"] = 64
    arch["synapse"]["accumulator_bits"] = 32
    a = arch_from_data(arch, "<bench arch>")
    layers = [{"type": "dense", "outputs": 1024, "weight_bits": 4, "activation": "pbit"} for _ in range(2)]
    layers.append({"type": "dense", "outputs": 10, "weight_bits": 8, "activation": "linear", "output_bits": 24})
    w = workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "bench-1024", "samples": 32, "seed": 1,
                            "input": {"size": 1024, "bits": 1}, "layers": layers}, "<bench workload>")
    simulate(a, w, "timing")  # warm-up
    t_f = best_of(lambda: simulate(a, w, "functional"), 3)
    t_t = best_of(lambda: simulate(a, w, "timing"), 3)
    return t_f, t_t


def main():
    gemm, acc, mac = kernel_vs_gemm()
    print("dense 1024 rows x 1024 in x 1024 out (one p-bit layer, all T*items rows)")
    print(f"  numpy int64 GEMM      {gemm / 1e9:8.3f} G MAC/s   1.00x")
    print(f"  kernel, accumulate    {acc / 1e9:8.3f} G MAC/s   {acc / gemm:.2f}x   (target >= 0.5x)")
    print(f"  kernel, MAC           {mac / 1e9:8.3f} G MAC/s   {mac / gemm:.2f}x")
    t_f, t_t = timing_vs_functional()
    print("1024-1024-10 p-DNN, T = 32, 64 synapse units")
    print(f"  functional {t_f * 1e3:8.1f} ms   timing {t_t * 1e3:8.1f} ms   ratio {t_t / t_f:.2f}x   (target <= 2x)")


if __name__ == "__main__":
    main()
