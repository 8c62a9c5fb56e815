"""Gibbs sampling speed (not a test): p-bit updates per second on a 64x64 periodic grid with 4 neighbours,
functional mode, 1 chain and 16 chains, compilation excluded. Targets on a 2-core machine: >= 3e7 updates/s
for one chain, >= 6e7 for 16 chains (thrml, JAX block Gibbs, does about 1.8e7 and 4.3e7 on these machines).
Run: python benchmarks/bench_gibbs.py"""
import time

import numpy as np

from archsim.kernels import ising
from archsim.workload import graph


def setup(rows=64, cols=64):
    n = rows * cols
    edges = graph.grid_edges(rows, cols, graph.NEIGHBOURHOODS[4], True)
    J = np.zeros((n, n), np.int64)
    J[edges[:, 0], edges[:, 1]] = J[edges[:, 1], edges[:, 0]] = 1
    h = np.zeros(n, np.int64)
    ptr, nodes = graph.blocks(graph.colour(n, edges), np.zeros(n, bool))
    indptr, idx, w = graph.adjacency(n, edges, J)
    thr = ising.field_table(0.44, -4, 4, 16)
    return n, (indptr, idx, w, h, thr, -4, ptr, nodes)


def rate(chains, sweeps):
    n, g = setup()
    states = np.ones((chains, n), np.int8)
    out = np.zeros((1, chains, n), np.int8)
    ising.run(states, *g, 1, 16, 0, 2, 10**9, 1, out)  # compile / load from cache
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        ising.run(states, *g, 1, 16, 0, sweeps, 10**9, 1, out)
        best = min(best, time.perf_counter() - t0)
    return chains * n * sweeps / best


if __name__ == "__main__":
    one, many = rate(1, 400), rate(16, 100)
    print("64x64 periodic grid, 4 neighbours, block Gibbs (2 colours), functional kernel")
    print(f"  1 chain    {one:.3g} p-bit updates/s   (target >= 3e7; thrml ~1.8e7 here)")
    print(f"  16 chains  {many:.3g} p-bit updates/s   (target >= 6e7; thrml ~4.3e7 here)")
