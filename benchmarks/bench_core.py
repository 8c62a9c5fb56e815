"""Timing mode against functional mode on a large dense workload (1024-wide layers, T = 32), in the same run
(not a test). Each repeat runs both modes in turn; the ratio is taken per repeat, median [min, max].
Target (issue 15): <= 1.5x quiet, <= 2x with --busy. The kernel's own speed is benchmarks/bench_kernel.py.
Run: python benchmarks/bench_core.py [--busy] [--repeats 5]
"""
import argparse

import yaml
from benchlib import alternate, busy, fmt, machine

from archsim import simulate
from archsim.config.loader import arch_from_data, default_arch_path
from archsim.workload.loader import workload_from_data


def case():
    arch = yaml.safe_load(default_arch_path().read_text())
    level = {lv["name"]: lv for lv in arch["levels"]}
    level["weight_mem"]["capacity"] = "4MiB"
    level["act_mem"]["capacity"] = "1MiB"
    level["weight_buf"]["capacity"] = "128KiB"
    arch["synapse"]["count"] = arch["neuron"]["count"] = 64
    arch["synapse"]["accumulator_bits"] = 32
    a = arch_from_data(arch, "<bench arch>")
    layers = [{"type": "dense", "outputs": 1024, "weight_bits": 4, "activation": "pbit"} for _ in range(2)]
    layers.append({"type": "dense", "outputs": 10, "weight_bits": 8, "activation": "linear", "output_bits": 24})
    w = workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "bench-1024", "samples": 32, "seed": 1,
                            "input": {"size": 1024, "bits": 1}, "layers": layers}, "<bench workload>")
    return a, w


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", action="store_true", help="run one competing Numba-parallel process throughout")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    a, w = case()
    simulate(a, w, "timing")  # compile or load from the cache
    with busy(args.busy):
        t = alternate({"functional": lambda: simulate(a, w, "functional"),
                       "timing": lambda: simulate(a, w, "timing")}, args.repeats)
    print(f"bench_core ({'busy: one competing Numba-parallel process' if args.busy else 'no competitor started'})")
    print(f"  {machine()}")
    print("1024-1024-10 p-DNN, T = 32, 64 synapse units (seconds, median [min, max] over alternating repeats)")
    print(f"  functional {fmt(t['functional'])}   timing {fmt(t['timing'])}   "
          f"timing / functional {fmt([b / a for a, b in zip(t['functional'], t['timing'])])}   (target <= 1.5x)")


if __name__ == "__main__":
    main()
