"""Replaying a trace on another memory configuration.

Every transaction is re-costed on the new architecture's memories: its rows are re-packed into the new word
width (bits are unchanged), its duration recomputed from the new latency, banks and occupancy (a compute phase's
read is its rows' copies of one input row, as trace/records.py says; hw/timing.py prices them). A load phase
takes its transaction's new duration; a compute phase is stretched (or shortened) by repeat x the change of
each of its transactions' durations (first order: the trace does not carry the synapse and neuron cycles that
overlap a read). The tiles of every layer pass then go, in program order, through the same in-order load/compute
pipeline as the simulator (hw/timing.Pipeline: passes overlap where the slots allow), so replaying a trace on
its own architecture reproduces its cycles and memory counts exactly. Only a trace of one weight memory and one
activation memory with one transfer per tile is replayed (records.py; others are refused, naming their levels).
Energy covers the memories only (the trace holds memory traffic only)."""
from collections import defaultdict

import pandas as pd

from ..config.loader import arch_from_data
from ..config.schema import INPUTS, OUTPUTS, WEIGHTS
from ..errors import ArchsimError
from ..ledger import COLUMNS
from ..hw.timing import Pipeline, Stage, ceil_div, transfer_cycles
from .reader import read_chunks, read_meta
from .records import COMPONENTS, copies


def _duration(spec, phase, action, address, words, rows):
    latency = spec.read_latency_cycles if action == "read" else spec.write_latency_cycles
    n = copies(phase, action, rows)
    return transfer_cycles(((address, words // n, n),), latency, spec.banks, spec.occupancy_cycles)


def _operand(phase, action):
    """What a traced transaction moved: a load phase reads weights; a compute phase reads inputs, writes outputs."""
    return WEIGHTS if phase == "load" else INPUTS if action == "read" else OUTPUTS


def _cycles(tiles, slots):
    """Every traced tile, in program order (pass, then tile): a load, when it moved weights, then its compute."""
    pipe = Pipeline()
    load, compute = Stage("load", "buffer", slots, ()), Stage("compute", None, 0, ())
    for key in sorted(tiles):
        tile = tiles[key]
        done = tile["compute"] + tile["delta"]
        if "load" in tile:
            pipe.add((load, compute), (tile["load"], done))
        else:
            pipe.add((compute,), (done,))
    return pipe.end


def replay(path, arch):
    """-> (summary dict, counts DataFrame [layer, component, action, operand, count], energy DataFrame)."""
    meta = read_meta(path)
    if not meta["replayable"]:
        raise ArchsimError(f"{path}: replay re-costs traces of one weight memory and one activation memory named "
                           f"{' and '.join(COMPONENTS)} with one transfer per tile; this run's trace records the "
                           f"levels {', '.join(meta['levels'])} (weights or activations moving through more levels): "
                           f"read or export it, it cannot be replayed")
    old = arch_from_data(meta["arch"], f"{path} (recorded architecture)")
    slots = arch.holders("weights")[-1].slots
    counts = defaultdict(int)
    tiles = {}
    for chunk in read_chunks(path):
        for r in chunk.itertuples(index=False):
            new_spec, old_spec = arch.level(r.component), old.level(r.component)
            words = r.rows * ceil_div(r.bits // r.rows, new_spec.word_bits)
            operand = _operand(r.phase, r.action)
            counts[(r.layer, r.component, f"{r.action}_bits", operand)] += r.bits * r.repeat
            counts[(r.layer, r.component, f"{r.action}_words", operand)] += words * r.repeat
            tile = tiles.setdefault((r.pass_id, r.tile), {"compute": 0, "delta": 0})
            address = r.address * old_spec.word_bits // new_spec.word_bits  # the word holding the same first bit
            new = _duration(new_spec, r.phase, r.action, address, words, r.rows)
            if r.phase == "load":
                tile["load"] = new
            else:
                tile["compute"] = r.end_cycle - r.start_cycle
                tile["delta"] += r.repeat * (new - _duration(old_spec, r.phase, r.action, r.address, r.words, r.rows))
    cycles = _cycles(tiles, slots)
    frame = pd.DataFrame([(*key, v) for key, v in sorted(counts.items())], columns=COLUMNS)
    energy = frame[frame.action.str.endswith("_bits")].copy()
    energy["pj_per_unit"] = [getattr(arch.level(c), f"{a.split('_')[0]}_pj_per_bit").value
                             for c, a in zip(energy.component, energy.action)]
    energy["energy_pj"] = energy["count"] * energy["pj_per_unit"]
    summary = {"trace": str(path), "recorded_arch": old.name, "arch": arch.name, "recorded_cycles": meta["cycles"],
               "cycles": int(cycles), "memory_energy_pj": float(energy.energy_pj.sum()),
               "memory_energy_pj_by_component": {k: float(v) for k, v in
                                                 energy.groupby("component").energy_pj.sum().items()}}
    return summary, frame, energy
