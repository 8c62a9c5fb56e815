"""The multi-chip machine swept over eta = f_comm / f_pbit and over the number of chips, drawn:

    python validation/chips_sweep.py [--out runs/chips-sweep] [--quick]

writes into --out (default runs/chips-sweep/):
  rate_vs_eta.png     p-bit updates per second against eta, policies wait and stale, with one chip's rate
                      (the shipped 16^3 periodic lattice over 4 slabs on the FPGA cell array)
  rate_vs_chips.png   updates per second against the number of chips (1..16 slabs), at two etas, policy wait
  quality_vs_eta.png  sampling quality against eta: total variation to exact enumeration on a 3 x 4 grid over
                      2 chips, and on the 16^3 lattice the energy per spin's departure from the monolithic
                      machine (same graph and seed) and the energy's integrated autocorrelation time
  points.csv          every point drawn
Every figure comes from archsim runs (summary.json's chips and quality blocks); none is typed in."""
import argparse
import copy
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
LATTICE = ROOT / "workloads/multichip-lattice.yaml"
ARCH = ROOT / "configs/fpga-pbit-array.yaml"
SMALL = {"schema_version": 1, "kind": "boltzmann", "name": "grid-3x4", "beta": 0.25, "seed": 9, "coupling_bits": 3,
         "bias_bits": 2, "graph": {"type": "grid", "rows": 3, "cols": 4}}


def run(arch, data, chips):
    """summary.json's dict of one run (functional mode); chips: the workload's chips block or None."""
    from archsim.engine.simulate import simulate
    from archsim.report.run import summarize
    from archsim.workload.boltzmann import boltzmann_from_data
    data = {**copy.deepcopy(data), **({"chips": chips} if chips else {})}
    if not chips:
        data.pop("chips", None)
    return summarize(simulate(arch, boltzmann_from_data(data, LATTICE, ROOT), "functional"))[0]


def sweep(quick):
    from archsim.config.loader import arch_from_data, read_yaml
    arch = arch_from_data(read_yaml(ARCH), ARCH)
    f_pbit = arch.clock
    lattice = yaml.safe_load(LATTICE.read_text())
    lattice.update(sweeps=6 if quick else 1000, burn_in=1 if quick else 50)
    etas = [0.5, 16] if quick else [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16]
    rows = []

    def chips(count, eta, policy, base):
        return {**base["chips"], "count": count, "policy": policy,
                "link": {**base["chips"]["link"], "clock_hz": eta * f_pbit}}

    one = run(arch, lattice, None)
    rows.append({"study": "rate", "chips": 1, "eta": None, "policy": "one chip", "updates_per_s": one["updates_per_s"]})
    for policy in ("wait", "stale"):
        for eta in etas:
            s = run(arch, lattice, chips(4, eta, policy, lattice))
            q = s["quality"]
            rows.append({"study": "rate+quality-large", "chips": 4, "eta": eta, "policy": policy,
                         "updates_per_s": s["updates_per_s"], "delay_phases": s["chips"]["delay_phases"],
                         "energy_per_spin_difference": q["energy_per_spin_difference"],
                         "energy_per_spin_difference_se": q["energy_per_spin_difference_se"],
                         "energy_iat_sweeps": q["chips"]["energy_iat_sweeps"],
                         "energy_iat_sweeps_monolithic": q["monolithic"]["energy_iat_sweeps"]})
    for eta in ((16,) if quick else (1, 16)):
        for count in ([2, 4] if quick else [2, 4, 8, 16]):
            s = run(arch, lattice, chips(count, eta, "wait", lattice))
            rows.append({"study": "rate-vs-chips", "chips": count, "eta": eta, "policy": "wait",
                         "updates_per_s": s["updates_per_s"]})
    small = {**SMALL, "sweeps": 300 if quick else 4000, "burn_in": 100, "chains": 8,
             "chips": {"count": 2, "link": {**lattice["chips"]["link"], "width_bits": 1, "latency_cycles": 4}}}
    for policy in ("wait", "stale"):
        for eta in etas:
            s = run(arch, small, chips(2, eta, policy, small))
            q = s["quality"]
            rows.append({"study": "quality-small", "chips": 2, "eta": eta, "policy": policy,
                         "delay_phases": s["chips"]["delay_phases"], "tv_exact": q["chips"]["tv_exact"],
                         "tv_exact_monolithic": q["monolithic"]["tv_exact"]})
    return pd.DataFrame(rows)


def plots(points, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    large = points[points.study == "rate+quality-large"]
    one = float(points[points.policy == "one chip"].updates_per_s.iloc[0])

    fig, ax = plt.subplots(figsize=(6, 4))
    for policy, g in large.groupby("policy"):
        ax.plot(g.eta, g.updates_per_s, "o-", label=f"4 chips, {policy}")
    ax.axhline(one, color="grey", ls="--", label="one chip")
    ax.set(xscale="log", yscale="log", xlabel="eta = f_comm / f_pbit", ylabel="p-bit updates / s",
           title="16^3 periodic lattice, 4 slabs, FPGA cell array")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "rate_vs_eta.png", dpi=120)

    fig, ax = plt.subplots(figsize=(6, 4))
    by_chips = points[points.study == "rate-vs-chips"]
    for eta, g in by_chips.groupby("eta"):
        ax.plot([1] + g.chips.tolist(), [one] + g.updates_per_s.tolist(), "o-", label=f"eta {eta:g}, wait")
    ax.set(xscale="log", yscale="log", xlabel="chips", ylabel="p-bit updates / s",
           title="16^3 periodic lattice in slabs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "rate_vs_chips.png", dpi=120)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    small = points[points.study == "quality-small"]
    for policy, g in small.groupby("policy"):
        axes[0].plot(g.eta, g.tv_exact, "o-", label=f"2 chips, {policy}")
    axes[0].axhline(float(small.tv_exact_monolithic.iloc[0]), color="grey", ls="--", label="one chip")
    axes[0].set(xscale="log", xlabel="eta", ylabel="TV to exact enumeration", title="3 x 4 grid, 1-bit link")
    for policy, g in large.groupby("policy"):
        axes[1].errorbar(g.eta, g.energy_per_spin_difference, yerr=2 * g.energy_per_spin_difference_se, fmt="o-",
                         label=policy)
        axes[2].plot(g.eta, g.energy_iat_sweeps, "o-", label=policy)  # no point where too few sweeps to estimate
    if large.energy_iat_sweeps_monolithic.notna().any():
        axes[2].axhline(large.energy_iat_sweeps_monolithic.iloc[0], color="grey", ls="--", label="one chip")
    axes[1].axhline(0, color="grey", ls="--")
    axes[1].set(xscale="log", xlabel="eta", ylabel="energy per spin - one chip's (+-2 se)",
                title="16^3 lattice, 4 chips")
    axes[2].set(xscale="log", xlabel="eta", ylabel="energy autocorrelation time (sweeps)", title="16^3 lattice",
                xlim=(large.eta.min() / 1.5, large.eta.max() * 1.5))
    for a in axes:
        a.legend()
    fig.tight_layout()
    fig.savefig(out / "quality_vs_eta.png", dpi=120)
    plt.close("all")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "runs/chips-sweep")
    p.add_argument("--quick", action="store_true", help="fewer points and sweeps (the test's run)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    points = sweep(args.quick)
    points.to_csv(args.out / "points.csv", index=False)
    plots(points, args.out)
    print(f"plots and points.csv -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
