"""Partitioning a graph over K chips: a geometric split of a lattice into slabs along its first axis (nodes are
numbered row-major, so a slab is a contiguous range of node ids), a balanced breadth-first split, METIS's
multilevel k-way split (pymetis, the `metis` extra: fewest cut edges within 3 % balance), or a partition given
node by node. Reports the cut edges and, per ordered chip pair (a, b), the boundary
nodes of chip a that have a neighbour on chip b (the 1-bit states a's link to b carries)."""
import importlib.util
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import ArchsimError

METHODS = ("auto", "slab", "bfs", "metis", "fixed")
METIS_SEED = 0  # METIS's own random seed: the same graph always gets the same split


@dataclass
class Partition:
    method: str
    chip: np.ndarray       # (n,) int64: the chip of each node
    n_chips: int
    cut: np.ndarray        # (C,) int64: indices of the edges whose ends lie on different chips
    boundary: dict         # (a, b) -> sorted node ids on chip a with a neighbour on chip b

    @property
    def boundary_nodes(self):
        """Every node some other chip reads (sorted, unique)."""
        parts = list(self.boundary.values())
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def table(self):
        """Rows (chip a, chip b, boundary nodes of a read by b) over the pairs that share edges."""
        return [(a, b, len(v)) for (a, b), v in sorted(self.boundary.items())]


def slab(n, lattice, k):
    """Chip of each node: slabs of whole layers along the lattice's first axis when it has at least k layers,
    else balanced contiguous ranges of node ids."""
    if lattice is not None and lattice.shape[0] >= k:
        layer = np.arange(n) // (n // lattice.shape[0])
        return (layer * k) // lattice.shape[0]
    return (np.arange(n) * k) // n


def bfs(n, indptr, indices, k):
    """Balanced greedy split: chip c grows breadth-first from the lowest unassigned node until it holds its
    share (n // k, one more for the first n % k chips), jumping to the next unassigned node when its front
    empties."""
    chip = np.full(n, -1, np.int64)
    sizes = [n // k + (c < n % k) for c in range(k)]
    nxt = 0
    for c, size in enumerate(sizes):
        queue, head, taken = [], 0, 0
        while taken < size:
            if head == len(queue):
                while chip[nxt] >= 0:
                    nxt += 1
                chip[nxt] = c
                queue.append(nxt)
                taken += 1
                continue
            v = queue[head]
            head += 1
            for u in indices[indptr[v]:indptr[v + 1]]:
                if taken < size and chip[u] < 0:
                    chip[u] = c
                    queue.append(int(u))
                    taken += 1
    return chip


def metis_available():
    return importlib.util.find_spec("pymetis") is not None


def metis(n, indptr, indices, k):
    """Chip of each node from METIS's k-way partition (minimum edge cut, deterministic seed)."""
    try:
        import pymetis
    except ImportError:
        raise ArchsimError("chips.partition: metis needs the pymetis package, which is not installed; "
                           "pip install 'archsim[metis]', or choose partition slab | bfs | fixed") from None
    if k == 1:
        return np.zeros(n, np.int64)
    adjacency = pymetis.CSRAdjacency(np.asarray(indptr, np.int64), np.asarray(indices, np.int64))
    return np.asarray(pymetis.part_graph(k, adjacency, options=pymetis.Options(seed=METIS_SEED)).vertex_part,
                      np.int64)


def problems(chip, n, k, where):
    """A node on no chip (or on a chip outside 0..k-1), a chip with no node: messages naming the field."""
    out = []
    if len(chip) != n:
        out.append(f"{where}: {len(chip)} entries for {n} nodes; want one chip per node")
        return out
    bad = np.flatnonzero((chip < 0) | (chip >= k))
    if bad.size:
        out.append(f"{where}[{bad[0]}]: node {bad[0]} is on no chip (value {chip[bad[0]]}; allowed 0..{k - 1}); "
                   f"{bad.size} such node(s)")
    empty = sorted(set(range(k)) - set(np.unique(chip).tolist()))
    if empty and not bad.size:
        out.append(f"{where}: chip(s) {empty} hold no node; every chip needs at least one")
    return out


def partition(method, n, edges, indptr, indices, lattice, k, fixed: Optional[np.ndarray] = None):
    """The Partition a method gives; `auto`: slab on lattices, else metis when pymetis is installed, else bfs.
    `fixed` must already be checked; a metis split that leaves a chip empty (tiny graphs) is an error."""
    if method == "auto":
        method = "slab" if lattice is not None else "metis" if metis_available() else "bfs"
    chip = {"slab": lambda: slab(n, lattice, k), "bfs": lambda: bfs(n, indptr, indices, k),
            "metis": lambda: metis(n, indptr, indices, k),
            "fixed": lambda: np.asarray(fixed, np.int64)}[method]().astype(np.int64)
    empty = sorted(set(range(k)) - set(np.unique(chip).tolist()))
    if empty and method == "metis":
        raise ArchsimError(f"chips.partition: {method} leaves chip(s) {empty} with no node on this {n}-node graph; "
                           f"use fewer chips or another partition (slab | bfs | fixed)")
    a, b = chip[edges[:, 0]], chip[edges[:, 1]]
    cut = np.flatnonzero(a != b)
    boundary = {}
    for x, y in ((edges[cut, 0], edges[cut, 1]), (edges[cut, 1], edges[cut, 0])):
        for ca, cb in set(zip(chip[x].tolist(), chip[y].tolist())):
            sel = (chip[x] == ca) & (chip[y] == cb)
            boundary[(ca, cb)] = np.union1d(boundary.get((ca, cb), np.zeros(0, np.int64)), x[sel])
    return Partition(method, chip, k, cut, boundary)
