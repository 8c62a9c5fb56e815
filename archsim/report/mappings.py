"""Tables and a plot of the mapper's candidates: mappings.csv (every candidate with its predicted counts per
level and operand, energy and cycles, the chosen one and the Pareto front marked), mapping.yaml (the chosen
mapping per layer, by level name) and mappings.png (energy against cycles)."""
from pathlib import Path

import pandas as pd
import yaml


def _pareto(frame):
    """True where no other candidate of the same layer is at most as costly in both energy and cycles and
    cheaper in one."""
    flags = []
    for _, row in frame.iterrows():
        same = frame[frame.layer == row.layer]
        dominated = ((same.energy_pj <= row.energy_pj) & (same.cycles <= row.cycles) &
                     ((same.energy_pj < row.energy_pj) | (same.cycles < row.cycles))).any()
        flags.append(not dominated)
    return flags


def mapping_text(mapping, levels):
    loops = " | ".join(f"{lv.name}: " + (" ".join(f"{d}{f}" for d, f in loops) or "-")
                       for lv, loops in zip(levels, mapping.temporal))
    spatial = " ".join(f"{d}{f}" for d, f in sorted(mapping.spatial.items())) or "-"
    return f"{loops} | spatial: {spatial}"


def candidates_frame(levels, results):
    rows = []
    for r in results:
        for k, c in enumerate(sorted(r.candidates, key=lambda c: (c.energy_pj, c.cycles, repr(c.mapping)))):
            row = {"layer": r.layer, "candidate": k, "mapping": mapping_text(c.mapping, levels),
                   "energy_pj": c.energy_pj, "cycles": c.cycles, "chosen": c is r.best}
            for (level, operand, action), n in sorted(c.counts.items()):
                if action.endswith("_bits"):
                    row[f"{level}.{operand}.{action}"] = n
            rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        bit_cols = [col for col in frame.columns if col.endswith("_bits")]
        frame[bit_cols] = frame[bit_cols].fillna(0).astype("int64")
        frame["pareto"] = _pareto(frame)
    return frame


def mapping_document(levels, results, objective):
    """The chosen mappings as a YAML-ready document, loops named by level."""
    layers = []
    for r in results:
        if r.best is None:
            continue
        m = r.best.mapping
        layers.append({"layer": r.layer,
                       "temporal": {lv.name: [[d, int(f)] for d, f in loops] for lv, loops in zip(levels, m.temporal)},
                       "spatial": {d: int(f) for d, f in sorted(m.spatial.items())}})
    return {"schema_version": 1, "kind": "mapping", "objective": objective, "layers": layers}


def write_mappings(levels, results, objective, out, plot=True):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame = candidates_frame(levels, results)
    frame.to_csv(out / "mappings.csv", index=False)
    (out / "mapping.yaml").write_text(yaml.safe_dump(mapping_document(levels, results, objective), sort_keys=False))
    if plot and len(frame):
        _plot(frame, out / "mappings.png")
    return frame


def _plot(frame, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    layers = sorted(frame.layer.unique())
    fig, axes = plt.subplots(1, len(layers), figsize=(4.5 * len(layers), 4), squeeze=False)
    for ax, layer in zip(axes[0], layers):
        f = frame[frame.layer == layer]
        ax.scatter(f.cycles, f.energy_pj, s=6, c="0.7", label="candidates")
        front = f[f.pareto].sort_values("cycles")
        ax.plot(front.cycles, front.energy_pj, "o-", ms=4, label="Pareto front")
        chosen = f[f.chosen]
        ax.scatter(chosen.cycles, chosen.energy_pj, marker="*", s=120, c="red", zorder=3, label="chosen")
        ax.set(xscale="log", yscale="log", xlabel="cycles (roofline bound)", ylabel="memory energy (pJ)",
               title=f"layer {layer}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
