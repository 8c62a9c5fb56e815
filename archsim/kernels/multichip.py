"""Block Gibbs on a machine of several chips joined by links, bit-exact (the single-chip kernel's draws and
field test, unchanged: its `_groups` does every update).

Stale-read rule. Phases are numbered q = sweep * C + colour over the run (C colours). A cell reads its own
chip's neighbours' current states and its remote neighbours' states as the link last delivered them: the
boundary states produced in phase p land at the start of phase p + 1 + d, where d is the link's delay in
phases (d = 0: the states of the phase just finished, exactly as on one chip). Before any delivery the mirror
holds the initial states.

Implementation: each chain has a buffer buf of 2n spins: buf[:n] the states, buf[n:] the mirror of the remote
boundary states. A neighbour on another chip is addressed as n + j in the layout, so the unchanged row kernel
reads the mirror for it. Every chip receives the same delivery at the same phase (one delay for all links), so
one mirror holds all K chips' mirrors (a chip never reads the mirror of its own nodes). ring (d + 1, B) keeps
the boundary states of the last d + 1 phases, which are the deliveries still in flight."""
import numpy as np

from . import ising
from .jit import njit, prange
from .rng import _S64


def layout(indptr, indices, weights, h, colour_ptr, colour_nodes, chip):
    """The single-chip layout with each remote neighbour j (on another chip than the reading node) as n + j."""
    n = len(indptr) - 1
    reader = np.repeat(np.arange(n), np.diff(indptr))
    remote = np.asarray(indices, np.int64) + n * (chip[reader] != chip[indices])
    return ising.layout(np.asarray(indptr), remote, weights, h, colour_ptr, colour_nodes, wide=2 * n > 1 << 16)


def start(states, boundary, d):
    """(buf, ring) of every chain at the start of a run: the mirror and the in-flight deliveries hold the
    initial states."""
    buf = np.concatenate([states, states], axis=1).astype(np.int8)
    ring = np.repeat(states[:, None, boundary], d + 1, axis=1).astype(np.int8)
    return buf, ring


@njit
def _chain(buf, ring, boundary, d, chain, node, bias, group_row, group_deg, group_at, colour_group, nbr, w, thr,
           I_min, seed, rng_bits, sweep0, n_sweeps, burn_in, record_every, out):
    n = out.shape[1]
    C = colour_group.shape[0] - 1
    shift = _S64 - np.uint64(rng_bits)
    j = 0
    for s in range(sweep0, sweep0 + n_sweeps):
        prefix = ising._prefix(seed, chain, s)
        for c in range(C):
            q = s * C + c
            if q - 1 - d >= 0:  # the delivery of phase q - 1 - d lands
                slot = (q - 1 - d) % (d + 1)
                for b in range(boundary.shape[0]):
                    buf[n + boundary[b]] = ring[slot, b]
            ising._groups(buf, colour_group[c], colour_group[c + 1], node, bias, group_row, group_deg, group_at,
                          nbr, w, thr, I_min, prefix, shift)
            slot = q % (d + 1)
            for b in range(boundary.shape[0]):  # phase q's boundary states leave on the links
                ring[slot, b] = buf[boundary[b]]
        if s >= burn_in and (s - burn_in) % record_every == 0:
            out[j] = buf[:n]
            j += 1


@njit(parallel=True)
def _chains(buf, ring, boundary, d, node, bias, group_row, group_deg, group_at, colour_group, nbr, w, thr, I_min,
            seed, rng_bits, sweep0, n_sweeps, burn_in, record_every, out):
    for c in prange(buf.shape[0]):
        _chain(buf[c], ring[c], boundary, d, c, node, bias, group_row, group_deg, group_at, colour_group, nbr, w,
               thr, I_min, seed, rng_bits, sweep0, n_sweeps, burn_in, record_every, out[:, c])


def run(buf, ring, boundary, d, lay, thr, I_min, seed, rng_bits, sweep0, n_sweeps, burn_in, record_every, out):
    """Advance every chain (buf, ring from `start`, in place) by n_sweeps sweeps from global sweep sweep0,
    recording the states into out (records, chains, n). One chain: one thread."""
    boundary = np.asarray(boundary, np.int64)
    if buf.shape[0] == 1:
        _chain(buf[0], ring[0], boundary, d, 0, *lay, thr, I_min, seed, rng_bits, sweep0, n_sweeps, burn_in,
               record_every, out[:, 0])
    else:
        _chains(buf, ring, boundary, d, *lay, thr, I_min, seed, rng_bits, sweep0, n_sweeps, burn_in, record_every,
                out)
