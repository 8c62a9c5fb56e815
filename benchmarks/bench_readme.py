"""Wall time of the README's main commands, warm (Numba cache filled by a first untimed round), median [min, max]
over alternating repeats; `--busy` runs them beside one competing Numba-parallel process. Prints a Markdown
table for README.md.

    python benchmarks/bench_readme.py [--repeats 3] [--busy]
"""
import argparse
import sys
import tempfile
from pathlib import Path

from benchlib import busy, fmt, machine, run_timed

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [
    ("`archsim run` (default p-DNN, timing mode)", ["run"]),
    ("`archsim run --workload workloads/cifar10-cnn-pbit.yaml --arch configs/cnn-sram.yaml`",
     ["run", "--workload", "workloads/cifar10-cnn-pbit.yaml", "--arch", "configs/cnn-sram.yaml"]),
    ("`archsim run --workload workloads/pdnn-1024.yaml --arch configs/three-level.yaml`",
     ["run", "--workload", "workloads/pdnn-1024.yaml", "--arch", "configs/three-level.yaml"]),
    ("`archsim run --workload workloads/scalesim/lenet-conv.csv --arch configs/building-block-mac.yaml`",
     ["run", "--workload", "workloads/scalesim/lenet-conv.csv", "--arch", "configs/building-block-mac.yaml"]),
    ("`archsim run --workload workloads/dtm-chain.yaml`", ["run", "--workload", "workloads/dtm-chain.yaml"]),
    ("`archsim map --arch configs/three-level.yaml --workload workloads/cifar10-cnn-pbit.yaml`",
     ["map", "--arch", "configs/three-level.yaml", "--workload", "workloads/cifar10-cnn-pbit.yaml", "--no-plot"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--busy", action="store_true")
    args = ap.parse_args()
    print(machine(), "(busy)" if args.busy else "(quiet)")
    with tempfile.TemporaryDirectory() as tmp, busy(args.busy):
        times = {label: [] for label, _ in COMMANDS}
        for r in range(args.repeats + 1):
            for k, (label, argv) in enumerate(COMMANDS):
                out = Path(tmp) / f"{k}-{r}"
                wall, _ = run_timed([sys.executable, "-m", "archsim", *argv, "--out", str(out)], cwd=ROOT)
                if r:  # the first round fills the Numba cache and the OS file cache
                    times[label].append(wall)
    print("| command | wall s |\n|---|---|")
    for label, t in times.items():
        print(f"| {label} | {fmt(t)} |")


if __name__ == "__main__":
    main()
