"""The planner: pure data. Places the operands on the memory levels, tiles each layer onto the synapse units
and neurons, picks the loop order (samples inner when a tile's weights fit one slot of the innermost weight
level, else samples outer) and, for convolutions, whether weights stay stationary across output positions;
says why; builds the activation tables. No SimPy, no kernels, no counting here.

Placement (one rule each, checked before any kernel runs):
- weights: the levels that hold weights, outermost first, form the weight path; the innermost is the tile
  level (the synapses' weight registers), kept across the samples loop. The workload's weights reside (loaded
  before the run, not counted) in the innermost other weight level that can hold all of them; each tile then
  moves through every weight level inside that one, one transfer (hop) per level, down to the synapses. No
  level large enough: a MappingError naming every candidate level's capacity.
- activations: every layer's inputs and outputs (T samples) live in the innermost level that holds inputs and
  outputs and can hold the largest layer's T x (inputs + outputs) bits.
The per-layer, per-level tiles are in LayerPlan.level_tiles (what a mapper will choose next)."""
from dataclasses import dataclass, field

import numpy as np

from ..errors import MappingError
from ..kernels import tables
from ..workload.schema import Conv2d, Dense, Flatten, Pool, layer_shapes


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
    hops: tuple = ()       # weight transfers of a tile, outermost first: (source level, destination level)
    act_level: str = ""    # level holding the layer's inputs and outputs
    level_tiles: tuple = ()  # (level, role, tile bits): role home | stage | tile; the per-level tile description

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
        return self.type in ("dense", "conv2d")


@dataclass(frozen=True)
class Tile:
    item: int
    layer: int
    o0: int
    o1: int
    s0: int
    s1: int
    p0: int = 0
    p1: int = 1

    @property
    def outputs(self):
        return self.o1 - self.o0

    @property
    def samples(self):
        return self.s1 - self.s0

    @property
    def positions(self):
        return self.p1 - self.p0

    @property
    def repeats(self):
        """(sample, position) pairs the tile's compute phase runs one after another."""
        return self.samples * self.positions

    def rows(self, T, P):
        """Global kernel rows of the tile: (item * T + sample) * P + position."""
        s = np.arange(self.s0, self.s1)[:, None]
        p = np.arange(self.p0, self.p1)[None, :]
        return ((self.item * T + s) * P + p).reshape(-1)


@dataclass(frozen=True)
class Plan:
    layers: tuple
    samples: int
    items: int
    seed: int
    table_bits: int
    rng_bits: int
    weight_home: str = ""  # level the workload's weights reside in
    act_level: str = ""

    def tiles(self, item, lp):
        """The tiles of one layer pass (one input item through one layer), in execution order."""
        T = self.samples
        if lp.type == "flatten":
            return []
        if not lp.is_eo:
            return [Tile(item, lp.index, 0, lp.m, 0, T, 0, lp.P)]
        out = []
        positions = [(0, lp.P)] if lp.stationary else [(p, p + 1) for p in range(lp.P)]
        samples = [(0, T)] if lp.loop_order == "samples_inner" else [(s, s + 1) for s in range(T)]
        for o0 in range(0, lp.m, lp.group):
            o1 = min(o0 + lp.group, lp.m)
            for p0, p1 in positions:
                out.extend(Tile(item, lp.index, o0, o1, s0, s1, p0, p1) for s0, s1 in samples)
        return out

    def passes(self):
        for item in range(self.items):
            for lp in self.layers:
                yield item, lp, self.tiles(item, lp)


def _loop_order(arch, row_bits, m, slot_bits, index):
    units = min(arch.synapse.count, arch.neuron.count, m)
    wanted = arch.mapping.loop_order
    if wanted == "samples_outer":
        return units, "samples_outer", "mapping.loop_order is samples_outer: weights re-read for every sample"
    if slot_bits is None:
        if wanted == "samples_inner":
            raise MappingError(f"layers[{index}]: mapping.loop_order is samples_inner but only one level holds "
                               f"weights: add an inner weight level (the synapses' weight registers)")
        return units, "samples_outer", "only one level holds weights: the synapses read them for every sample"
    if units * row_bits <= slot_bits:
        return units, "samples_inner", f"a tile of {units} outputs ({units * row_bits} weight bits) fits a " \
                                       f"tile-level slot of {slot_bits} bits: weights read once for T samples"
    fit = slot_bits // row_bits
    if fit >= 1:
        return fit, "samples_inner", f"tile shrunk from {units} to {fit} outputs so its weights " \
                                     f"({fit * row_bits} bits) fit a {slot_bits}-bit tile-level slot"
    if wanted == "samples_inner":
        raise MappingError(f"layers[{index}]: mapping.loop_order is samples_inner but one neuron's weights "
                           f"({row_bits} bits) exceed a tile-level slot ({slot_bits} bits); enlarge the "
                           f"innermost weight level's capacity or use loop_order auto/samples_outer")
    return units, "samples_outer", f"one neuron's weights ({row_bits} bits) exceed a {slot_bits}-bit " \
                                   f"tile-level slot: weights re-read for every sample"


def _flat(shape):
    return int(np.prod(shape))


@dataclass(frozen=True)
class Placement:
    """Where the operands live: the weight path from the home level in, and the activation level."""
    home: object            # Level the weights reside in
    stages: tuple           # Levels between home and the tile level (tiles pass through them)
    tile: object            # innermost weight Level (None: a single weight level, synapses read it directly)
    act: object             # Level of the activations

    @property
    def hops(self):
        path = [self.home, *self.stages] + ([self.tile] if self.tile is not None else [])
        if len(path) == 1:
            return ((self.home.name, None),)
        return tuple((a.name, b.name) for a, b in zip(path, path[1:]))


def weight_bits_of(spec):
    """Bits of all the workload's weights and biases (from the layer shapes alone, before any array exists)."""
    total = 0
    for layer, (in_shape, out_shape) in zip(spec.layers, layer_shapes(spec)):
        if isinstance(layer, Dense):
            n, m = _flat(in_shape), layer.outputs
        elif isinstance(layer, Conv2d):
            n, m = layer.kernel * layer.kernel * in_shape[2], layer.channels
        else:
            continue
        total += m * (n * layer.weight_bits + (layer.bias_bits if layer.bias else 0))
    return total


def _pool_bits(layer, ba_in):
    """Output bits of a pooling layer: maxpool keeps the width, avgpool sums the window."""
    return ba_in if layer.type == "maxpool" else ba_in + int(np.ceil(np.log2(layer.kernel ** 2)))


def _activation_bits(spec):
    """(layer index, T x (inputs + outputs) bits) of the layer with the most activation bits."""
    ba, worst = spec.input.bits, (0, 0)
    for i, (layer, (in_shape, out_shape)) in enumerate(zip(spec.layers, layer_shapes(spec))):
        if isinstance(layer, Pool):
            out_bits = _pool_bits(layer, ba)
        elif isinstance(layer, Flatten):
            out_bits = ba
        else:
            out_bits = layer.output_bits
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
    acts = [lv for lv in arch.holders("inputs") if act_need <= lv.capacity]
    if not acts:
        caps = ", ".join(f"levels[{lv.name}].capacity = {lv.capacity} bits" for lv in arch.holders("inputs"))
        raise MappingError(f"layers[{index}] needs {act_need} bits of activations (T x (inputs + outputs)), "
                           f"more than any level that holds them: {caps}")
    return Placement(home, stages, tile, acts[-1])


def _stage_group(place, row_bits, group, index):
    """The tile's outputs, capped so the tile fits a slot of every level it passes through."""
    for lv in place.stages:
        fit = lv.slot_bits // row_bits
        if fit < 1:
            raise MappingError(f"layers[{index}]: one neuron's weights ({row_bits} bits) exceed a slot of "
                               f"levels[{lv.name}] ({lv.slot_bits} bits), which weight tiles pass through")
        group = min(group, fit)
    return group


def _level_tiles(place, group, row_bits, order):
    tile_bits = group * row_bits
    out = [(place.home.name, "home", 0)] + [(lv.name, "stage", tile_bits) for lv in place.stages]
    if place.tile is not None:
        out.append((place.tile.name, "tile" if order == "samples_inner" else "bypassed", tile_bits))
    return tuple(out)


def _neuron_layer(arch, place, i, layer, in_shape, out_shape, ba_in):
    table_bits, rng_bits = arch.neuron.table_bits, arch.rng.bits_per_draw
    if isinstance(layer, Dense):
        n, m, P, conv = _flat(in_shape), layer.outputs, 1, {}
    else:
        n, m, P = layer.kernel * layer.kernel * in_shape[2], layer.channels, out_shape[0] * out_shape[1]
        conv = dict(kernel=layer.kernel, stride=layer.stride, padding=layer.padding,
                    stationary=arch.mapping.weight_stationary)
    gain = layer.gain if layer.gain is not None else tables.default_gain(n, layer.weight_bits)
    shift = tables.table_shift(gain, table_bits)
    table = tables.activation_table(layer.activation, gain, shift, table_bits, layer.output_bits, rng_bits)
    bias_bits = layer.bias_bits if layer.bias else 0
    row_bits = n * layer.weight_bits + bias_bits
    slot_bits = place.tile.slot_bits if place.tile is not None else None
    group, order, reason = _loop_order(arch, row_bits, m, slot_bits, i)
    staged = _stage_group(place, row_bits, group, i)
    if place.stages:
        reason += f"; weights stream from {place.home.name} through " + \
            ", ".join(lv.name for lv in place.stages) + \
            (f" (tile shrunk from {group} to {staged} outputs to fit their slots)" if staged < group else "")
    if arch.synapse.kind == "accumulate" and ba_in > 1:
        reason += f"; {ba_in}-bit inputs on accumulate synapses: {ba_in} bit-serial passes of selected adds"
    return LayerPlan(i, layer.type, in_shape, out_shape, n, m, P, layer.weight_bits, ba_in, layer.output_bits,
                     layer.activation, gain, shift, table, "adds" if arch.synapse.kind == "accumulate" else "macs",
                     staged, order, reason=reason, bias_bits=bias_bits, hops=place.hops, act_level=place.act.name,
                     level_tiles=_level_tiles(place, staged, row_bits, order), **conv)


def make_plan(arch, workload) -> Plan:
    spec = workload.spec
    place_ = place(arch, spec)
    layers, ba_in = [], spec.input.bits
    for i, (layer, (in_shape, out_shape)) in enumerate(zip(spec.layers, layer_shapes(spec))):
        if isinstance(layer, (Dense, Conv2d)):
            lp = _neuron_layer(arch, place_, i, layer, in_shape, out_shape, ba_in)
        elif isinstance(layer, Pool):
            k = layer.kernel
            lp = LayerPlan(i, layer.type, in_shape, out_shape, 0, in_shape[2], out_shape[0] * out_shape[1], 0,
                           ba_in, _pool_bits(layer, ba_in), "none", kernel=k, stride=layer.stride or k, act_level=place_.act.name,
                           reason="avgpool sums the window (division folded into the next gain)"
                           if layer.type == "avgpool" else "")
        else:
            assert isinstance(layer, Flatten)
            lp = LayerPlan(i, "flatten", in_shape, out_shape, 0, _flat(out_shape), 1, 0, ba_in, ba_in, "none",
                           act_level=place_.act.name)
        layers.append(lp)
        ba_in = lp.ba_out
    return Plan(tuple(layers), spec.samples, workload.inputs.shape[0], spec.seed, arch.neuron.table_bits,
                arch.rng.bits_per_draw, place_.home.name, place_.act.name)


def capacity_check(arch):
    """A `before_arrays` check for the workload loader: the architecture's capacity and mapping errors of a
    p-DNN, found from its spec before any weight or input is made."""
    from types import SimpleNamespace
    return lambda spec, items: make_plan(arch, SimpleNamespace(spec=spec, inputs=np.empty((items, 0))))
