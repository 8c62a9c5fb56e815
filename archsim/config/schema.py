"""The architecture schema: memories, weight buffer, synapse units, neurons with RNGs, mapping, clock.
Every size, energy and frequency is parsed from a unit string at load time; after that, numbers only."""
import math
from typing import Literal, Optional

from pydantic import Field, model_validator

from .fields import Bits, BitsPerSecond, Energy, Hertz, Strict


class Memory(Strict):
    """A weight or activation memory. Accesses are word-granular and striped over banks; a transaction of
    `words` words takes read/write latency + ceil(words / banks) * cycles_per_access cycles (a register file
    with cycles_per_access 0 is read and written combinationally: latency only)."""
    kind: Literal["register_file", "sram", "dram"] = Field(description="memory technology")
    capacity: Bits = Field(description="capacity, e.g. '256KiB'")
    word_bits: int = Field(gt=0, le=4096, description="width of one access per bank, bits (a DRAM burst)")
    banks: int = Field(default=1, gt=0, le=1 << 20, description="independent banks (or DRAM channels; one per cell for a p-bit array)")
    read_latency_cycles: int = Field(default=1, ge=0, le=10_000, description="cycles before the first word")
    write_latency_cycles: int = Field(default=1, ge=0, le=10_000, description="cycles before the first write")
    cycles_per_access: int = Field(default=1, ge=0, le=10_000, description="occupancy of a bank per word; 0 "
                                   "(register files only): combinational, the access completes within the "
                                   "cycle of the unit that consumes it (p-bit cells reading neighbours on wires)")
    bandwidth: Optional[BitsPerSecond] = Field(default=None, description="DRAM only: peak bandwidth, e.g. "
                                               "'12.8GB/s'; sets cycles_per_access from the clock")
    read_pj_per_bit: Energy
    write_pj_per_bit: Energy

    @model_validator(mode="after")
    def _kind_specific_timing(self):
        if self.bandwidth is not None and self.kind != "dram":
            raise ValueError(f"bandwidth is only allowed for kind 'dram' (kind is {self.kind!r})")
        if self.cycles_per_access == 0 and self.kind != "register_file":
            raise ValueError(f"cycles_per_access 0 (combinational access) is only allowed for kind "
                             f"'register_file' (kind is {self.kind!r})")
        return self


class WeightBuffer(Strict):
    """Holds a tile's weights between the weight memory and the synapse units, across samples."""
    capacity: Bits = Field(description="capacity, e.g. '4KiB'; a tile whose weights do not fit runs samples-outer")
    double_buffered: bool = Field(default=True, description="load the next tile while the current one computes")
    read_pj_per_bit: Energy
    write_pj_per_bit: Energy


class Synapse(Strict):
    """Synapse units. `accumulate`: 1-bit inputs select weights to add (no multiplier). `mac`: multiply-accumulate."""
    count: int = Field(gt=0, le=1_000_000, description="synapse units; one output neuron per unit per tile")
    inputs_per_cycle: int = Field(gt=0, le=65_536, description="inputs each unit consumes per cycle")
    kind: Literal["accumulate", "mac"]
    accumulator_bits: int = Field(gt=1, le=63, description="signed accumulator width; overflow is an error")
    add_pj_per_bit: Energy = Field(description="energy of one add, per bit of accumulator width")
    mul_pj_per_bit2: Energy = Field(description="energy of one multiply, per bit of (activation x weight) width")


class Rng(Strict):
    """The random-number source of each neuron."""
    model: Literal["counter", "all_transistor"] = Field(
        description="counter: ideal counter-based stream keyed by global position; all_transistor: the same "
                    "stream, costed as a physical RNG characterised by energy per draw only")
    bits_per_draw: int = Field(default=16, ge=1, le=32, description="random bits per draw")
    draw_pj: Energy = Field(description="energy of one draw")


class Neuron(Strict):
    """Neurons: table lookup of the activation (threshold for p-bits), comparison with a random draw."""
    count: int = Field(gt=0, le=1_000_000, description="neuron units")
    latency_cycles: int = Field(default=1, ge=0, le=1000, description="cycles from accumulator to output")
    table_bits: int = Field(default=8, ge=1, le=16, description="activation table has 2**table_bits entries")
    compare_pj: Energy = Field(description="energy of one neuron evaluation (lookup + compare)")
    rng: Rng


class Mapping(Strict):
    """How layers are laid onto the units (the planner decides the rest and reports it)."""
    input_broadcast: bool = Field(default=False, description="one activation read feeds every synapse unit "
                                  "of a tile (False: each unit reads its own inputs, the paper's building block)")
    weight_stationary: bool = Field(default=False, description="conv2d: a tile's weights stay in the buffer "
                                    "across all output positions (False: re-read per position, the paper's "
                                    "no-reuse building block)")
    loop_order: Literal["auto", "samples_inner", "samples_outer"] = Field(
        default="auto", description="samples_inner: weights read once, then T samples (needs the tile to fit "
                                    "the weight buffer); samples_outer: weights re-read every sample")


class Arch(Strict):
    """A p-bit accelerator."""
    schema_version: Literal[1] = 1
    kind: Literal["arch"] = "arch"
    name: str = Field(min_length=1)
    description: str = ""
    clock: Hertz = Field(description="clock frequency, e.g. '200MHz'")
    weight_mem: Memory
    act_mem: Memory
    weight_buffer: WeightBuffer
    synapse: Synapse
    neuron: Neuron
    mapping: Mapping = Mapping()

    @model_validator(mode="after")
    def _dram_timing(self):
        for mem in (self.weight_mem, self.act_mem):
            if mem.bandwidth is not None:
                bits_per_cycle = mem.bandwidth / self.clock
                need = math.ceil(mem.word_bits * mem.banks / bits_per_cycle - 1e-9)
                object.__setattr__(mem, "cycles_per_access", max(1, need))
        return self
