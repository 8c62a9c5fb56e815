"""Boltzmann-machine / Ising workloads (kind: boltzmann) and denoising chains of them (kind: dtm): schema and
loader. Nodes are numbered row-major on grids; couplings J (symmetric, zero diagonal, zero off the graph's
edges) and biases h are integers of declared widths, from an .npz or generated from the seed.
P(s_i = +1 | rest) = 1 / (1 + exp(-2 beta (sum_j J_ij s_j + h_i)))."""
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import numpy as np
from pydantic import Field, model_validator

from ..config.fields import Strict
from ..config.loader import validate
from ..errors import ConfigError
from ..kernels.reference import draw
from . import graph as graphs

TAG_COUPLINGS, TAG_INIT = 5, 6


class Grid(Strict):
    type: Literal["grid"]
    rows: int = Field(gt=0, le=4096)
    cols: int = Field(gt=0, le=4096)
    neighbourhood: Union[Literal[4, 8, 12], list[tuple[int, int]]] = Field(
        default=4, description="4, 8, 12 (8 + distance-2 axis, DTCA-like) or a list of [dr, dc] offsets")
    periodic: bool = False


class EdgeList(Strict):
    type: Literal["edges"]
    nodes: int = Field(gt=0, le=1 << 22)
    edges: list[tuple[int, int]] = Field(min_length=0)


class Clamp(Strict):
    nodes: list[int] = Field(min_length=1)
    values: list[Literal[-1, 1]] = Field(min_length=1)


class Boltzmann(Strict):
    schema_version: Literal[1] = 1
    kind: Literal["boltzmann"]
    name: str = Field(min_length=1)
    graph: Annotated[Union[Grid, EdgeList], Field(discriminator="type")]
    couplings: Optional[str] = Field(default=None, description=".npz with integer J (n x n) and h (n), relative "
                                     "to the workload file; generated from the seed when absent")
    coupling_bits: int = Field(default=4, ge=1, le=16, description="signed coupling width")
    bias_bits: int = Field(default=4, ge=1, le=16, description="signed bias width")
    beta: float = Field(gt=0, le=1e6, description="inverse temperature")
    sweeps: int = Field(ge=1, le=1 << 31)
    burn_in: int = Field(default=0, ge=0)
    record_every: int = Field(default=1, ge=1)
    chains: int = Field(default=1, ge=1, le=4096)
    seed: int = Field(default=0, ge=0, lt=1 << 63)
    clamp: Optional[Clamp] = None

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
    graph: Annotated[Union[Grid, EdgeList], Field(discriminator="type")]
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
    edges: np.ndarray
    J: np.ndarray
    h: np.ndarray
    clamped: np.ndarray      # bool (n,)
    clamp_values: np.ndarray  # int8 (n,), meaningful where clamped
    colours: np.ndarray
    path: str

    def initial_states(self):
        """(chains, n) int8 from the counter RNG (sweep index 2**40 marks initialisation), clamps applied."""
        u = draw(self.spec.seed, TAG_INIT, np.arange(self.spec.chains)[:, None], 1 << 40,
                 np.arange(self.n)[None, :], 0, 1)
        s = np.where(u == 1, 1, -1).astype(np.int8)
        s[:, self.clamped] = self.clamp_values[self.clamped]
        return s


def _graph(spec, path):
    g = spec.graph
    if g.type == "grid":
        offsets = graphs.NEIGHBOURHOODS[g.neighbourhood] if isinstance(g.neighbourhood, int) else g.neighbourhood
        return g.rows * g.cols, graphs.grid_edges(g.rows, g.cols, offsets, g.periodic)
    problems = graphs.check_edges(g.nodes, g.edges)
    if problems:
        raise ConfigError(path, problems)
    e = np.array(sorted({(min(i, j), max(i, j)) for i, j in g.edges}), dtype=np.int64).reshape(-1, 2)
    return g.nodes, e


def _fits(a, bits):
    return a.size == 0 or (a.min() >= -(1 << (bits - 1)) and a.max() <= (1 << (bits - 1)) - 1)


def couplings(spec, n, edges, base, path, file=None, seed=None, field="couplings"):
    """(J, h) from the .npz or generated from the seed, checked against the graph and the declared widths."""
    file = spec.couplings if file is None else file
    if file is None:
        seed = spec.seed if seed is None else seed
        half = 1 << (spec.coupling_bits - 1)
        J = np.zeros((n, n), np.int64)
        vals = draw(seed, TAG_COUPLINGS, 0, np.arange(len(edges)), 0, 0, spec.coupling_bits) - half
        J[edges[:, 0], edges[:, 1]] = J[edges[:, 1], edges[:, 0]] = vals
        h = draw(seed, TAG_COUPLINGS, 1, np.arange(n), 0, 0, spec.bias_bits) - (1 << (spec.bias_bits - 1))
        return J, h
    try:
        npz = np.load(Path(base) / file, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ConfigError(path, [f"{field}: cannot read {file!r} ({e})"]) from None
    missing = [k for k in ("J", "h") if k not in npz.files]
    if missing:
        raise ConfigError(path, [f"{field}: {file!r} lacks array(s) {missing}; it holds {list(npz.files)}"])
    J, h = npz["J"], npz["h"]
    problems = []
    if J.shape != (n, n) or not np.issubdtype(J.dtype, np.integer):
        problems.append(f"{field}: {file}:J must be an integer {n} x {n} matrix, got {J.shape} {J.dtype}")
    if h.shape != (n,) or not np.issubdtype(h.dtype, np.integer):
        problems.append(f"{field}: {file}:h must be {n} integers, got {h.shape} {h.dtype}")
    if problems:
        raise ConfigError(path, problems)
    on_edge = np.zeros((n, n), bool)
    on_edge[edges[:, 0], edges[:, 1]] = on_edge[edges[:, 1], edges[:, 0]] = True
    if not np.array_equal(J, J.T):
        i, j = np.argwhere(J != J.T)[0]
        problems.append(f"{field}: {file}:J is not symmetric (J[{i},{j}] = {J[i, j]}, J[{j},{i}] = {J[j, i]})")
    if np.any(np.diag(J)):
        problems.append(f"{field}: {file}:J has a non-zero diagonal (node {int(np.flatnonzero(np.diag(J))[0])})")
    off = np.argwhere((J != 0) & ~on_edge & ~np.eye(n, dtype=bool))
    if len(off):
        problems.append(f"{field}: {file}:J[{off[0][0]},{off[0][1]}] = {J[off[0][0], off[0][1]]} couples nodes the "
                        f"graph does not connect")
    if not _fits(J, spec.coupling_bits):
        problems.append(f"{field}: {file}:J has values in [{J.min()}, {J.max()}], beyond coupling_bits = "
                        f"{spec.coupling_bits}")
    if not _fits(h, spec.bias_bits):
        problems.append(f"{field}: {file}:h has values in [{h.min()}, {h.max()}], beyond bias_bits = "
                        f"{spec.bias_bits}")
    if problems:
        raise ConfigError(path, problems)
    return J.astype(np.int64), h.astype(np.int64)


def boltzmann_from_data(data, path="<workload>", base=None):
    spec = validate(Boltzmann, data, path)
    base = Path(base if base is not None else Path(str(path)).parent)
    n, edges = _graph(spec, path)
    J, h = couplings(spec, n, edges, base, path)
    clamped, values = np.zeros(n, bool), np.zeros(n, np.int8)
    if spec.clamp:
        bad = [i for i in spec.clamp.nodes if not 0 <= i < n]
        if bad:
            raise ConfigError(path, [f"clamp.nodes: {bad} outside 0..{n - 1}"])
        clamped[spec.clamp.nodes] = True
        values[spec.clamp.nodes] = spec.clamp.values
    return BoltzmannWorkload(spec, n, edges, J, h, clamped, values, graphs.colour(n, edges), str(path))


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
    n, edges = _graph(spec, path)
    bad = [i for i in spec.condition_nodes if not 0 <= i < n]
    if bad:
        raise ConfigError(path, [f"condition_nodes: {bad} outside 0..{n - 1}"])
    stages = []
    for k, st in enumerate(spec.stages):
        sweeps = st.sweeps or spec.sweeps
        seed = st.seed if st.seed is not None else spec.seed + k
        bm_spec = Boltzmann(kind="boltzmann", name=f"{spec.name}:stage{k}", graph=spec.graph,
                            couplings=st.couplings, coupling_bits=spec.coupling_bits, bias_bits=spec.bias_bits,
                            beta=st.beta or spec.beta, sweeps=sweeps, burn_in=sweeps - 1, chains=spec.chains,
                            seed=seed)
        J, h = couplings(bm_spec, n, edges, base, path, field=f"stages[{k}].couplings")
        clamped = np.zeros(n, bool)
        if k > 0:
            clamped[spec.condition_nodes] = True
        stages.append(BoltzmannWorkload(bm_spec, n, edges, J, h, clamped, np.zeros(n, np.int8),
                                        graphs.colour(n, edges), str(path)))
    return DtmWorkload(spec, stages, str(path))
