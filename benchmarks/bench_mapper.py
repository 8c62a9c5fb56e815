"""Mapper speed on ResNet-18 conv layers (im2col view, batch 1, 8-bit weights and activations, T = 1) on the
three-level hierarchy of configs/three-level.yaml: seconds per layer, median and range over repeats, with the
candidates evaluated and the chosen mapping's memory energy. No reference is timed here: bench_zigzag.py times
ZigZag, the natural one, against the same search.

    python benchmarks/bench_mapper.py [--repeats 5] [--objective energy]
"""
import argparse
import statistics
import time
from pathlib import Path

from archsim import load_arch
from archsim.mapping.hierarchy import levels_of
from archsim.mapping.loopnest import dense_operation
from archsim.mapping.search import search

# (name, output positions Ho*Wo, output channels, fan-in k*k*C_in) of ResNet-18's distinct conv shapes
LAYERS = [("conv1", 112 * 112, 64, 7 * 7 * 3), ("conv2_1a", 56 * 56, 64, 3 * 3 * 64),
          ("conv3_1a", 28 * 28, 128, 3 * 3 * 64), ("conv3_1b", 28 * 28, 128, 3 * 3 * 128),
          ("conv4_1a", 14 * 14, 256, 3 * 3 * 128), ("conv4_1b", 14 * 14, 256, 3 * 3 * 256),
          ("conv5_1a", 7 * 7, 512, 3 * 3 * 256), ("conv5_1b", 7 * 7, 512, 3 * 3 * 512)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--objective", default="energy")
    ap.add_argument("--budget", type=int, default=2000)
    args = ap.parse_args()
    arch = load_arch(Path(__file__).resolve().parents[1] / "configs" / "three-level.yaml")
    levels = levels_of(arch)
    units = min(arch.synapse.count, arch.neuron.count)
    print(f"{'layer':10s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'candidates':>10s} {'energy pJ':>12s}")
    for name, positions, m, n in LAYERS:
        op = dense_operation(name, positions, 1, m, n, 8, 8, 8, arch.synapse.accumulator_bits)
        times = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            best, candidates, _ = search(op, levels, args.objective, units=units, budget=args.budget, seed=r)
            times.append(time.perf_counter() - t0)
        print(f"{name:10s} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f} "
              f"{len(candidates):10d} {best.energy_pj:12.4g}")


if __name__ == "__main__":
    main()
