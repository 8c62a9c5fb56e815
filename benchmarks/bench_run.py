"""Whole-process speed (not a test): simulated MACs per second of `archsim run` on SCALE-Sim topology CSVs, in
functional and timing mode, against SCALE-Sim 3.0 on the same layer in the same run when it runs; and start-up.

  conv2_1a   ResNet-18 conv2_1a: 56x56x64 input (58x58 padded, as SCALE-Sim takes it), 3x3, 64 filters: 115.6 M MACs
  gemm256    a 256 x 256 x 256 GEMM (SCALE-Sim's M, N, K format): 16.8 M MACs
             both on configs/cnn-sram.yaml (MAC synapses), 8-bit inputs and weights, T = 1
  SCALE-Sim  `python -m scalesim.scale` on the same CSV, a 32x32 weight-stationary array, no trace files;
             run with --scalesim-python (default: this interpreter) when `import scalesim` works there
  start-up   `archsim --help`, and the smallest run (workloads/tiny.yaml) warm
Each repeat runs every command once, in turn; wall and CPU (user + sys) seconds, median [min, max]; ratios per
repeat. "simulate phase only": the wall seconds archsim's manifest.json gives its simulate phase (kernels and
the event model, with Numba's first-call set-up; no imports, planning or writing). Targets (issue 15): >= 100x SCALE-Sim functional, >= 30x timing; --help < 0.3 s; smallest run < 0.8 s.
Run: python benchmarks/bench_run.py [--busy] [--repeats 3] [--scalesim-python PATH]
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import busy, fmt, machine, run_timed

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"conv2_1a": ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                       "Strides,\nconv2_1a, 58, 58, 3, 3, 64, 64, 1,\n", 56 * 56 * 64 * 9 * 64, "conv"),
          "gemm256": ("Layer,M,N,K,\ngemm256,256,256,256,\n", 256**3, "gemm")}
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", action="store_true", help="run one competing Numba-parallel process throughout")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scalesim-python", default=sys.executable, help="an interpreter with SCALE-Sim 3.0 installed")
    args = ap.parse_args()
    archsim = [sys.executable, "-m", "archsim"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "scale.cfg").write_text(SCALESIM_CFG)
        for name, (text, _, _) in LAYERS.items():
            (tmp / f"{name}.csv").write_text(text)
        why_not = scalesim_status(args.scalesim_python, tmp)
        commands = {"help": archsim + ["--help"],
                    "tiny": archsim + ["run", "--workload", str(ROOT / "workloads" / "tiny.yaml"), "--out", d + "/t",
                                          "--force"]}  # each repeat writes over the last
        for name, (_, _, kind) in LAYERS.items():
            for mode in ("functional", "timing"):
                commands[f"{name} {mode}"] = archsim + ["run", "--arch", str(ROOT / "configs" / "cnn-sram.yaml"),
                                                        "--workload", str(tmp / f"{name}.csv"), "--mode", mode,
                                                        "--out", f"{d}/{name}-{mode}", "--force"]
            if why_not is None:
                commands[f"{name} scalesim"] = scalesim_argv(args.scalesim_python, tmp, tmp / f"{name}.csv", kind)
        for argv in commands.values():  # warm: Numba's cache, the OS file cache
            run_timed(argv, cwd=d)
        wall = {k: [] for k in commands}
        cpu = {k: [] for k in commands}
        phase = {k: [] for k in commands}  # archsim's own wall seconds of its simulate phase (manifest.json)
        with busy(args.busy):
            for _ in range(args.repeats):
                for k, argv in commands.items():
                    w, c = run_timed(argv, cwd=d)
                    wall[k].append(w)
                    cpu[k].append(c)
                    if "--out" in argv and k != "tiny":
                        out = Path(argv[argv.index("--out") + 1])
                        manifest = json.loads(next(out.glob("layers/*/manifest.json")).read_text())
                        phase[k].append(manifest["wall_s"]["simulate"])
    print(f"bench_run ({'busy: one competing Numba-parallel process' if args.busy else 'no competitor started'})")
    print(f"  {machine()}")
    print("  median [min, max] over alternating repeats; whole process, warm")
    print(f"  archsim --help          wall {fmt(wall['help'])} s   cpu {fmt(cpu['help'])} s   (target < 0.3 s)")
    print(f"  smallest run (tiny)     wall {fmt(wall['tiny'])} s   cpu {fmt(cpu['tiny'])} s   (target < 0.8 s)")
    for name, (_, macs, _) in LAYERS.items():
        print(f"{name}: {macs / 1e6:.1f} M MACs (simulated MACs per second, wall; seconds wall and cpu)")
        for mode in ("functional", "timing", "scalesim"):
            k = f"{name} {mode}"
            if k not in wall:
                print(f"  SCALE-Sim 3.0: not measured, {why_not}")
                continue
            line = (f"  {'SCALE-Sim 3.0' if mode == 'scalesim' else 'archsim ' + mode:20s} "
                    f"{fmt([macs / t for t in wall[k]])} MAC/s   wall {fmt(wall[k])} s   cpu {fmt(cpu[k])} s")
            if why_not is None and mode != "scalesim":
                line += f"   x SCALE-Sim {fmt([s / t for s, t in zip(wall[name + ' scalesim'], wall[k])])}"
            print(line)
            if mode != "scalesim":
                line = f"    simulate phase only   {fmt([macs / t for t in phase[k]])} MAC/s   wall {fmt(phase[k])} s"
                if why_not is None:
                    line += f"   x SCALE-Sim whole {fmt([s / t for s, t in zip(wall[name + ' scalesim'], phase[k])])}"
                print(line)
        f, t = wall[f"{name} functional"], wall[f"{name} timing"]
        print(f"  timing / functional     {fmt([b / a for a, b in zip(f, t)])}")


if __name__ == "__main__":
    main()
