"""Whole-process speed (not a test): simulated MACs per second of `archsim run`, in functional and timing mode,
against SCALE-Sim 3.0 on the same layer in the same run when it runs; timing against functional mode on
many-tile cases; and start-up.

  conv2_1a   ResNet-18 conv2_1a: 56x56x64 input (58x58 padded, as SCALE-Sim takes it), 3x3, 64 filters: 115.6 M MACs
  gemm256    a 256 x 256 x 256 GEMM (SCALE-Sim's M, N, K format): 16.8 M MACs
             both on configs/cnn-sram.yaml (MAC synapses, weights stationary over positions: 1 to 4 tiles),
             8-bit inputs and weights, T = 1
  conv2_1a tiles, gemm256 tiles
             the same layers with mapping.weight_stationary false: one tile per output position and channel
             group (9,408 and 1,024 tiles), the many-tile cases of the timing / functional target
  pdnn1024   a 1024-1024-10 p-DNN (1-bit inputs, 8-bit weights, p-bits, a linear 24-bit last layer), T = 32, on
             configs/three-level.yaml (weights streamed from DRAM: 515 tiles); synaptic operations counted as MACs
  SCALE-Sim  `python -m scalesim.scale` on the same CSV, a 32x32 weight-stationary array, no trace files;
             run with --scalesim-python (default: this interpreter) when `import scalesim` works there
  start-up   `archsim --help`, and the smallest run (workloads/tiny.yaml) warm
Each repeat runs every command once, in turn; wall and CPU (user + sys) seconds, median [min, max]; ratios per
repeat. "simulate phase only": the wall seconds archsim's manifest.json gives its simulate phase (kernels and
the event model, with Numba's first-call set-up; no imports, planning or writing). --busy runs one competing
Numba-parallel process throughout; --both measures without it, then with it.
Targets (issue 15): >= 100x SCALE-Sim functional, >= 30x timing; timing <= 1.5x functional on the many-tile
cases quiet, <= 2x busy (issue 12: <= 2x on pdnn1024); --help < 0.3 s; smallest run < 0.8 s.
Run: python benchmarks/bench_run.py [--busy | --both] [--repeats 3] [--scalesim-python PATH]
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from benchlib import busy, fmt, machine, run_timed

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"conv2_1a": ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                       "Strides,\nconv2_1a, 58, 58, 3, 3, 64, 64, 1,\n", 56 * 56 * 64 * 9 * 64, "conv"),
          "gemm256": ("Layer,M,N,K,\ngemm256,256,256,256,\n", 256**3, "gemm")}
PDNN = {"schema_version": 1, "kind": "pdnn", "name": "pdnn1024", "samples": 32, "seed": 1, "batch": 1,
        "input": {"size": 1024, "bits": 1},
        "layers": [{"type": "dense", "outputs": 1024, "weight_bits": 8, "activation": "pbit"},
                   {"type": "dense", "outputs": 1024, "weight_bits": 8, "activation": "pbit"},
                   {"type": "dense", "outputs": 10, "weight_bits": 8, "activation": "linear", "output_bits": 24}]}
PDNN_MACS = 32 * (1024 * 1024 + 1024 * 1024 + 1024 * 10)


def cases(tmp):
    """{name: (workload path, arch path, MACs, SCALE-Sim layer or None)}, the files written into tmp."""
    arch = yaml.safe_load((ROOT / "configs" / "cnn-sram.yaml").read_text())
    arch["mapping"]["weight_stationary"] = False
    (tmp / "cnn-sram-tiles.yaml").write_text(yaml.safe_dump(arch))
    (tmp / "pdnn1024.yaml").write_text(yaml.safe_dump(PDNN))
    out = {}
    for name, (text, macs, _) in LAYERS.items():
        (tmp / f"{name}.csv").write_text(text)
        out[name] = (tmp / f"{name}.csv", ROOT / "configs" / "cnn-sram.yaml", macs, name)
        out[f"{name} tiles"] = (tmp / f"{name}.csv", tmp / "cnn-sram-tiles.yaml", macs, name)
    out["pdnn1024"] = (tmp / "pdnn1024.yaml", ROOT / "configs" / "three-level.yaml", PDNN_MACS, None)
    return out
# SCALE-Sim 3.0 reads every section below; the array and buffers are its example configuration's.
SCALESIM_CFG = """[general]
run_name = bench
[architecture_presets]
ArrayHeight: 32
ArrayWidth: 32
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 64
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: ws
MemoryBanks: 1
ReadRequestBuffer: 512
WriteRequestBuffer: 512
[layout]
IfmapCustomLayout: False
FilterCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2
[sparsity]
SparsitySupport: false
[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def scalesim_status(python, tmp):
    """None if SCALE-Sim runs on a small layer with `python`, else why not (its last error line)."""
    probe = subprocess.run([python, "-c", "import scalesim, numpy; print(numpy.__version__)"], capture_output=True,
                           text=True)
    if probe.returncode:
        return f"not importable with {python}"
    small = tmp / "probe.csv"
    small.write_text("Layer,M,N,K,\nprobe,8,8,8,\n")  # SCALE-Sim drops the last cell of a row
    r = subprocess.run(scalesim_argv(python, tmp, small, "gemm"), capture_output=True, text=True)
    if r.returncode:
        last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        return f"fails with numpy {probe.stdout.strip()}: {last}"
    return None


def scalesim_argv(python, tmp, csv, kind):
    return [python, "-m", "scalesim.scale", "-c", str(tmp / "scale.cfg"), "-t", str(csv), "-l", str(csv), "-i", kind,
            "-p", str(tmp / "scalesim-out"), "-s", "N"]


def measure(commands, repeats, on, cwd):
    """Alternating repeats of every command: ({name: wall s}, {name: cpu s}, {name: simulate-phase wall s})."""
    wall, cpu, phase = ({k: [] for k in commands} for _ in range(3))
    with busy(on):
        for _ in range(repeats):
            for k, argv in commands.items():
                w, c = run_timed(argv, cwd=cwd)
                wall[k].append(w)
                cpu[k].append(c)
                if "--out" in argv and k != "tiny":
                    out = Path(argv[argv.index("--out") + 1])
                    manifest = json.loads(next(out.glob("**/manifest.json")).read_text())
                    phase[k].append(manifest["wall_s"]["simulate"])
    return wall, cpu, phase


def report(on, wall, cpu, phase, work, why_not):
    print(f"bench_run ({'busy: one competing Numba-parallel process' if on else 'no competitor started'})")
    print(f"  {machine()}")
    print("  median [min, max] over alternating repeats; whole process, warm")
    print(f"  archsim --help          wall {fmt(wall['help'])} s   cpu {fmt(cpu['help'])} s   (target < 0.3 s)")
    print(f"  smallest run (tiny)     wall {fmt(wall['tiny'])} s   cpu {fmt(cpu['tiny'])} s   (target < 0.8 s)")
    for name, (_, _, macs, layer) in work.items():
        print(f"{name}: {macs / 1e6:.1f} M MACs (simulated MACs per second, wall; seconds wall and cpu)")
        reference = f"{layer} scalesim" if layer is not None and why_not is None else None
        for mode in ("functional", "timing", "scalesim"):
            k = f"{name} {mode}"
            if mode == "scalesim":
                if layer is None or name != layer:
                    continue
                if reference is None:
                    print(f"  SCALE-Sim 3.0: not measured, {why_not}")
                    continue
            line = (f"  {'SCALE-Sim 3.0' if mode == 'scalesim' else 'archsim ' + mode:20s} "
                    f"{fmt([macs / t for t in wall[k]])} MAC/s   wall {fmt(wall[k])} s   cpu {fmt(cpu[k])} s")
            if reference is not None and mode != "scalesim":
                line += f"   x SCALE-Sim {fmt([s / t for s, t in zip(wall[reference], wall[k])])}"
            print(line)
            if mode != "scalesim":
                line = f"    simulate phase only   {fmt([macs / t for t in phase[k]])} MAC/s   wall {fmt(phase[k])} s"
                if reference is not None:
                    line += f"   x SCALE-Sim whole {fmt([s / t for s, t in zip(wall[reference], phase[k])])}"
                print(line)
        f, t = f"{name} functional", f"{name} timing"
        print(f"  timing / functional     whole process {fmt([b / a for a, b in zip(wall[f], wall[t])])}   "
              f"simulate phase {fmt([b / a for a, b in zip(phase[f], phase[t])])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", action="store_true", help="run one competing Numba-parallel process throughout")
    ap.add_argument("--both", action="store_true", help="measure without a competing process, then with one")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scalesim-python", default=sys.executable, help="an interpreter with SCALE-Sim 3.0 installed")
    args = ap.parse_args()
    archsim = [sys.executable, "-m", "archsim"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "scale.cfg").write_text(SCALESIM_CFG)
        work = cases(tmp)
        why_not = scalesim_status(args.scalesim_python, tmp)
        commands = {"help": archsim + ["--help"],
                    "tiny": archsim + ["run", "--workload", str(ROOT / "workloads" / "tiny.yaml"), "--out", d + "/t",
                                          "--force"]}  # each repeat writes over the last
        for name, (workload, arch, _, layer) in work.items():
            for mode in ("functional", "timing"):
                commands[f"{name} {mode}"] = archsim + ["run", "--arch", str(arch), "--workload", str(workload),
                                                        "--mode", mode, "--out", f"{d}/{name}-{mode}", "--force"]
            if why_not is None and name == layer:
                commands[f"{name} scalesim"] = scalesim_argv(args.scalesim_python, tmp, workload, LAYERS[name][2])
        for argv in commands.values():  # warm: Numba's cache, the OS file cache
            run_timed(argv, cwd=d)
        for on in ([False, True] if args.both else [args.busy]):
            report(on, *measure(commands, args.repeats, on, d), work, why_not)


if __name__ == "__main__":
    main()
