"""The accelerator: composes the memory levels, synapse units, neurons, RNGs and pooling unit; turns one tile's
transfers between levels (the moves the executor's walk of the mapping gives the tile: weight hops, input hops,
partial sums read back, output drains) and its compute phase (its accumulator residencies) into component calls
(which count) and returns each phase's cycles; gives the pipeline's stages their ports.

A tile's stages, in order (LayerPlan.compute_stage): its weight hops (outermost first), its input hops (outermost
first), its output read-backs (outermost first), its compute phase, its output drains (innermost first). Every
transfer between two levels reads one and writes the other at once (hw/timing.hop_cycles): a read-back reads the
parent and writes the child, a drain reads the child and writes the parent.
Addresses: the weights' rows in their home, layer after layer; each activation home split in two halves used
ping-pong (layer l reads half l % 2, writes the other); a staged tile at the start of its level (inputs) or of
the level's upper half (outputs)."""
from ..config.schema import COUPLINGS, INPUTS, OUTPUTS, STATES, WEIGHTS
from ..mapping.execute import FINAL, PARTIAL
from .memory import READ, WRITE, Memory, assign_ports
from .timing import hop_cycles, sample_cycles
from .units import NeuronArray, PoolUnit, RngArray, SynapseArray, selected_inputs


class Accelerator:
    def __init__(self, arch, ledger):
        self.arch = arch
        self.mem = {lv.name: Memory(lv, ledger) for lv in arch.levels}
        couplings = arch.holders("couplings")
        self.buffer = self.mem[couplings[-1].name]  # Gibbs: couplings stationary in the innermost level
        self.weight_mem = self.mem[couplings[-2].name] if len(couplings) > 1 else self.buffer
        self.act_mem = self.mem[arch.holders("states")[-1].name]
        self.synapse = SynapseArray(arch.synapse, ledger)
        self.neuron = NeuronArray(arch.neuron, ledger)
        self.rng = RngArray(arch.rng, ledger)
        self.pool_unit = PoolUnit(ledger)
        self.weight_base = {}
        self.traced = ()
        self._moves = {}  # (level, moves) -> (bits, words, rows): tiles repeat few shapes

    def map_addresses(self, plan):
        """Word addresses: each EO layer's weight rows contiguous in its weights' home level (its first hop's
        source), in layer order; the activation level split in two halves used ping-pong (layer l reads half
        l % 2, writes the other)."""
        base = {}
        for lp in plan.layers:
            if lp.is_eo:
                home = lp.hops[0][0]
                self.weight_base[lp.index] = base.get(home, 0)
                base[home] = self.weight_base[lp.index] + self.mem[home].words(lp.row_bits, lp.m)

    def trace(self, names):
        """Record the transactions of the levels `names` (engine/simulate.levels_to_trace)."""
        self.traced = tuple(self.mem[n] for n in dict.fromkeys(names))
        for mem in self.traced:
            mem.pending = []

    def take_pending(self):
        out = [rec for mem in self.traced for rec in mem.pending]
        for mem in self.traced:
            mem.pending.clear()
        return out

    @staticmethod
    def _writes_destination(lp, k):
        """Does hop k write its destination? Not when it feeds the synapses directly."""
        return lp.hops[k][1] is not None and not (lp.feed and k == len(lp.hops) - 1)

    def stage_ports(self, lp):
        """[(level, port kind, index, stages using it)] for a layer pass's stages (module docstring)."""
        needs = []
        for k, (src, dst) in enumerate(lp.hops):
            needs.append((k, src, READ))
            if self._writes_destination(lp, k):
                needs.append((k, dst, WRITE))
        k = len(lp.hops)
        for parent, child in lp.in_hops:
            needs += [(k, parent, READ), (k, child, WRITE)]
            k += 1
        for child, parent in reversed(lp.out_hops):  # read-backs: the parent read, the child written
            needs += [(k, parent, READ), (k, child, WRITE)]
            k += 1
        c = lp.compute_stage
        needs += [(c, lp.in_level, READ), (c, lp.out_level, WRITE)]
        if lp.out_level != lp.in_level:
            needs.append((c, lp.out_level, READ))  # partial sums read back
        for i, (child, parent) in enumerate(lp.out_hops):  # drains: the child read, the parent written
            needs += [(c + 1 + i, child, READ), (c + 1 + i, parent, WRITE)]
        return assign_ports({lv.name: lv for lv in self.arch.levels}, needs)

    def _act_region(self, act, half):
        return half * (act.spec.capacity // act.spec.word_bits // 2)

    def transfer(self, tile, lp, k):
        """Stage k (not the compute phase) of a tile: a weight hop, an input hop, a read-back or a drain (module
        docstring); its cycles, 0 when the tile moves nothing there."""
        w, i, c = len(lp.hops), len(lp.in_hops), lp.compute_stage
        if k < w:
            return self._weight_hop(tile, lp, k)
        if k < w + i:
            return self._input_hop(tile, lp, k - w)
        if k < c:
            return self._output_link(tile, lp, c - 1 - k, tile.readbacks[c - 1 - k], READ)
        return self._output_link(tile, lp, k - c - 1, tile.drains[k - c - 1], WRITE)

    def _act_home_address(self, lp, half, row_bits, row, bit):
        """Word address of bit `bit` of row `row` (rows of `row_bits` bits) in half `half` of the home."""
        home = self.mem[lp.act_level]
        return self._act_region(home, half) + row * home.words(row_bits) + bit // home.spec.word_bits

    @staticmethod
    def _home_rows(lp, tile):
        """(inputs, outputs): (bits per row, row, bit in the row) of the tile's first element in the home. A layer
        with weights: a row per (sample, position) of its n inputs (m outputs); pooling: a row per sample map, the
        band's first input row (ops/pool.Pool.input_rows) and first output."""
        if lp.is_eo:
            row = tile.s0 * lp.P + tile.p0
            return (lp.n * lp.ba_in, row, tile.c0 * lp.ba_in), (lp.m * lp.ba_out, row, tile.o0 * lp.ba_out)
        H, W, C = lp.in_shape
        first = tile.p0 // lp.out_shape[1] * lp.stride
        return (H * W * C * lp.ba_in, tile.s0, first * W * C * lp.ba_in), \
            (lp.P * lp.m * lp.ba_out, tile.s0, tile.p0 * lp.m * lp.ba_out)

    def _input_hop(self, tile, lp, i):
        """Input hop i: the child's new input tile read from the parent, written to the child."""
        if not tile.in_moves[i]:
            return 0
        parent, child = lp.in_hops[i]
        bits, words, rows = self._moved(parent, tile.in_moves[i])
        address = self._act_home_address(lp, lp.index % 2, *self._home_rows(lp, tile)[0]) if i == 0 else 0
        read = self.mem[parent].read(lp.index, INPUTS, bits, words, address=address, rows=rows)
        bits, words, rows = self._moved(child, tile.in_moves[i])
        return hop_cycles(read, self.mem[child].write(lp.index, INPUTS, bits, words, rows=rows))

    def _out_address(self, lp, tile, link):
        """Where output link `link` writes (reads back) the tile at its parent: the tile's first output in the
        home's output half (rows of m outputs), or the parent's upper half when the parent stages them."""
        parent = lp.out_hops[link][1]
        if parent != lp.act_level:
            return self._act_region(self.mem[parent], 1)
        return self._act_home_address(lp, (lp.index + 1) % 2, *self._home_rows(lp, tile)[1])

    def _output_link(self, tile, lp, link, moves, action):
        """Output link `link` (child, parent): the child's partial sums read back before its residency resumes
        (READ: read from the parent, written to the child), or the child's tile drained at the end of its
        residency (WRITE: final or partial; read from the child, written to the parent); both transactions at
        once (a hop); `moves` the tile's, () when it moves nothing. The child's tile sits at the start of its
        level's upper half (as the compute phase writes it there)."""
        if not moves:
            return 0
        child, parent = (self.mem[name] for name in lp.out_hops[link])
        at_parent, at_child = (parent, self._out_address(lp, tile, link)), (child, self._act_region(child, 1))
        (src, src_address), (dst, dst_address) = (at_parent, at_child) if action == READ else (at_child, at_parent)
        bits, words, rows = self._moved(src.name, moves)
        read = src.read(lp.index, OUTPUTS, bits, words, rows=rows, address=src_address)
        bits, words, rows = self._moved(dst.name, moves)
        return hop_cycles(read, dst.write(lp.index, OUTPUTS, bits, words, rows=rows, address=dst_address))

    def _weight_hop(self, tile, lp, k):
        """Hop k of a tile's weights (and the biases of the rows it starts): read from the source level, written
        to the destination (or fed to the synapses); nothing when the destination's tile is still resident.
        Only layers with weights have hops."""
        if not tile.moves[k]:
            return 0
        src, dst = lp.hops[k]
        source = self.mem[src]
        bits, words, rows = self._moved(src, tile.moves[k])
        address = self.weight_base.get(lp.index, 0) + source.words(lp.row_bits, tile.o0) if k == 0 else 0
        read = source.read(lp.index, WEIGHTS, bits, words, address=address, rows=rows)
        write = 0
        if self._writes_destination(lp, k):
            bits, words, rows = self._moved(dst, tile.moves[k])
            write = self.mem[dst].write(lp.index, WEIGHTS, bits, words, rows=rows)
        return hop_cycles(read, write)

    def _moved(self, level, moves):
        """(bits, words, rows) of a hop's moves ((rows, bits per row) pairs) at a level."""
        key = (level, moves)
        if key not in self._moves:
            mem = self.mem[level]
            self._moves[key] = (sum(r * b for r, b in moves), sum(mem.words(b, r) for r, b in moves),
                                sum(r for r, _ in moves))
        return self._moves[key]

    def compute(self, tile, lp, x_rows):
        """The tile's accumulator residencies one after another. Each: its inputs chunk read (at the inputs'
        innermost level, lp.in_level; and partial sums read back when it resumes them, at the outputs' innermost
        level, lp.out_level: a second stream, with that level's latency when it is another level), synapse
        accumulation (with the weights from the registers), then its drain to lp.out_level: final (RNG draws,
        neurons, outputs written), partial (partial sums written) or none. x_rows: the tile's kernel input rows
        (for data-dependent adds). Layers with weights only (ops/dense.py)."""
        act, out = self.mem[lp.in_level], self.mem[lp.out_level]
        g, layer, pbits = tile.units, lp.index, lp.partial_bits  # fewer units in a partial last tile
        readers = 1 if lp.broadcast else g
        chunk = tile.reps[0].chunk
        reps = sum(r.count for r in tile.reps)
        bit_serial = lp.op == "adds"
        n_ops = tile.outputs * selected_inputs(x_rows[:, tile.c0:tile.c1], lp.ba_in) if bit_serial else \
            reps * g * chunk
        acc = self.synapse.run(layer, chunk, reps * g, lp.op, n_ops, lp.ba_in if bit_serial else 1)
        registers = self.mem[lp.registers] if lp.registers else None
        first = tile.s0 * lp.P + tile.p0  # the tile's first (sample, position) row within its item
        in_words = act.words(chunk * lp.ba_in, readers)
        latency = act.spec.read_latency_cycles
        cycles = 0
        # home: the word holding the chunk's first input bit, the tile's first output bit, its first partial sum
        # (rows of m accumulator-wide values); staged: the tile's place in its level
        home_in, home_out = lp.in_level == lp.act_level, lp.out_level == lp.act_level
        in_address = self._act_home_address(lp, layer % 2, lp.n * lp.ba_in, first, tile.c0 * lp.ba_in) \
            if home_in else 0
        out_address = self._act_home_address(lp, (layer + 1) % 2, lp.m * lp.ba_out, first, tile.o0 * lp.ba_out) \
            if home_out else self._act_region(out, 1)
        part_address = self._act_home_address(lp, (layer + 1) % 2, lp.m * pbits, first, tile.o0 * pbits) \
            if home_out else self._act_region(out, 1)
        back_latency = latency if out is act else 0  # a second stream on the same level: no second latency
        for rep in tile.reps:
            n = rep.count
            # the input stream: each reader's copy of the chunk (every copy occupies the banks), then the partial
            # sums read back, a second stream after the first
            stream = act.read(layer, INPUTS, readers * chunk * lp.ba_in, in_words, repeat=n, rows=readers,
                              copies=readers, address=in_address, stride=act.words(lp.n * lp.ba_in)) - latency
            if rep.readback:
                stream += out.read(layer, OUTPUTS, g * pbits, out.words(g * pbits), repeat=n,
                                   address=part_address, stride=out.words(lp.m * pbits)) - back_latency
            if registers is not None:
                row = chunk * lp.bw + (lp.bias_bits if rep.row_start else 0)
                registers.read(layer, WEIGHTS, g * row, registers.words(row, g), repeat=n, rows=g)
            rng = neuron = write = 0
            if rep.drain == FINAL:
                rng = self.rng.draw(layer, g, repeat=n) if lp.stochastic else 0
                neuron = self.neuron.fire(layer, n * g)
                write = out.write(layer, OUTPUTS, g * lp.ba_out, out.words(g * lp.ba_out), repeat=n,
                                  address=out_address, stride=out.words(lp.m * lp.ba_out))
            elif rep.drain == PARTIAL:
                write = out.write(layer, OUTPUTS, g * pbits, out.words(g * pbits), repeat=n, address=part_address,
                                  stride=out.words(lp.m * pbits))
            cycles += n * sample_cycles(latency, stream, acc, rng, neuron, write)
        return cycles

    def pool(self, tile, lp):
        """A pooling tile's compute phase (ops/pool.py). Per sample: read every window element of the tile's outputs
        (overlapping windows re-read) where its inputs are (lp.in_level), reduce, write its outputs (lp.out_level).
        At the home: each sample's map in the input half (read) and the output half (written); staged: the band at
        the start of its level (inputs) and of its upper half (outputs)."""
        act, out = self.mem[lp.in_level], self.mem[lp.out_level]
        window = lp.kernel * lp.kernel
        outputs = tile.positions * lp.m
        in_bits, out_bits = outputs * window * lp.ba_in, outputs * lp.ba_out
        if lp.in_level == lp.act_level:
            in_address, out_address = self._act_region(act, lp.index % 2), self._act_region(out, (lp.index + 1) % 2)
        else:
            in_address, out_address = 0, self._act_region(out, 1)
        read = act.read(lp.index, INPUTS, in_bits, act.words(in_bits), repeat=tile.samples, address=in_address,
                        stride=act.words(lp.in_shape[0] * lp.in_shape[1] * lp.in_shape[2] * lp.ba_in))
        self.pool_unit.reduce(lp.index, tile.samples * outputs * (window - 1))
        write = out.write(lp.index, OUTPUTS, out_bits, out.words(out_bits), repeat=tile.samples,
                          address=out_address)
        latency = act.spec.read_latency_cycles
        return tile.samples * sample_cycles(latency, read - latency, 0, 0, 0, write)

    # Gibbs sampling: a round updates up to min(synapses, neurons) nodes of one colour in parallel.

    def _rows(self, mem, row_bits):
        return sum(mem.words(int(b)) for b in row_bits)

    def couplings_load(self, stage, row_bits):
        """Stationary couplings: every updated node's row (its couplings, then its bias) read once into the
        innermost coupling level at the start of a stage."""
        bits = int(row_bits.sum())
        cycles = self.weight_mem.read(stage, COUPLINGS, bits, self._rows(self.weight_mem, row_bits),
                                      rows=len(row_bits))
        self.buffer.write(stage, COUPLINGS, bits, self._rows(self.buffer, row_bits), rows=len(row_bits))
        return cycles

    def gibbs_load(self, stage, row_bits, stationary, times=1):
        """Couplings of one round's nodes, re-read from the coupling memory when they are not stationary."""
        if stationary:
            return 0
        return self.weight_mem.read(stage, COUPLINGS, int(row_bits.sum()), self._rows(self.weight_mem, row_bits),
                                    repeat=times, rows=len(row_bits))

    def gibbs_compute(self, stage, row_bits, degrees, stationary, times=1):
        """One round: neighbour spins read (one scattered 1-bit read per neighbour), +-J accumulated (no
        multiplier), one draw and compare per node, the new spins written (one scattered write each)."""
        g, reads = len(degrees), int(degrees.sum())
        read = self.act_mem.read(stage, STATES, reads, reads, repeat=times, rows=reads)
        if stationary:
            self.buffer.read(stage, COUPLINGS, int(row_bits.sum()), self._rows(self.buffer, row_bits), repeat=times,
                             rows=len(row_bits))
        acc = self.synapse.run(stage, int(degrees.max()) if g else 0, times * g, "adds", times * reads)
        rng = self.rng.draw(stage, g, repeat=times)
        neuron = self.neuron.fire(stage, times * g)
        write = self.act_mem.write(stage, STATES, g, g, repeat=times, rows=g)
        latency = self.act_mem.spec.read_latency_cycles
        return sample_cycles(latency, read - latency, acc, rng, neuron, write)
