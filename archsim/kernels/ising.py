"""Block-Gibbs sampling of Boltzmann machines / Ising models on sparse graphs, bit-exact.

Spins are int8 in {-1, +1}; couplings and biases are integers. A node's local field is I = h_i + sum_j J_ij s_j
and P(s_i = +1 | rest) = sigmoid(2 beta I), evaluated as the integer test u < thr[I - I_min] (thr from
field_table, built once in NumPy). u = draw(seed, TAG_GIBBS, chain, sweep, node, 0, rng_bits): the hash of
(seed, tag, chain, sweep) is computed once per chain and sweep and finished per node with the same two rounds
`draw` applies, so every path gives the same bits.

Layout (`Layout`, built once per stage): the updated nodes grouped by colour, colours in update order, and
within a colour by degree; each group of equal degree is a dense block of neighbours and couplings, both as
narrow as they fit (a smaller working set), so a sweep is one pass over contiguous rows with a fixed inner
trip count per group.
Nodes of one colour are independent given the rest, so the order within a colour and the thread count change
no bit. One chain runs on one thread; many chains run in parallel, each chain's whole stage one piece of work
(never a fork/join per colour), handed out dynamically. Clamped nodes are simply absent from the layout."""
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from .jit import n_chunks, njit
from .rng import TAG_GIBBS, _G, _S64, mix64


# An update (D gathers, two hash rounds, a table test) costs about as much as this many of the dense kernel's
# multiply-accumulates, the unit of jit.PARALLEL_MIN_OPS (2.6 ns against 0.025 to 0.05 ns on one core)
UPDATE_OPS = 64


class Layout(NamedTuple):
    """Rows grouped by colour (colours in update order), within a colour by degree; a group's rows all have
    the same degree D, so its neighbours and couplings are a dense (rows, D) block (ELL)."""
    node: np.ndarray     # (U,) row k updates node[k]; the type of nbr
    bias: np.ndarray     # (U,) h of node[k]; the type of w
    group_row: np.ndarray  # (G + 1,) int64: group g holds rows group_row[g]..group_row[g + 1] - 1
    group_deg: np.ndarray  # (G,) int64: their degree D
    group_at: np.ndarray   # (G,) int64: their neighbours are nbr[group_at[g]:][:rows * D], row-major
    colour_group: np.ndarray  # (C + 1,) int64: colour c is groups colour_group[c]..colour_group[c + 1] - 1
    nbr: np.ndarray      # neighbour ids, uint16 when n <= 2**16 (else uint32)
    w: np.ndarray        # couplings aligned with nbr, int8 or int16 when they and the biases fit (else int64)


def layout(indptr, indices, weights, h, colour_ptr, colour_nodes, wide=False):
    """The layout of the updated nodes (colour_nodes grouped by colour as colour_ptr says) from a CSR graph;
    `wide`: uint32 node ids and int64 couplings and biases whatever fits (the types of big graphs, for tests)."""
    colour_nodes = np.asarray(colour_nodes, np.int64)
    deg = (indptr[colour_nodes + 1] - indptr[colour_nodes]).astype(np.int64)
    colour = np.repeat(np.arange(len(colour_ptr) - 1), np.diff(colour_ptr))
    order = np.lexsort((deg, colour))  # by colour, then degree (stable)
    nodes, deg, colour = colour_nodes[order], deg[order], colour[order]
    change = np.ones(len(nodes), bool)
    change[1:] = (colour[1:] != colour[:-1]) | (deg[1:] != deg[:-1])
    starts = np.flatnonzero(change)
    group_row = np.append(starts, len(nodes)).astype(np.int64)
    group_deg = deg[starts]
    rowptr = np.zeros(len(nodes) + 1, np.int64)
    np.cumsum(deg, out=rowptr[1:])
    take = np.repeat(indptr[nodes] - rowptr[:-1], deg) + np.arange(rowptr[-1])
    w, bias = np.asarray(weights)[take], np.asarray(h, np.int64)[nodes]
    narrow = next(t for t in ((np.int64,) if wide else (np.int8, np.int16, np.int64)) if all(
        a.size == 0 or (np.iinfo(t).min <= a.min() and a.max() <= np.iinfo(t).max) for a in (w, bias)))
    index = np.uint16 if len(indptr) - 1 <= 1 << 16 and not wide else np.uint32
    colour_group = np.searchsorted(colour[starts], np.arange(len(colour_ptr)), side="left").astype(np.int64)
    return Layout(nodes.astype(index), bias.astype(narrow), group_row, group_deg, rowptr[starts].astype(np.int64),
                  colour_group, np.asarray(indices)[take].astype(index), w.astype(narrow))


def field_table(beta, I_min, I_max, rng_bits):
    """thr[I - I_min] = rint(sigmoid(2 beta I) * 2**rng_bits) for every reachable integer local field I."""
    I = np.arange(I_min, I_max + 1, dtype=np.float64)
    return np.rint(0.5 * (1.0 + np.tanh(beta * I)) * 2 ** rng_bits).astype(np.int64)


@njit
def _prefix(seed, a, b):
    h = mix64(np.uint64(seed) ^ _G)
    h = mix64(h ^ (np.uint64(TAG_GIBBS) + _G))
    h = mix64(h ^ (np.uint64(a) + _G))
    return mix64(h ^ (np.uint64(b) + _G))


@njit
def _rows(state, lo, hi, e0, D, node, bias, nbr, w, thr, I_min, prefix, shift, u):
    """Update rows lo..hi-1, each with D neighbours from nbr[e0:] (unsigned indices: no wrap-around tests).
    The draws do not depend on the state, so they are made first in a loop of their own, which the compiler
    vectorises (u: scratch of at least hi - lo values); then the updates."""
    for k in range(lo, hi):
        u[k - lo] = np.int64(mix64(mix64(prefix ^ (np.uint64(node[k]) + _G)) ^ _G) >> shift)  # draw(..., node, 0)
    for k in range(lo, hi):
        field = np.int64(bias[k])
        e = e0 + (k - lo) * D
        for d in range(D):
            x = np.uint64(e + d)
            field += w[x] * state[nbr[x]]
        state[node[k]] = 1 if u[k - lo] < thr[np.uint64(field - I_min)] else -1


@njit
def _draw_scratch(group_row):
    """Room for the draws of the largest of these groups."""
    most = 0
    for g in range(group_row.shape[0] - 1):
        most = max(most, group_row[g + 1] - group_row[g])
    return np.empty(most, np.int64)


@njit
def _groups_with(state, g0, g1, node, bias, group_row, group_deg, group_at, nbr, w, thr, I_min, prefix, shift, u):
    """Update the rows of groups g0..g1-1 in order. The degrees of the shipped machines (2-D and 3-D lattices,
    King's graph and G8, G12, Z1) get a constant trip count, which LLVM unrolls (about 1.2x on a 64x64 grid)."""
    for g in range(g0, g1):
        D, lo, hi, e0 = group_deg[g], group_row[g], group_row[g + 1], group_at[g]
        if D == 4:
            _rows(state, lo, hi, e0, 4, node, bias, nbr, w, thr, I_min, prefix, shift, u)
        elif D == 6:
            _rows(state, lo, hi, e0, 6, node, bias, nbr, w, thr, I_min, prefix, shift, u)
        elif D == 8:
            _rows(state, lo, hi, e0, 8, node, bias, nbr, w, thr, I_min, prefix, shift, u)
        elif D == 12:
            _rows(state, lo, hi, e0, 12, node, bias, nbr, w, thr, I_min, prefix, shift, u)
        elif D == 16:
            _rows(state, lo, hi, e0, 16, node, bias, nbr, w, thr, I_min, prefix, shift, u)
        else:
            _rows(state, lo, hi, e0, D, node, bias, nbr, w, thr, I_min, prefix, shift, u)


@njit
def _groups(state, g0, g1, node, bias, group_row, group_deg, group_at, nbr, w, thr, I_min, prefix, shift):
    """_groups_with its own scratch for the draws (for callers that do not keep one, as multichip's)."""
    _groups_with(state, g0, g1, node, bias, group_row, group_deg, group_at, nbr, w, thr, I_min, prefix, shift,
                 _draw_scratch(group_row[g0:g1 + 1]))


@njit
def _chain(state, chain, node, bias, group_row, group_deg, group_at, colour_group, nbr, w, thr, I_min, seed,
           rng_bits, sweep0, n_sweeps, burn_in, record_every, out):
    """Every sweep of one chain; out: (records, n) for this chain."""
    shift = _S64 - np.uint64(rng_bits)
    u = _draw_scratch(group_row)
    j = 0
    for s in range(sweep0, sweep0 + n_sweeps):
        _groups_with(state, 0, group_deg.shape[0], node, bias, group_row, group_deg, group_at, nbr, w, thr, I_min,
                     _prefix(seed, chain, s), shift, u)
        if s >= burn_in and (s - burn_in) % record_every == 0:
            out[j] = state
            j += 1


def run(states, lay, thr, I_min, seed, rng_bits, sweep0, n_sweeps, burn_in, record_every, out):
    """Advance every chain (states: (chains, n) int8, in place) by n_sweeps sweeps from global sweep sweep0,
    recording into out (records, chains, n). Each chain's whole run is one piece of work: on the calling thread
    when the work is small (jit.n_chunks), else handed out one chain at a time to one worker thread per Numba
    thread as each finishes its last (a fixed split of the chains waits for the worker that another process
    slowed down; the kernel releases the GIL)."""
    chains = states.shape[0]
    workers = min(chains, n_chunks(chains * n_sweeps * len(lay.node) * UPDATE_OPS))

    def one(c):
        _chain(states[c], c, *lay, thr, I_min, seed, rng_bits, sweep0, n_sweeps, burn_in, record_every, out[:, c])

    if workers == 1:
        for c in range(chains):
            one(c)
        return
    with ThreadPoolExecutor(workers) as pool:
        for done in [pool.submit(one, c) for c in range(chains)]:
            done.result()


@njit
def block(state, colour, node, bias, group_row, group_deg, group_at, colour_group, nbr, w, thr, I_min, seed, chain,
          sweep, rng_bits):
    """One colour block of one chain at one sweep: the timing model's per-block call."""
    _groups(state, colour_group[colour], colour_group[colour + 1], node, bias, group_row, group_deg, group_at, nbr,
            w, thr, I_min, _prefix(seed, chain, sweep), _S64 - np.uint64(rng_bits))
