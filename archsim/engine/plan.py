"""The planner: pure data. Tiles each layer onto the synapse units and neurons, picks the loop order (samples
inner when a tile's weights fit one weight-buffer slot, else samples outer) and says why; builds the
activation tables. No SimPy, no kernels, no counting here."""
from dataclasses import dataclass, field

import numpy as np

from ..errors import MappingError
from ..kernels import tables
from ..workload.loader import fan_ins


@dataclass(frozen=True)
class LayerPlan:
    index: int
    n: int                 # fan-in
    m: int                 # outputs
    bw: int                # weight bits
    ba_in: int             # input activation bits
    ba_out: int            # output activation bits
    activation: str
    gain: float
    shift: int
    table: np.ndarray = field(repr=False, compare=False)
    op: str                # 'adds' (accumulate-only synapse, 1-bit inputs) or 'macs'
    group: int             # outputs per tile (units used in parallel)
    loop_order: str        # 'samples_inner' or 'samples_outer'
    reason: str

    @property
    def kind_code(self):
        return tables.KIND_CODES[self.activation]

    @property
    def stochastic(self):
        return self.activation in ("pbit", "noisy")

    @property
    def binary(self):
        return self.ba_in == 1


@dataclass(frozen=True)
class Tile:
    item: int
    layer: int
    o0: int
    o1: int
    s0: int
    s1: int

    @property
    def outputs(self):
        return self.o1 - self.o0

    @property
    def samples(self):
        return self.s1 - self.s0


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
        out = []
        for o0 in range(0, lp.m, lp.group):
            o1 = min(o0 + lp.group, lp.m)
            if lp.loop_order == "samples_inner":
                out.append(Tile(item, lp.index, o0, o1, 0, self.samples))
            else:
                out.extend(Tile(item, lp.index, o0, o1, s, s + 1) for s in range(self.samples))
        return out

    def passes(self):
        for item in range(self.items):
            for lp in self.layers:
                yield item, lp, self.tiles(item, lp)


def _loop_order(arch, n, bw, m, slot_bits, index):
    units = min(arch.synapse.count, arch.neuron.count, m)
    row_bits = n * bw
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


def make_plan(arch, workload) -> Plan:
    spec = workload.spec
    slots = 2 if arch.weight_buffer.double_buffered else 1
    slot_bits = arch.weight_buffer.capacity // slots
    table_bits, rng_bits = arch.neuron.table_bits, arch.neuron.rng.bits_per_draw
    layers, ba_in = [], spec.input.bits
    for i, (layer, n) in enumerate(zip(spec.layers, fan_ins(spec))):
        if ba_in > 1 and arch.synapse.kind == "accumulate":
            raise MappingError(f"layers[{i}] has {ba_in}-bit inputs, but synapse.kind 'accumulate' handles only "
                               f"1-bit inputs (it adds the selected weights); use synapse.kind 'mac'")
        op = "adds" if arch.synapse.kind == "accumulate" else "macs"
        gain = layer.gain if layer.gain is not None else tables.default_gain(n, layer.weight_bits)
        shift = tables.table_shift(gain, table_bits)
        table = tables.activation_table(layer.activation, gain, shift, table_bits, layer.output_bits, rng_bits)
        group, order, reason = _loop_order(arch, n, layer.weight_bits, layer.outputs, slot_bits, i)
        layers.append(LayerPlan(i, n, layer.outputs, layer.weight_bits, ba_in, layer.output_bits,
                                layer.activation, gain, shift, table, op, group, order, reason))
        ba_in = layer.output_bits
    _check_capacity(arch, spec, layers)
    return Plan(tuple(layers), spec.samples, workload.inputs.shape[0], spec.seed, table_bits, rng_bits, slots)


def _check_capacity(arch, spec, layers):
    weight_bits = sum(lp.m * lp.n * lp.bw for lp in layers)
    if weight_bits > arch.weight_mem.capacity:
        raise MappingError(f"workload {spec.name!r} needs {weight_bits} bits of weights, more than "
                           f"weight_mem.capacity = {arch.weight_mem.capacity} bits")
    for lp in layers:
        need = spec.samples * (lp.n * lp.ba_in + lp.m * lp.ba_out)
        if need > arch.act_mem.capacity:
            raise MappingError(f"layers[{lp.index}] needs {need} bits of activations (T x (inputs + outputs)), "
                               f"more than act_mem.capacity = {arch.act_mem.capacity} bits")
