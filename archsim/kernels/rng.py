"""Counter-based random numbers keyed by global position.

A draw is a pure function of (seed, tag, a, b, c, d): tag separates domains (1 = p-DNN neurons, 2 = Gibbs
updates, ...), and a..d are positions (for a p-DNN: layer, item, sample, neuron). The hash chains the SplitMix64
finaliser over the keys, so results never depend on thread count, tile size, loop order or mode.
The NumPy twin lives in reference.py and is written independently from the same definition.
"""
import numpy as np

from .jit import njit

TAG_PDNN = 1
TAG_GIBBS = 2

_G = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S64 = np.uint64(64)


@njit
def mix64(z):
    z = np.uint64(z)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit
def absorb(h, key):
    """One link of the chain: the state after absorbing `key`. A draw is absorb over (tag, a, b, c, d), so a
    kernel may absorb a row's common keys once and only the last key per neuron (same bits)."""
    return mix64(h ^ (np.uint64(key) + _G))


@njit
def stream(seed, tag):
    """The chain's state after the seed and the domain tag."""
    return absorb(mix64(np.uint64(seed) ^ _G), tag)


@njit
def finish(h, bits):
    """The top `bits` bits of a chain state: a uniform integer in [0, 2**bits)."""
    return np.int64(h >> (_S64 - np.uint64(bits)))


@njit
def draw(seed, tag, a, b, c, d, bits):
    """A uniform integer in [0, 2**bits), 1 <= bits <= 32, at position (a, b, c, d) of stream (seed, tag)."""
    return finish(absorb(absorb(absorb(absorb(stream(seed, tag), a), b), c), d), bits)
