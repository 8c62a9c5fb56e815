"""The planner: pure data. Tiles each layer onto the synapse units and neurons, picks the loop order (samples
inner when a tile's weights fit one weight-buffer slot, else samples outer) and, for convolutions, whether
weights stay stationary across output positions; says why; builds the activation tables. No SimPy, no
kernels, no counting here."""
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
    op: str = ""           # 'adds' (accumulate-only synapse, 1-bit inputs) or 'macs'
    group: int = 1         # output channels per tile (units used in parallel)
    loop_order: str = ""   # 'samples_inner' or 'samples_outer'
    stationary: bool = False  # conv: weights held across positions
    bias_bits: int = 0     # bias read with each output's weights (0: no bias)
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    reason: str = ""

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
    slots: int

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
    if units * row_bits <= slot_bits:
        return units, "samples_inner", f"a tile of {units} outputs ({units * row_bits} weight bits) fits a " \
                                       f"weight-buffer slot of {slot_bits} bits: weights read once for T samples"
    fit = slot_bits // row_bits
    if fit >= 1:
        return fit, "samples_inner", f"tile shrunk from {units} to {fit} outputs so its weights " \
                                     f"({fit * row_bits} bits) fit a {slot_bits}-bit buffer slot"
    if wanted == "samples_inner":
        raise MappingError(f"layers[{index}]: mapping.loop_order is samples_inner but one neuron's weights "
                           f"({row_bits} bits) exceed a weight-buffer slot ({slot_bits} bits); enlarge "
                           f"weight_buffer.capacity or use loop_order auto/samples_outer")
    return units, "samples_outer", f"one neuron's weights ({row_bits} bits) exceed a {slot_bits}-bit " \
                                   f"buffer slot: weights re-read for every sample"


def _flat(shape):
    return int(np.prod(shape))


def _neuron_layer(arch, i, layer, in_shape, out_shape, ba_in, slot_bits):
    if ba_in > 1 and arch.synapse.kind == "accumulate":
        raise MappingError(f"layers[{i}] has {ba_in}-bit inputs, but synapse.kind 'accumulate' handles only "
                           f"1-bit inputs (it adds the selected weights); use synapse.kind 'mac'")
    table_bits, rng_bits = arch.neuron.table_bits, arch.neuron.rng.bits_per_draw
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
    group, order, reason = _loop_order(arch, n * layer.weight_bits + bias_bits, m, slot_bits, i)
    return LayerPlan(i, layer.type, in_shape, out_shape, n, m, P, layer.weight_bits, ba_in, layer.output_bits,
                     layer.activation, gain, shift, table, "adds" if arch.synapse.kind == "accumulate" else "macs",
                     group, order, reason=reason, bias_bits=bias_bits, **conv)


def make_plan(arch, workload) -> Plan:
    spec = workload.spec
    slots = 2 if arch.weight_buffer.double_buffered else 1
    slot_bits = arch.weight_buffer.capacity // slots
    layers, ba_in = [], spec.input.bits
    for i, (layer, (in_shape, out_shape)) in enumerate(zip(spec.layers, layer_shapes(spec))):
        if isinstance(layer, (Dense, Conv2d)):
            lp = _neuron_layer(arch, i, layer, in_shape, out_shape, ba_in, slot_bits)
        elif isinstance(layer, Pool):
            k = layer.kernel
            bits = ba_in if layer.type == "maxpool" else ba_in + int(np.ceil(np.log2(k * k)))
            lp = LayerPlan(i, layer.type, in_shape, out_shape, 0, in_shape[2], out_shape[0] * out_shape[1], 0,
                           ba_in, bits, "none", kernel=k, stride=layer.stride or k,
                           reason="avgpool sums the window (division folded into the next gain)"
                           if layer.type == "avgpool" else "")
        else:
            assert isinstance(layer, Flatten)
            lp = LayerPlan(i, "flatten", in_shape, out_shape, 0, _flat(out_shape), 1, 0, ba_in, ba_in, "none")
        layers.append(lp)
        ba_in = lp.ba_out
    _check_capacity(arch, spec, layers)
    return Plan(tuple(layers), spec.samples, workload.inputs.shape[0], spec.seed, arch.neuron.table_bits,
                arch.neuron.rng.bits_per_draw, slots)


def _check_capacity(arch, spec, layers):
    weight_bits = sum(lp.m * lp.row_bits for lp in layers)
    if weight_bits > arch.weight_mem.capacity:
        raise MappingError(f"workload {spec.name!r} needs {weight_bits} bits of weights, more than "
                           f"weight_mem.capacity = {arch.weight_mem.capacity} bits")
    for lp in layers:
        need = spec.samples * (_flat(lp.in_shape) * lp.ba_in + _flat(lp.out_shape) * lp.ba_out)
        if need > arch.act_mem.capacity:
            raise MappingError(f"layers[{lp.index}] needs {need} bits of activations (T x (inputs + outputs)), "
                               f"more than act_mem.capacity = {arch.act_mem.capacity} bits")
