"""Block-Gibbs sampling of Boltzmann machines / Ising models on sparse graphs, bit-exact.

Spins are int8 in {-1, +1}; couplings J (CSR: indptr, indices, weights) and biases h are integers. A node's
local field is I = sum_j J_ij s_j + h_i and P(s_i = +1 | rest) = sigmoid(2 beta I), evaluated as the integer
test u < thr[I - I_min] (thr from field_table, built once in NumPy). u = draw(seed, TAG_GIBBS, chain, sweep,
node, 0, rng_bits): the hash of (seed, tag, chain, sweep) is computed once per chain and sweep and finished
per node with the same two rounds `draw` applies, so every path gives the same bits. A sweep updates the
colours in order; nodes of one colour are independent given the rest, so the update order within a colour,
the thread count and the choice of parallel loop (over nodes for one chain, over chains for many) do not
change a bit. Clamped nodes are never updated."""
import numpy as np

from .jit import njit, prange
from .rng import TAG_GIBBS, _G, _S64, mix64


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
def _update(state, i, indptr, indices, weights, h, thr, I_min, prefix, rng_bits):
    field = h[i]
    for e in range(indptr[i], indptr[i + 1]):
        field += weights[e] * state[indices[e]]
    g = mix64(mix64(prefix ^ (np.uint64(i) + _G)) ^ _G)  # the last two rounds of draw(..., c=i, d=0)
    u = np.int64(g >> (_S64 - np.uint64(rng_bits)))
    state[i] = 1 if u < thr[field - I_min] else -1


@njit(parallel=True)
def _sweeps_single(state, indptr, indices, weights, h, thr, I_min, colour_ptr, colour_nodes, seed, rng_bits, sweep0,
                   n_sweeps, burn_in, record_every, out):
    """One chain, the nodes of each colour in parallel. (A parallel function of its own: a cached serial
    function calling a parallel one segfaults when loaded from Numba's cache, numba issue 8578.)"""
    j = 0
    for s in range(sweep0, sweep0 + n_sweeps):
        prefix = _prefix(seed, 0, s)
        for c in range(colour_ptr.shape[0] - 1):
            lo, hi = colour_ptr[c], colour_ptr[c + 1]
            for k in prange(lo, hi):
                _update(state, colour_nodes[k], indptr, indices, weights, h, thr, I_min, prefix, rng_bits)
        if s >= burn_in and (s - burn_in) % record_every == 0:
            out[j] = state
            j += 1


@njit
def _sweeps_serial(state, chain, indptr, indices, weights, h, thr, I_min, colour_ptr, colour_nodes, seed, rng_bits,
                   sweep0, n_sweeps, burn_in, record_every, out):
    j = 0
    for s in range(sweep0, sweep0 + n_sweeps):
        prefix = _prefix(seed, chain, s)
        for k in range(colour_nodes.shape[0]):  # colours in order: colour_nodes is grouped by colour
            _update(state, colour_nodes[k], indptr, indices, weights, h, thr, I_min, prefix, rng_bits)
        if s >= burn_in and (s - burn_in) % record_every == 0:
            out[j] = state
            j += 1


@njit(parallel=True)
def _sweeps_chains(states, indptr, indices, weights, h, thr, I_min, colour_ptr, colour_nodes, seed, rng_bits,
                   sweep0, n_sweeps, burn_in, record_every, out):
    for c in prange(states.shape[0]):
        _sweeps_serial(states[c], c, indptr, indices, weights, h, thr, I_min, colour_ptr, colour_nodes, seed,
                       rng_bits, sweep0, n_sweeps, burn_in, record_every, out[:, c])


def run(states, indptr, indices, weights, h, thr, I_min, colour_ptr, colour_nodes, seed, rng_bits, sweep0,
        n_sweeps, burn_in, record_every, out):
    """Advance every chain (states: (chains, n) int8, in place) by n_sweeps sweeps from global sweep sweep0,
    recording into out (records, chains, n). Clamped nodes are simply absent from colour_nodes."""
    if states.shape[0] == 1:
        _sweeps_single(states[0], indptr, indices, weights, h, thr, I_min, colour_ptr, colour_nodes, seed,
                       rng_bits, sweep0, n_sweeps, burn_in, record_every, out[:, 0])
    else:
        _sweeps_chains(states, indptr, indices, weights, h, thr, I_min, colour_ptr, colour_nodes, seed, rng_bits,
                       sweep0, n_sweeps, burn_in, record_every, out)


@njit
def block(state, nodes, indptr, indices, weights, h, thr, I_min, seed, chain, sweep, rng_bits):
    """One colour block of one chain at one sweep (the timing model's per-tile call)."""
    prefix = _prefix(seed, chain, sweep)
    for k in range(nodes.shape[0]):
        _update(state, nodes[k], indptr, indices, weights, h, thr, I_min, prefix, rng_bits)
