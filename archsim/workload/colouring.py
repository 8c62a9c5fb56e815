"""Proper colourings for block Gibbs and a lower bound on the colours any proper colouring needs.

Methods: `lattice` (a colouring from the lattice's structure: (a . x) mod k for the smallest k that works, or
for axis-only neighbourhoods the sum of per-axis cycle colourings, 3 colours on odd periodic sizes),
`bipartite` (exact 2-colouring by breadth-first search), `dsatur` (networkx's order, O((n + E) log n)), `greedy` (node order), `fixed`
(given by the workload, checked proper). `auto` takes lattice, else bipartite, else DSatur; a lattice colouring
above the lower bound gives way to DSatur's (or the bipartite one) when that uses fewer colours.
Lower bound: 2 for bipartite graphs (1 without edges); else the largest clique found in the closed
neighbourhoods of sampled nodes, and at least 3 (an odd cycle)."""
import itertools
from dataclasses import dataclass

import numpy as np

from ..kernels.jit import njit

METHODS = ("auto", "lattice", "bipartite", "dsatur", "greedy", "fixed")
MAX_LATTICE_COLOURS = 8


@dataclass
class Colouring:
    colours: np.ndarray  # (n,) int64, 0..n_colours-1
    method: str          # the method that produced it
    n_colours: int
    lower_bound: int
    bound_reason: str


def proper_problems(colours, edges, where):
    """Edges whose ends share a colour, as messages (where(k) names node k's colour's place)."""
    bad = np.flatnonzero(colours[edges[:, 0]] == colours[edges[:, 1]])
    return [f"{where(int(edges[k, 0]))} and {where(int(edges[k, 1]))}: nodes {int(edges[k, 0])} and "
            f"{int(edges[k, 1])} are joined by an edge and share colour {int(colours[edges[k, 0]])}"
            for k in bad[:5]] + ([f"... {len(bad) - 5} more edges with equal colours"] if len(bad) > 5 else [])


def _linear(shape, offsets, periodic):
    """(coefficients, k) of the smallest-k colouring (a . x) mod k that is proper for every offset and, when
    periodic, consistent across the wrap of every periodic axis (k divides a_d * shape_d); None when
    k > MAX_LATTICE_COLOURS. `periodic`: one bool per axis."""
    for k in range(2, MAX_LATTICE_COLOURS + 1):
        for a in itertools.product(range(k), repeat=len(shape)):
            if any((ad * s) % k for ad, s, p in zip(a, shape, periodic) if p):
                continue
            if all(sum(ad * d for ad, d in zip(a, off)) % k for off in offsets):
                return a, k
    return None


def _cycle(size, periodic):
    """A proper colouring of a path (open) or cycle (periodic) of `size` nodes with colours 0, 1 (and 2 for the
    last node of an odd cycle)."""
    f = np.arange(size) % 2
    if periodic and size % 2 and size > 1:
        f[-1] = 2
    return f


def lattice(lat):
    """A colouring of a Lattice from its structure, or None when no such colouring is known for it."""
    coords = np.indices(lat.shape).reshape(len(lat.shape), -1)
    found = _linear(lat.shape, lat.offsets, lat.periodic)
    axis_only = all(sum(1 for x in off if x) == 1 and max(abs(x) for x in off) == 1 for off in lat.offsets)
    if found is None and axis_only:  # a Cartesian product of cycles: sum of proper per-axis colourings mod k
        fs = [_cycle(s, p) for s, p in zip(lat.shape, lat.periodic)]
        k = max(int(f.max()) + 1 for f in fs)
        return sum(f[c] for f, c in zip(fs, coords)) % k
    if found is None:
        return None
    a, k = found
    return (np.asarray(a, np.int64) @ coords) % k


@njit
def _bfs_sides(indptr, indices, side):
    """Two-colour each component by breadth-first search; returns False on an edge within one side."""
    n = indptr.shape[0] - 1
    queue = np.empty(n, np.int64)
    for root in range(n):
        if side[root] >= 0:
            continue
        side[root] = 0
        head, tail = 0, 1
        queue[0] = root
        while head < tail:
            u = queue[head]
            head += 1
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if side[v] < 0:
                    side[v] = 1 - side[u]
                    queue[tail] = v
                    tail += 1
                elif side[v] == side[u]:
                    return False
    return True


def bipartite(indptr, indices):
    side = np.full(indptr.shape[0] - 1, -1, np.int64)
    return side if _bfs_sides(indptr, indices, side) else None


@njit
def _first_free(u, indptr, indices, colours, mark):
    """The smallest colour no coloured neighbour of u has (mark: scratch, len > degree, never holding u)."""
    for e in range(indptr[u], indptr[u + 1]):
        if colours[indices[e]] >= 0:
            mark[colours[indices[e]]] = u
    c = 0
    while mark[c] == u:
        c += 1
    return c


@njit
def _greedy(indptr, indices, colours):
    n = indptr.shape[0] - 1
    mark = np.full(n + 1, -1, np.int64)
    for i in range(n):
        colours[i] = _first_free(i, indptr, indices, colours, mark)


def greedy(indptr, indices):
    """First-fit in node order."""
    colours = np.full(indptr.shape[0] - 1, -1, np.int64)
    _greedy(indptr, indices, colours)
    return colours


@njit
def _heap_push(heap, size, key):
    i = size
    heap[i] = key
    while i > 0 and heap[(i - 1) // 2] < heap[i]:
        heap[i], heap[(i - 1) // 2] = heap[(i - 1) // 2], heap[i]
        i = (i - 1) // 2
    return size + 1


@njit
def _heap_pop(heap, size):
    top = heap[0]
    size -= 1
    heap[0] = heap[size]
    i = 0
    while True:
        big, left, right = i, 2 * i + 1, 2 * i + 2
        if left < size and heap[left] > heap[big]:
            big = left
        if right < size and heap[right] > heap[big]:
            big = right
        if big == i:
            return top, size
        heap[i], heap[big] = heap[big], heap[i]
        i = big


@njit
def _dsatur(indptr, indices, colours):
    """DSatur: colour next the uncoloured node of most distinct neighbour colours, then highest degree, then
    lowest index (networkx's order), with the smallest colour its neighbours leave free. A max-heap of
    (saturation, degree, -node) keys with stale entries skipped: O((n + E) log n)."""
    n = indptr.shape[0] - 1
    deg = indptr[1:] - indptr[:-1]
    span = np.int64(deg.max() + 1) if n else np.int64(1)
    words = (span + 63) // 64
    seen = np.zeros((n, words), np.uint64)  # bit c of node u: a neighbour of u has colour c
    sat = np.zeros(n, np.int64)
    heap = np.empty(n + indices.shape[0] + 1, np.int64)
    size = 0
    for u in range(n):
        size = _heap_push(heap, size, (deg[u] * n) + (n - 1 - u))
    free = np.full(span + 1, -1, np.int64)
    while size > 0:
        key, size = _heap_pop(heap, size)
        u = n - 1 - key % n
        if colours[u] >= 0 or key // n // span != sat[u]:
            continue  # coloured already, or a stale saturation
        c = _first_free(u, indptr, indices, colours, free)
        colours[u] = c
        bit = np.uint64(1) << np.uint64(c % 64)
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if colours[v] < 0 and not seen[v, c // 64] & bit:
                seen[v, c // 64] |= bit
                sat[v] += 1
                size = _heap_push(heap, size, (sat[v] * span + deg[v]) * n + (n - 1 - v))


def dsatur(indptr, indices):
    """DSatur colouring (the order of networkx's saturation_largest_first, in O((n + E) log n))."""
    colours = np.full(indptr.shape[0] - 1, -1, np.int64)
    _dsatur(indptr, indices, colours)
    return colours


def largest_clique(indptr, indices, samples=64):
    """The largest clique found in the closed neighbourhoods of up to `samples` nodes (the highest-degree ones and
    evenly spaced others): a lower bound on the chromatic number."""
    import networkx as nx
    n = indptr.shape[0] - 1
    if n == 0:
        return 0
    deg = np.diff(indptr)
    picks = np.unique(np.concatenate([np.argsort(-deg, kind="stable")[:samples // 2],
                                      np.linspace(0, n - 1, samples // 2).astype(np.int64)]))
    best = 1
    for v in picks:
        around = np.concatenate([[v], indices[indptr[v]:indptr[v + 1]]])
        g = nx.Graph()
        g.add_nodes_from(around.tolist())
        for u in around:
            nbrs = indices[indptr[u]:indptr[u + 1]]
            g.add_edges_from((int(u), int(w)) for w in nbrs[np.isin(nbrs, around)])
        best = max(best, max(len(c) for c in nx.find_cliques(g)))
    return best


def compact(colours):
    """Colours renumbered 0..k-1 keeping their order (unused colour numbers removed: a fixed colouring's
    colours are its update phases, in order)."""
    return np.unique(colours, return_inverse=True)[1].astype(np.int64).reshape(-1)


def _bound(n_edges, indptr, indices, sides):
    """(lower bound on the colours, its reason)."""
    if sides is not None:
        return (2 if n_edges else 1), "bipartite"
    clique = largest_clique(indptr, indices)
    return (clique, "largest clique found") if clique >= 3 else (3, "odd cycle (not bipartite)")


def colour(method, n, edges, indptr, indices, lat=None, fixed=None):
    """(Colouring, problems): the colouring by `method`; problems name why it could not be made. `auto` takes
    the lattice colouring, else the bipartite one, else DSatur; a lattice colouring above the lower bound is
    replaced by DSatur's when DSatur uses fewer colours."""
    sides = bipartite(indptr, indices)
    bound, reason = _bound(len(edges), indptr, indices, sides)
    chosen, colours = method, None
    span = int(np.diff(indptr).max(initial=0)) + 1
    dsatur_fits = span * span * max(n, 1) < 1 << 62
    if method in ("auto", "lattice") and lat is not None:
        colours, chosen = lattice(lat), "lattice"
    if colours is None and method in ("auto", "bipartite") and sides is not None:
        colours, chosen = sides, "bipartite"
    if method == "auto" and colours is not None and chosen == "lattice" and dsatur_fits \
            and int(np.unique(colours).size) > bound:
        alternative = sides if sides is not None else dsatur(indptr, indices)
        if np.unique(alternative).size < np.unique(colours).size:
            colours, chosen = alternative, "bipartite" if sides is not None else "dsatur"
    if colours is None and method in ("auto", "dsatur"):
        if not dsatur_fits:
            return None, [f"colouring.method: DSatur's keys overflow with {n} nodes of degree up to {span - 1}; "
                          f"use method greedy"]
        colours, chosen = dsatur(indptr, indices), "dsatur"
    if method == "greedy":
        colours = greedy(indptr, indices)
    if method == "fixed":
        colours = np.asarray(fixed, np.int64)
    if colours is None:
        why = "the graph is not a lattice" if lat is None else "no lattice colouring is known for this lattice"
        if method == "bipartite":
            why = "the graph has an odd cycle (it is not bipartite)"
        return None, [f"colouring.method: {method!r} cannot colour this graph: {why}; allowed: {list(METHODS)}"]
    colours = compact(colours)
    return Colouring(colours, chosen, int(colours.max()) + 1 if n else 0, bound, reason), []
