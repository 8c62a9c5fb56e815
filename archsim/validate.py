"""`archsim validate`: every figure in validation/published.yaml run through the simulator.

Each entry says what kind of row it is (`kind`), what it consumes (`inputs`) and why those inputs are
independent of the figure (`independence`):
  prediction    the simulator computes the figure from independent inputs. Each input with a stated range
                (`uncertain`: a factor range on some arch fields, with its source; a memory resized through
                `resize` brings the memory model's band) is propagated through the simulator: the figure is
                evaluated at every corner of the box of ranges, repricing the simulated ledger (counts do not
                depend on energies). Every method here is a ratio of two energies, each linear in every input,
                so the figure is monotone in each input and the corners bound it exactly. The row is `ok` when
                the published figure lies in [low, high], `outside` when not; a qualitative claim
                (`claim: at_least`) is `ok` when the whole interval is above the published bound.
  consistency   the published figure follows from inputs the config consumed by the source's own arithmetic
                (e.g. cells x clock / colours); the simulator must reproduce it (relative tolerance)
  identity      the figure is itself an input of a config (calibration, not validation)
  not_modelled  kept with its reason; `nearest` names archsim's nearest computable number, when there is one
Methods (how the simulator arrives at its figure):
  extra_sample           (E(T+1) - E(T)) / E(T) of a workload on an architecture
  memory_share           memory energy (weight memory, activation memory, buffer) over total
  fpga_gain              energy of a deterministic k-bit network (MAC synapses, T = 1) over the p-bit one (T)
  dtm_energy_per_sample  energy of one generated sample of a denoising chain
  gibbs_rate             p-bit updates per second of a Boltzmann machine (one chip, or the workload's `chips:`
                         machine), times `scale`. As a prediction its inputs (clock, cells, colouring, chips and
                         links) are stated exactly by their sources, so its interval is the point (an entry may not
                         give `uncertain` ranges for it); the analysis lists what the run consumed and produced:
                         nodes, clock, colours used against the lower bound and the design's (`design_colours`),
                         and the chips' partition, cut, links, eta and staleness
  gibbs_energy_per_update  energy per p-bit update of a Boltzmann machine
  config_energy          an energy the architecture file holds, times `scale`
  fpga_mac_luts          LUTs of the deterministic network's MAC synapses over the p-bit network's select-add
                         synapses (energy/fpga_resources.py, one synapse unit per layer); its interval spans
                         the two ways a 1-bit select maps onto LUTs (folded into the adder, or a W x 1 multiplier)"""
import copy
import itertools
import json
import math
from pathlib import Path

import pandas as pd

from . import units
from .config.loader import arch_from_data, read_yaml, resolve_arch_path
from .errors import ArchsimError, ConfigError

COLUMNS = ["id", "quantity", "kind", "published", "simulated", "low", "high", "unit", "rel_error", "status",
           "comparison", "interval_method", "inputs", "independence", "analysis", "source"]
REQUIRED = ["id", "quantity", "value", "unit", "citation", "where", "quality", "kind", "method"]
KINDS = ("prediction", "consistency", "identity", "not_modelled")
PUBLISHED = Path("validation") / "published.yaml"


def default_path(start=None):
    """validation/published.yaml of the checkout: the working directory or one of its parents, then the
    source tree this package was imported from (an editable install). The error names every place tried."""
    start = Path(start or Path.cwd()).resolve()
    tried = [d / PUBLISHED for d in (start, *start.parents)] + [Path(__file__).resolve().parents[1] / PUBLISHED]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise ArchsimError("validation/published.yaml not found (it lives in the archsim checkout, beside configs/ "
                       "and workloads/); run from the checkout or pass --file. Looked in: "
                       + ", ".join(str(p) for p in dict.fromkeys(tried)))


# --- architecture edits: the one place validation changes an architecture dict -------------------------------

def arch_path(data, path):
    """A dotted path of a version 1 architecture ('act_mem.capacity', 'neuron.rng.draw_pj') as the same field
    of a version 2 dict ('levels[act_mem].capacity', 'rng.draw_pj'); other paths unchanged."""
    if not isinstance(data.get("levels"), list):
        return path
    if path.startswith("neuron.rng."):
        return path.removeprefix("neuron.")
    head, dot, rest = path.partition(".")
    if any(isinstance(lv, dict) and lv.get("name") == head for lv in data["levels"]):
        return f"levels[{head}]{dot}{rest}"
    return path


def edit_arch(data, changes):
    """Apply {dotted path: value} to an architecture dict (paths of either schema version, see arch_path)."""
    from .sweep import set_path
    for path, value in (changes or {}).items():
        set_path(data, arch_path(data, path), value)
    return data


def _energy_paths(memory):
    return [f"{memory}.read_pj_per_bit", f"{memory}.write_pj_per_bit"]


def arch_field(data, path):
    node = data
    for part in arch_path(data, path).split("."):
        key, _, name = part.partition("[")  # levels[weight_mem]: the level of that name
        node = node[key]
        if name:
            node = next(lv for lv in node if lv.get("name") == name.rstrip("]"))
    return node


def scale_energies(data, paths, factor):
    """Multiply the energies at `paths` of an architecture dict by `factor` (their sources say so)."""
    for path in paths:
        energy = arch_field(data, path)
        energy["value"] = units.parse_pj(energy["value"]) * factor
        energy["source"] = f"{energy['source']} (x {factor:.4g}, validation)"
    return data


def resize_memory(data, memory, capacity):
    """Set a memory's capacity and reprice its reads and writes by the memory model's capacity ratio (so a
    config priced at a sourced size keeps its node and technology). Returns the model's (low, high) band as
    factors on the new nominal energy."""
    from .energy import memory_model
    points = memory_model.load_points()
    old = units.parse_bits(arch_field(data, memory)["capacity"])
    new = units.parse_bits(capacity)
    ratio = memory_model.read_pj_per_bit(points, new) / memory_model.read_pj_per_bit(points, old)
    edit_arch(data, {f"{memory}.capacity": capacity})
    scale_energies(data, _energy_paths(memory), ratio)
    nominal = memory_model.read_pj_per_bit(points, new)
    lo, hi = memory_model.read_pj_per_bit_band(points, new)
    return lo / nominal, hi / nominal


def _arch_data(entry, base):
    name = entry["arch"]
    return copy.deepcopy(read_yaml(resolve_arch_path(name if name == "default" else base / name)))


def _condition(entry, base):
    """(arch dict of the condition, uncertain inputs as [(label, paths, low factor, high factor)])."""
    try:
        data = edit_arch(_arch_data(entry, base), entry.get("arch_changes"))
        uncertain = []
        for memory, capacity in (entry.get("resize") or {}).items():
            if arch_field(data, memory).get("kind", "sram") != "sram":
                raise ArchsimError(f"validation entry {entry['id']}: resize prices SRAMs only; {memory} is not one")
            lo, hi = resize_memory(data, memory, capacity)
            uncertain.append((f"{memory} at {capacity}: memory-model band", _energy_paths(memory), lo, hi))
        for u in entry.get("uncertain") or []:
            uncertain.append((u["input"], u["paths"], float(u["factor"][0]), float(u["factor"][1])))
            for path in u["paths"]:
                arch_field(data, path)
    except KeyError as e:
        raise ArchsimError(f"validation entry {entry['id']}: no architecture field {e}") from None
    return data, uncertain


def _arch(entry, base):
    data, _ = _condition(entry, base)
    return arch_from_data(data, f"{entry['arch']} (validation {entry['id']})")


# --- p-DNN energy figures: runs, then the figure from their energies ----------------------------------------

def _workload(base, path, samples):
    from . import load_workload
    return load_workload(base / path, samples=samples)


def deterministic(workload_data, bits):
    """The same network with deterministic k-bit activations and inputs, one sample."""
    from .workload.loader import workload_from_data
    d = dict(workload_data, samples=1, input=dict(workload_data["input"], bits=bits))
    d["layers"] = [dict(layer, activation="quantized", output_bits=bits) if layer.get("activation") == "pbit"
                   else layer for layer in workload_data["layers"]]
    return workload_from_data(d, "deterministic baseline")


def _runs(entry, base, data):
    """[(arch dict, workload)] whose energies the method's figure is made of."""
    method = entry["method"]
    if method == "extra_sample":
        return [(data, _workload(base, entry["workload"], t)) for t in (entry["samples"], entry["samples"] + 1)]
    if method == "memory_share":
        return [(data, _workload(base, entry["workload"], entry["samples"]))]
    if method == "fpga_gain":
        mac = edit_arch(copy.deepcopy(data), {"synapse.kind": "mac"})
        pbit = edit_arch(copy.deepcopy(data), {"synapse.kind": "accumulate"})
        workload_data = read_yaml(base / entry["workload"])
        return [(mac, deterministic(workload_data, entry["baseline_bits"])),
                (pbit, _workload(base, entry["workload"], entry["samples"]))]
    raise ArchsimError(f"validation entry {entry['id']}: method {method!r} is not an energy figure")


def _figure(method, energies):
    """The method's figure from [(total pJ, {component: pJ})] of its runs."""
    if method == "extra_sample":
        return (energies[1][0] - energies[0][0]) / energies[0][0]
    if method == "memory_share":
        total, by = energies[0]
        from .config.schema import DATAPATH_COMPONENTS  # every other component is a memory level
        return sum(v for k, v in by.items() if k.split(".")[0] not in DATAPATH_COMPONENTS) / total
    return energies[0][0] / energies[1][0]  # fpga_gain


def _priced(results, datas):
    """[(total pJ, {"component.action": pJ})]: each run's ledger priced by the (corner's) architecture."""
    from .energy.table import energy_frame
    out = []
    for result, data in zip(results, datas):
        frame = energy_frame(arch_from_data(data, "validation corner"), result.plan, result.ledger)
        by = frame.groupby(frame.component + "." + frame.action).energy_pj.sum()
        out.append((float(frame.energy_pj.sum()), {k: float(v) for k, v in by.items() if v}))
    return out


def _corner_data(datas, uncertain, factors):
    out = []
    for data in datas:
        d = copy.deepcopy(data)
        for (_, paths, _, _), f in zip(uncertain, factors):
            scale_energies(d, paths, f)
        out.append(d)
    return out


def _gap_analysis(method, nominal, published):
    """Per component and action (above 1 % of either run): the factor on its energy (in every run) that would
    make the nominal figure equal the published one. Both methods are a ratio of two runs' energies, E_a / E_b
    (fpga_gain: det. / p-bit; extra_sample: E(T+1) / E(T), target 1 + published), linear in each energy."""
    if method == "fpga_gain":
        (a, a_by), (b, b_by), target, names = *nominal, published, ("det.", "p-bit")
    elif method == "extra_sample":
        (b, b_by), (a, a_by), target, names = *nominal, 1 + published, ("T+1", "T")
    else:
        return ""
    parts = []
    for c in sorted(set(a_by) | set(b_by)):
        ac, bc = a_by.get(c, 0.0), b_by.get(c, 0.0)
        if max(ac / a, bc / b) < 0.01:
            continue
        denom = ac - target * bc
        s = 1 + (target * b - a) / denom if denom else math.inf
        share = f"{ac / a:.0%} of {names[0]}, {bc / b:.0%} of {names[1]}"
        parts.append(f"{c} ({share}): x{s:.3g}" if s > 0 and math.isfinite(s) else f"{c} ({share}): none")
    return ("energy shares at the nominal point, and the factor on that one energy that would give the published "
            "figure (none: no factor can): " + "; ".join(parts))


def energy_interval(entry, base, cache):
    key = json.dumps({k: entry.get(k) for k in ("method", "arch", "arch_changes", "resize", "uncertain",
                                                "workload", "samples", "baseline_bits")}, sort_keys=True)
    if key not in cache:
        from . import simulate
        data, uncertain = _condition(entry, base)
        runs = _runs(entry, base, data)
        results = [simulate(arch_from_data(d, f"validation {entry['id']}"), w, "functional") for d, w in runs]
        datas = [d for d, _ in runs]
        nominal = _priced(results, datas)
        corners = [_figure(entry["method"], _priced(results, _corner_data(datas, uncertain, f)))
                   for f in itertools.product(*[(lo, hi) for _, _, lo, hi in uncertain])]
        method = (f"corners of {len(uncertain)} input ranges ({len(corners)} evaluations, exact for a figure "
                  "monotone in each input): " + "; ".join(f"{label} x[{lo:.3g}, {hi:.3g}]"
                                                          for label, _, lo, hi in uncertain))
        cache[key] = (_figure(entry["method"], nominal), min(corners), max(corners), method, nominal)
    return cache[key]


def lut_interval(entry, base):
    """(nominal, low, high, interval method, analysis) of the MAC-LUT ratio on the workload's dense layers."""
    from .energy import fpga_resources as fr
    model = fr.load_model()
    data = read_yaml(base / entry["workload"])
    sizes = [data["input"]["size"]] + [layer["outputs"] for layer in data["layers"]]
    layers = [(layer["weight_bits"], n) for layer, n in zip(data["layers"], sizes)]
    det = sum(fr.mac_luts(model, w, entry["baseline_bits"], n) for w, n in layers)
    folded, mult = (sum(fr.select_add_luts(model, w, n, f) for w, n in layers) for f in (True, False))
    method = ("the two mappings of a p-bit synapse's 1-bit select: folded into the adder's LUT (nominal) or a "
              f"W x 1 multiplier of the model; model: {model.citation}")
    analysis = (f"LUTs per synapse unit, summed over the layers (weight bits, fan-in) {layers}: deterministic "
                f"{entry['baseline_bits']}-bit MAC {det}; p-bit select-add {folded} (select folded) to {mult}")
    return det / folded, det / mult, det / folded, method, analysis


# --- other methods (no interval: consistency, identity, nearest numbers) -----------------------------------------

def _gibbs_summary(entry, base):
    from .engine.simulate import simulate
    from .report.run import summarize
    from .workload.boltzmann import boltzmann_from_data
    path = base / entry["workload"]
    return summarize(simulate(_arch(entry, base), boltzmann_from_data(read_yaml(path), path), "functional"))[0]


def gibbs_facts(entry, base, s):
    """What a Boltzmann run consumed and produced (summary `s`), as one line of the report: nodes, clock, colours
    against their lower bound and the design's, cycles per sweep, and on several chips the partition, cut, links,
    eta and how stale the remote reads are."""
    nodes = s["updates"] // (s["sweeps"][0] * s["chains"])
    clock = s["cycles"] / s["time_s"]
    c = s["colouring"]
    design = f"; the design's: {entry['design_colours']}" if "design_colours" in entry else ""
    per_sweep = s["cycles"] / s["sweeps"][0]
    parts = [f"{nodes:,} nodes", f"clock {clock / 1e6:.4g} MHz",
             f"{c['colours']} colours ({c['method']} colouring; lower bound {c['lower_bound']}: {c['bound']}{design})",
             f"{per_sweep:.4g} cycles per sweep"]
    chips = s.get("chips")
    if chips:
        link = read_yaml(base / entry["workload"])["chips"]["link"]
        eta = chips["eta"]
        parts.append(f"{chips['count']} chips ({chips['partition']} partition, {chips['cut_edges']:,} cut edges, policy "
                     f"{chips['policy']}), links of {link['width_bits']} bits at {link['clock_hz']} with "
                     f"{link.get('latency_cycles', 0)} cycles of latency, {chips['link_bits_per_sweep']:,} link bits "
                     f"per sweep; eta = f_comm / clock = {eta:.3g} (over each node's own update rate, clock / cycles "
                     f"per sweep: {eta * per_sweep:.3g}); remote reads stale by {chips['delay_phases']} phases")
    return "archsim consumed and produced: " + "; ".join(parts)


def gibbs_rate(entry, base):
    """(updates per second x scale, what the run consumed and produced)."""
    s = _gibbs_summary(entry, base)
    return s["updates_per_s"] * entry["scale"], gibbs_facts(entry, base, s)


def rate_interval(entry, base):
    """(nominal, low, high, interval method, analysis) of a rate prediction: a point, its inputs being exact."""
    sim, facts = gibbs_rate(entry, base)
    method = "corners of 0 input ranges (1 evaluation): every input of the rate is stated exactly by its source"
    return sim, sim, sim, method, "; ".join(a for a in (entry.get("analysis", ""), facts) if a)


def _simulate(entry, base):
    method = entry["method"]
    if method == "dtm_energy_per_sample":
        from .engine.simulate import simulate
        from .report.run import summarize
        from .workload.boltzmann import dtm_from_data
        path = base / entry["workload"]
        result = simulate(_arch(entry, base), dtm_from_data(read_yaml(path), path), "functional")
        return summarize(result)[0]["energy_pj_per_sample"]
    if method == "gibbs_energy_per_update":
        return _gibbs_summary(entry, base)["energy_pj_per_update"]
    if method == "config_energy":
        node = _arch(entry, base)
        for part in entry["field"].split("."):
            key, _, name = part.partition("[")  # levels[weight_mem]: the level of that name
            node = getattr(node, key)
            node = node if not name else next(e for e in node if e.name == name.rstrip("]"))
        return node.value * entry["scale"]
    raise ArchsimError(f"validation entry {entry['id']}: unknown method {method!r}")


def _measure(entry, base):
    """(the method's number, what the run consumed and produced: '' but for Boltzmann rates)."""
    return gibbs_rate(entry, base) if entry["method"] == "gibbs_rate" else (_simulate(entry, base), "")


def check_entries(entries, path):
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(path, ["entries: must be a list of mappings, one per published figure"])
    problems = []
    for i, e in enumerate(entries):
        where = f"entries[{i}] ({e.get('id', '?')})"
        missing = [k for k in REQUIRED if k not in e]
        value = e.get("value")
        if missing:
            problems.append(f"{where}: missing {missing}")
            continue
        if not isinstance(e["id"], str):
            problems.append(f"entries[{i}]: id {e['id']!r}; allowed: text")
            continue
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value)):
            problems.append(f"{where}: value {value!r}; allowed: a finite number")
            continue
        if e["kind"] not in KINDS:
            problems.append(f"{where}: kind {e['kind']!r}; allowed: {', '.join(KINDS)}")
        elif e["kind"] == "not_modelled":
            if not e.get("reason"):
                problems.append(f"{where}: not_modelled needs a reason")
        else:
            need = ["inputs", "independence"] + (["tolerance"] if e["kind"] != "prediction" else [])
            if e["kind"] == "identity":
                need.append("consumes")
            problems += [f"{where}: a {e['kind']} row needs {k}" for k in need if not e.get(k)]
            if e["value"] is None:
                problems.append(f"{where}: a {e['kind']} row needs a published value")
            if e["kind"] == "prediction" and e["method"] == "gibbs_rate" and e.get("uncertain"):
                problems.append(f"{where}: uncertain: a rate prediction takes its inputs as stated (only energy "
                                f"figures are repriced at the corners of input ranges)")
    ids = [str(e.get("id")) for e in entries]
    problems += [f"id {i!r} appears twice" for i in set(ids) if ids.count(i) > 1]
    if problems:
        raise ConfigError(path, problems)


def _row(e, base, cache):
    source = f"{e['citation']}; {e['where']} ({e['quality']})"
    row = {"id": e["id"], "quantity": e["quantity"], "kind": e["kind"].replace("_", " "), "published": e["value"],
           "simulated": None, "low": None, "high": None, "unit": e["unit"], "rel_error": None,
           "comparison": "", "interval_method": "", "inputs": e.get("inputs", ""),
           "independence": e.get("independence", ""), "analysis": "", "source": source}
    if e["kind"] == "not_modelled":
        row["status"] = f"not modelled: {e['reason']}"
        if e.get("nearest"):
            row["simulated"], facts = _measure(dict(e["nearest"], id=e["id"]), base)
            row["analysis"] = "; ".join(a for a in (f"archsim's nearest number: {e['nearest']['what']}", facts) if a)
        return row
    if e["kind"] == "prediction" and e["method"] in ("fpga_mac_luts", "gibbs_rate"):
        sim, lo, hi, method, analysis = (lut_interval if e["method"] == "fpga_mac_luts" else rate_interval)(e, base)
        row.update(simulated=sim, low=lo, high=hi, interval_method=method, analysis=analysis)
    elif e["kind"] == "prediction":
        sim, lo, hi, method, nominal = energy_interval(e, base, cache)
        row.update(simulated=sim, low=lo, high=hi, interval_method=method,
                   analysis=_gap_analysis(e["method"], nominal, e["value"]))
    if e["kind"] == "prediction":
        claim = e.get("claim") == "at_least"
        row["comparison"] = "claim: whole interval above" if claim else "published in interval"
        ok = lo > e["value"] if claim else lo <= e["value"] <= hi
    else:
        sim, row["analysis"] = _measure(e, base)
        row["simulated"] = sim
        ok = abs(sim / e["value"] - 1) <= e["tolerance"]["relative"]
    row["rel_error"] = sim / e["value"] - 1
    row["status"] = ("ok" if e["kind"] == "prediction" else e["kind"]) if ok else "outside"
    return row


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
    cache, rows = {}, []
    for i, e in enumerate(entries):
        if only and e["id"] not in only:
            continue
        try:
            rows.append(_row(e, base, cache))
        except (KeyError, TypeError, AttributeError, ZeroDivisionError) as err:  # a malformed entry
            raise ConfigError(path, [f"entries[{i}] ({e['id']}): {type(err).__name__}: {err} (see the "
                                     f"methods at the top of archsim/validate.py)"]) from None
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


def headline(table):
    pred = table[table.kind == "prediction"]
    claims = pred.comparison.str.startswith("claim")
    counts = {k: int((table.kind == k).sum()) for k in ("consistency", "identity", "not modelled")}

    def ok_outside(rows):
        return f"{int((rows.status == 'ok').sum())} ok, {int((rows.status == 'outside').sum())} outside"
    return (f"{len(pred)} predictions ({int((~claims).sum())} quantitative: {ok_outside(pred[~claims])} their "
            f"interval; {int(claims.sum())} qualitative claims: {ok_outside(pred[claims])}); "
            f"{counts['consistency']} consistency checks, {counts['identity']} identities, "
            f"{counts['not modelled']} not modelled")


def markdown(table):
    lines = ["# Validation against published figures", "",
             "Generated by `archsim validate` from validation/published.yaml. **" + headline(table) + ".**", "",
             "`prediction`: simulated from inputs independent of the figure, with the interval propagated from "
             "the inputs' stated ranges (`ok` when the published figure lies in it). `consistency`: the figure "
             "follows from the config's inputs by the source's own arithmetic. `identity`: the figure is a "
             "config input. `not modelled`: kept with the reason (and archsim's nearest number where it has "
             "one). Inputs, independence and interval method of each row are in report.csv.", "",
             "| id | quantity | kind | published | simulated | interval | unit | status |",
             "|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        interval = f"[{_fmt(r.low)}, {_fmt(r.high)}]" if r.low == r.low and r.low is not None else ""
        lines.append(f"| {r.id} | {r.quantity} | {r.kind} | {_fmt(r.published)} | {_fmt(r.simulated)} | "
                     f"{interval} | {r.unit} | {r.status} |")
    analyses = [(r.id, r.analysis) for _, r in table.iterrows() if r.analysis]
    if analyses:
        lines += ["", "## Analyses", ""] + [f"- **{i}**: {a}" for i, a in analyses]
    return "\n".join(lines) + "\n"


def register(subparsers):
    p = subparsers.add_parser("validate", help="check the simulator against published figures")
    p.add_argument("--file", help="published figures (default: validation/published.yaml of the checkout)")
    p.add_argument("--out", help="output folder (default: beside the file)")
    p.add_argument("--only", nargs="+", metavar="ID")
    p.add_argument("--plots", action="store_true", help="also draw the seed paper's analyses")
    p.set_defaults(handler=_cli)


def _cli(args, argv):
    """Exit 1 when a consistency or identity row fails (the code contradicts its own inputs); a prediction
    outside its interval is a finding, reported in the headline and report, not a failure."""
    table = run_validation(args.file, args.out, args.plots, args.only)
    for _, r in table.iterrows():
        print(f"  {r.id:28s} {r.kind:12s} {r.status.split(':')[0]:13s} published {_fmt(r.published):>8s} "
              f"simulated {_fmt(r.simulated):>8s} {r.unit}")
    broken = ((table.status == "outside") & (table.kind != "prediction")).sum()
    print(f"archsim validate: {len(table)} rows; {headline(table)} -> report.csv, report.md")
    return 1 if broken else 0
