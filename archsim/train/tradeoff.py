"""The seed paper's question on the user's design: more samples T of 1-bit p-bits, or more bits in one
deterministic sample? Trains the models on the shipped data, measures accuracy and energy per inference with
the simulator (the bit-exact kernels and the hardware model), writes a tidy CSV, plots, and the claims table.

Rows: deterministic k-bit models (k in --bits) at T = 1; the float model (k = 32: float activations, evaluated
by its float forward pass in NumPy, since archsim's datapath is integer: no energy); p-bit models trained
plainly and sample-aware (s in --samples) at every T; the float and 3-bit deterministic models with noise
injected (8-bit, noisy 3-bit and p-bit activations, no retraining) at every T.

Replicates: every model is trained and run `seeds` times, replicate r with training seed and hardware RNG seed
`seed + r` (the data split stays fixed), so each row's spread covers both training and sampling. The claims
compare models by the paired difference over replicates (95 % Student-t interval); a verdict is
"indistinguishable" when that interval allows both answers."""
import json
from pathlib import Path

import pandas as pd

from ..config.loader import arch_from_data, read_yaml, resolve_arch_path
from ..workload.loader import resolve_workload_path
from . import data as datasets
from .train import ModelSpec, export, float_accuracy, train

ARCH_OVERRIDES = {"synapse.kind": "mac", "synapse.accumulator_bits": 48, "levels[act_mem].capacity": "4MiB",
                  "levels[weight_mem].capacity": "4MiB"}


def _arch(path):
    from ..sweep import set_path
    d = read_yaml(resolve_arch_path(path))
    for dotted, value in ARCH_OVERRIDES.items():
        set_path(d, dotted, value)
    return arch_from_data(d, f"{path} (with tradeoff overrides {ARCH_OVERRIDES})")


def topology(workload_path):
    """(sizes, weight_bits, input_bits) of a dense p-DNN workload file."""
    w = read_yaml(resolve_workload_path(workload_path))
    from ..config.loader import validate
    from ..workload.schema import Dense, Pdnn
    spec = validate(Pdnn, w, workload_path)
    dense = [layer for layer in spec.layers if isinstance(layer, Dense)]
    return (spec.input.size, *[layer.outputs for layer in dense]), dense[0].weight_bits, spec.input.bits


def _models(sizes, weight_bits, input_bits, samples, bits, epochs, seed):
    """{ModelSpec: [(activation at inference, bits, [T, ...])]} of one replicate."""
    models = {}
    for b in bits:
        if b == 32:
            spec = ModelSpec(sizes, "float", 1, weight_bits, input_bits, 1, epochs, seed=seed)
            models[spec] = [("float", 32, [1])]
        else:
            spec = ModelSpec(sizes, "quantized", b, weight_bits, input_bits, 1, epochs, seed=seed)
            models[spec] = [("quantized", b, [1])]
    for s in sorted(set([1] + list(samples))):
        models[ModelSpec(sizes, "pbit", 1, weight_bits, input_bits, s, epochs, seed=seed)] = [("pbit", 1, samples)]
    for spec in list(models):  # noise injection into trained deterministic models
        if spec.activation == "float":
            models[spec] += [("quantized", 8, [1]), ("noisy", 3, samples), ("pbit", 1, samples)]
        elif (spec.activation, spec.act_bits) == ("quantized", 3):
            models[spec] += [("noisy", 3, samples), ("pbit", 1, samples)]
    return models


def run_tradeoff(workload, samples, bits, out_dir, arch="default", dataset="digits", epochs=60, seed=0,
                 progress=True, seeds=8):
    from .. import load_workload, simulate
    from ..report.run import summarize
    out = Path(out_dir)
    sizes, weight_bits, input_bits = topology(workload)
    ds = datasets.load(dataset, seed=seed)
    if ds.x_train.shape[1] != sizes[0] or ds.classes > sizes[-1]:
        raise ValueError(f"the workload takes {sizes[0]} inputs and {sizes[-1]} classes; {ds.name} has "
                         f"{ds.x_train.shape[1]} features and {ds.classes} classes")
    levels = 2 ** input_bits - 1
    x_train = datasets.quantize_inputs(ds.x_train, input_bits) / levels
    x_test = datasets.quantize_inputs(ds.x_test, input_bits)
    hw = _arch(arch)
    rows = []
    replicates = [seed + r for r in range(seeds)]
    bar = None
    for r_seed in replicates:
        models = _models(sizes, weight_bits, input_bits, samples, bits, epochs, r_seed)
        if progress and bar is None:
            from tqdm import tqdm
            bar = tqdm(total=len(replicates) * sum(len(ts) for runs in models.values() for _, _, ts in runs),
                       desc="tradeoff", unit="run")
        for spec, runs in models.items():
            model = train(spec, x_train, ds.y_train)
            for activation, act_bits, ts in runs:
                for T in ts:
                    row = {"model": model.name, "trained_samples": spec.samples, "activation": activation,
                           "bits": act_bits, "noise_injected": activation != spec.activation, "T": T,
                           "seed": r_seed}
                    if activation == "float":
                        row.update(bits=32, accuracy=float_accuracy(model, x_test / levels, ds.y_test, T, r_seed),
                                   energy_pj=float("nan"), cycles=float("nan"))
                    else:
                        name = f"{model.name}-{activation}{act_bits}-T{T}-seed{r_seed}"
                        path = export(model, out / "models", name, x_test, ds.y_test, samples=T, seed=r_seed,
                                      activation=activation, act_bits=act_bits)
                        summary, _ = summarize(simulate(hw, load_workload(path), "functional"))
                        row.update(accuracy=summary["accuracy"], energy_pj=summary["energy_pj_per_item"],
                                   cycles=summary["cycles"] / summary["items"])
                    rows.append(row)
                    if bar:
                        bar.update(1)
    if bar:
        bar.close()
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "tradeoff.csv", index=False)
    (out / "tradeoff.json").write_text(json.dumps({"dataset": ds.name, "train_items": len(ds.y_train),
                                                   "test_items": len(ds.y_test), "arch": hw.name,
                                                   "arch_overrides": ARCH_OVERRIDES, "epochs": epochs,
                                                   "seeds": replicates, "sizes": list(sizes)}, indent=2) + "\n")
    plot(table, out)
    return table


KEYS = ["model", "trained_samples", "activation", "bits", "noise_injected", "T"]


def interval(values):
    """(mean, low, high): Student-t 95 % interval of the mean over replicates (a point when there is one)."""
    import numpy as np
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2:
        return mean, mean, mean
    from scipy.stats import t
    half = float(t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return mean, mean - half, mean + half


def over_seeds(table):
    """One row per model and T: accuracy mean and 95 % interval over the replicates, mean energy and cycles."""
    rows = []
    for key, g in table.groupby(KEYS, sort=False):
        mean, lo, hi = interval(g.accuracy)
        rows.append(dict(zip(KEYS, key), accuracy=mean, accuracy_lo=lo, accuracy_hi=hi, replicates=len(g),
                         energy_pj=g.energy_pj.mean(), cycles=g.cycles.mean()))
    return pd.DataFrame(rows)


def pareto_max_acc(table):
    f = table.sort_values(["energy_pj", "accuracy"], ascending=[True, False])
    keep, best = [], -1.0
    for i, row in f.iterrows():
        if row.accuracy > best:
            keep.append(i)
            best = row.accuracy
    return f.loc[keep]


def plot(table, out):
    table = over_seeds(table)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5))
    for (activation, injected), g in table.dropna(subset=["energy_pj"]).groupby(["activation", "noise_injected"]):
        ax.errorbar(g.energy_pj, g.accuracy, yerr=[g.accuracy - g.accuracy_lo, g.accuracy_hi - g.accuracy], fmt="o",
                    ms=4, lw=0.8, label=f"{activation}{' (injected)' if injected else ''}")
    front = pareto_max_acc(table.dropna(subset=["energy_pj"]))
    ax.plot(front.energy_pj, front.accuracy, "ko--", lw=1, ms=7, mfc="none", label="Pareto front")
    ax.set_xscale("log")
    _finish(fig, ax, "energy per inference (pJ)", out / "accuracy_vs_energy.png")
    fig, ax = plt.subplots(figsize=(7, 5))
    for (model, activation), g in table[table["T"].duplicated(keep=False) | (table["T"] > 1)].groupby(
            ["model", "activation"]):
        if g["T"].nunique() > 1:
            ax.plot(g["T"], g.accuracy, "o-", ms=3, label=f"{model} ({activation})")
    for _, row in table[table.activation.isin(["quantized", "float"]) & ~table.noise_injected].iterrows():
        ax.axhline(row.accuracy, lw=0.6, ls=":", color="0.5")
        ax.text(1, row.accuracy, f" {row.model}", fontsize=7, va="bottom", color="0.3")
    ax.set_xscale("log", base=2)
    _finish(fig, ax, "samples T", out / "accuracy_vs_T.png")
    pareto_max_acc(table.dropna(subset=["energy_pj"])).to_csv(out / "pareto.csv", index=False)


def _finish(fig, ax, xlabel, path):
    import matplotlib.pyplot as plt
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _paired(table, a, b):
    """Mean and 95 % interval of accuracy(a) - accuracy(b) over the replicates both rows have (a, b: masks)."""
    d = table[a].set_index("seed").accuracy - table[b].set_index("seed").accuracy
    return interval(d.dropna())


def _verdict(lo, hi, low_bound=0.0, high_bound=None):
    """'yes' if the interval lies inside (low_bound, high_bound), 'no' if it lies outside, else
    'indistinguishable' (the interval allows both)."""
    high_bound = float("inf") if high_bound is None else high_bound
    if lo > low_bound and hi < high_bound:
        return "yes"
    if hi < low_bound or lo > high_bound:
        return "no"
    return "indistinguishable"


def _pct(m, lo, hi):
    return f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def claims(table, path):
    """The paper's claims answered from the replicated table (Markdown + CSV beside it): each compares two models
    by their paired accuracy difference over the replicates, with its 95 % interval."""
    pbit = (table.model == "pbit") & ~table.noise_injected
    det = (table.activation == "quantized") & ~table.noise_injected
    fp = (table.activation == "float")
    Ts = sorted(table[pbit]["T"].unique())
    rows = []

    def add(claim, measured, verdict):
        rows.append({"claim": claim, "measured": measured, "holds": verdict})

    def model(mask, T=None):
        return mask & (table["T"] == T) if T is not None else mask

    if fp.any() and 1 in Ts:
        m, lo, hi = _paired(table, model(pbit, 1), fp)
        add("one sample (T = 1) matches the float baseline (within 1 point)", f"p-bit T=1 - float: {_pct(m, lo, hi)}",
            _verdict(lo, hi, -0.01, 0.01))
    if fp.any() and 2 in Ts:
        m, lo, hi = _paired(table, model(pbit, 2), fp)
        add("two samples beat the float baseline", f"p-bit T=2 - float: {_pct(m, lo, hi)}", _verdict(lo, hi))
    det3 = det & (table.bits == 3)
    if det3.any():
        diffs = {T: _paired(table, model(pbit, T), det3) for T in Ts}
        reach = [T for T, (_, lo, hi) in diffs.items() if hi >= 0]
        add("some T matches the 3-bit deterministic model (paper: T = 10)",
            "p-bit - 3-bit: " + ", ".join(f"T={T}: {_pct(*d)}" for T, d in diffs.items())
            + f"; smallest T not below it: {reach[0] if reach else 'none'}", "yes" if reach else "no")
    aware = (table.activation == "pbit") & ~table.noise_injected
    for T in sorted(set(table[aware].trained_samples) & set(Ts) - {1}):
        at_T = table[aware & (table["T"] == T)]
        others = at_T[at_T.trained_samples != T].groupby("trained_samples").accuracy.mean()
        best = int(others.idxmax())
        m, lo, hi = _paired(table, aware & (table["T"] == T) & (table.trained_samples == T),
                            aware & (table["T"] == T) & (table.trained_samples == best))
        add(f"sample-aware training with s = T does best at T = {T}",
            f"s = T minus the best other s (s = {best}): {_pct(m, lo, hi)}", _verdict(lo, hi))
    steps = {(a, b): _paired(table, model(pbit, b), model(pbit, a)) for a, b in zip(Ts[:-1], Ts[1:])}
    verdicts = [_verdict(lo, hi) for _, lo, hi in steps.values()]
    add("accuracy grows with T (plain p-bit model)",
        ", ".join(f"T {a}->{b}: {_pct(*d)}" for (a, b), d in steps.items()),
        "no" if "no" in verdicts else "yes" if set(verdicts) == {"yes"} else "indistinguishable")
    det1 = det & (table.bits == 1)
    if det1.any() and fp.any():
        m, lo, hi = _paired(table, fp, det1)
        add("fewer bits cost accuracy: the float baseline beats the deterministic 1-bit model",
            f"float - det1b: {_pct(m, lo, hi)}", _verdict(lo, hi))
    if det1.any():
        means = over_seeds(table)
        d1 = means[(means.model == "det1b")].iloc[0]
        best = means[(means.model == "pbit") & ~means.noise_injected].sort_values("accuracy").iloc[-1]
        m, lo, hi = _paired(table, model(pbit, int(best["T"])), det1)
        add("the best p-bit model (plain, best T) beats the deterministic 1-bit model",
            f"p-bit T={int(best['T'])} - det1b: {_pct(m, lo, hi)}; energy per inference {best.energy_pj:.4g} pJ vs "
            f"{d1.energy_pj:.4g} pJ", _verdict(lo, hi))
    frame = pd.DataFrame(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path.with_suffix(".csv"), index=False)
    means = over_seeds(table)
    n = int(means.replicates.min())
    lines = ["# The seed paper's claims, measured on this project's data", "",
             "Generated by `archsim tradeoff --claims` from the trade-off table: the paper's figures are on CIFAR-10"
             " and CelebA; these answers are for scikit-learn's 8x8 digits (360 test items) and the workload's "
             f"topology, with accuracy measured by the bit-exact hardware model, over {n} replicates (training "
             "seed and hardware RNG seed both varied). Each claim compares two models by their paired accuracy "
             "difference: mean [95 % interval]. `indistinguishable`: the interval allows both answers.",
             "", "| claim | measured | holds here |", "|---|---|---|"]
    lines += [f"| {r['claim']} | {r['measured']} | {r['holds']} |" for r in rows]
    lines += ["", "## Every model: accuracy mean [95 % interval] and energy per inference", "",
              "Float: float activations evaluated in NumPy (archsim's datapath is integer, so no energy). "
              "Injected: noise put into a trained deterministic model without retraining.", "",
              "| model | activation | bits | injected | T | accuracy | energy (pJ) |", "|---|---|---|---|---|---|---|"]
    for _, r in means.iterrows():
        energy = "" if r.energy_pj != r.energy_pj else f"{r.energy_pj:.4g}"
        lines.append(f"| {r.model} | {r.activation} | {r.bits} | {'yes' if r.noise_injected else ''} | {r['T']} | "
                     f"{r.accuracy:.3f} [{r.accuracy_lo:.3f}, {r.accuracy_hi:.3f}] | {energy} |")
    path.write_text("\n".join(lines) + "\n")
    return frame
