"""`archsim validate`: every figure in validation/published.yaml run through the simulator.

Each entry names a method; the simulator computes its own figure, never the published one:
  extra_sample           (E(T+1) - E(T)) / E(T) of a workload on an architecture
  memory_share           memory energy (weight memory, activation memory, buffer) over total
  dtm_energy_per_sample  energy of one generated sample of a denoising chain
  gibbs_rate             p-bit updates per second of a Boltzmann machine on an architecture, times `scale`
  config_energy          an energy the architecture file holds, times `scale` (an identity by construction)
  not_modelled           kept in the report with its reason
A row whose figure was consumed by a config is labelled `identity` (calibration is not validation)."""
import copy
import math
from pathlib import Path

import pandas as pd

from .config.loader import arch_from_data, read_yaml, resolve_arch_path
from .errors import ArchsimError, ConfigError

COLUMNS = ["id", "quantity", "published", "simulated", "unit", "rel_error", "tolerance", "status", "source"]
REQUIRED = ["id", "quantity", "value", "unit", "citation", "where", "quality", "method"]


def default_path():
    return Path(__file__).resolve().parents[1] / "validation" / "published.yaml"


def _arch(entry, base):
    name = entry["arch"]
    data = copy.deepcopy(read_yaml(resolve_arch_path(name if name == "default" else base / name)))
    from .sweep import set_path
    for path, value in (entry.get("arch_changes") or {}).items():
        set_path(data, path, value)
    return arch_from_data(data, f"{name} (validation {entry['id']})")


def _pdnn_energy(entry, base, samples):
    from . import load_workload, simulate
    from .report.run import summarize
    workload = load_workload(base / entry["workload"], samples=samples)
    return summarize(simulate(_arch(entry, base), workload, "functional"))[0]


def _simulate(entry, base):
    method = entry["method"]
    if method == "extra_sample":
        T = entry["samples"]
        e0, e1 = (_pdnn_energy(entry, base, t)["energy_pj"] for t in (T, T + 1))
        return (e1 - e0) / e0
    if method == "memory_share":
        s = _pdnn_energy(entry, base, entry["samples"])
        by = s["energy_pj_by_component"]
        return sum(by.get(k, 0.0) for k in ("weight_mem", "act_mem", "weight_buf")) / s["energy_pj"]
    if method == "dtm_energy_per_sample":
        from .engine.gibbs import simulate_dtm
        from .report.gibbs import summarize_gibbs
        from .workload.boltzmann import dtm_from_data
        path = base / entry["workload"]
        result = simulate_dtm(_arch(entry, base), dtm_from_data(read_yaml(path), path), "functional")
        return summarize_gibbs(result)[0]["energy_pj_per_sample"]
    if method == "gibbs_rate":
        from .engine.gibbs import simulate_boltzmann
        from .report.gibbs import summarize_gibbs
        from .workload.boltzmann import boltzmann_from_data
        path = base / entry["workload"]
        result = simulate_boltzmann(_arch(entry, base), boltzmann_from_data(read_yaml(path), path), "functional")
        return summarize_gibbs(result)[0]["updates_per_s"] * entry["scale"]
    if method == "config_energy":
        node = _arch(entry, base)
        for part in entry["field"].split("."):
            key, _, name = part.partition("[")  # levels[weight_mem]: the level of that name
            node = getattr(node, key)
            node = node if not name else next(e for e in node if e.name == name.rstrip("]"))
        return node.value * entry["scale"]
    raise ArchsimError(f"validation entry {entry['id']}: unknown method {method!r}")


def _within(tolerance, published, simulated):
    if "relative" in tolerance:
        return abs(simulated / published - 1) <= tolerance["relative"]
    if "factor" in tolerance:
        return 1 / tolerance["factor"] <= simulated / published <= tolerance["factor"]
    if "at_least" in tolerance:
        return simulated >= tolerance["at_least"]
    raise ArchsimError(f"unknown tolerance {tolerance}")


def check_entries(entries, path):
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(path, ["entries: must be a list of mappings, one per published figure"])
    problems = []
    for i, e in enumerate(entries):
        missing = [k for k in REQUIRED if k not in e]
        value = e.get("value")
        if missing:
            problems.append(f"entries[{i}] ({e.get('id', '?')}): missing {missing}")
        elif not isinstance(e["id"], str):
            problems.append(f"entries[{i}]: id {e['id']!r}; allowed: text")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append(f"entries[{i}] ({e['id']}): value {value!r}; allowed: a finite number")
        elif e["method"] == "not_modelled" and not e.get("reason"):
            problems.append(f"entries[{i}] ({e['id']}): not_modelled needs a reason")
        elif e["method"] != "not_modelled" and ("tolerance" not in e or "why" not in e):
            problems.append(f"entries[{i}] ({e['id']}): a modelled entry needs tolerance and why")
    ids = [str(e.get("id")) for e in entries]
    problems += [f"id {i!r} appears twice" for i in set(ids) if ids.count(i) > 1]
    if problems:
        raise ConfigError(path, problems)


def run_validation(path=None, out_dir=None, plots=False, only=None):
    path = Path(path or default_path())
    base = path.parent.parent  # configs/ and workloads/ paths are relative to the repository
    entries = read_yaml(path).get("entries", [])
    check_entries(entries, path)
    if only:  # a subset never replaces the full report beside the file
        unknown = sorted(set(only) - {e["id"] for e in entries})
        if unknown:
            raise ConfigError(path, [f"--only: unknown id(s) {unknown}; allowed: "
                                     f"{', '.join(sorted(str(e['id']) for e in entries))}"])
        if out_dir is None:
            raise ArchsimError("--only runs a subset of the figures: give --out FOLDER for its report (the full "
                               f"report beside {path} is not overwritten by a subset)")
    rows = []
    for i, e in enumerate(entries):
        if only and e["id"] not in only:
            continue
        source = f"{e['citation']}; {e['where']} ({e['quality']})"
        row = {"id": e["id"], "quantity": e["quantity"], "published": e["value"], "simulated": None,
               "unit": e["unit"], "rel_error": None, "tolerance": str(e.get("tolerance", "")), "source": source}
        if e["method"] == "not_modelled":
            row["status"] = f"not modelled: {e['reason']}"
        else:
            try:
                sim = _simulate(e, base)
                ok = _within(e["tolerance"], e["value"], sim)
            except (KeyError, TypeError, AttributeError, ZeroDivisionError) as err:  # a malformed entry
                raise ConfigError(path, [f"entries[{i}] ({e['id']}): {type(err).__name__}: {err} (see the "
                                         f"methods at the top of archsim/validate.py)"]) from None
            row["simulated"] = sim
            row["rel_error"] = sim / e["value"] - 1 if e["value"] else None
            row["status"] = ("identity" if e.get("consumes") else "ok") if ok else "outside"
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    out = Path(out_dir or path.parent)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "report.csv", index=False)
    (out / "report.md").write_text(markdown(table))
    if plots:
        from .validate_plots import write_plots
        write_plots(out / "plots", base)
    return table


def _fmt(v):
    return "" if v is None or v != v else (f"{v:.4g}" if isinstance(v, float) else str(v))


def markdown(table):
    lines = ["# Validation against published figures", "",
             "Generated by `archsim validate` from validation/published.yaml. `identity`: the figure was consumed "
             "by a config (calibration, not validation). `not modelled`: kept with the reason.", "",
             "| id | quantity | published | simulated | unit | rel. error | status |", "|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        lines.append(f"| {r.id} | {r.quantity} | {_fmt(r.published)} | {_fmt(r.simulated)} | {r.unit} | "
                     f"{_fmt(r.rel_error)} | {r.status} |")
    return "\n".join(lines) + "\n"


def register(subparsers):
    p = subparsers.add_parser("validate", help="check the simulator against published figures")
    p.add_argument("--file", help="published figures (default: validation/published.yaml of the checkout)")
    p.add_argument("--out", help="output folder (default: beside the file)")
    p.add_argument("--only", nargs="+", metavar="ID")
    p.add_argument("--plots", action="store_true", help="also draw the seed paper's analyses")
    p.set_defaults(handler=_cli)


def _cli(args, argv):
    table = run_validation(args.file, args.out, args.plots, args.only)
    for _, r in table.iterrows():
        print(f"  {r.id:28s} {r.status.split(':')[0]:13s} published {_fmt(r.published):>8s} simulated "
              f"{_fmt(r.simulated):>8s} {r.unit}")
    outside = (table.status == "outside").sum()
    print(f"archsim validate: {len(table)} rows, {outside} outside tolerance -> report.csv, report.md")
    return 1 if outside else 0
