"""Sparse local graphs for Boltzmann machines: grids with a chosen neighbourhood (row-major node numbering),
explicit edge lists, CSR adjacency with integer couplings, and a proper colouring for block Gibbs."""
import numpy as np

# Offsets (dr, dc) of half a neighbourhood; the other half is their negation.
NEIGHBOURHOODS = {
    4: [(0, 1), (1, 0)],
    8: [(0, 1), (1, 0), (1, 1), (1, -1)],
    12: [(0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0)],  # a DTCA-like local pattern: 8-neighbourhood + distance-2 axis
}


def grid_edges(rows, cols, offsets, periodic):
    """Undirected edges (E, 2), i < j, unique and sorted, of a rows x cols grid; offsets as in NEIGHBOURHOODS
    (any (dr, dc); their negations are implied)."""
    edges = set()
    for r in range(rows):
        for c in range(cols):
            for dr, dc in offsets:
                rr, cc = r + dr, c + dc
                if periodic:
                    rr, cc = rr % rows, cc % cols
                elif not (0 <= rr < rows and 0 <= cc < cols):
                    continue
                i, j = r * cols + c, rr * cols + cc
                if i != j:
                    edges.add((min(i, j), max(i, j)))
    return np.array(sorted(edges), dtype=np.int64).reshape(-1, 2)


def check_edges(n, edges):
    """Problems with an explicit edge list, as messages naming the edge index and value."""
    problems, seen = [], set()
    for k, (i, j) in enumerate(np.asarray(edges).reshape(-1, 2).tolist()):
        if not (0 <= i < n and 0 <= j < n):
            problems.append(f"graph.edges[{k}]: {[i, j]} has a node outside 0..{n - 1}")
        elif i == j:
            problems.append(f"graph.edges[{k}]: {[i, j]} is a self loop")
        elif (min(i, j), max(i, j)) in seen:
            problems.append(f"graph.edges[{k}]: {[i, j]} repeats an earlier edge")
        seen.add((min(i, j), max(i, j)))
    return problems


def adjacency(n, edges, J):
    """CSR (indptr, indices, weights) of the graph, weights J[i, j] (int64)."""
    both = np.concatenate([edges, edges[:, ::-1]]) if len(edges) else np.zeros((0, 2), np.int64)
    order = np.lexsort((both[:, 1], both[:, 0]))
    both = both[order]
    indptr = np.zeros(n + 1, np.int64)
    np.add.at(indptr, both[:, 0] + 1, 1)
    return np.cumsum(indptr), both[:, 1].copy(), np.asarray(J, np.int64)[both[:, 0], both[:, 1]]


def colour(n, edges):
    """Greedy proper colouring in node order (a checkerboard for 4-neighbour grids)."""
    neighbours = [[] for _ in range(n)]
    for i, j in edges.tolist():
        neighbours[i].append(j)
        neighbours[j].append(i)
    colours = np.full(n, -1, np.int64)
    for i in range(n):
        used = {colours[j] for j in neighbours[i]}
        c = 0
        while c in used:
            c += 1
        colours[i] = c
    return colours


def blocks(colours, clamped):
    """(colour_ptr, colour_nodes): the unclamped nodes of each colour, concatenated."""
    k = int(colours.max()) + 1 if colours.size else 0
    groups = [np.flatnonzero((colours == c) & ~clamped) for c in range(k)]
    ptr = np.zeros(k + 1, np.int64)
    ptr[1:] = np.cumsum([len(g) for g in groups])
    return ptr, (np.concatenate(groups) if groups else np.zeros(0, np.int64)).astype(np.int64)
