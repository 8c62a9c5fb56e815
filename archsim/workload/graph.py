"""Sparse graphs of Boltzmann machines: lattices (2-D grids with a neighbourhood or DTCA-style connection rules,
3-D lattices, King's graph), D-Wave's Chimera, Pegasus and Zephyr (from dwave-networkx), layered graphs of deep
Boltzmann machines, explicit edge lists and edge-list files with weights; CSR adjacency with integer couplings.

Every graph is an edge array (E, 2), int64, i < j, lexicographically sorted and unique; nodes are numbered
row-major on lattices. Nothing here makes an n x n array."""
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import ConfigError
from ..inputs import read_text
from ..kernels.jit import njit
from ..kernels.rng import draw

# Offsets (dr, dc) of half a neighbourhood; the other half is their negation.
NEIGHBOURHOODS = {
    4: [(0, 1), (1, 0)],
    8: [(0, 1), (1, 0), (1, 1), (1, -1)],
    12: [(0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0)],  # 8-neighbourhood + distance-2 axis (not DTCA's G12)
}
TAG_DBM = 7  # counter-RNG stream of the layered graphs' fan-in choices


@dataclass
class Lattice:
    """A translation-invariant graph: node = row-major index of its coordinates in `shape`, joined to the nodes
    at +-offset (wrapping along the periodic axes). Lets the colouring use the lattice's structure."""
    shape: tuple
    offsets: tuple
    periodic: tuple  # one bool per axis


def axes_periodic(periodic, ndim):
    """One bool per axis from a bool (every axis) or a per-axis sequence."""
    if isinstance(periodic, (bool, np.bool_)):
        return (bool(periodic),) * ndim
    periodic = tuple(bool(p) for p in periodic)
    if len(periodic) != ndim:
        raise ValueError(f"periodic: {len(periodic)} values for a {ndim}-D lattice")
    return periodic


@dataclass
class Graph:
    n: int
    edges: np.ndarray                 # (E, 2) int64, i < j, sorted, unique
    lattice: Optional[Lattice] = None
    weights: Optional[np.ndarray] = None  # (E,) couplings when the graph came with them (a file)
    bias: Optional[np.ndarray] = None     # (n,) biases when the graph came with them


def canonical(n, i, j):
    """Sorted unique edges (E, 2) from endpoint arrays (self loops dropped)."""
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    keep = i != j
    key = np.sort(np.minimum(i, j)[keep] * n + np.maximum(i, j)[keep])
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if key.size else key
    return np.stack([key // n, key % n], axis=1) if key.size else np.zeros((0, 2), np.int64)


def half(offsets):
    """One of each pair {d, -d}, zero offsets dropped, sorted: the half-neighbourhood of a set of offsets."""
    return tuple(sorted({max(tuple(d), tuple(-x for x in d)) for d in offsets if any(d)}))


def rule_offsets(rules):
    """Offsets of connection rules (a, b), each with its four 90-degree rotations (a, b), (-b, a), (-a, -b),
    (b, -a), as in the DTCA paper's G8..G24 grids and Extropic Z1's degree-16 grid."""
    return half([r for a, b in rules for r in ((a, b), (-b, a), (-a, -b), (b, -a))])


def lattice_edges(shape, offsets, periodic):
    """Edges of a lattice of `shape` (any number of dimensions) with the given offsets (their negations are
    implied); `periodic` (a bool, or one per axis) wraps those axes; open axes drop the edges that leave the
    lattice."""
    wrap = np.asarray(axes_periodic(periodic, len(shape)))[:, None]
    shape = np.asarray(shape, np.int64)
    n = int(np.prod(shape))
    coords = np.indices(tuple(shape)).reshape(len(shape), -1)
    ii, jj = [], []
    for off in offsets:
        nb = coords + np.asarray(off, np.int64)[:, None]
        nb = np.where(wrap, nb % shape[:, None], nb)
        ok = np.all((nb >= 0) & (nb < shape[:, None]), axis=0)
        ii.append(np.arange(n)[ok])
        jj.append(np.ravel_multi_index(tuple(nb[:, ok]), tuple(shape)))
    return canonical(n, np.concatenate(ii), np.concatenate(jj)) if ii else np.zeros((0, 2), np.int64)


def grid_edges(rows, cols, offsets, periodic):
    """Edges of a rows x cols grid (row-major numbering); offsets as in NEIGHBOURHOODS."""
    return lattice_edges((rows, cols), offsets, periodic)


def lattice_graph(shape, offsets, periodic):
    offsets, periodic = half(offsets), axes_periodic(periodic, len(shape))
    return Graph(int(np.prod(shape)), lattice_edges(shape, offsets, periodic), Lattice(tuple(shape), offsets, periodic))


def dwave_graph(kind, path, **params):
    """Chimera, Pegasus or Zephyr from dwave-networkx (its standard parameters); node k is the k-th smallest of
    dwave-networkx's linear indices (Pegasus' fabric leaves gaps in them)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import dwave_networkx as dnx
    except ImportError:
        raise ConfigError(path, [f"graph.type: {kind!r} needs dwave-networkx (pip install 'archsim[dwave]')"]) from None
    g = getattr(dnx, f"{kind}_graph")(**params)
    labels = np.array(sorted(g.nodes), np.int64)
    e = np.array(list(g.edges), np.int64).reshape(-1, 2)
    n = len(labels)
    return Graph(n, canonical(n, np.searchsorted(labels, e[:, 0]), np.searchsorted(labels, e[:, 1])))


@njit
def _fan_in(first, m, prev, fan_in, seed, out):
    """For each of m nodes (global ids first..first+m-1), fan_in distinct picks from 0..prev-1 (Floyd's
    algorithm, counter RNG keyed by node and step)."""
    mark = np.zeros(prev, np.bool_)
    for r in range(m):
        k = 0
        for j in range(prev - fan_in, prev):
            t = draw(seed, TAG_DBM, first + r, j, 0, 0, 32) % (j + 1)
            if mark[t]:
                t = j
            mark[t] = True
            out[r, k] = t
            k += 1
        for k in range(fan_in):
            mark[out[r, k]] = False


def dbm_graph(layers, fan_in, seed):
    """A layered sparse graph (deep Boltzmann machine): nodes numbered layer by layer; each node of layer k > 0
    joined to fan_in distinct nodes of layer k - 1 chosen from the seed. Bipartite (even vs odd layers)."""
    starts = np.concatenate([[0], np.cumsum(layers)]).astype(np.int64)
    ii, jj = [], []
    for k in range(1, len(layers)):
        picks = np.zeros((layers[k], fan_in), np.int64)
        _fan_in(starts[k], layers[k], layers[k - 1], fan_in, seed, picks)
        ii.append(np.repeat(np.arange(starts[k], starts[k + 1]), fan_in))
        jj.append(starts[k - 1] + picks.reshape(-1))
    n = int(starts[-1])
    return Graph(n, canonical(n, np.concatenate(ii), np.concatenate(jj)) if ii else np.zeros((0, 2), np.int64))


def pair_problems(n, i, j, v, bits, where, name):
    """Problems of a list of weighted pairs (i, j, v): nodes out of range, self loops, values beyond `bits`
    signed bits, an ordered pair given twice, and a pair given both ways with different values (asymmetric).
    where(k) names the k-th pair's place (a file line or a field index); `name` is the value's field name."""
    problems = []
    i, j, v = (np.asarray(a, np.int64) for a in (i, j, v))
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    for k in np.flatnonzero((i < 0) | (i >= n) | (j < 0) | (j >= n))[:5]:
        problems.append(f"{where(k)}: node {i[k] if not 0 <= i[k] < n else j[k]} outside 0..{n - 1}")
    for k in np.flatnonzero(i == j)[:5]:
        problems.append(f"{where(k)}: {[int(i[k]), int(j[k])]} is a self loop")
    for k in np.flatnonzero((v < lo) | (v > hi))[:5]:
        problems.append(f"{where(k)}: {name} {v[k]} does not fit coupling_bits = {bits} ({lo}..{hi})")
    ordered = np.argsort(i * n + j, kind="stable")
    key = (i * n + j)[ordered]
    for a, b in zip(ordered[:-1][key[1:] == key[:-1]][:5], ordered[1:][key[1:] == key[:-1]][:5]):
        problems.append(f"{where(b)}: {[int(i[b]), int(j[b])]} repeats {where(a)}")
    canon = np.minimum(i, j) * n + np.maximum(i, j)
    ordered = np.argsort(canon, kind="stable")
    same = canon[ordered][1:] == canon[ordered][:-1]
    a, b = ordered[:-1][same], ordered[1:][same]
    for a, b in list(zip(a[(v[a] != v[b]) & (i[a] != i[b])], b[(v[a] != v[b]) & (i[a] != i[b])]))[:5]:
        problems.append(f"{where(b)}: asymmetric coupling: J[{i[b]},{j[b]}] = {v[b]} but {where(a)} gives "
                        f"J[{i[a]},{j[a]}] = {v[a]}")
    return problems


FILE_FORMAT = """graph file: plain text, one item per line; '#' starts a comment, blank lines are ignored.
  nodes N          first item: the node count (nodes are 0..N-1)
  I J W            an edge between nodes I and J with signed integer coupling W (within coupling_bits);
                   an edge may also be listed as J I W with the same W
  bias I H         node I's signed integer bias H (within bias_bits); nodes without one have bias 0"""


def read_graph_file(path, coupling_bits, bias_bits):
    """A Graph with its weights and biases from a graph file (FILE_FORMAT); errors name the file and line."""
    text = read_text(path, what="graph file")  # regular file, size and UTF-8 checked at the input boundary
    n, problems, ei, ej, ew, lines, bias = None, [], [], [], [], [], {}
    for number, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        try:
            if n is None:
                if len(words) != 2 or words[0] != "nodes" or int(words[1]) < 1:
                    raise ValueError("the first item must be 'nodes N' with N >= 1")
                n = int(words[1])
            elif words[0] == "bias":
                if len(words) != 3:
                    raise ValueError("a bias line is 'bias I H'")
                node, value = int(words[1]), int(words[2])
                if not 0 <= node < n:
                    problems.append(f"line {number}: bias of node {node} outside 0..{n - 1}")
                elif not -(1 << (bias_bits - 1)) <= value < (1 << (bias_bits - 1)):
                    problems.append(f"line {number}: bias {value} does not fit bias_bits = {bias_bits}")
                elif node in bias:
                    problems.append(f"line {number}: bias of node {node} repeats line {bias[node][0]}")
                else:
                    bias[node] = (number, value)
            else:
                if len(words) != 3:
                    raise ValueError("an edge line is 'I J W'")
                ei.append(int(words[0]))
                ej.append(int(words[1]))
                ew.append(int(words[2]))
                lines.append(number)
        except ValueError as e:
            problems.append(f"line {number}: {raw.strip()!r}: {e}")
        if len(problems) >= 20:
            break
    if n is None and not problems:
        problems.append("no 'nodes N' line")
    if not problems:
        problems = pair_problems(n, ei, ej, ew, coupling_bits, lambda k: f"line {lines[k]}", "coupling")
    if problems:
        raise ConfigError(path, problems + ["format:\n" + FILE_FORMAT])
    edges = canonical(n, ei, ej)
    ei, ej, ew = (np.asarray(a, np.int64) for a in (ei, ej, ew))
    weights = np.zeros(len(edges), np.int64)
    weights[np.searchsorted(edges[:, 0] * n + edges[:, 1], np.minimum(ei, ej) * n + np.maximum(ei, ej))] = ew
    h = np.zeros(n, np.int64)
    for node, (_, value) in bias.items():
        h[node] = value
    return Graph(n, edges, weights=weights, bias=h)


def degrees(n, edges):
    return np.bincount(edges.reshape(-1), minlength=n).astype(np.int64)


def adjacency(n, edges, weights):
    """CSR (indptr, indices, values) of the undirected graph: row i lists i's neighbours in increasing order,
    values[e] the coupling of that edge (weights are per edge, aligned with `edges`)."""
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    vals = np.concatenate([weights, weights])
    order = np.argsort(rows * n + cols, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols[order], vals[order]


def blocks(colours, clamped):
    """(colour_ptr, colour_nodes): the unclamped nodes of each colour, concatenated."""
    k = int(colours.max()) + 1 if colours.size else 0
    order = np.argsort(colours, kind="stable")
    order = order[~clamped[order]]
    ptr = np.zeros(k + 1, np.int64)
    np.cumsum(np.bincount(colours[order], minlength=k), out=ptr[1:])
    return ptr, order.astype(np.int64)
