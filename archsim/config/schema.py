"""The architecture schema (v2): memory levels outermost first, synapse units, neurons, RNGs, mapping, clock.
Every size, energy and frequency is parsed from a unit string at load time; after that, numbers only.

Version 1 files (fixed weight_mem / act_mem / weight_buffer) are validated by the v1 models at the end of this
module and converted by `convert_v1` to the equivalent three levels."""
import math
from typing import Literal, Optional

from pydantic import Field, PrivateAttr, field_validator, model_validator

from .fields import Bits, BitsPerSecond, Energy, Hertz, Strict

OPERANDS = ("weights", "inputs", "outputs", "couplings", "states")
WEIGHTS, INPUTS, OUTPUTS, COUPLINGS, STATES = OPERANDS
Operand = Literal["weights", "inputs", "outputs", "couplings", "states"]
REQUIRED_OPERANDS = ("weights", "inputs", "outputs")  # every p-DNN needs them; couplings/states fall back below
FALLBACK_OPERAND = {"couplings": "weights", "states": "inputs"}
DATAPATH_COMPONENTS = ("synapse", "neuron", "rng", "pool")


class _Banked(Strict):
    """Fields every word-organised memory shares. Accesses are word-granular; banks are word-interleaved (word
    address a is on bank a mod banks) and serve one word each per cycles_per_access, side by side: a transaction
    takes read/write latency + (the most words it puts on one bank) * cycles_per_access cycles (hw/timing.py;
    a register file with cycles_per_access 0 is read and written combinationally: latency only)."""
    capacity: Bits = Field(description="capacity, e.g. '256KiB' (plain numbers are bits)")
    word_bits: int = Field(gt=0, le=4096, description="width of one access per bank, bits (a DRAM burst)")
    banks: int = Field(default=1, gt=0, le=1 << 20, description="independent banks (or DRAM channels; one per "
                       "cell for a p-bit array), word-interleaved: word address a is on bank a mod banks")
    read_latency_cycles: int = Field(default=1, ge=0, le=10_000, description="cycles before the first word read")
    write_latency_cycles: int = Field(default=1, ge=0, le=10_000, description="cycles before the first word written")
    cycles_per_access: int = Field(default=1, ge=0, le=10_000, description="occupancy of a bank per word; 0 "
                                   "(register files only): combinational, the access completes within the "
                                   "cycle of the unit that consumes it (p-bit cells reading neighbours on wires)")
    bandwidth: Optional[BitsPerSecond] = Field(default=None, description="DRAM only: peak bandwidth, e.g. "
                                               "'12.8GB/s'; sets the cycles per access from the clock")
    read_pj_per_bit: Energy = Field(description="energy per bit read")
    write_pj_per_bit: Energy = Field(description="energy per bit written")
    _occupancy_cycles: Optional[int] = PrivateAttr(default=None)

    @property
    def occupancy_cycles(self):
        """Cycles a bank is busy per word: cycles_per_access, or for a DRAM with a bandwidth, what the bandwidth
        allows at the architecture's clock (derived by Arch; the input field is never overwritten)."""
        return self.cycles_per_access if self._occupancy_cycles is None else self._occupancy_cycles

    def _set_clock(self, clock_hz):
        if self.bandwidth is not None:
            bits_per_cycle = self.bandwidth / clock_hz
            self._occupancy_cycles = max(1, math.ceil(self.word_bits * self.banks / bits_per_cycle - 1e-9))

    def _check_kind(self, regfile):
        if self.bandwidth is not None and self.kind != "dram":
            raise ValueError(f"bandwidth is only allowed for kind 'dram' (kind is {self.kind!r})")
        if self.cycles_per_access == 0 and self.kind != regfile:
            raise ValueError(f"cycles_per_access 0 (combinational access) is only allowed for kind "
                             f"{regfile!r} (kind is {self.kind!r})")
        return self


class Ports(Strict):
    """A level's ports. A read uses a read port (or else a read-write port), a write a write port (or else a
    read-write port); a transfer between two levels holds one port at each end for its whole duration."""
    read: int = Field(default=0, ge=0, le=64, description="read-only ports")
    write: int = Field(default=0, ge=0, le=64, description="write-only ports")
    read_write: int = Field(default=1, ge=0, le=64, description="ports that read or write")

    @model_validator(mode="after")
    def _some(self):
        if self.read + self.write + self.read_write == 0:
            raise ValueError("a level needs at least one port (read, write or read_write)")
        return self


class Level(_Banked):
    """One memory level. Levels are listed outermost first; an operand moves from the outermost level that holds
    it through every inner level that holds it down to the datapath."""
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="the level's name in counts.csv and "
                      "in dotted paths (levels[NAME].capacity)")
    kind: Literal["dram", "sram", "regfile"] = Field(description="memory technology")
    ports: Ports = Field(default_factory=Ports, description="read / write / read_write port counts")
    holds: list[Operand] = Field(description="operands the level may keep: weights, inputs, outputs, couplings, "
                                 "states (a level that holds nothing has no path to the datapath)")
    double_buffered: bool = Field(default=False, description="two slots: the next tile loads while the "
                                  "current one is used")
    ports_share_banks: Optional[bool] = Field(default=None, description="true: the ports reach the banks through "
                                              "one shared path (a DRAM channel's data bus; single-ported SRAM "
                                              "banks behind a crossbar), so stages on different ports take turns "
                                              "on the banks; false: every port reaches every bank in the same "
                                              "cycle (a multi-port macro). Default: true for dram, false otherwise")

    @field_validator("holds")
    @classmethod
    def _reachable(cls, holds):
        if not holds:
            raise ValueError(f"the level holds nothing, so nothing moves through it to the datapath (unreachable); "
                             f"list some of: {', '.join(OPERANDS)}")
        return holds

    @model_validator(mode="after")
    def _kind_specific(self):
        if len(set(self.holds)) != len(self.holds):
            raise ValueError(f"holds lists an operand twice: {self.holds}")
        if ("inputs" in self.holds) != ("outputs" in self.holds):
            raise ValueError("a level that holds inputs must hold outputs too, and the reverse (a layer's "
                             "outputs are the next layer's inputs)")
        return self._check_kind("regfile")

    @property
    def slots(self):
        return 2 if self.double_buffered else 1

    @property
    def banks_shared(self):
        """Do the level's ports take turns on its banks? (ports_share_banks, or its default by kind)."""
        return self.kind == "dram" if self.ports_share_banks is None else self.ports_share_banks

    @property
    def slot_bits(self):
        return self.capacity // self.slots


class Synapse(Strict):
    """Synapse units. `accumulate`: inputs select weights to add, multi-bit inputs bit-serially (one pass per
    input bit, shifted); `mac`: multiply-accumulate."""
    count: int = Field(gt=0, le=1_000_000, description="synapse units; one output neuron per unit per tile")
    inputs_per_cycle: int = Field(gt=0, le=65_536, description="inputs each unit consumes per cycle (per bit "
                                  "pass for bit-serial accumulate)")
    kind: Literal["accumulate", "mac"] = Field(description="accumulate (adds of selected weights) or mac")
    accumulator_bits: int = Field(gt=1, le=63, description="signed accumulator width; overflow is an error")
    add_pj_per_bit: Energy = Field(description="energy of one add, per bit of accumulator width")
    mul_pj_per_bit2: Energy = Field(description="energy of one multiply, per bit of (activation x weight) width")


class Neuron(Strict):
    """Neurons: table lookup of the activation (threshold for p-bits), comparison with a random draw."""
    count: int = Field(gt=0, le=1_000_000, description="neuron units")
    latency_cycles: int = Field(default=1, ge=0, le=1000, description="cycles from accumulator to output")
    table_bits: int = Field(default=8, ge=1, le=16, description="activation table has 2**table_bits entries")
    compare_pj: Energy = Field(description="energy of one neuron evaluation (lookup + compare)")


class Rng(Strict):
    """The random-number generators, a resource the neurons share. Every kind draws the same counter-based
    stream keyed by global position (so results never depend on the hardware); `kind` says what is costed.
    A sample's draws take ceil(draws x bits_per_draw / (count x bits_per_cycle)) cycles, overlapped with the
    accumulation: fewer RNG bits per cycle than the neurons consume cost cycles."""
    kind: Literal["counter", "lfsr", "physical"] = Field(description="counter: ideal counter-based generator; "
                                                         "lfsr: LFSR/xorshift per unit; physical: an "
                                                         "all-transistor RNG characterised by energy and rate")
    count: int = Field(gt=0, le=1_000_000, description="RNG units")
    bits_per_cycle: int = Field(gt=0, le=4096, description="random bits each unit produces per cycle")
    bits_per_draw: int = Field(default=16, ge=1, le=32, description="random bits per draw (one per neuron "
                               "evaluation)")
    draw_pj: Optional[Energy] = Field(default=None, description="energy of one draw (give this or pj_per_bit)")
    pj_per_bit: Optional[Energy] = Field(default=None, description="energy per random bit (give this or draw_pj)")

    @model_validator(mode="after")
    def _one_energy(self):
        if (self.draw_pj is None) == (self.pj_per_bit is None):
            raise ValueError("give exactly one of draw_pj (per draw) and pj_per_bit (per random bit)")
        return self

    @property
    def draw_energy(self):
        """(pJ per draw, source)."""
        if self.draw_pj is not None:
            return self.draw_pj.value, self.draw_pj.source
        return self.pj_per_bit.value * self.bits_per_draw, f"{self.bits_per_draw} bits x {self.pj_per_bit.source}"


class Mapping(Strict):
    """How layers are laid onto the units (the planner decides the rest and reports it)."""
    input_broadcast: bool = Field(default=False, description="one activation read feeds every synapse unit "
                                  "of a tile (False: each unit reads its own inputs, the paper's building block)")
    weight_stationary: bool = Field(default=False, description="conv2d: a tile's weights stay in the buffer "
                                    "across all output positions (False: re-read per position, the paper's "
                                    "no-reuse building block)")
    loop_order: Literal["auto", "samples_inner", "samples_outer"] = Field(
        default="auto", description="samples_inner: weights read once, then T samples (needs the tile to fit "
                                    "the innermost weight level); samples_outer: weights re-read every sample")


class Arch(Strict):
    """A p-bit accelerator: memory levels (outermost first) and a datapath."""
    schema_version: Literal[2] = Field(default=2, description="2 (version 1 files are converted on loading)")
    kind: Literal["arch"] = Field(default="arch", description="'arch': this file is an architecture")
    name: str = Field(min_length=1, description="the architecture's name in reports")
    description: str = Field(default="", description="free text")
    clock: Hertz = Field(description="clock frequency, e.g. '200MHz'")
    levels: list[Level] = Field(min_length=1, description="memory levels, outermost first")
    synapse: Synapse = Field(description="the synapse units")
    neuron: Neuron = Field(description="the neurons")
    rng: Rng = Field(description="the random-number generators the neurons share")
    mapping: Mapping = Field(default_factory=Mapping, description="how layers are laid onto the units")

    @field_validator("levels")
    @classmethod
    def _names_and_operands(cls, levels):
        names = [lv.name for lv in levels]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"level names must be unique; repeated: {dup}")
        taken = sorted(set(names) & set(DATAPATH_COMPONENTS))
        if taken:
            raise ValueError(f"level name(s) {taken} are datapath components in counts.csv; choose another name "
                             f"(not one of {', '.join(DATAPATH_COMPONENTS)})")
        missing = [op for op in REQUIRED_OPERANDS if not any(op in lv.holds for lv in levels)]
        if missing:
            raise ValueError(f"operand(s) {missing} held by no level: add them to some level's holds "
                             f"(allowed: {', '.join(OPERANDS)})")
        return levels

    @model_validator(mode="after")
    def _clock(self):
        for lv in self.levels:
            lv._set_clock(self.clock)
        return self

    def level(self, name):
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise KeyError(f"no level named {name!r}; levels: {[lv.name for lv in self.levels]}")

    def holders(self, operand):
        """Levels that hold `operand`, outermost first (couplings fall back to the weights' levels, states to
        the inputs' levels, when no level names them)."""
        out = [lv for lv in self.levels if operand in lv.holds]
        if not out and operand in FALLBACK_OPERAND:
            return self.holders(FALLBACK_OPERAND[operand])
        return out


# ---- version 1 (read and converted; never produced) ----

class MemoryV1(_Banked):
    """v1 weight or activation memory."""
    kind: Literal["register_file", "sram", "dram"] = Field(description="memory technology")

    @model_validator(mode="after")
    def _kind_specific(self):
        return self._check_kind("register_file")


class WeightBufferV1(Strict):
    """v1: holds a tile's weights between the weight memory and the synapse units, across samples."""
    capacity: Bits = Field(description="capacity, e.g. '4KiB'")
    double_buffered: bool = Field(default=True, description="load the next tile while the current one computes")
    read_pj_per_bit: Energy
    write_pj_per_bit: Energy


class RngV1(Strict):
    """v1: the random-number source of each neuron (one per neuron)."""
    model: Literal["counter", "all_transistor"] = Field(description="counter or all_transistor")
    bits_per_draw: int = Field(default=16, ge=1, le=32, description="random bits per draw")
    draw_pj: Energy = Field(description="energy of one draw")


class NeuronV1(Neuron):
    rng: RngV1


class ArchV1(Strict):
    """v1 architecture file."""
    schema_version: Literal[1] = 1
    kind: Literal["arch"] = "arch"
    name: str = Field(min_length=1)
    description: str = ""
    clock: Hertz
    weight_mem: MemoryV1
    act_mem: MemoryV1
    weight_buffer: WeightBufferV1
    synapse: Synapse
    neuron: NeuronV1
    mapping: Mapping = Field(default_factory=Mapping)


V1_LEVEL_NAMES = ("weight_mem", "act_mem", "weight_buf")


def convert_v1(v1: ArchV1) -> dict:
    """The v2 data of a validated v1 architecture, equivalent in counts, energy and cycles:
      weight_mem    -> level `weight_mem` (holds weights, couplings), one read-write port
      act_mem       -> level `act_mem` (holds inputs, outputs, states), one read-write port
      weight_buffer -> innermost level `weight_buf` (holds weights, couplings): a register file with
                       combinational access (cycles_per_access 0, no latency), so filling it costs only the
                       weight-memory read, as in v1; word_bits = the weight memory's
      neuron.rng    -> rng: one unit per neuron producing a whole draw per cycle (never the bottleneck, as
                       in v1); model counter -> kind counter, all_transistor -> physical
    Levels are listed outermost first: weight_mem, act_mem, weight_buf."""
    d = v1.model_dump(mode="json")
    kinds = {"register_file": "regfile", "sram": "sram", "dram": "dram"}

    def level(name, spec, holds):
        out = {"name": name, **spec, "kind": kinds[spec["kind"]], "holds": holds}
        return {k: v for k, v in out.items() if v is not None}

    buf = d["weight_buffer"]
    weight_buf = {"name": "weight_buf", "kind": "regfile", "capacity": buf["capacity"],
                  "word_bits": d["weight_mem"]["word_bits"], "banks": 1, "read_latency_cycles": 0,
                  "write_latency_cycles": 0, "cycles_per_access": 0, "read_pj_per_bit": buf["read_pj_per_bit"],
                  "write_pj_per_bit": buf["write_pj_per_bit"], "holds": ["weights", "couplings"],
                  "double_buffered": buf["double_buffered"]}
    rng = d["neuron"].pop("rng")
    return {"schema_version": 2, "kind": "arch", "name": d["name"], "description": d["description"],
            "clock": d["clock"],
            "levels": [level("weight_mem", d["weight_mem"], ["weights", "couplings"]),
                       level("act_mem", d["act_mem"], ["inputs", "outputs", "states"]), weight_buf],
            "synapse": d["synapse"], "neuron": d["neuron"],
            "rng": {"kind": {"counter": "counter", "all_transistor": "physical"}[rng["model"]],
                    "count": d["neuron"]["count"], "bits_per_cycle": rng["bits_per_draw"],
                    "bits_per_draw": rng["bits_per_draw"], "draw_pj": rng["draw_pj"]},
            "mapping": d["mapping"]}
