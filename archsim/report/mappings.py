"""Tables and a plot of the mapper's candidates: mappings.csv (every candidate with its predicted counts per
level and operand over the whole run, energy and cycles, the levels keeping each operand (outermost first, the
first its home: `inputs_kept_at` = dram+global_buf stages the inputs' tiles in global_buf), whether its tiles
divide the outputs (remainder: exact) or the last is partial (last_tile), the chosen one and the Pareto front
marked),
mapping.yaml (the chosen mapping per layer, in the format `archsim run --mapping` executes: mapping/mapfile.py)
and mappings.png (energy against cycles)."""
from pathlib import Path

import pandas as pd
import yaml

from ..mapping.hierarchy import PDNN_OPERANDS
from ..mapping.mapfile import document, mapping_text

OPERANDS = sorted(PDNN_OPERANDS)


def _pareto(frame):
    """True where no other candidate of the same layer is at most as costly in both energy and cycles and
    cheaper in one: the cheapest energy at its cycles, and cheaper than every candidate with fewer cycles."""
    cheapest = frame.groupby(["layer", "cycles"]).energy_pj.transform("min")
    by_cycles = frame.groupby(["layer", "cycles"]).energy_pj.min()
    before = by_cycles.groupby(level="layer").transform(lambda e: e.cummin().shift(1, fill_value=float("inf")))
    before = frame.set_index(["layer", "cycles"]).index.map(before)
    return ((frame.energy_pj == cheapest) & (frame.energy_pj < before)).tolist()


def _kept_at(names, keep, operand):
    """The levels keeping `operand`, outermost first, joined by '+'."""
    return "+".join(n for n in names if operand in keep.get(n, ()))


def candidates_frame(names, results):
    """Every candidate of every layer; counts, energy and cycles over the run (per pass x passes)."""
    rows = []
    for r in results:
        ordered = sorted(r.candidates, key=lambda kc: (kc[1].energy_pj, kc[1].cycles, mapping_text(kc[1].mapping,
                                                                                                  names, kc[0])))
        for k, (keep, c) in enumerate(ordered):
            row = {"layer": r.layer, "candidate": k, "mapping": mapping_text(c.mapping, names, keep),
                   **{f"{operand}_kept_at": _kept_at(names, keep, operand) for operand in OPERANDS},
                   "remainder": c.mapping.remainder, "energy_pj": c.energy_pj * r.passes,
                   "cycles": c.cycles * r.passes, "chosen": c is r.best}
            for (level, operand, action), n in sorted(c.counts.items()):
                if action.endswith("_bits"):
                    row[f"{level}.{operand}.{action}"] = n * r.passes
            rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        bit_cols = [col for col in frame.columns if col.endswith("_bits")]
        frame[bit_cols] = frame[bit_cols].fillna(0).astype("int64")
        frame["pareto"] = _pareto(frame)
    return frame


def mapping_document(names, results, objective):
    """The chosen mappings as a mapping file (mapping/mapfile.py)."""
    return document({r.layer: r.layer_map() for r in results if r.best is not None}, names, objective)


def write_mappings(names, results, objective, out, plot=True):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame = candidates_frame(names, results)
    frame.to_csv(out / "mappings.csv", index=False)
    (out / "mapping.yaml").write_text(yaml.safe_dump(mapping_document(names, results, objective), sort_keys=False,
                                                       default_flow_style=None))
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
