"""Graphs and colourings against their definitions: brute-force neighbour enumeration, closed-form edge counts and
degrees, dwave-networkx and networkx directly; every colouring proper; graph files with errors naming the line."""
import itertools
import subprocess
import sys
import warnings

import networkx as nx
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.errors import ConfigError
from archsim.workload import colouring, graph
from archsim.workload.boltzmann import boltzmann_from_data

G12 = [[0, 1], [4, 1], [9, 10]]
Z1 = [[1, 0], [2, 1], [2, 3], [4, 1]]


def load(g, **extra):
    data = {"schema_version": 1, "kind": "boltzmann", "name": "g", "beta": 0.5, "sweeps": 2, "graph": g, **extra}
    return boltzmann_from_data(data)


def brute_edges(shape, offsets, periodic):
    """i ~ j iff their coordinates differ by +-an offset (modulo the shape along periodic axes; `periodic` a bool
    or one per axis): every pair tried."""
    wrap = [periodic] * len(shape) if isinstance(periodic, bool) else list(periodic)
    coords = list(itertools.product(*(range(s) for s in shape)))
    steps = {tuple(o) for o in offsets} | {tuple(-x for x in o) for o in offsets}
    found = set()
    for i, a in enumerate(coords):
        for j, b in enumerate(coords):
            if i < j:
                diff = [(y - x) % s if p else y - x for x, y, s, p in zip(a, b, shape, wrap)]
                if any(all((d - o) % s == 0 if p else d == o for d, o, s, p in zip(diff, step, shape, wrap))
                       for step in steps):
                    found.add((i, j))
    return found


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=3),
       st.one_of(st.booleans(), st.tuples(st.booleans(), st.booleans(), st.booleans())),
       st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3), st.integers(-3, 3)), min_size=1, max_size=4))
def test_lattice_edges_match_brute_force(shape, periodic, offsets):
    offsets = [o[:len(shape)] for o in offsets if any(o[:len(shape)])]
    periodic = periodic if isinstance(periodic, bool) else periodic[:len(shape)]
    edges = graph.lattice_edges(shape, graph.half(offsets), periodic)
    assert set(map(tuple, edges.tolist())) == brute_edges(shape, offsets, periodic)
    assert np.all(edges[:, 0] < edges[:, 1]) and len(np.unique(edges, axis=0)) == len(edges)


def test_rule_grids_have_the_published_degrees_and_are_bipartite():
    """Rules (a, b) with four rotations: 4 neighbours per rule; DTCA G12 has degree 12, Z1 degree 16; every rule
    has a + b odd, so both are 2-colourable."""
    for rules, degree in [(G12, 12), (Z1, 16), ([[0, 1]], 4), ([[0, 1], [4, 1]], 8)]:
        bm = load({"type": "grid", "rows": 40, "cols": 40, "rules": rules, "periodic": True})
        assert np.all(graph.degrees(bm.n, bm.edges) == degree) and len(bm.edges) == bm.n * degree // 2
        assert bm.colouring.n_colours == 2 and bm.colouring.lower_bound == 2
        assert nx.is_bipartite(nx.Graph(bm.edges.tolist()))
    assert graph.rule_offsets([[0, 1]]) == graph.half(graph.NEIGHBOURHOODS[4])


def test_three_d_lattices():
    for L, periodic in [(4, True), (5, False), (6, True)]:
        bm = load({"type": "lattice", "shape": [L, L, L], "periodic": periodic})
        assert len(bm.edges) == (3 * L ** 3 if periodic else 3 * L * L * (L - 1))
        if periodic:
            assert np.all(graph.degrees(bm.n, bm.edges) == 6)
        assert bm.colouring.n_colours == 2 and nx.is_bipartite(nx.Graph(bm.edges.tolist()))


def test_odd_periodic_cubic_lattice_takes_three_colours():
    """37^3 periodic (the UCSB design's lattice): odd cycles force 3 colours, and 3 are found."""
    bm = load({"type": "lattice", "shape": [37, 37, 37], "periodic": True})
    c = bm.colouring
    assert (c.n_colours, c.lower_bound, c.method) == (3, 3, "lattice")
    assert not colouring.proper_problems(c.colours, bm.edges, str)


def test_per_axis_periodic_lattice_and_auto_colouring():
    """An L^3 lattice periodic along z only: 3 L^2 (L - 1) open edges plus the L^2 wrap edges; with L odd, the wrap
    closes odd cycles, so 3 colours are needed and `auto` finds 3. The same graph written as an open lattice with
    the wrap as an offset [0, 0, L-1]: the lattice colouring needs more, and `auto` gives way to DSatur's 3."""
    L = 7
    per_axis = load({"type": "lattice", "shape": [L, L, L], "periodic": [False, False, True]})
    assert len(per_axis.edges) == 3 * L * L * (L - 1) + L * L
    assert per_axis.colouring.n_colours == 3 == per_axis.colouring.lower_bound
    offsets = load({"type": "lattice", "shape": [L, L, L], "offsets": [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, L - 1]]})
    assert np.array_equal(offsets.edges, per_axis.edges)
    lattice_only = colouring.lattice(graph.lattice_graph([L] * 3, graph.half([[1, 0, 0], [0, 1, 0], [0, 0, 1],
                                                                                [0, 0, L - 1]]), False).lattice)
    assert len(np.unique(lattice_only)) > 3
    assert offsets.colouring.method == "dsatur" and offsets.colouring.n_colours == 3
    assert not colouring.proper_problems(offsets.colouring.colours, offsets.edges, str)
    with pytest.raises(ConfigError, match="periodic"):
        load({"type": "lattice", "shape": [L, L, L], "periodic": [True, False]})


def test_kings_graph():
    r, c = 7, 9
    bm = load({"type": "king", "rows": r, "cols": c})
    assert len(bm.edges) == 4 * r * c - 3 * (r + c) + 2
    assert bm.colouring.n_colours == 4 and bm.colouring.lower_bound == 4  # 2 x 2 blocks are cliques


def _dnx(kind, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import dwave_networkx as dnx
    return getattr(dnx, f"{kind}_graph")(**params)


@pytest.mark.parametrize("kind,params,degree", [("chimera", {"m": 3, "n": 2}, 6), ("pegasus", {"m": 4}, 15),
                                                ("zephyr", {"m": 3}, 20)])
def test_dwave_graphs_are_dwave_networkx_graphs(kind, params, degree):
    bm = load({"type": kind, **params})
    ref = _dnx(kind, **params)
    assert bm.n == len(ref)
    labels = sorted(ref.nodes)
    assert {(labels[i], labels[j]) for i, j in bm.edges.tolist()} == {tuple(sorted(e)) for e in ref.edges}
    assert max(d for _, d in ref.degree) == degree
    assert not colouring.proper_problems(bm.colours, bm.edges, str)


def test_chimera_edge_count_closed_form():
    m, n, t = 3, 5, 4
    bm = load({"type": "chimera", "m": m, "n": n, "t": t})
    assert bm.n == 2 * t * m * n and len(bm.edges) == m * n * t * t + t * (m - 1) * n + t * m * (n - 1)
    assert bm.colouring.n_colours == 2  # Chimera is bipartite


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=2, max_size=4), st.integers(1, 12), st.integers(0, 1000))
def test_dbm_graph_definition(layers, fan_in, seed):
    fan_in = min(fan_in, min(layers[:-1]))
    g = graph.dbm_graph(layers, fan_in, seed)
    starts = np.concatenate([[0], np.cumsum(layers)])
    layer = np.searchsorted(starts, np.arange(g.n), side="right") - 1
    assert len(g.edges) == fan_in * sum(layers[1:])
    assert np.all(layer[g.edges[:, 1]] - layer[g.edges[:, 0]] == 1)  # only between consecutive layers
    down = np.bincount(g.edges[:, 1], minlength=g.n)
    assert np.all(down[layer > 0] == fan_in) and np.all(down[layer == 0] == 0)
    np.testing.assert_array_equal(g.edges, graph.dbm_graph(layers, fan_in, seed).edges)
    assert load({"type": "dbm", "layers": layers, "fan_in": fan_in, "seed": seed}).colouring.n_colours <= 2


def test_dbm_seed_changes_the_graph():
    a, b = graph.dbm_graph([50, 50], 5, 1), graph.dbm_graph([50, 50], 5, 2)
    assert not np.array_equal(a.edges, b.edges)


GRAPHS = [{"type": "grid", "rows": 9, "cols": 11, "neighbourhood": n, "periodic": p} for n in (4, 8, 12)
          for p in (False, True)] + [
    {"type": "grid", "rows": 21, "cols": 21, "rules": G12, "periodic": True},
    {"type": "grid", "rows": 20, "cols": 24, "rules": Z1},
    {"type": "king", "rows": 6, "cols": 6, "periodic": True},
    {"type": "lattice", "shape": [5, 4, 3], "periodic": True},
    {"type": "lattice", "shape": [4, 4, 4], "offsets": [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]},
    {"type": "pegasus", "m": 3}, {"type": "zephyr", "m": 1}, {"type": "chimera", "m": 2},
    {"type": "dbm", "layers": [30, 20, 10], "fan_in": 4},
    {"type": "edges", "nodes": 5, "edges": [[0, 1], [1, 2], [2, 0], [2, 3], [3, 4], [4, 0]]}]


@pytest.mark.parametrize("g", GRAPHS, ids=lambda g: g["type"])
def test_colourings_are_proper_and_dsatur_beats_greedy(g):
    bm = load(g)
    indptr, indices, _ = bm.adjacency()
    c = bm.colouring
    assert not colouring.proper_problems(c.colours, bm.edges, str)
    assert c.lower_bound <= c.n_colours == len(np.unique(c.colours))
    greedy, dsatur = colouring.greedy(indptr, indices), colouring.dsatur(indptr, indices)
    for other in (greedy, dsatur):
        assert not colouring.proper_problems(other, bm.edges, str)
    assert dsatur.max() <= greedy.max()
    assert c.lower_bound <= dsatur.max() + 1
    ref = nx.Graph(bm.edges.tolist())
    ref.add_nodes_from(range(bm.n))
    assert (colouring.bipartite(indptr, indices) is not None) == nx.is_bipartite(ref)
    if not nx.is_bipartite(ref):
        assert c.lower_bound >= 3


def nx_dsatur(n, edges):
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges.tolist())
    found = nx.greedy_color(g, strategy="saturation_largest_first")
    return np.array([found[i] for i in range(n)])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.data())
def test_dsatur_is_networkx_dsatur(n, data):
    """Same node order (saturation, then degree, then lowest index) and colours as networkx's DSatur."""
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4 * n))
    edges = graph.canonical(n, [p[0] for p in pairs], [p[1] for p in pairs])
    indptr, indices, _ = graph.adjacency(n, edges, np.zeros(len(edges), np.int64))
    np.testing.assert_array_equal(colouring.dsatur(indptr, indices), nx_dsatur(n, edges))


@pytest.mark.parametrize("g", [GRAPHS[2], GRAPHS[5], {"type": "pegasus", "m": 3}, {"type": "zephyr", "m": 1}])
def test_dsatur_is_networkx_dsatur_on_generated_graphs(g):
    bm = load(g)
    indptr, indices, _ = bm.adjacency()
    np.testing.assert_array_equal(colouring.dsatur(indptr, indices), nx_dsatur(bm.n, bm.edges))


def test_named_methods_and_fixed_colourings(tmp_path):
    g = {"type": "grid", "rows": 4, "cols": 4}
    assert load(g, colouring={"method": "greedy"}).colouring.method == "greedy"
    assert load(g, colouring={"method": "dsatur"}).colouring.n_colours == 2
    checker = [(r + c) % 2 for r in range(4) for c in range(4)]
    bm = load(g, colouring={"method": "fixed", "colours": [3 * x for x in checker]})
    assert bm.colouring.n_colours == 2 and list(bm.colours) == checker
    bad = checker.copy()
    bad[5] = bad[6]
    with pytest.raises(ConfigError, match=r"colouring: not proper: colouring.colours\[5\] and colouring.colours\[6\]"):
        load(g, colouring={"method": "fixed", "colours": bad})
    (tmp_path / "c.txt").write_text("\n".join(map(str, bad)) + "\n")
    with pytest.raises(ConfigError, match=r"c.txt: line 6 and c.txt: line 7: nodes 5 and 6 .* share colour 1"):
        boltzmann_from_data({"kind": "boltzmann", "name": "g", "beta": 1, "sweeps": 2, "graph": g,
                             "colouring": {"method": "fixed", "file": "c.txt"}}, tmp_path / "w.yaml")
    with pytest.raises(ConfigError, match="not bipartite"):
        load({"type": "edges", "nodes": 3, "edges": [[0, 1], [1, 2], [2, 0]]}, colouring={"method": "bipartite"})
    with pytest.raises(ConfigError, match="not a lattice"):
        load({"type": "chimera", "m": 1}, colouring={"method": "lattice"})


def write_file(path, n, edges, weights, biases=()):
    lines = ["# a test graph", f"nodes {n}"] + [f"{i} {j} {w}" for (i, j), w in zip(edges, weights)]
    path.write_text("\n".join(lines + [f"bias {i} {h}" for i, h in biases]) + "\n")


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 12), st.data())
def test_graph_file_round_trip(n, data):
    import tempfile
    from pathlib import Path
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
                               max_size=20, unique_by=lambda p: (min(p), max(p))))
    weights = data.draw(st.lists(st.integers(-8, 7), min_size=len(pairs), max_size=len(pairs)))
    with tempfile.TemporaryDirectory() as d:
        write_file(Path(d) / "g.txt", n, pairs, weights, [(0, -3)])
        bm = boltzmann_from_data({"kind": "boltzmann", "name": "f", "beta": 1, "sweeps": 2,
                                  "graph": {"type": "file", "path": "g.txt"}}, Path(d) / "w.yaml")
    J = np.zeros((n, n), np.int64)
    for (i, j), w in zip(pairs, weights):
        J[i, j] = J[j, i] = w
    got = np.zeros((n, n), np.int64)
    got[bm.edges[:, 0], bm.edges[:, 1]] = got[bm.edges[:, 1], bm.edges[:, 0]] = bm.weights
    np.testing.assert_array_equal(got, J)
    assert bm.h[0] == -3 and not bm.h[1:].any()


BAD_FILES = [
    ("nodes 3\n0 1 2\n1 x 3\n", r"line 3: '1 x 3'"),
    ("nodes 3\n0 1 2\n2 2 1\n", r"line 3: \[2, 2\] is a self loop"),
    ("nodes 3\n0 1 2\n1 0 -2\n", r"line 3: asymmetric coupling: J\[1,0\] = -2 but line 2 gives J\[0,1\] = 2"),
    ("nodes 3\n0 1 2\n1 3 1\n", r"line 3: node 3 outside 0..2"),
    ("nodes 3\n0 1 8\n", r"line 2: coupling 8 does not fit coupling_bits = 4 \(-8..7\)"),
    ("0 1 2\n", r"line 1: '0 1 2': the first item must be 'nodes N'"),
    ("nodes 3\nbias 1 99\n", r"line 2: bias 99 does not fit bias_bits = 4"),
    ("nodes 3\n0 1 2\n0 1 2\n", r"line 3: \[0, 1\] repeats line 2"),
]


@pytest.mark.parametrize("text,message", BAD_FILES)
def test_bad_graph_files_name_file_line_and_value(tmp_path, text, message):
    (tmp_path / "g.txt").write_text(text)
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({"kind": "boltzmann", "name": "f", "beta": 1, "sweeps": 2,
                                                     "graph": {"type": "file", "path": "g.txt"}}))
    r = subprocess.run([sys.executable, "-m", "archsim", "run", "--workload", str(tmp_path / "w.yaml"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert str(tmp_path / "g.txt") in r.stderr
    assert __import__("re").search(message, r.stderr), r.stderr


def test_improper_fixed_colouring_exits_2(tmp_path):
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({
        "kind": "boltzmann", "name": "f", "beta": 1, "sweeps": 2, "graph": {"type": "grid", "rows": 2, "cols": 2},
        "colouring": {"method": "fixed", "colours": [0, 0, 1, 1]}}))
    r = subprocess.run([sys.executable, "-m", "archsim", "run", "--workload", str(tmp_path / "w.yaml"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "w.yaml" in r.stderr and "colouring.colours[0] and colouring.colours[1]" in r.stderr


@pytest.mark.slow
def test_a_million_node_lattice_loads_within_a_gigabyte():
    """Couplings stay sparse end to end: the 100^3 periodic lattice (1M nodes, 3M edges) with its colouring
    and the kernel layout allocates under 1 GiB at its peak (tracemalloc sees NumPy's allocations)."""
    import tracemalloc

    from archsim.engine.colour_block import stage_plan
    from helpers import arch
    tracemalloc.start()
    bm = load({"type": "lattice", "shape": [100, 100, 100], "periodic": True})
    sp = stage_plan(arch(), bm, 0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert bm.n == 10 ** 6 and len(bm.edges) == 3 * 10 ** 6 and bm.colouring.n_colours == 2
    assert len(sp.layout.nbr) == 6 * 10 ** 6 and peak < 1 << 30, peak
