"""The planner: pure data. Places the operands on the memory levels and maps every dense and conv2d layer: a
mapping (mapping/mapfile.py: what each level keeps, its loops, the unrolling of outputs over the synapse units)
from a file, or the planner's own choice expressed as the same kind of mapping; checks it; builds the activation
tables. Either way the layer runs through one executor (mapping/execute.py: Plan.tiles walks the mapping's loops
into tiles). No SimPy, no kernels, no counting here.

The planner's own mapping of a layer: outputs unrolled over min(synapses, neurons) units, shrunk to the largest
count whose tile fits; the fewest tiles that allows, ceil(outputs / units), all of one size when that many even
tiles exist, else full tiles and a partial last one (loopnest.LAST_TILE: a 40-output layer on 16 units runs tiles
of 16, 16 and 8 outputs; 10 outputs where 8 fit run as 5 and 5); samples inner (the weights kept in
the innermost weight level, the synapses' registers, across the T samples) when a tile fits there, else samples
outer (the registers bypassed: the synapses read the weights from the level outside them for every sample); for
convolutions, positions inside the weights' residency when mapping.weight_stationary, else outside it. Without
weight_stationary a convolution's weights are never reused across positions (the paper's no-reuse building
block), and the planner's samples-outer mapping never reuses them across samples: those dimensions index the
weights in the layer's loop nest (ops/dense.Dense.operation).

Placement (one rule each, checked before any kernel runs):
- weights: the levels that hold weights, outermost first, form the weight path; the innermost is the tile
  level (the synapses' weight registers), kept across the samples loop. The workload's weights reside (loaded
  before the run, not counted) in the innermost other weight level that can hold all of them; each tile then
  moves through every weight level inside that one, one transfer (hop) per level, down to the synapses. No
  level large enough: a MappingError naming every candidate level's capacity.
- activations: every layer's inputs and outputs (T samples) live (their home) in the innermost level that holds
  inputs and outputs and can hold the largest layer's T x (inputs + outputs) bits. Levels inside the home that
  may hold inputs (outputs) stage the layers' tiles of them (mapping/execute.py: input hops and output drains):
  none in the shipped configs, whose activations fit their one activation level; a DRAM that holds activations
  behind a global buffer too small for them homes them and streams tiles through the buffer. When no tile of
  the staged mapping fits, the planner reads and writes the activations at their home. When a layer's mapping
  fits nowhere beside the activations' home (their T x (inputs + outputs) leave too little room for the weight
  tiles), the activations move to the next outer level that may hold them, staged as above; the first refusal
  is the error when none works.
- pooling: staged through the levels its neighbouring layer with weights stages its inputs through, in bands of
  output rows of one sample that fit them (_staged_bands); at the activations' home otherwise.
A mapping file may home an operand elsewhere (its outermost kept level; inputs and outputs at one home, the same
for every layer, since a layer's outputs are the next layer's inputs); every home's total (the weights of the
layers homed there, the largest layer's activations) must fit, and tiles fit what is left."""
from dataclasses import dataclass, field, replace

import numpy as np

from .. import ops
from ..errors import MappingError
from ..kernels import tables
from ..mapping import mapfile
from ..mapping.execute import activation_path, labels, tile_count, weight_path
from ..mapping.hierarchy import levels_of, pdnn_levels
from ..mapping.loopnest import EXACT, LAST_TILE, Mapping, check
from ..workload.schema import layer_shapes


@dataclass(frozen=True)
class LayerPlan:
    index: int
    type: str              # dense, conv2d, maxpool, avgpool, flatten
    in_shape: tuple
    out_shape: tuple
    n: int                 # fan-in of one output neuron (0 for pool/flatten)
    m: int                 # outputs per position: neurons (dense) or channels (conv, pool)
    P: int                 # output positions (1 for dense)
    bw: int                # weight bits
    ba_in: int             # input activation bits
    ba_out: int            # output activation bits
    activation: str        # for pool/flatten: 'none'
    gain: float = 0.0
    shift: int = 0
    table: np.ndarray = field(default=None, repr=False, compare=False)
    op: str = ""           # 'adds' (accumulate-only synapse; bit-serial for multi-bit inputs) or 'macs'
    group: int = 1         # output channels per tile (units used in parallel)
    loop_order: str = ""   # 'samples_inner' or 'samples_outer'
    stationary: bool = False  # conv: weights held across positions
    bias_bits: int = 0     # bias read with each output's weights (0: no bias)
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    reason: str = ""
    hops: tuple = ()       # weight transfers of a tile, outermost first: (source level, destination level or
    #                        None: the synapses read the weights from the source during compute)
    act_level: str = ""    # the activations' home: the level holding every layer's inputs and outputs whole
    in_level: str = ""     # the innermost level keeping the layer's inputs (its compute reads them there)
    out_level: str = ""    # the innermost level keeping the layer's outputs (its compute writes them there)
    in_hops: tuple = ()    # input transfers of a tile, outermost first: (parent level, child level)
    out_hops: tuple = ()   # output transfers (drains, read-backs), innermost first: (child level, parent level)
    level_tiles: tuple = ()  # (level, role, tile bits): role home | stage | tile; the per-level tile description
    registers: str = ""    # the synapses' weight registers (innermost level keeping weights), or ""
    feed: bool = False     # the last hop feeds the synapses (no destination write; its destination, when named,
    #                        is the bypassed register level whose slots the stream passes through)
    broadcast: bool = False  # one input read feeds every unit of a tile (else each unit reads its own copy)
    partial_bits: int = 0  # bits of a partial sum written out and read back (accumulator width)
    band_rows: int = 0     # pooling, staged: output rows of one sample per tile (0: one tile, read at the home)
    layer_map: object = field(default=None, repr=False, compare=False)  # mapfile.LayerMap of the layer
    nest: tuple = field(default=(), repr=False, compare=False)  # (loopnest Operation, levels, Mapping)

    @property
    def compute_stage(self):
        """Index of the compute phase among a tile's stages: weight hops, input hops, read-backs (outermost
        first), compute, drains (innermost first)."""
        return len(self.hops) + len(self.in_hops) + len(self.out_hops)

    @property
    def n_stages(self):
        return self.compute_stage + 1 + len(self.out_hops)

    @property
    def kind_code(self):
        return tables.KIND_CODES[self.activation]

    @property
    def stochastic(self):
        return self.activation in ("pbit", "noisy")

    @property
    def binary(self):
        return self.ba_in == 1

    @property
    def row_bits(self):
        """Bits of one output's weight row in weight memory: its n weights, then its bias."""
        return self.n * self.bw + self.bias_bits

    @property
    def is_eo(self):
        """Layers of elementary operations (neurons with weights): dense and conv2d."""
        return ops.of(self).weighted


@dataclass(frozen=True)
class Plan:
    layers: tuple
    samples: int
    items: int
    seed: int
    table_bits: int
    rng_bits: int
    weight_home: str = ""  # level the workload's weights reside in ("" when layers differ)
    act_level: str = ""
    reserved: dict = field(default_factory=dict, compare=False)  # level -> bits resident whole there (homes)
    walked: dict = field(default_factory=dict, repr=False, compare=False)  # layer index -> its tiles (ops)

    def tiles(self, item, lp):
        """The tiles of one layer pass (one input item through one layer), in execution order (its operation's:
        for a layer with weights, the executor's walk of the layer's mapping, the same for every item)."""
        return ops.of(lp).tiles(self, item, lp)

    def passes(self):
        for item in range(self.items):
            for lp in self.layers:
                yield item, lp, self.tiles(item, lp)


def _flat(shape):
    return int(np.prod(shape))


@dataclass(frozen=True)
class Placement:
    """Where the operands live: the weight path from the home level in, and the activations' home and the levels
    inside it that stage their tiles."""
    home: object            # Level the weights reside in
    stages: tuple           # Levels between home and the tile level (tiles pass through them)
    tile: object            # innermost weight Level (None: a single weight level, synapses read it directly)
    act: object             # Level the activations reside in
    act_stages: tuple = ()  # Levels inside `act` that may hold inputs or outputs (their tiles pass through them)


def weight_bits_of(spec):
    """Bits of all the workload's weights and biases (from the layer shapes alone, before any array exists)."""
    return sum(ops.of(layer).weight_bits(layer, in_shape) for layer, (in_shape, _) in
               zip(spec.layers, layer_shapes(spec)))


def _activation_bits(spec):
    """(layer index, T x (inputs + outputs) bits) of the layer with the most activation bits."""
    ba, worst = spec.input.bits, (0, 0)
    for i, (layer, (in_shape, out_shape)) in enumerate(zip(spec.layers, layer_shapes(spec))):
        out_bits = ops.of(layer).out_bits(layer, ba)
        need = spec.samples * (_flat(in_shape) * ba + _flat(out_shape) * out_bits)
        worst = max(worst, (need, -i))
        ba = out_bits
    return -worst[1], worst[0]


def place(arch, spec) -> Placement:
    """Place the workload's operands on the levels from its shapes alone (call before generating weights):
    MappingError when no level can hold them."""
    chain = arch.holders("weights")
    tile = chain[-1] if len(chain) >= 2 else None
    backing = chain[:-1] if tile is not None else chain
    need = weight_bits_of(spec)
    homes = [lv for lv in backing if need <= lv.capacity]
    if not homes:
        caps = ", ".join(f"levels[{lv.name}].capacity = {lv.capacity} bits" for lv in backing)
        raise MappingError(f"workload {spec.name!r} needs {need} bits of weights, more than any level that can "
                           f"hold them: {caps}")
    home = homes[-1]
    stages = tuple(backing[backing.index(home) + 1:])
    index, act_need = _activation_bits(spec)
    acts = [lv for lv in arch.holders("inputs") if "outputs" in lv.holds and act_need <= lv.capacity]
    if not acts:
        caps = ", ".join(f"levels[{lv.name}].capacity = {lv.capacity} bits" for lv in arch.holders("inputs"))
        raise MappingError(f"layers[{index}] needs {act_need} bits of activations (T x (inputs + outputs)), "
                           f"more than any level that holds them: {caps}")
    return Placement(home, stages, tile, acts[-1], _act_stages(arch, acts[-1]))


def _act_stages(arch, home):
    """The levels inside the activations' home `home` that may hold inputs or outputs."""
    inner = arch.levels[[lv.name for lv in arch.levels].index(home.name) + 1:]
    return tuple(lv for lv in inner if {"inputs", "outputs"} & set(lv.holds))


def _act_homes(arch, spec, place_):
    """The placement, then the same with the activations homed in each outer level that may hold them and can,
    innermost first, their tiles staged through the levels inside it (tried when the planner's mapping of a
    layer fits none of the levels of the previous one)."""
    need = _activation_bits(spec)[1]
    names = [lv.name for lv in arch.holders("inputs")]
    outer = [lv for lv in arch.holders("inputs")[:names.index(place_.act.name)]
             if "outputs" in lv.holds and need <= lv.capacity]
    return [place_] + [replace(place_, act=lv, act_stages=_act_stages(arch, lv)) for lv in reversed(outer)]


def _even(m, fit):
    """Outputs per tile when at most `fit` fit: the fewest tiles, ceil(m / fit); all of one size when that many
    even tiles exist (10 outputs, 8 fit: 5 and 5), else full tiles of `fit` and a partial last one (40, 16 fit:
    16, 16, 8)."""
    tiles = -(-m // fit)
    return m // tiles if m % tiles == 0 else fit


def _loops(lp, T, g, inner, stationary, n_levels):
    """The planner's loops: tiles (output groups, and positions and samples where they are outside the weights'
    residency) at the outermost level, the compute phase at the innermost."""
    groups = -(-lp.m // g)  # the last tile partial when g does not divide the outputs
    if inner:
        tile = [("M", groups)] if stationary else [("N", lp.P), ("M", groups)]
        phase = ([("N", lp.P)] if stationary else []) + [("T", T), ("C", lp.n)]
    else:
        tile = [("M", groups), ("T", T)] if stationary else [("M", groups), ("N", lp.P), ("T", T)]
        phase = ([("N", lp.P)] if stationary else []) + [("C", lp.n)]
    tile, phase = [x for x in tile if x[1] > 1], [x for x in phase if x[1] > 1]
    temporal = [tile + phase] if n_levels == 1 else [tile] + [[]] * (n_levels - 2) + [phase]
    return Mapping(tuple(tuple(level) for level in temporal), {"M": g} if g > 1 else {},
                   LAST_TILE if lp.m % g else EXACT)


def _planner_map(arch, lp, op, place_, act, reserved, T):
    """The planner's mapping of one layer (see the module docstring) and why."""
    names = [lv.name for lv in pdnn_levels(arch)]
    units = min(arch.synapse.count, arch.neuron.count, lp.m)
    wanted = arch.mapping.loop_order
    if place_.tile is None and wanted == "samples_inner":
        raise MappingError(f"layers[{lp.index}]: mapping.loop_order is samples_inner but only one level holds "
                           f"weights: add an inner weight level (the synapses' weight registers)")
    orders = [inner for inner in (True, False) if (wanted == "auto" or wanted == ("samples_inner" if inner else
              "samples_outer")) and (place_.tile is not None or not inner)]
    stationary = ops.of(lp).positions and arch.mapping.weight_stationary
    problems = []
    staged = [place_.act_stages] if act.name == place_.act.name and place_.act_stages else []
    inner_op = op
    for inner, stages in ((inner, stages) for stages in staged + [()] for inner in orders):
        keep = {n: set() for n in names}
        for lv in [place_.home, *place_.stages] + ([place_.tile] if inner else []):
            keep[lv.name].add("weights")
        keep[act.name] |= {"inputs", "outputs"}
        for lv in stages:
            keep[lv.name] |= {"inputs", "outputs"} & set(lv.holds)
        levels = levels_of(arch, keep, reserved)
        # samples outer: every sample's evaluation fetches its own weights through the levels
        op = inner_op if inner else ops.loop_nest(arch, lp, T, "T")
        for fit in range(units, 0, -1):
            g = _even(lp.m, fit)
            mapping = _loops(lp, T, g, inner, stationary, len(names))
            problems = check(op, levels, mapping)
            if not problems:
                return mapfile.LayerMap(lp.index, {n: frozenset(k) for n, k in keep.items()}, mapping,
                                        f"layers[{lp.index}] (the planner's mapping)"), \
                    _reason(arch, lp, place_, inner, g, fit, units, wanted, stages, bool(staged)), op
    if wanted == "samples_inner":
        raise MappingError(f"layers[{lp.index}]: mapping.loop_order is samples_inner but one neuron's weights "
                           f"({lp.row_bits} bits) do not fit levels[{place_.tile.name}] ({place_.tile.slot_bits} "
                           f"bits per slot); enlarge it or use loop_order auto/samples_outer")
    raise MappingError(f"layers[{lp.index}]: no tiling fits the levels, even one output per tile: "
                       + "; ".join(problems))


def _reason(arch, lp, place_, inner, g, fit, units, wanted, act_stages=(), stageable=False):
    if inner:
        tile = place_.tile
        reason = (f"a tile of {fit} outputs ({fit * lp.row_bits} weight bits) fits levels[{tile.name}] "
                  f"({tile.slot_bits} bits per slot): weights read once for T samples" if fit == units else
                  f"tile shrunk from {units} to {fit} outputs so its weights ({fit * lp.row_bits} bits) fit every "
                  f"level they pass through")
    elif wanted == "samples_outer":
        reason = "mapping.loop_order is samples_outer: weights re-read for every sample"
    elif place_.tile is None:
        reason = "only one level holds weights: the synapses read them for every sample"
    else:
        reason = (f"one neuron's weights ({lp.row_bits} bits) exceed a {place_.tile.slot_bits}-bit tile-level "
                  f"slot: weights re-read for every sample")
    if lp.m % g:
        reason += f"; {lp.m} outputs on {g} units: {lp.m // g} full tiles and a last tile of {lp.m % g}"
    elif g < fit:
        reason += f"; {lp.m // g} even tiles of {g} outputs (as few as tiles of {fit})"
    if place_.stages:
        reason += f"; weights stream from {place_.home.name} through " + \
            ", ".join(lv.name for lv in place_.stages)
    if act_stages:
        reason += f"; activations homed in {place_.act.name} (too large for the levels inside it), their tiles " \
                  f"staged through " + ", ".join(lv.name for lv in act_stages)
    elif stageable:
        reason += f"; activations read and written at their home {place_.act.name} (no tile of them fits " + \
            ", ".join(lv.name for lv in place_.act_stages) + ")"
    return reason


def _act_level(layer_maps, default, where):
    """The activations' home: the outermost level keeping inputs, and outputs, of every mapped layer (a layer's
    outputs are the next layer's inputs, so one home for all); `default` when no layer is mapped from a file."""
    found = {}
    for lm in layer_maps.values():
        kept = {op: [n for n, k in lm.keep.items() if op in k] for op in ("inputs", "outputs")}
        for op, at in kept.items():
            if not at:
                raise MappingError(f"{lm.where}.levels: inputs are kept at {kept['inputs'] or 'no level'} and "
                                   f"outputs at {kept['outputs'] or 'no level'}; keep {op} at one level at least")
        if kept["inputs"][0] != kept["outputs"][0]:
            raise MappingError(f"{lm.where}.levels: inputs are homed in {kept['inputs'][0]} and outputs in "
                               f"{kept['outputs'][0]} (each one's outermost kept level); a layer's outputs are the "
                               f"next layer's inputs: home both at one level")
        found.setdefault(kept["inputs"][0], lm.where)
    if len(found) > 1:
        raise MappingError(f"{where}: layers home their activations at different levels "
                           f"({'; '.join(f'{w}: {n}' for n, w in found.items())}); a layer's outputs are the next "
                           f"layer's inputs: home them at one level (the outermost level keeping inputs and outputs)")
    return next(iter(found), default)


def _reserve(arch, homes, act, act_need, where):
    """{level: bits resident whole there} (the weights homed there, the activations), each home's total
    checked against its capacity (MappingError naming the level and the limit)."""
    weights = {}
    for name, bits in homes:
        weights[name] = weights.get(name, 0) + bits
    for name, bits, what in [(n, b, "the weights homed there") for n, b in weights.items()] + \
            [(act.name, act_need, "the largest layer's activations (T x (inputs + outputs))")]:
        if bits > arch.level(name).capacity:
            raise MappingError(f"{where}: levels[{name}] must hold {bits} bits of {what}, more than its capacity "
                               f"of {arch.level(name).capacity} bits")
    reserved = dict(weights)
    reserved[act.name] = reserved.get(act.name, 0) + act_need
    return reserved


MAX_TILES_PER_PASS = 1_000_000  # tiles are executed one by one: a bound on a pass's Python work and memory


def _mapped(arch, lp, layer_map, op, T):
    """The layer plan with its mapping checked and its labels derived."""
    names = [lv.name for lv in pdnn_levels(arch)]
    levels, mapping = layer_map[1], layer_map[0].mapping
    problems = check(op, levels, mapping)
    n_tiles = tile_count(mapping, op)
    if n_tiles > MAX_TILES_PER_PASS:
        problems.append(f"the loops above the innermost level ({names[-1]}) make {n_tiles} tiles per layer pass; "
                        f"at most {MAX_TILES_PER_PASS} are executed: move loops into {names[-1]}")
    units = min(arch.synapse.count, arch.neuron.count)
    g = mapping.spatial.get("M", 1)
    if g > units:
        problems.append(f"spatial: M = {g} outputs unrolled, more than the {units} units (min of synapse.count "
                        f"and neuron.count)")
    if problems:
        raise MappingError(f"{layer_map[0].where}: the mapping does not fit:\n  - " + "\n  - ".join(problems))
    hops, registers = weight_path(levels)
    in_hops, out_hops = activation_path(levels)
    order, stationary = labels(op, levels, mapping)
    last = arch.level(names[-1])
    if not registers and "weights" in last.holds and not {"inputs", "outputs"} & set(last.holds):
        hops[-1] = (hops[-1][0], len(names) - 1)  # the stream passes the bypassed registers' slots
    holders = [i for i, lv in enumerate(levels) if "weights" in lv.holds]
    tiles = tuple((names[i], "home" if k == 0 else "tile" if registers and i == holders[-1] else "stage",
                   0 if k == 0 else mapping.factor("M", range(i, len(levels))) *
                   (mapping.factor("C", range(i, len(levels))) * lp.bw + lp.bias_bits))
                  for k, i in enumerate(holders))
    return replace(lp, reason=f"{lp.reason}; mapping {mapfile.mapping_text(mapping, names, layer_map[0].keep)}",
                   group=g, loop_order=order, stationary=stationary and ops.of(lp).positions,
                   hops=tuple((names[p], names[c] if c is not None else None) for p, c in hops),
                   in_hops=tuple((names[p], names[c]) for p, c in in_hops),
                   out_hops=tuple((names[c], names[p]) for c, p in out_hops),
                   in_level=names[in_hops[-1][1]] if in_hops else lp.act_level,
                   out_level=names[out_hops[0][0]] if out_hops else lp.act_level,
                   level_tiles=tiles, registers=names[holders[-1]] if registers else "", feed=not registers,
                   broadcast=arch.mapping.input_broadcast,
                   partial_bits=max(lp.ba_out, arch.synapse.accumulator_bits), layer_map=layer_map[0],
                   nest=(op, levels, mapping))


def _file_maps(mapping, arch, plan_layers):
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        from ..inputs import read_yaml_mapping
        mapping = mapfile.load(str(mapping), arch, read_yaml_mapping)
    eo = {lp.index for lp in plan_layers if lp.is_eo}
    for layer, lm in mapping.items():
        if layer not in eo:
            raise MappingError(f"{lm.where}.layer: {layer} is not a dense or conv2d layer of the workload; "
                               f"allowed: {sorted(eo)}")
    return mapping


def make_plan(arch, workload, mapping=None) -> Plan:
    """Plan `workload` on `arch`; mapping: a mapping file's path or {layer: LayerMap} (layers it leaves out
    are mapped by the planner); MappingError naming the file, field and limit when it does not fit."""
    spec = workload.spec
    place_ = place(arch, spec)
    layers, ba_in = [], spec.input.bits
    for i, (layer, (in_shape, out_shape)) in enumerate(zip(spec.layers, layer_shapes(spec))):
        lp = LayerPlan(**ops.of(layer).plan_fields(arch, i, layer, in_shape, out_shape, ba_in))
        layers.append(lp)
        ba_in = lp.ba_out
    files = _file_maps(mapping, arch, layers)
    where = next(iter(files.values())).where.split(": layers[")[0] if files else "the planner"
    candidates = _act_homes(arch, spec, place_) if not files else [place_]
    refused = []
    for placement in candidates:
        try:
            return _plan_layers(arch, workload, layers, files, placement, where)
        except MappingError as e:  # the planner's: try the activations one level further out
            refused.append(e)
    raise refused[0]


def _plan_layers(arch, workload, layers, files, place_, where):
    """The plan of the layers with the operands placed by `place_` (mapping files override it per layer)."""
    spec = workload.spec
    act = arch.level(_act_level(files, place_.act.name, where))
    homes = []
    for lp in (lp for lp in layers if lp.is_eo):
        lm = files.get(lp.index)
        home = next((n for n, k in lm.keep.items() if "weights" in k), None) if lm else place_.home.name
        if home is None:
            raise MappingError(f"{lm.where}.levels: operand 'weights' is held by no level (keep it somewhere)")
        homes.append((home, lp.m * lp.row_bits))
    reserved = _reserve(arch, homes, act, _activation_bits(spec)[1], where)
    T = spec.samples
    out = []
    for lp in layers:
        if lp.is_eo:
            op = ops.loop_nest(arch, lp, T)
            if lp.index in files:
                lm = files[lp.index]
                lp = replace(lp, reason=f"mapping from {lm.where}" + lp.reason)
            else:
                lm, reason, op = _planner_map(arch, lp, op, place_, act, reserved, T)
                lp = replace(lp, reason=reason + lp.reason)
            lp = _mapped(arch, replace(lp, act_level=act.name), (lm, levels_of(arch, lm.keep, reserved)), op, T)
        else:
            lp = replace(lp, act_level=act.name, in_level=act.name, out_level=act.name)
        out.append(lp)
    out = [_staged_bands(arch, lp, out, reserved) if ops.of(lp).banded else lp for lp in out]
    homes_used = {h for h, _ in homes}
    return Plan(tuple(out), T, workload.inputs.shape[0], spec.seed, arch.neuron.table_bits,
                arch.rng.bits_per_draw, homes_used.pop() if len(homes_used) == 1 else "", act.name, reserved)


def _staged_bands(arch, lp, layers, reserved):
    """A banded layer (pooling, ops/pool.py) staged like its neighbours: through the levels the nearest layer with
    weights before it (else after it) reads its inputs through, in bands of as many output rows of one sample as
    fit every one of those levels (their input and output slots, beside what resides there whole); unchanged (its
    maps read and written at their home) when that layer is not staged or not even one output row fits."""
    before = [x for x in layers[:lp.index] if x.is_eo][::-1]
    neighbour = next(iter(before + [x for x in layers[lp.index + 1:] if x.is_eo]), None)
    if neighbour is None or not neighbour.in_hops:
        return lp
    chain = [arch.level(child) for _, child in neighbour.in_hops]
    op = ops.of(lp)

    def fits(rows):
        return all(lv.slots * op.band_bits(lp, rows) <= lv.capacity - reserved.get(lv.name, 0) for lv in chain)

    rows = next((r for r in range(lp.out_shape[0], 0, -1) if fits(r)), 0)
    names = ", ".join(lv.name for lv in chain)
    if not rows:
        return replace(lp, reason=f"{lp.reason}; maps read and written at their home {lp.act_level} (no band of "
                                  f"one output row fits {names})".lstrip("; "))
    shared = f" (input rows shared by neighbouring bands re-read from {lp.act_level})" \
        if lp.stride < lp.kernel and rows < lp.out_shape[0] else ""
    return replace(lp, in_hops=neighbour.in_hops, out_hops=tuple((c, p) for p, c in reversed(neighbour.in_hops)),
                   in_level=chain[-1].name, out_level=chain[-1].name, band_rows=rows,
                   reason=f"{lp.reason}; maps staged through {names} in bands of {rows} output rows of one "
                          f"sample{shared}".lstrip("; "))


def capacity_check(arch, mapping=None):
    """A `before_arrays` check for the workload loader: the architecture's capacity and mapping errors of a
    p-DNN (and of a mapping file), found from its spec before any weight or input is made."""
    from types import SimpleNamespace
    return lambda spec, items: make_plan(arch, SimpleNamespace(spec=spec, inputs=np.empty((items, 0))), mapping)
