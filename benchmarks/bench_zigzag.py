"""archsim's mapper against ZigZag 3.9.1 on the same layers and a comparable hierarchy (not a test; issue 12's
speed target: <= 1 s per layer, aim for 10x ZigZag's speed at equal or lower energy).

The layers: ResNet-18's distinct conv shapes of bench_mapper.py, batch 1, 8-bit weights and activations, T = 1, in
the im2col view archsim's mapper searches (N output positions, M output channels, C = k*k*C_in fan-in). ZigZag is
given the same loop nest (a Gemm O[d][k] += I[d][c] * W[k][c]: D = N, K = M, C = C), so its chosen mapping
translates into archsim's Mapping loop for loop.

The hardware: configs/three-level.yaml (DRAM 4 GiB weights -> 1 MiB global buffer (weights, inputs, outputs) ->
64 Kib double-buffered local buffer (weights) -> 16 synapse units, outputs unrolled over them), with two changes
on archsim's side so that both tools describe the same machine: `mapping.input_broadcast: true` (ZigZag's buffer
serving the array broadcasts an input to the units that share it) and `synapse.kind: mac` (a deterministic
multi-bit MAC datapath; the mapper's energy is memory energy, which the synapse kind does not change). ZigZag's
hardware file is written from archsim's levels in the run (nothing typed here):
  - one memory per level, same name and operands (weights I2, inputs I1, outputs O), served to the whole array;
  - per access: the port width times the level's pJ per bit, with a minimum access of 8 bits (one element), so its
    energy is bits x pJ per bit as in archsim;
  - port width: the level's bits per cycle, widened to the array's per-step need (units x weight bits) where
    narrower (ZigZag caps the spatial unrolling by the port width; archsim only stalls on it; latency only);
  - a double-buffered level gets half its capacity (archsim keeps two copies of its tile);
  - ZigZag keeps an operand's outermost level holding it whole and counts it against the capacity: the level that
    is inputs' and outputs' home (the global buffer) gets those operands' bits on top of its capacity (outputs at
    the accumulator width), since archsim reserves a home's operand outside the room left for tiles;
  - the units' accumulators as a register per unit holding one output at the accumulator width, at no energy
    (archsim's accumulators: outputs drain when their tile changes); MAC energy is left out of both (the same for
    every mapping).
What still differs: ZigZag's cost model takes an operand re-read from its innermost level for the same element in
consecutive cycles as free (access_same_data_considered_as_no_access, fixed by its API), archsim charges every
read (no difference on these layers' chosen mappings); where a mapping splits the fan-in, ZigZag writes an
output's last drain at the partial-sum width and reads it back once more (56 bits per output here, a constant
offset between the models on such mappings); ZigZag fixes the spatial unrolling (K 16, given in its mapping
file), archsim searches it too.

ZigZag runs in its own venv (pandas 3, onnx: never a dependency of archsim), one subprocess per layer and repeat,
`zigzag.api.get_hardware_performance_zigzag` with its defaults (LOMA, lpf_limit 6, uneven temporal mappings) and
opt='energy'; archsim runs `archsim.mapping.search.search` (the search `archsim map` runs once per keep variant of
a layer: with and without the weight registers) with objective energy, its default budget, seed = the repeat.
Times: the search call on both sides (ZigZag's includes the parsing and result files its API writes), wall and
CPU seconds; ZigZag's whole process beside it. Each repeat runs every layer, ZigZag then archsim.
Energies (memory, per layer): each tool's chosen mapping on both models: ZigZag's translated into archsim's
Mapping and counted by loopnest.counts, archsim's (seed 0) given to ZigZag as a fixed temporal ordering and
costed by its cost model (not timed): the "equal or lower energy" check, both ways.

ZigZag also runs each layer as the convolution it is (7 loops, inputs reused across the kernel window: its natural
input, which archsim's im2col view does not express), on the same hardware file, interleaved with the others: its
time and its own energy only, beside archsim's choice costed by ZigZag's model.

Run (the venv is created if missing; without network the script says so and exits):
    python benchmarks/bench_zigzag.py [--repeats 3] [--layers conv2_1a,conv3_1a] [--zigzag-venv /tmp/zz-venv]
Writes benchmarks/results/zigzag.csv and zigzag.md (--out DIR; zigzag-lpfN.* with --lpf-limit N, a wider LOMA
search than ZigZag's default).
"""
import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from math import isqrt, prod
from pathlib import Path

import yaml
from bench_mapper import LAYERS
from benchlib import fmt, machine, spread

from archsim import load_arch
from archsim.mapping.hierarchy import levels_of
from archsim.mapping.loopnest import WEIGHTS, WRITE, Mapping, check, counts, dense_operation, energy_pj
from archsim.mapping.mapfile import mapping_text
from archsim.mapping.search import evaluate, search

ROOT = Path(__file__).resolve().parents[1]
ZIGZAG = "zigzag-dse==3.9.1"
ZIGZAG_EXTRA = ["six"]  # imported by zigzag 3.9.1's validator, not declared by the package
BITS = 8                # weights and activations
OPERAND = {WEIGHTS: "I2", "inputs": "I1", "outputs": "O"}  # archsim operand -> ZigZag memory operand
LINKS = {"O": "O", "W": "I2", "I": "I1"}                     # ZigZag layer operand -> its memory operand
DIM = {"D": "N", "K": "M", "C": "C"}                          # ZigZag layer dimension -> archsim's
# ResNet-18's conv layers in their native form for ZigZag's extra column: input channels, kernel, stride, padding
# (He et al. 2016, Table 1); output size and fan-in are checked against bench_mapper's LAYERS in the run.
NATIVE = {"conv1": (3, 7, 2, 3), "conv2_1a": (64, 3, 1, 1), "conv3_1a": (64, 3, 2, 1), "conv3_1b": (128, 3, 1, 1),
          "conv4_1a": (128, 3, 2, 1), "conv4_1b": (256, 3, 1, 1), "conv5_1a": (256, 3, 2, 1),
          "conv5_1b": (512, 3, 1, 1)}
SEARCH = {"opt": "energy", "temporal_mapping_search_engine": "loma (default)", "lpf_limit": "6 (default)",
          "temporal_mapping_type": "uneven (default)"}

# Runs in ZigZag's venv: one layer's search, timed around the API call; prints one JSON line.
DRIVER = r"""
import json, logging, resource, sys, time
logging.basicConfig(level=logging.WARNING)  # first: the API's own basicConfig (INFO) then does nothing
from zigzag.api import get_hardware_performance_zigzag
from zigzag.cost_model.cost_model import CostModelEvaluation

evaluated = [0]  # cost-model evaluations (candidates), counted by a wrapper of a few ns per call
_run = CostModelEvaluation.run
def counted_run(self, *a, **k):
    evaluated[0] += 1
    return _run(self, *a, **k)
CostModelEvaluation.run = counted_run

def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

job = json.loads(sys.argv[1])
t0, c0 = time.perf_counter(), cpu()
options = {"lpf_limit": job["lpf_limit"]} if job["lpf_limit"] else {}  # else ZigZag's default
_, _, cmes = get_hardware_performance_zigzag(job["workload"], job["hardware"], job["mapping"], opt="energy",
                                             dump_folder=job["dump"], loma_show_progress_bar=False, **options)
wall, cpu_s = time.perf_counter() - t0, cpu() - c0
cme = cmes[0][1][0][0]
hierarchy = cme.accelerator.memory_hierarchy
out = {"wall_s": wall, "cpu_s": cpu_s, "candidates": evaluated[0], "mem_energy_pj": float(cme.mem_energy),
       "loops": {}, "levels": {}, "energy_pj": {}, "spatial": {}}
for op, levels in cme.temporal_mapping.mapping_dic_origin.items():
    mem_op = cme.memory_operand_links.layer_to_mem_op(op)
    out["loops"][str(op)] = [[[str(d), int(f)] for d, f in level] for level in levels]
    out["levels"][str(op)] = [lv.name for lv in hierarchy.get_memory_levels(mem_op)]
    out["energy_pj"][str(op)] = [float(e) for e in cme.mem_energy_breakdown[op]]
for level in cme.spatial_mapping.mapping_dict_origin[next(iter(cme.spatial_mapping.mapping_dict_origin))]:
    for d, f in level:
        out["spatial"][str(d)] = out["spatial"].get(str(d), 1) * int(f)
print(json.dumps(out))
"""


def zigzag_python(venv):
    """The venv's interpreter with ZigZag importable, created (or completed) if needed; (python, None) or
    (None, why not)."""
    python = Path(venv) / "bin" / "python"

    def importable():
        return python.exists() and subprocess.run([str(python), "-c", "import zigzag.api"],
                                                  capture_output=True).returncode == 0

    if importable():
        return python, None
    steps = ([] if python.exists() else [[sys.executable, "-m", "venv", str(venv)]]) + \
        [[str(python), "-m", "pip", "install", "-q", ZIGZAG, *ZIGZAG_EXTRA]]
    for argv in steps:
        print(f"  {' '.join(argv)}", flush=True)
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode:
            last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
            return None, f"`{' '.join(argv)}` failed ({last}); no network?"
    return (python, None) if importable() else (None, f"{python}: `import zigzag.api` still fails")


def arch_for_comparison(tmp):
    """configs/three-level.yaml with inputs broadcast and MAC synapses (module docstring), loaded."""
    data = yaml.safe_load((ROOT / "configs" / "three-level.yaml").read_text())
    data["mapping"]["input_broadcast"] = True
    data["synapse"]["kind"] = "mac"
    path = tmp / "three-level-comparable.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_arch(path)


def _port(kind, index, bw_min, bw_max, allocation):
    prefix = {"read": "r", "write": "w", "read_write": "rw"}[kind]  # ZigZag's port names: r_port_1, rw_port_1
    return {"name": f"{prefix}_port_{index}", "type": kind, "bandwidth_min": bw_min, "bandwidth_max": bw_max,
            "allocation": allocation}


def zigzag_hardware(op, levels, units, accumulator_bits, kinds):
    """ZigZag 3.9's accelerator (a dict for its yaml) for archsim's levels (outermost first) and units."""
    directions = {"I1": ["fh", "tl"], "I2": ["fh", "tl"], "O": ["fh", "tl", "fl", "th"]}
    acc = [f"O, {d}" for d in directions["O"]]
    memories = {"accumulators": {
        "size": accumulator_bits, "r_cost": 0, "w_cost": 0, "area": 0, "latency": 1, "operands": ["O"],
        "ports": [_port(kind, 1 + d // 2, accumulator_bits, accumulator_bits, [a])
                  for d, (kind, a) in enumerate(zip(["write", "read", "write", "read"], acc))],
        "served_dimensions": []}}
    for lv in reversed(levels):  # ZigZag lists memories innermost first
        operands = [OPERAND[o] for o in sorted(lv.holds)]
        home_bits = sum(prod(op.dims[d] for d in op.operands[o].dims) *
                        (accumulator_bits if op.operands[o].role == WRITE else op.operands[o].bits)
                        for o in lv.holds if o != WEIGHTS and lv is next(x for x in levels if o in x.holds))
        bw_max = max(lv.bits_per_cycle, units * op.operands[WEIGHTS].bits)
        reads = [f"{o}, {d}" for o in operands for d in directions[o] if d in ("tl", "th")]
        writes = [f"{o}, {d}" for o in operands for d in directions[o] if d in ("fh", "fl")]
        ports = ([_port("read_write", 1, BITS, bw_max, reads + writes)] if kinds[lv.name] == "dram" else
                 [_port("read", 1, BITS, bw_max, reads), _port("write", 1, BITS, bw_max, writes)])
        memories[lv.name] = {
            "size": lv.capacity_bits // (2 if lv.double_buffered else 1) + home_bits,
            "r_cost": bw_max * lv.read_pj_per_bit, "w_cost": bw_max * lv.write_pj_per_bit, "area": 0,
            "latency": 1, "operands": operands, "ports": ports, "served_dimensions": ["D1"]}
    return {"name": "three_level_comparable", "memories": memories,
            "operational_array": {"unit_energy": 0, "unit_area": 1, "dimensions": ["D1"], "sizes": [units]}}


def zigzag_files(tmp, name, op, levels, units, accumulator_bits, kinds):
    """Paths of the layer's ZigZag workload (im2col, and `native`: the convolution), hardware and mapping files."""
    workload = [{"id": 0, "name": name, "operator_type": "Gemm", "equation": "O[d][k]+=I[d][c]*W[k][c]",
                 "loop_dims": list(DIM), "loop_sizes": [op.dims[DIM[d]] for d in DIM],
                 "operand_precision": {"I": BITS, "W": BITS, "O": accumulator_bits, "O_final": BITS}}]
    files = {"workload": workload, "hardware": zigzag_hardware(op, levels, units, accumulator_bits, kinds),
             "mapping": zigzag_mapping({"M": units}), "native": native_conv(name, op, accumulator_bits)}
    out = {}
    for kind, data in files.items():
        out[kind] = str(tmp / f"{name}-{kind}.yaml")
        Path(out[kind]).write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def native_conv(name, op, accumulator_bits):
    """ZigZag's workload of the layer as the convolution it is (7 loops, inputs reused across the kernel window)."""
    c_in, k, stride, pad = NATIVE[name]
    out = isqrt(op.dims["N"])
    if out * out != op.dims["N"] or k * k * c_in != op.dims["C"]:
        raise ValueError(f"{name}: NATIVE {NATIVE[name]} does not give {op.dims['N']} positions and fan-in "
                         f"{op.dims['C']}")
    return [{"id": 0, "name": name, "operator_type": "Conv",
             "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
             "dimension_relations": [f"ix={stride}*ox+1*fx", f"iy={stride}*oy+1*fy"],
             "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
             "loop_sizes": [1, op.dims["M"], c_in, out, out, k, k],
             "operand_precision": {"I": BITS, "W": BITS, "O": accumulator_bits, "O_final": BITS},
             "pr_loop_dims": ["IX", "IY"], "padding": [[pad, pad], [pad, pad]]}]


def zigzag_mapping(spatial, mapping=None):
    """ZigZag's mapping file (a list for its yaml): archsim's spatial unrolling on the array's one dimension, and,
    given an archsim Mapping, its loops as ZigZag's fixed temporal ordering (innermost first)."""
    inv = {v: k for k, v in DIM.items()}
    entry = {"name": "default", "spatial_mapping": {"D1": [f"{inv[d]}, {f}" for d, f in (spatial or {"M": 1}).items()]}}
    if mapping is not None:
        entry["temporal_ordering"] = [[inv[d], f] for _, d, f in reversed(mapping.loops())]
    entry["memory_operand_links"] = LINKS
    return [entry]


def run_zigzag(python, files, dump, lpf_limit=None):
    """The driver's result, with the whole process's wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    job = json.dumps({**files, "dump": str(dump), "lpf_limit": lpf_limit})
    r = subprocess.run([str(python), "-c", DRIVER, job], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        raise RuntimeError(f"ZigZag failed on {files['workload']}: {r.stderr[-3000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    out["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out


def translate(zz, names):
    """ZigZag's chosen mapping as archsim's Mapping on levels `names` (outermost first). ZigZag gives one loop
    order (innermost first) cut per operand at its memory levels; archsim's weights' level boundaries are ZigZag's
    weight cuts (inputs and outputs live in one archsim level, so only the order matters for them)."""
    order = {op: [tuple(lp) for level in loops for lp in level] for op, loops in zz["loops"].items()}
    if len({tuple(o) for o in order.values()}) != 1:
        raise ValueError(f"ZigZag's operands disagree on the loop order: {order}")
    per_level = {n: () for n in names}
    for name, loops in zip(zz["levels"]["W"], zz["loops"]["W"]):
        if name not in per_level:
            raise ValueError(f"ZigZag keeps weights at {name!r}, not one of archsim's levels {names}")
        per_level[name] = tuple((DIM[d], f) for d, f in reversed(loops))
    spatial = {DIM[d]: f for d, f in zz["spatial"].items() if f > 1}
    return Mapping(tuple(per_level[n] for n in names), spatial)


def energy_by_level(levels, predicted):
    """archsim's memory energy per level (pJ) of predicted counts."""
    return {lv.name: energy_pj(levels, {k: v for k, v in predicted.items() if k[0] == lv.name}) for lv in levels}


def zigzag_energy_by_level(zz, names):
    """ZigZag's memory energy per archsim level (pJ), summed over operands (its accumulators cost nothing)."""
    out = {n: 0.0 for n in names}
    for op, energies in zz["energy_pj"].items():
        for name, e in zip(zz["levels"][op], energies):
            if name in out:
                out[name] += e
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--layers", help="comma-separated subset of: " + ", ".join(n for n, *_ in LAYERS))
    ap.add_argument("--zigzag-venv", default="/tmp/zz-venv", help="ZigZag's own venv (created if missing)")
    ap.add_argument("--budget", type=int, default=2000, help="archsim's search budget (its default)")
    ap.add_argument("--lpf-limit", type=int, help="ZigZag's LOMA lpf_limit (default: ZigZag's own, 6)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="folder for zigzag.csv, zigzag.md")
    args = ap.parse_args()
    wanted = args.layers.split(",") if args.layers else [n for n, *_ in LAYERS]
    unknown = sorted(set(wanted) - {n for n, *_ in LAYERS})
    if unknown:
        ap.error(f"--layers: unknown {unknown}; allowed: {', '.join(n for n, *_ in LAYERS)}")
    print("bench_zigzag: archsim's mapper against ZigZag 3.9.1, ResNet-18 conv layers (im2col), three-level")
    started = machine()
    print(f"  {started}")
    python, why_not = zigzag_python(args.zigzag_venv)
    if python is None:
        print(f"  ZigZag not measured: {why_not}")
        return 0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        arch = arch_for_comparison(tmp)
        levels = levels_of(arch)
        names = [lv.name for lv in levels]
        kinds = {lv.name: lv.kind for lv in arch.levels}
        units = min(arch.synapse.count, arch.neuron.count)
        acc_bits = arch.synapse.accumulator_bits
        layers = [(n, dense_operation(n, p, 1, m, c, BITS, BITS, BITS, acc_bits)) for n, p, m, c in LAYERS
                  if n in wanted]
        files = {n: zigzag_files(tmp, n, op, levels, units, acc_bits, kinds) for n, op in layers}
        runs = {n: {"zz": [], "zz_native": [], "as_wall": [], "as_cpu": [], "as_best": []} for n, _ in layers}
        for r in range(args.repeats):
            for n, op in layers:
                runs[n]["zz"].append(run_zigzag(python, files[n], tmp / f"dump-{n}-{r}", args.lpf_limit))
                runs[n]["zz_native"].append(run_zigzag(python, {**files[n], "workload": files[n]["native"]},
                                                       tmp / f"dump-{n}-{r}-native", args.lpf_limit))
                t0, c0 = time.perf_counter(), time.process_time()
                best, candidates, method = search(op, levels, "energy", units=units, budget=args.budget, seed=r)
                runs[n]["as_wall"].append(time.perf_counter() - t0)
                runs[n]["as_cpu"].append(time.process_time() - c0)
                runs[n]["as_best"].append((best, len(candidates), method))
                print(f"  repeat {r + 1}/{args.repeats} {n}: ZigZag {runs[n]['zz'][-1]['wall_s']:.2f} s, "
                      f"archsim {runs[n]['as_wall'][-1]:.3f} s", flush=True)
        for n, op in layers:  # archsim's choice (the first repeat's) costed by ZigZag's model: not timed
            best = runs[n]["as_best"][0][0]
            path = tmp / f"{n}-archsim-mapping.yaml"
            path.write_text(yaml.safe_dump(zigzag_mapping(best.mapping.spatial, best.mapping), sort_keys=False))
            runs[n]["zz_of_archsim"] = run_zigzag(python, {**files[n], "mapping": str(path)}, tmp / f"dump-{n}-as")
        rows = [row_of(n, op, runs[n], levels, names) for n, op in layers]
    write(rows, Path(args.out), args, started)
    return 0


def row_of(name, op, run, levels, names):
    """One layer's figures: times and ratios per repeat, energies, the mappings."""
    zz = run["zz"]
    ratio_wall = [z["wall_s"] / a for z, a in zip(zz, run["as_wall"])]
    ratio_cpu = [z["cpu_s"] / a for z, a in zip(zz, run["as_cpu"])]
    zz_mapping = translate(zz[0], names)
    problems = check(op, levels, zz_mapping)
    zz_in_archsim = None if problems else evaluate(op, levels, zz_mapping)
    best_energies = [b.energy_pj for b, _, _ in run["as_best"]]
    best = run["as_best"][0][0]  # seed 0, as `archsim map` runs by default
    as_in_zz = run["zz_of_archsim"]["mem_energy_pj"]
    row = {"layer": name, "N": op.dims["N"], "M": op.dims["M"], "C": op.dims["C"],
           "archsim_wall_s": fmt(run["as_wall"]), "archsim_cpu_s": fmt(run["as_cpu"]),
           "zigzag_wall_s": fmt([z["wall_s"] for z in zz]), "zigzag_cpu_s": fmt([z["cpu_s"] for z in zz]),
           "zigzag_process_wall_s": fmt([z["process_wall_s"] for z in zz]),
           "zigzag_process_cpu_s": fmt([z["process_cpu_s"] for z in zz]),
           "zigzag_process_wall_median_s": spread([z["process_wall_s"] for z in zz])[0],
           "ratio_wall": fmt(ratio_wall), "ratio_cpu": fmt(ratio_cpu),
           "zigzag_native_wall_s": fmt([z["wall_s"] for z in run["zz_native"]]),
           "ratio_native_wall": fmt([z["wall_s"] / a for z, a in zip(run["zz_native"], run["as_wall"])]),
           "zigzag_native_candidates": run["zz_native"][0]["candidates"],
           "zigzag_native_energy_pj": run["zz_native"][0]["mem_energy_pj"],
           "ratio_wall_median": spread(ratio_wall)[0],
           "archsim_candidates": run["as_best"][0][1], "archsim_method": run["as_best"][0][2],
           "zigzag_candidates": zz[0]["candidates"],
           "archsim_ms_per_candidate": 1e3 * spread(run["as_cpu"])[0] / run["as_best"][0][1],
           "zigzag_ms_per_candidate": 1e3 * spread([z["cpu_s"] for z in zz])[0] / zz[0]["candidates"],
           "archsim_energy_pj": fmt(best_energies, digits=4), "archsim_seed0_pj": best.energy_pj,
           "zigzag_energy_own_model_pj": zz[0]["mem_energy_pj"],
           "zigzag_same_choice_every_repeat": len({json.dumps(z["loops"]) for z in zz}) == 1,
           "zigzag_mapping_in_archsim_pj": zz_in_archsim.energy_pj if zz_in_archsim else "",
           "energy_ratio_archsim_model": fmt([e / zz_in_archsim.energy_pj for e in best_energies], digits=4)
           if zz_in_archsim else "",
           "archsim_mapping_in_zigzag_pj": as_in_zz,
           "energy_ratio_zigzag_model": as_in_zz / zz[0]["mem_energy_pj"],
           "archsim_mapping": mapping_text(best.mapping, names),
           "zigzag_mapping": mapping_text(zz_mapping, names),
           "zigzag_mapping_problems": "; ".join(problems)}
    by_best = energy_by_level(levels, counts(op, levels, best.mapping))
    by_zz = energy_by_level(levels, counts(op, levels, zz_mapping)) if not problems else {}
    by_zz_own = zigzag_energy_by_level(zz[0], names)
    for n in names:
        row[f"{n}_pj archsim"] = by_best[n]
        row[f"{n}_pj zigzag mapping, archsim model"] = by_zz.get(n, "")
        row[f"{n}_pj zigzag own model"] = by_zz_own[n]
    return row


def write(rows, out, args, started):
    """zigzag.csv (every figure), zigzag.md (the table, a summary and the mappings), printed too; named
    zigzag-lpfN.* with --lpf-limit N."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"zigzag-lpf{args.lpf_limit}" if args.lpf_limit else "zigzag"
    with open(out / f"{stem}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    g = "{:.4g}".format

    def span(key, form):
        return f"{format(min(r[key] for r in rows), form)} to {format(max(r[key] for r in rows), form)}"

    search_settings = {**SEARCH, **({"lpf_limit": args.lpf_limit} if args.lpf_limit else {})}
    lines = [f"bench_zigzag.py --repeats {args.repeats}: {started}",
             "ZigZag " + ", ".join(f"{k} {v}" for k, v in search_settings.items()) +
             "; archsim search, objective energy, "
             f"budget {args.budget}, seed = repeat. Median [min, max] over repeats; ratios within each repeat.", "",
             "Times: the search call, seconds; ZigZag / archsim within each repeat, wall and CPU.",
             "Energy (memory, pJ per layer): each tool's choice on each model; archsim's choice is seed 0's (the "
             f"median over seeds in {stem}.csv).", "",
             "| layer | archsim s | ZigZag s | ZigZag / archsim, wall | CPU | archsim's choice: archsim model | "
             "ZigZag model | ZigZag's choice: archsim model | ZigZag model | archsim / ZigZag choice: archsim model "
             "| ZigZag model |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        zz_as = g(r["zigzag_mapping_in_archsim_pj"]) if r["zigzag_mapping_in_archsim_pj"] != "" else \
            "does not fit: " + r["zigzag_mapping_problems"]
        lines.append(f"| {r['layer']} | {r['archsim_wall_s']} | {r['zigzag_wall_s']} | {r['ratio_wall']} | "
                     f"{r['ratio_cpu']} | {g(r['archsim_seed0_pj'])} | {g(r['archsim_mapping_in_zigzag_pj'])} | "
                     f"{zz_as} | {g(r['zigzag_energy_own_model_pj'])} | {r['energy_ratio_archsim_model']} | "
                     f"{r['energy_ratio_zigzag_model']:.4g} |")
    n = len(rows)
    met = sum(1 for r in rows if r["ratio_wall_median"] >= 10)
    lower_as = sum(1 for r in rows if r["zigzag_mapping_in_archsim_pj"] != "" and
                   r["archsim_seed0_pj"] <= r["zigzag_mapping_in_archsim_pj"])
    lower_zz = sum(1 for r in rows if r["archsim_mapping_in_zigzag_pj"] <= r["zigzag_energy_own_model_pj"])
    lines += ["", f"ZigZag / archsim wall time, per-layer medians {span('ratio_wall_median', '.3g')}x (target 10x: "
              f"met on {met} of {n} layers). archsim's choice at equal or lower energy than ZigZag's: {lower_as} of "
              f"{n} layers on archsim's model, {lower_zz} of {n} on ZigZag's. Candidates per layer: archsim "
              f"{span('archsim_candidates', ',')}, ZigZag {span('zigzag_candidates', ',')}; CPU ms per candidate: "
              f"archsim {span('archsim_ms_per_candidate', '.2g')}, ZigZag {span('zigzag_ms_per_candidate', '.2g')}. "
              f"ZigZag's whole process (imports, parsing, search, its result files), wall: "
              f"{span('zigzag_process_wall_median_s', '.3g')} s (per-layer medians)."]
    lines += ["", "ZigZag on each layer as the convolution it is (7 loops: inputs reused across the kernel window, "
              "which archsim's im2col view does not express; same hardware file; its own model only):", "",
              "| layer | ZigZag s | ZigZag / archsim, wall | candidates | ZigZag pJ | archsim's im2col choice on "
              "ZigZag's model / that |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['layer']} | {r['zigzag_native_wall_s']} | {r['ratio_native_wall']} | "
                     f"{r['zigzag_native_candidates']:,} | {g(r['zigzag_native_energy_pj'])} | "
                     f"{r['archsim_mapping_in_zigzag_pj'] / r['zigzag_native_energy_pj']:.4g} |")
    lines += ["", "Chosen mappings (levels outermost first, loops outermost first):", ""]
    for r in rows:
        lines += [f"- {r['layer']}: archsim `{r['archsim_mapping']}`", f"  ZigZag `{r['zigzag_mapping']}`"]
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"  -> {out / stem}.csv, .md")

if __name__ == "__main__":
    sys.exit(main())
