"""Design comparison, end to end, as a notebook would do it: one p-DNN workload on two memory designs
(weights in on-chip SRAM vs in off-chip DRAM), compared through RunResult's DataFrames and plots.

    python examples/design_comparison.py [--out DIR]     # default DIR: runs/design-comparison

Each cell below is a notebook cell; the script prints the tables and writes the plots and traces into DIR."""
import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from archsim import load_arch, load_workload, simulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = {"sram": "default", "dram": str(ROOT / "configs/dram-weights.yaml")}


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    workload = load_workload("default")

    # Cell 1: run the same workload on both designs (timing mode, with a trace for the busy timeline).
    results = {name: simulate(load_arch(arch), workload, mode="timing", trace=str(out / f"{name}.parquet"))
               for name, arch in DESIGNS.items()}

    # Cell 2: energy by component, one column per design (tidy -> pivot).
    energy = pd.concat([r.energy().assign(design=name) for name, r in results.items()])
    print(energy.pivot_table(index="component", columns="design", values="energy_pj", aggfunc="sum").round(1))

    # Cell 3: the memory levels side by side: traffic and energy.
    print(pd.concat([r.levels().assign(design=name) for name, r in results.items()])
          [["design", "level", "kind", "read_bits", "read_words", "energy_pj"]].to_string(index=False))

    # Cell 4: per layer: where the energy goes and why (the mapping's loop order and reason).
    print(results["dram"].layers()[["layer", "type", "fan_in", "outputs", "loop_order", "energy_pj",
                                    "weight_mem_read_bits"]].to_string(index=False))

    # Cell 5: the headline comparison.
    summary = pd.DataFrame([{"design": name, "cycles": r.cycles, "energy_pj": r.energy().energy_pj.sum()}
                            for name, r in results.items()])
    print(summary.to_string(index=False))

    # Cell 6: plots: energy breakdown per design and the busy timeline of the DRAM design.
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, (name, r) in zip(axes, results.items()):
        r.plot_breakdown(ax=ax)
    fig.tight_layout()
    fig.savefig(out / "breakdown.png")
    results["dram"].plot_timeline(out / "dram.parquet").figure.savefig(out / "timeline.png")
    plt.close("all")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "design-comparison")
    t0 = time.perf_counter()
    main(parser.parse_args().out)
    print(f"design comparison: {time.perf_counter() - t0:.1f} s")
