"""Shared by the benchmarks: alternating repeats with median and spread, a busy-machine context, and the
reference int8 x int8 -> int32 Numba GEMM."""
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time

import numba
import numpy as np

# One competing Numba-parallel process: many short parallel regions, the case that made small parallel calls
# collapse (issue 15). It exits by itself after an hour if the benchmark dies without ending it.
_BUSY = """
import time, numba, numpy as np
@numba.njit(parallel=True)
def spin(a):
    s = 0.0
    for i in numba.prange(a.size):
        s += np.sin(a[i])
    return s
a = np.random.default_rng(0).random(200_000)
spin(a)
print("ready", flush=True)
end = time.time() + 3600
while time.time() < end:
    spin(a)
"""


def alternate(candidates, repeats, clock=time.perf_counter):
    """{name: [seconds per repeat]}: each repeat runs every candidate once, in turn, so a change of machine load
    falls on all of them alike. clock: wall time, or time.process_time for CPU seconds."""
    times = {k: [] for k in candidates}
    for _ in range(repeats):
        for k, fn in candidates.items():
            t0 = clock()
            fn()
            times[k].append(clock() - t0)
    return times


def spread(values):
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def fmt(values, scale=1.0, digits=3):
    m, lo, hi = spread([v * scale for v in values])
    return f"{m:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def ratios(times, reference, name):
    """Per-repeat speed of `name` relative to `reference` (reference seconds / name seconds): > 1 is faster."""
    return [r / c for r, c in zip(times[reference], times[name])]


def rates(times, ops):
    return [ops / t for t in times]


@contextlib.contextmanager
def busy(on):
    """Run the block with one competing Numba-parallel process (on=True), or alone."""
    if not on:
        yield
        return
    p = subprocess.Popen([sys.executable, "-c", _BUSY], stdout=subprocess.PIPE, text=True)
    try:
        p.stdout.readline()  # compiled and spinning
        yield
    finally:
        p.terminate()
        p.wait()


def run_timed(argv, **kwargs):
    """Wall seconds and child CPU seconds (user + sys) of one command; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs)
    wall = time.perf_counter() - t0
    if r.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown CPU")
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu}, {os.cpu_count()} cores, "
            f"{numba.get_num_threads()} Numba threads, load average {os.getloadavg()[0]:.1f} at start")


@numba.njit(parallel=True, cache=True)
def gemm_i8(a, b, c):
    """c = a @ b: a (M, K) int8, b (K, N) int8, c (M, N) int32; rows split across threads."""
    M, K = a.shape
    for i in numba.prange(M):
        c[i, :] = 0
        for k in range(K):
            av = np.int32(a[i, k])
            for j in range(b.shape[1]):
                c[i, j] += av * b[k, j]
