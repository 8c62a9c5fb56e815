"""Boltzmann-machine / Ising workloads (kind: boltzmann) and denoising chains of them (kind: dtm): schema and
loader. Nodes are numbered row-major on lattices; couplings J (one per edge: symmetric, zero off the graph's
edges) and biases h are integers of declared widths, from a graph file, an .npz or generated from the seed.
Couplings stay sparse (one value per edge) from file to kernel.
P(s_i = +1 | rest) = 1 / (1 + exp(-2 beta (sum_j J_ij s_j + h_i)))."""
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import numpy as np
from pydantic import Field, model_validator

from ..config.fields import Energy, Hertz, Strict
from ..config.loader import validate
from ..errors import ArchsimError, ConfigError
from ..inputs import load_npz, read_text
from ..kernels.reference import draw
from . import colouring
from . import graph as graphs
from . import partition as partitions

TAG_COUPLINGS, TAG_INIT = 5, 6


class Grid(Strict):
    type: Literal["grid"]
    rows: int = Field(gt=0, le=4096)
    cols: int = Field(gt=0, le=4096)
    neighbourhood: Union[Literal[4, 8, 12], list[tuple[int, int]]] = Field(
        default=4, description="4, 8, 12 (8 + distance-2 axis) or a list of [dr, dc] offsets")
    rules: Optional[list[tuple[int, int]]] = Field(
        default=None, min_length=1, description="connection rules [a, b], each with its four 90-degree rotations "
        "(DTCA's G12: [[0, 1], [4, 1], [9, 10]]); replaces neighbourhood")
    periodic: Union[bool, tuple[bool, bool]] = Field(default=False, description="wrap every axis (true), or [rows, cols] each")

    @model_validator(mode="after")
    def _one_pattern(self):
        if self.rules is not None and "neighbourhood" in self.model_fields_set:
            raise ValueError("give either neighbourhood or rules, not both")
        if any(a == 0 and b == 0 for a, b in self.rules or []):
            raise ValueError("rules: [0, 0] joins a node to itself")
        return self

    def build(self, path, base):
        offsets = graphs.rule_offsets(self.rules) if self.rules else (
            graphs.NEIGHBOURHOODS[self.neighbourhood] if isinstance(self.neighbourhood, int) else self.neighbourhood)
        return graphs.lattice_graph((self.rows, self.cols), offsets, self.periodic)


class King(Strict):
    """King's graph: a grid where each node joins its 8 neighbours (the chess king's moves)."""
    type: Literal["king"]
    rows: int = Field(gt=0, le=4096)
    cols: int = Field(gt=0, le=4096)
    periodic: Union[bool, tuple[bool, bool]] = Field(default=False, description="wrap every axis (true), or [rows, cols] each")

    def build(self, path, base):
        return graphs.lattice_graph((self.rows, self.cols), graphs.NEIGHBOURHOODS[8], self.periodic)


class Lattice3(Strict):
    """A 3-D lattice, nodes numbered row-major over shape [X, Y, Z]; 6 axis neighbours unless offsets say."""
    type: Literal["lattice"]
    shape: tuple[int, int, int] = Field(description="[X, Y, Z] sizes")
    offsets: list[tuple[int, int, int]] = Field(default=[(1, 0, 0), (0, 1, 0), (0, 0, 1)], min_length=1,
                                                description="[dx, dy, dz] of half the neighbourhood")
    periodic: Union[bool, tuple[bool, bool, bool]] = Field(
        default=False, description="wrap every axis (true), or [X, Y, Z] each (e.g. [false, false, true])")

    @model_validator(mode="after")
    def _sizes(self):
        if min(self.shape) < 1 or self.shape[0] * self.shape[1] * self.shape[2] > 1 << 24:
            raise ValueError(f"shape {list(self.shape)}: sizes must be >= 1 with at most 2**24 nodes")
        if any(o == (0, 0, 0) for o in self.offsets):
            raise ValueError("offsets: [0, 0, 0] joins a node to itself")
        return self

    def build(self, path, base):
        return graphs.lattice_graph(self.shape, self.offsets, self.periodic)


class Chimera(Strict):
    type: Literal["chimera"]
    m: int = Field(ge=1, le=64, description="rows of unit cells")
    n: Optional[int] = Field(default=None, ge=1, le=64, description="columns of unit cells (default m)")
    t: int = Field(default=4, ge=1, le=16, description="shore size of a unit cell")

    def build(self, path, base):
        return graphs.dwave_graph("chimera", path, m=self.m, n=self.n, t=self.t)


class Pegasus(Strict):
    type: Literal["pegasus"]
    m: int = Field(ge=2, le=64, description="Pegasus size parameter (P16 is D-Wave Advantage)")
    fabric_only: bool = True

    def build(self, path, base):
        return graphs.dwave_graph("pegasus", path, m=self.m, fabric_only=self.fabric_only)


class Zephyr(Strict):
    type: Literal["zephyr"]
    m: int = Field(ge=1, le=64, description="Zephyr grid parameter")
    t: int = Field(default=4, ge=1, le=16, description="tile parameter")

    def build(self, path, base):
        return graphs.dwave_graph("zephyr", path, m=self.m, t=self.t)


class Dbm(Strict):
    """Layered sparse graph of a deep Boltzmann machine: each node of a layer joined to fan_in distinct nodes
    of the layer before, chosen from the seed."""
    type: Literal["dbm"]
    layers: list[int] = Field(min_length=2, description="nodes per layer, visible layer first")
    fan_in: int = Field(ge=1, description="edges from each node to the layer before it")
    seed: int = Field(default=0, ge=0, lt=1 << 63, description="seed of the fan-in choices")

    @model_validator(mode="after")
    def _fits(self):
        if min(self.layers) < 1 or sum(self.layers) > 1 << 24:
            raise ValueError(f"layers {self.layers}: sizes must be >= 1 with at most 2**24 nodes")
        if self.fan_in > min(self.layers[:-1]):
            raise ValueError(f"fan_in {self.fan_in} exceeds the smallest layer a node draws from "
                             f"({min(self.layers[:-1])})")
        return self

    def build(self, path, base):
        return graphs.dbm_graph(self.layers, self.fan_in, self.seed)


class EdgeList(Strict):
    type: Literal["edges"]
    nodes: int = Field(gt=0, le=1 << 22)
    edges: list[tuple[int, int]] = Field(min_length=0)

    def build(self, path, base):
        e = np.asarray(self.edges, np.int64).reshape(-1, 2)
        problems = graphs.pair_problems(self.nodes, e[:, 0], e[:, 1], np.zeros(len(e)), 1,
                                        lambda k: f"graph.edges[{k}]", "value")
        if problems:
            raise ConfigError(path, problems)
        return graphs.Graph(self.nodes, graphs.canonical(self.nodes, e[:, 0], e[:, 1]))


class GraphFile(Strict):
    type: Literal["file"]
    path: str = Field(min_length=1, description="graph file relative to the workload file: 'nodes N', then "
                      "'I J W' edges with couplings and optional 'bias I H' lines (see graph.FILE_FORMAT)")


GraphSpec = Annotated[Union[Grid, King, Lattice3, Chimera, Pegasus, Zephyr, Dbm, EdgeList, GraphFile],
                      Field(discriminator="type")]


class ColouringSpec(Strict):
    method: Literal[colouring.METHODS] = Field(default="auto", description="auto: lattice, else bipartite, "
                                               "else dsatur; fixed: the colours given here or in file")
    colours: Optional[list[int]] = Field(default=None, description="with fixed: one colour (>= 0) per node")
    file: Optional[str] = Field(default=None, description="with fixed: a text file, one colour per line")

    @model_validator(mode="after")
    def _fixed(self):
        given = (self.colours is not None) + (self.file is not None)
        if self.method == "fixed" and given != 1:
            raise ValueError("method fixed needs exactly one of colours, file")
        if self.method != "fixed" and given:
            raise ValueError(f"colours and file go with method fixed, not {self.method!r}")
        return self


class Clamp(Strict):
    nodes: list[int] = Field(min_length=1)
    values: list[Literal[-1, 1]] = Field(min_length=1)


class Link(Strict):
    """One chip-to-chip link, each direction: 1-bit boundary states cross it every colour phase."""
    width_bits: int = Field(gt=0, le=1 << 16, description="bits per link clock cycle, each direction")
    clock_hz: Hertz = Field(description="link clock f_comm, e.g. '100MHz' (eta = f_comm / the architecture's clock)")
    latency_cycles: int = Field(default=0, ge=0, le=1 << 20, description="link clock cycles before the first bits land")
    energy_per_bit: Energy = Field(description="energy of one bit over the link, with its source")


class Chips(Strict):
    """A machine of `count` chips (each the architecture: its p-bit cells, coupling memory and clock f_pbit)."""
    count: int = Field(ge=1, le=4096, description="number of chips K (at most the number of nodes)")
    partition: Literal[partitions.METHODS] = Field(default="auto", description="auto: slab on lattices, else metis "
                                                   "(when pymetis is installed), else bfs; fixed: the chip of each "
                                                   "node in `assignment`")
    assignment: Optional[list[int]] = Field(default=None, description="with fixed: one chip (0..count-1) per node")
    policy: Literal["wait", "stale"] = Field(default="wait", description="wait: a phase waits for the boundary "
                                             "states of the phase before (current reads); stale: phases never wait "
                                             "and read remote states as the link last delivered them")
    link: Link

    @model_validator(mode="after")
    def _fixed(self):
        if (self.partition == "fixed") != (self.assignment is not None):
            raise ValueError("assignment goes with partition: fixed, and fixed needs it")
        return self


class Boltzmann(Strict):
    schema_version: Literal[1] = 1
    kind: Literal["boltzmann"]
    name: str = Field(min_length=1)
    graph: GraphSpec
    colouring: ColouringSpec = Field(default_factory=ColouringSpec)
    couplings: Optional[str] = Field(default=None, description=".npz with integer edges (k x 2), J (k) and h (n), "
                                     "relative to the workload file; pairs not listed couple 0; generated from "
                                     "the seed when absent (a graph file brings its own)")
    coupling_bits: int = Field(default=4, ge=1, le=16, description="signed coupling width")
    bias_bits: int = Field(default=4, ge=1, le=16, description="signed bias width")
    beta: float = Field(gt=0, le=1e6, description="inverse temperature")
    sweeps: int = Field(ge=1, le=1 << 31)
    burn_in: int = Field(default=0, ge=0)
    record_every: int = Field(default=1, ge=1)
    chains: int = Field(default=1, ge=1, le=4096)
    seed: int = Field(default=0, ge=0, lt=1 << 63)
    clamp: Optional[Clamp] = None
    chips: Optional[Chips] = Field(default=None, description="a multi-chip machine (absent: one chip)")

    @model_validator(mode="after")
    def _burn_in(self):
        if self.burn_in >= self.sweeps:
            raise ValueError(f"burn_in ({self.burn_in}) must be smaller than sweeps ({self.sweeps})")
        if self.clamp and len(self.clamp.nodes) != len(self.clamp.values):
            raise ValueError(f"clamp.nodes has {len(self.clamp.nodes)} entries, clamp.values "
                             f"{len(self.clamp.values)}: they must pair up")
        return self


class Stage(Strict):
    """One stage of a denoising chain; `condition` clamps these nodes to the previous stage's final values."""
    couplings: Optional[str] = None
    beta: Optional[float] = Field(default=None, gt=0)
    sweeps: Optional[int] = Field(default=None, ge=1)
    seed: Optional[int] = Field(default=None, ge=0, lt=1 << 63)


class Dtm(Strict):
    schema_version: Literal[1] = 1
    kind: Literal["dtm"]
    name: str = Field(min_length=1)
    graph: GraphSpec
    colouring: ColouringSpec = Field(default_factory=ColouringSpec)
    coupling_bits: int = Field(default=4, ge=1, le=16)
    bias_bits: int = Field(default=4, ge=1, le=16)
    beta: float = Field(gt=0, le=1e6)
    sweeps: int = Field(ge=1, le=1 << 31, description="sweeps per stage (a stage may override)")
    chains: int = Field(default=1, ge=1, le=4096, description="samples generated in parallel")
    seed: int = Field(default=0, ge=0, lt=1 << 63)
    condition_nodes: list[int] = Field(min_length=1, description="nodes of stage k clamped to the values stage "
                                       "k-1 left on the same nodes")
    stages: list[Stage] = Field(min_length=1)


@dataclass
class BoltzmannWorkload:
    spec: Boltzmann
    n: int
    edges: np.ndarray         # (E, 2) int64, i < j, sorted
    weights: np.ndarray       # (E,) int16: J of each edge
    h: np.ndarray             # (n,) int16
    clamped: np.ndarray       # bool (n,)
    clamp_values: np.ndarray  # int8 (n,), meaningful where clamped
    colouring: colouring.Colouring
    path: str
    partition: Optional[partitions.Partition] = None  # with chips: the nodes' chips and the cut

    @property
    def colours(self):
        return self.colouring.colours

    def adjacency(self):
        return graphs.adjacency(self.n, self.edges, self.weights)

    def initial_states(self):
        """(chains, n) int8 from the counter RNG (sweep index 2**40 marks initialisation), clamps applied."""
        u = draw(self.spec.seed, TAG_INIT, np.arange(self.spec.chains)[:, None], 1 << 40,
                 np.arange(self.n)[None, :], 0, 1)
        s = np.where(u == 1, 1, -1).astype(np.int8)
        s[:, self.clamped] = self.clamp_values[self.clamped]
        return s


def _graph(spec, path, base):
    g = spec.graph
    if g.type == "file":
        if getattr(spec, "couplings", None) or any(st.couplings for st in getattr(spec, "stages", [])):
            raise ConfigError(path, [f"couplings: graph.path {g.path!r} brings its couplings; drop couplings"])
        return graphs.read_graph_file(Path(base) / g.path, spec.coupling_bits, spec.bias_bits)
    return g.build(path, base)


def _colouring(spec, graph, path, base):
    """The colouring the workload asks for, with its problems (an improper fixed colouring) as errors."""
    c = spec.colouring
    fixed, where = None, (lambda k: f"colouring.colours[{k}]")
    if c.method == "fixed":
        fixed = c.colours
        if c.file is not None:
            fixed, where = _colour_file(Path(base) / c.file), (lambda k: f"{c.file}: line {k + 1}")
        if len(fixed) != graph.n or min(fixed) < 0:
            raise ConfigError(path, [f"colouring: {len(fixed)} colours given (min {min(fixed, default=None)}); "
                                     f"want one colour >= 0 for each of the {graph.n} nodes"])
        problems = colouring.proper_problems(np.asarray(fixed, np.int64), graph.edges, where)
        if problems:
            raise ConfigError(path, ["colouring: not proper: " + p for p in problems])
    indptr, indices, _ = graphs.adjacency(graph.n, graph.edges, np.zeros(len(graph.edges), np.int64))
    result, problems = colouring.colour(c.method, graph.n, graph.edges, indptr, indices, graph.lattice, fixed)
    if problems:
        raise ConfigError(path, problems)
    return result


def _colour_file(file):
    lines = read_text(file, what="colour file").splitlines()  # checked at the input boundary
    bad = [f"line {k + 1}: {line.strip()!r} is not a colour (an integer >= 0)"
           for k, line in enumerate(lines) if not line.strip().isdigit()]
    if bad:
        raise ConfigError(file, bad[:10])
    return [int(line) for line in lines]


def couplings(spec, graph, base, path, file=None, seed=None, field="couplings"):
    """(weights per edge, h) from the graph file, the .npz, or generated from the seed, checked against the
    graph and the declared widths; int16 (both widths are at most 16 bits)."""
    weights, h = _couplings(spec, graph, base, path, file, seed, field)
    return weights.astype(np.int16), h.astype(np.int16)


def _couplings(spec, graph, base, path, file, seed, field):
    if graph.weights is not None:
        return graph.weights, graph.bias
    n, edges = graph.n, graph.edges
    file = spec.couplings if file is None else file
    if file is None:
        seed = spec.seed if seed is None else seed
        J = draw(seed, TAG_COUPLINGS, 0, np.arange(len(edges)), 0, 0, spec.coupling_bits) - (
            1 << (spec.coupling_bits - 1))
        h = draw(seed, TAG_COUPLINGS, 1, np.arange(n), 0, 0, spec.bias_bits) - (1 << (spec.bias_bits - 1))
        return J, h
    npz = load_npz(Path(base) / file, path, field)  # no pickles, headers and memory checked first
    arrays = {k: npz[k] for k in ("edges", "J", "h") if k in npz.headers}
    missing = [k for k in ("edges", "J", "h") if k not in arrays]
    if missing:
        raise ConfigError(path, [f"{field}: {file!r} lacks array(s) {missing}; it holds {sorted(npz.headers)}"])
    pairs, J, h = arrays["edges"], arrays["J"], arrays["h"]
    problems = []
    if pairs.ndim != 2 or pairs.shape[1:] != (2,) or not np.issubdtype(pairs.dtype, np.integer):
        problems.append(f"{field}: {file}:edges must be integer pairs (k x 2), got {pairs.shape} {pairs.dtype}")
    elif J.shape != (len(pairs),) or not np.issubdtype(J.dtype, np.integer):
        problems.append(f"{field}: {file}:J must be {len(pairs)} integers (one per pair), got {J.shape} {J.dtype}")
    if h.shape != (n,) or not np.issubdtype(h.dtype, np.integer):
        problems.append(f"{field}: {file}:h must be {n} integers, got {h.shape} {h.dtype}")
    if problems:
        raise ConfigError(path, problems)
    where = (lambda k: f"{field}: {file}:edges[{k}]")
    problems = graphs.pair_problems(n, pairs[:, 0], pairs[:, 1], J, spec.coupling_bits, where, "J")
    if not problems:
        pairs = pairs.astype(np.int64)
        i, j = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        keys = edges[:, 0] * n + edges[:, 1]
        at = np.minimum(np.searchsorted(keys, i * n + j), max(len(keys) - 1, 0))
        off = np.flatnonzero((keys[at] != i * n + j) if len(keys) else np.ones(len(i), bool))
        problems += [f"{where(k)}: J[{pairs[k, 0]},{pairs[k, 1]}] = {J[k]} couples nodes the graph does not "
                     f"connect" for k in off[:5]]
    if not _fits(h, spec.bias_bits):
        problems.append(f"{field}: {file}:h has values in [{h.min()}, {h.max()}], beyond bias_bits = "
                        f"{spec.bias_bits}")
    if problems:
        raise ConfigError(path, problems)
    weights = np.zeros(len(edges), np.int64)
    weights[at] = J
    return weights, h.astype(np.int64)


def _fits(a, bits):
    return a.size == 0 or (a.min() >= -(1 << (bits - 1)) and a.max() <= (1 << (bits - 1)) - 1)


def _clamp(spec, n, path):
    clamped, values = np.zeros(n, bool), np.zeros(n, np.int8)
    if spec.clamp:
        bad = [i for i in spec.clamp.nodes if not 0 <= i < n]
        if bad:
            raise ConfigError(path, [f"clamp.nodes: {bad} outside 0..{n - 1}"])
        clamped[spec.clamp.nodes] = True
        values[spec.clamp.nodes] = spec.clamp.values
    return clamped, values


def boltzmann_from_data(data, path="<workload>", base=None):
    spec = validate(Boltzmann, data, path)
    base = Path(base if base is not None else Path(str(path)).parent)
    graph = _graph(spec, path, base)
    weights, h = couplings(spec, graph, base, path)
    clamped, values = _clamp(spec, graph.n, path)
    return BoltzmannWorkload(spec, graph.n, graph.edges, weights, h, clamped, values,
                             _colouring(spec, graph, path, base), str(path), _partition(spec, graph, path))


def _partition(spec, graph, path):
    """The chips' partition of the graph (None for one chip), its problems as errors naming the field."""
    c = spec.chips
    if c is None:
        return None
    if c.count > graph.n:
        raise ConfigError(path, [f"chips.count: {c.count} chips for {graph.n} nodes; allowed 1..{graph.n}"])
    fixed = None if c.assignment is None else np.asarray(c.assignment, np.int64)
    if fixed is not None:
        problems = partitions.problems(fixed, graph.n, c.count, "chips.assignment")
        if problems:
            raise ConfigError(path, problems)
    indptr, indices, _ = graphs.adjacency(graph.n, graph.edges, np.zeros(len(graph.edges), np.int64))
    try:
        return partitions.partition(c.partition, graph.n, graph.edges, indptr, indices, graph.lattice, c.count, fixed)
    except ArchsimError as e:
        raise ConfigError(path, [str(e)]) from None


@dataclass
class DtmWorkload:
    spec: Dtm
    stages: list  # BoltzmannWorkload per stage
    path: str


def dtm_from_data(data, path="<workload>", base=None):
    """A denoising chain: stage k samples its own Boltzmann machine (couplings from its file or the seed + k)
    with condition_nodes clamped to what stage k-1 left there; only the last stage's final state is recorded."""
    spec = validate(Dtm, data, path)
    base = Path(base if base is not None else Path(str(path)).parent)
    graph = _graph(spec, path, base)
    n = graph.n
    bad = [i for i in spec.condition_nodes if not 0 <= i < n]
    if bad:
        raise ConfigError(path, [f"condition_nodes: {bad} outside 0..{n - 1}"])
    colours = _colouring(spec, graph, path, base)
    stages = []
    for k, st in enumerate(spec.stages):
        sweeps = st.sweeps or spec.sweeps
        seed = st.seed if st.seed is not None else spec.seed + k
        bm_spec = Boltzmann(kind="boltzmann", name=f"{spec.name}:stage{k}", graph=spec.graph,
                            colouring=spec.colouring, couplings=st.couplings, coupling_bits=spec.coupling_bits,
                            bias_bits=spec.bias_bits, beta=st.beta or spec.beta, sweeps=sweeps, burn_in=sweeps - 1,
                            chains=spec.chains, seed=seed)
        weights, h = couplings(bm_spec, graph, base, path, field=f"stages[{k}].couplings")
        clamped = np.zeros(n, bool)
        if k > 0:
            clamped[spec.condition_nodes] = True
        stages.append(BoltzmannWorkload(bm_spec, n, graph.edges, weights, h, clamped, np.zeros(n, np.int8),
                                        colours, str(path)))
    return DtmWorkload(spec, stages, str(path))
