"""Gibbs sampling speed (not a test): p-bit updates per second on a 64x64 periodic grid, 4 neighbours, couplings
+1, no bias, 16-bit draws, 1 chain and 16 chains, compilation excluded. Measured in the same run, in
alternating repeats (median and min..max): archsim's kernel, the limit script (a plain Numba loop over the
lattice, neighbours computed, no couplings or biases to load, the same counter RNG with each colour's draws made
in a loop of their own; checked bit-exact against archsim here) and thrml (JAX) when it is installed
(pip install 'archsim[bench]'). Then the whole process for 50k sweeps of one chain (`archsim run` against a
thrml script doing the same), and the memory of a 1024x1024 grid's couplings.
`--busy` runs one competing Numba-parallel process (benchlib.busy, as the other benchmarks) during the measurements;
`--slowdown ROUNDS` measures instead how much slower each contender runs with it than without, in alternating
rounds, beside a two-thread loop with no data (the bound that fair scheduling sets).
Run: python benchmarks/bench_gibbs.py [--busy | --slowdown ROUNDS] [--repeats N]"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numba
import numpy as np
import yaml
from benchlib import busy, machine

from archsim.kernels import ising
from archsim.workload import graph
from archsim.workload.boltzmann import boltzmann_from_data

L, BETA, RNG_BITS, SEED = 64, 0.44, 16, 1
G = np.uint64(0x9E3779B97F4A7C15)
M1, M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


# --- the limit script: lattice neighbours computed, couplings +1, the counter RNG written out -----------------
@numba.njit(cache=True)
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * M1
    z = (z ^ (z >> np.uint64(27))) * M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def limit_chain(s, chain, sweeps, thr):
    """Per colour: the draws of its L*L/2 nodes in a loop of their own (they do not depend on the state, and the
    compiler vectorises that loop), then the updates in row order. Drawing inside the update loop instead (the
    obvious loop) is 1.25x slower, so it would not be a limit."""
    shift = np.uint64(64 - RNG_BITS)
    half = L // 2
    u = np.empty(L * half, np.int64)
    for sweep in range(sweeps):
        p = _mix(_mix(_mix(_mix(np.uint64(SEED) ^ G) ^ (np.uint64(2) + G)) ^ (np.uint64(chain) + G))
                 ^ (np.uint64(sweep) + G))
        for colour in range(2):
            for t in range(L * half):  # the t-th node of the colour, in row order
                r = t // half
                u[t] = np.int64(_mix(_mix(p ^ (np.uint64(r * L + 2 * (t % half) + (r + colour) % 2) + G)) ^ G)
                                >> shift)
            t = 0
            for r in range(L):
                up, down = (r - 1 if r > 0 else L - 1) * L, (r + 1 if r < L - 1 else 0) * L
                for c in range((r + colour) % 2, L, 2):
                    left, right = c - 1 if c > 0 else L - 1, c + 1 if c < L - 1 else 0
                    f = s[up + c] + s[down + c] + s[r * L + left] + s[r * L + right]
                    s[r * L + c] = 1 if u[t] < thr[f + 4] else -1
                    t += 1


def limit_run(states, sweeps, thr):
    """Chains handed out one at a time to one worker thread per Numba thread, as archsim does (a fixed split of
    the chains, Numba's prange, waits for the worker that another process slowed down)."""
    if states.shape[0] == 1:
        limit_chain(states[0], 0, sweeps, thr)
        return
    with ThreadPoolExecutor(numba.get_num_threads()) as pool:
        for done in [pool.submit(limit_chain, states[c], c, sweeps, thr) for c in range(states.shape[0])]:
            done.result()


# --- archsim ------------------------------------------------------------------------------------------------
def archsim_setup(rows=L, cols=L):
    n = rows * cols
    edges = graph.grid_edges(rows, cols, graph.NEIGHBOURHOODS[4], True)
    colours = (np.arange(n) // cols + np.arange(n) % cols) % 2
    ptr, nodes = graph.blocks(colours, np.zeros(n, bool))
    indptr, idx, w = graph.adjacency(n, edges, np.ones(len(edges), np.int64))
    return ising.layout(indptr, idx, w, np.zeros(n, np.int64), ptr, nodes), ising.field_table(BETA, -4, 4, RNG_BITS)


def archsim_run(states, sweeps, lay, thr):
    out = np.zeros((1, states.shape[0], states.shape[1]), np.int8)
    ising.run(states, lay, thr, -4, SEED, RNG_BITS, 0, sweeps, sweeps - 1, 1, out)


# --- thrml --------------------------------------------------------------------------------------------------
def thrml_setup(chains):
    """A jitted function running `sweeps` two-colour block-Gibbs sweeps of `chains` chains, or None."""
    try:
        import jax
        import jax.numpy as jnp
        from thrml import Block, SamplingSchedule, SpinNode, sample_states
        from thrml.models import IsingEBM, IsingSamplingProgram, hinton_init
    except ImportError:
        return None
    nodes = [SpinNode() for _ in range(L * L)]
    edges = graph.grid_edges(L, L, graph.NEIGHBOURHOODS[4], True)
    model = IsingEBM(nodes, [(nodes[i], nodes[j]) for i, j in edges.tolist()], jnp.zeros(L * L),
                     jnp.ones(len(edges)), jnp.array(BETA))
    blocks = [Block([nodes[i] for i in range(L * L) if (i // L + i % L) % 2 == c]) for c in range(2)]
    program = IsingSamplingProgram(model, blocks, clamped_blocks=[])

    def run(key, sweeps):
        k_init, k_run = jax.random.split(key)
        init = hinton_init(k_init, model, blocks, ())
        schedule = SamplingSchedule(n_warmup=sweeps, n_samples=1, steps_per_sample=1)
        return sample_states(k_run, program, schedule, init, [], [Block(nodes)])

    def make(sweeps):
        f = jax.jit(jax.vmap(lambda k: run(k, sweeps)))
        keys = jax.random.split(jax.random.key(0), chains)
        return lambda: jax.block_until_ready(f(keys))
    return make


# --- measurements -------------------------------------------------------------------------------------------
def rates(chains, sweeps, repeats, thrml=True):
    """({name: [updates per wall second, per repeat]}, {name: [updates per CPU second of the process]}), the
    contenders alternating within each repeat. CPU seconds (all threads) are what other processes' load
    changes least."""
    lay, thr = archsim_setup()
    start = np.where(np.arange(chains * L * L).reshape(chains, L * L) % 3 == 0, 1, -1).astype(np.int8)
    a, b = start.copy(), start.copy()
    archsim_run(a, 3, lay, thr)
    limit_run(b, 3, thr)
    assert np.array_equal(a, b), "the limit script and archsim disagree: not the same RNG or update order"
    runs = {"archsim": lambda: archsim_run(start.copy(), sweeps, lay, thr),
            "limit": lambda: limit_run(start.copy(), sweeps, thr)}
    make = thrml_setup(chains) if thrml else None
    if make is not None:
        runs["thrml"] = make(sweeps)
    for f in runs.values():
        f()  # compile / warm up
    wall, cpu = {k: [] for k in runs}, {k: [] for k in runs}
    for _ in range(repeats):
        for k, f in runs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            f()
            wall[k].append(chains * L * L * sweeps / (time.perf_counter() - t0))
            cpu[k].append(chains * L * L * sweeps / (time.process_time() - c0))
    return wall, cpu


def whole_process(sweeps, tmp):
    """Seconds for one chain of `sweeps` sweeps from the command line: archsim run, and a thrml script."""
    (tmp / "w.yaml").write_text(yaml.safe_dump({
        "kind": "boltzmann", "name": "bench", "beta": BETA, "sweeps": sweeps, "burn_in": sweeps - 1, "seed": SEED,
        "graph": {"type": "grid", "rows": L, "cols": L, "periodic": True}}))
    out = {}
    cmd = [sys.executable, "-m", "archsim", "run", "--mode", "functional", "--workload", str(tmp / "w.yaml"), "--out",
           str(tmp / "o")]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    out["archsim run"] = time.perf_counter() - t0
    if thrml_setup(1) is not None:
        script = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_gibbs as b; " \
                 f"b.thrml_setup(1)({sweeps})()"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
        out["thrml script"] = time.perf_counter() - t0
    return out


def coupling_memory(side=1024):
    """(peak bytes allocated while loading a side x side grid and building the kernel layout, bytes held)."""
    tracemalloc.start()
    bm = boltzmann_from_data({"kind": "boltzmann", "name": "m", "beta": BETA, "sweeps": 2,
                              "graph": {"type": "grid", "rows": side, "cols": side, "periodic": True}})
    indptr, idx, w = bm.adjacency()
    lay = ising.layout(indptr, idx, w, bm.h, *graph.blocks(bm.colours, bm.clamped))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    held = sum(a.nbytes for a in (bm.edges, bm.weights, bm.h, *lay))
    return peak, held


@numba.njit(cache=True, nogil=True)
def _spin(n):
    s = 0
    for i in range(n):
        s = (s * 6364136223846793005 + i) & 0xFFFFFFFF
    return s


def _two_loops(n=100_000_000):
    """Seconds for a loop with no data run on two threads at once: perfectly parallel work."""
    with ThreadPoolExecutor(2) as pool:
        t0 = time.perf_counter()
        list(pool.map(_spin, (n, n)))
        return time.perf_counter() - t0


def slowdown(rounds, repeats):
    """{case: [quiet / busy wall rate, per round]}: each round measures without, then with the competitor, so a
    drift of other processes' load falls on both. The two-thread loop with no data is the bound that fair
    scheduling sets (the competitor's two threads take half of two cores)."""
    _spin(10)
    out = {}
    for _ in range(rounds):
        phases = []
        for on in (False, True):
            with busy(on):
                r = {f"{c} chain(s), {k}": statistics.median(v) for c, sw in ((1, 400), (16, 100))
                     for k, v in rates(c, sw, repeats, thrml=False)[0].items()}
                r["two-thread loop, no data (the bound)"] = 1 / statistics.median(_two_loops() for _ in range(repeats))
            phases.append(r)
        for k in phases[0]:
            out.setdefault(k, []).append(phases[0][k] / phases[1][k])
    return out


def spread(xs):
    return f"{statistics.median(xs):.3g} ({min(xs):.3g}..{max(xs):.3g})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", action="store_true", help="run one competing Numba-parallel process meanwhile")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--whole-sweeps", type=int, default=50_000)
    ap.add_argument("--slowdown", type=int, metavar="ROUNDS", default=0,
                    help="instead: how much slower with the competitor than without, in ROUNDS alternating rounds")
    args = ap.parse_args()
    if args.slowdown:
        print(f"wall-time slowdown with one competing process (quiet / busy within each round), median (min..max) "
              f"of {args.slowdown} rounds\n  {machine()}")
        for k, v in slowdown(args.slowdown, args.repeats).items():
            print(f"  {k:40s} {spread(v)}x")
        return
    with busy(args.busy):
        print(f"{L}x{L} periodic grid, 4 neighbours, 2 colours, {numba.get_num_threads()} Numba threads"
              f"{', one competing process' if args.busy else ''}; updates/s and ratios within each repeat, "
              f"median (min..max) of {args.repeats}")
        print(f"  {machine()}")
        for chains, sweeps in ((1, 400), (16, 100)):
            for clock, r in zip(("wall", "CPU"), rates(chains, sweeps, args.repeats)):
                line = "  ".join(f"{k} {spread(v)}" for k, v in r.items())
                ratios = "  ".join(f"archsim/{k} {spread([a / b for a, b in zip(r['archsim'], r[k])])}x" for k in r
                                   if k != "archsim")
                print(f"  {chains:2d} chain(s), per {clock} second: {line}\n              {ratios}")
        with tempfile.TemporaryDirectory() as d:
            w = whole_process(args.whole_sweeps, Path(d))
        print(f"whole process, {args.whole_sweeps} sweeps, 1 chain: "
              + "  ".join(f"{k} {v:.2f} s" for k, v in w.items()))
        peak, held = coupling_memory()
        print(f"1024x1024 grid couplings: {held / 2**20:.0f} MiB held (edges, weights, biases, kernel layout), "
              f"{peak / 2**20:.0f} MiB peak while loading")


if __name__ == "__main__":
    main()
