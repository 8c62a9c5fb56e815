"""The command line: parses arguments, calls the API, prints. An ArchsimError becomes one message, exit 2."""
import argparse
import os
import re
import sys
import time
from pathlib import Path

from .errors import ArchsimError, ConfigError


def _run_topology(args, argv):
    """Every row of a SCALE-Sim topology as its own one-layer network; per-layer folders plus a table."""
    import json

    import pandas as pd

    from . import load_arch, simulate
    from .report.run import write_run
    from .workload.topology import topology_workloads
    arch = load_arch(args.arch)
    if args.samples is not None and not args.pbit:
        raise ArchsimError("--samples sets T of a p-DNN: with a topology it needs --pbit (a deterministic network "
                           "runs T = 1)")
    rows = []
    for i, (name, workload) in enumerate(topology_workloads(args.workload, args.pbit, args.samples or 1,
                                                             args.seed or 0, args.weight_bits or 8,
                                                             args.act_bits or 8)):
        folder = Path(args.out) / "layers" / f"{i:03d}-{safe_name(name)}"
        s = write_run(simulate(arch, workload, mode=args.mode), folder, argv=argv)
        rows.append({"layer": name, "cycles": s["cycles"], "energy_pj": s["energy_pj"],
                     "analytic_energy_pj": s["analytic_energy_pj"], "counts_match_analytic": s["counts_match_analytic"],
                     "departures_explained": s["departures_explained"], "outputs_sha256": s["outputs_sha256"]})
    table = pd.DataFrame(rows)
    table.to_csv(Path(args.out) / "layers.csv", index=False)
    summary = {"arch": arch.name, "workload": str(args.workload), "mode": args.mode, "pbit": args.pbit,
               "layers": len(rows), "cycles": int(table.cycles.sum()), "energy_pj": float(table.energy_pj.sum()),
               "analytic_energy_pj": float(table.analytic_energy_pj.sum()),
               "counts_match_analytic": bool(table.counts_match_analytic.all()),
               "departures_explained": bool(table.departures_explained.all())}
    (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    print(f"archsim run: {len(rows)} topology layers of {args.workload} on {arch.name} "
          f"({'p-DNN' if args.pbit else 'deterministic'}, {args.mode} mode)")
    print(table.to_string(index=False))
    print(f"  total cycles {summary['cycles']:,}  energy {summary['energy_pj']:,.1f} pJ  -> {args.out}/")
    return 0


def _run_gibbs(args, argv, kind):
    from . import load_arch
    from .config.loader import read_yaml
    from .engine.gibbs import simulate_boltzmann, simulate_dtm
    from .report.gibbs import write_gibbs
    from .workload.boltzmann import boltzmann_from_data, dtm_from_data
    from .workload.loader import check_gibbs_budget
    if args.samples is not None:
        raise ConfigError(args.workload, [f"--samples sets T of a p-DNN; a {kind} workload sets sweeps instead"])
    arch = load_arch(args.arch)
    data = read_yaml(args.workload)
    if args.seed is not None:
        data["seed"] = args.seed
    check_gibbs_budget(data, args.workload)
    if kind == "boltzmann":
        result = simulate_boltzmann(arch, boltzmann_from_data(data, args.workload), args.mode)
    else:
        result = simulate_dtm(arch, dtm_from_data(data, args.workload), args.mode)
    s = write_gibbs(result, args.out, argv=argv)
    print(f"archsim run: {s['workload']} ({kind}, {s['stages']} stage(s), {s['chains']} chain(s)) on {s['arch']} "
          f"({s['mode']} mode)")
    print(f"  cycles {s['cycles']:,}  energy {s['energy_pj']:,.1f} pJ  ({s['energy_pj_per_update']:.4g} pJ per "
          f"update, {s['energy_pj_per_sample']:,.1f} pJ per {'generated ' if kind == 'dtm' else ''}sample chain)")
    print(f"  {s['updates']:,} p-bit updates, {s['updates_per_s']:.3g} updates/s at the clock; counts match the "
          f"analytic model: {'yes' if s['counts_match_analytic'] else 'no'}")
    print(f"  samples.npy: {s['samples']} row(s) per chain -> {args.out}/")
    return 0


def _run(args, argv):
    from . import load_arch, load_workload, simulate
    from .config.loader import read_yaml
    from .report.run import write_run
    from .sweep import capacity_check
    if str(args.workload).lower().endswith(".csv"):
        return _run_topology(args, argv)
    _topology_flags_only(args)
    if args.workload != "default":
        kind = read_yaml(args.workload).get("kind")
        if kind in ("boltzmann", "dtm"):
            return _run_gibbs(args, argv, kind)
    t0 = time.perf_counter()
    arch = load_arch(args.arch)
    workload = load_workload(args.workload, samples=args.samples, seed=args.seed, before_arrays=capacity_check(arch))
    t1 = time.perf_counter()
    result = simulate(arch, workload, mode=args.mode, trace=args.trace)
    t2 = time.perf_counter()
    summary = write_run(result, args.out, {"load": t1 - t0, "total": t2 - t0}, argv)
    by = summary["energy_pj_by_component"]
    print(f"archsim run: {summary['workload']} on {summary['arch']} ({summary['mode']} mode, "
          f"T = {summary['samples']}, {summary['items']} item(s), seed {summary['seed']})")
    print(f"  cycles      {summary['cycles']:,}  ({summary['time_s'] * 1e6:.2f} us at "
          f"{arch.clock / 1e6:g} MHz)")
    print(f"  energy      {summary['energy_pj']:,.2f} pJ  ({summary['energy_pj_per_item']:,.2f} pJ per item); "
          f"eps_EO model {summary['analytic_energy_pj']:,.2f} pJ")
    print("  by component " + ", ".join(f"{k} {v:,.1f}" for k, v in sorted(by.items(), key=lambda kv: -kv[1])))
    match = "yes" if summary["counts_match_analytic"] else "no"
    print(f"  counts match eps_EO: {match}" + ("" if summary["counts_match_analytic"] else
                                               "; departures: " + "; ".join(summary["departures"])))
    print(f"  outputs sha256 {summary['outputs_sha256'][:16]}...  -> {args.out}/")
    return 0


def _replay(args, argv):
    import json

    from . import load_arch
    from .trace.replay import replay
    summary, counts, energy = replay(args.trace_file, load_arch(args.arch))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    counts.to_csv(out / "counts.csv", index=False)
    energy.to_csv(out / "energy.csv", index=False)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    print(f"archsim replay: {args.trace_file} (recorded on {summary['recorded_arch']}, "
          f"{summary['recorded_cycles']:,} cycles) on {summary['arch']}")
    print(f"  cycles {summary['cycles']:,}  memory energy {summary['memory_energy_pj']:,.1f} pJ  -> {out}/")
    return 0


def _export(args, argv):
    from .trace.export import export
    lines = export(args.trace_file, args.out, args.format, component=args.component)
    print(f"archsim trace export: {lines:,} lines of {args.component} traffic in {args.format} format -> {args.out}")
    return 0


def _import(args, argv):
    from .workload.onnx_import import import_onnx
    yml, npz, warnings = import_onnx(args.model, args.out, weight_bits=args.weight_bits, activation=args.activation,
                                     act_bits=args.act_bits, input_bits=args.input_bits, samples=args.samples,
                                     seed=args.seed)
    for w in warnings:
        print(f"archsim import: warning: {w}", file=sys.stderr)
    print(f"archsim import: {args.model} -> {yml} + {npz}")
    return 0


def _tradeoff(args, argv):
    from .train.tradeoff import claims, run_tradeoff
    ints = lambda text, name: [int(v) for v in text.split(",")] if all(
        v.strip().isdigit() and int(v) > 0 for v in text.split(",")) else _bad(name, text)
    try:
        table = run_tradeoff(args.workload, ints(args.samples, "--samples"), ints(args.bits, "--bits"), args.out,
                             args.arch, args.data, args.epochs, args.seed, progress=not args.no_progress)
    except ValueError as e:
        raise ArchsimError(str(e)) from None
    print(f"archsim tradeoff: {len(table)} runs -> {args.out}/tradeoff.csv, accuracy_vs_energy.png, "
          f"accuracy_vs_T.png, pareto.csv")
    if args.claims:
        frame = claims(table, args.claims)
        for _, r in frame.iterrows():
            print(f"  [{'holds' if r.holds else 'does not hold'}] {r.claim}: {r.measured}")
        print(f"  claims table -> {args.claims}")
    return 0


def _bad(name, text):
    raise ArchsimError(f"{name}: {text!r} is not a comma-separated list of positive integers (e.g. 1,2,4,8)")


def _int_flag(lo, hi=None):
    """An argparse type: an integer in [lo, hi]; argparse names the flag in its error (exit 2)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < lo or (hi is not None and value > hi):
            allowed = f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi}]"
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: {allowed}")
        return value
    return parse


POSITIVE, SEED = _int_flag(1), _int_flag(0, (1 << 63) - 1)


def safe_name(text):
    """A file name made from user text (a layer name): only letters, digits, '_', '-' and '.', never '.' or
    '..', at most 100 characters; so a path formed from it stays in its folder."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(text))[:100].strip(".")
    return name or "_"


def _topology_flags_only(args):
    given = [flag for flag, value in (("--pbit", args.pbit), ("--weight-bits", args.weight_bits),
                                      ("--act-bits", args.act_bits)) if value not in (None, False)]
    if given:
        raise ArchsimError(f"{', '.join(given)}: only for a SCALE-Sim topology (--workload FILE.csv); a YAML "
                           f"workload sets its bit widths and activations in the file ({args.workload})")


def _writable_folder(flag, path):
    """An output folder must be a folder (or not exist yet) under folders we may write."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ArchsimError(f"{flag} {path}: exists and is not a folder; give a folder (it is created if missing)")
    _writable_parent(flag, path)


def _writable_file(flag, path):
    """An output file must not be a folder, and its folder must be writable."""
    path = Path(path)
    if path.is_dir():
        raise ArchsimError(f"{flag} {path}: is a folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise ArchsimError(f"{flag} {path}: the file is not writable")
    _writable_parent(flag, path.parent)


def _writable_parent(flag, path):
    node = path.absolute()
    while not node.exists():
        node = node.parent
    if not node.is_dir():
        raise ArchsimError(f"{flag} {path}: {node} is a file, so nothing can be written under it")
    if not os.access(node, os.W_OK | os.X_OK):
        raise ArchsimError(f"{flag} {path}: {node} is not writable")


def check_outputs(args):
    """Every output path of the command, checked before anything runs (the folder for --out, files for
    `trace export --out`, `run --trace`, `tradeoff --claims`)."""
    files = [("--trace", getattr(args, "trace", None)), ("--claims", getattr(args, "claims", None))]
    out = getattr(args, "out", None)
    if getattr(args, "trace_command", None) == "export":
        files.append(("--out", out))
    elif out is not None:
        _writable_folder("--out", out)
    for flag, path in files:
        if path is not None:
            _writable_file(flag, path)


def _memory_limit(args):
    """--memory-limit: the planned-memory limit of this run (and of sweep workers, which inherit it)."""
    from .inputs import MEMORY_LIMIT_ENV, memory_limit_bytes
    text = getattr(args, "memory_limit", None)
    if text is not None:
        os.environ[MEMORY_LIMIT_ENV] = text
        try:
            memory_limit_bytes()
        except ArchsimError as e:
            raise ArchsimError(f"--memory-limit: {str(e).split(': ', 1)[1]}") from None


INPUT_FLAGS = (("workload", "--workload"), ("arch", "--arch"), ("trace_file", "TRACE"), ("model", "MODEL"),
               ("file", "--file"), ("data", "--data"))


def with_inputs(err, args):
    """The message of an error, prefixed with the command's input files when it names none of them (a mapping
    or overflow error found deep in a run names the field, the files come from here)."""
    msg = str(err)
    given = [(flag, str(getattr(args, key))) for key, flag in INPUT_FLAGS if getattr(args, key, None) is not None]
    if isinstance(err, ConfigError) or not given or any(file in msg for _, file in given):
        return msg
    return ", ".join(f"{flag} {file}" for flag, file in given) + f": {msg}"


def add_memory_limit(p):
    p.add_argument("--memory-limit", metavar="SIZE", help="refuse runs planned to need more memory than this, "
                   "e.g. 4GiB (default: half the machine's memory; env ARCHSIM_MEMORY_LIMIT)")


def parser():
    from .trace.export import FORMATS as EXPORT_FORMATS
    p = argparse.ArgumentParser(prog="archsim", description="Cycle-level simulator of p-bit accelerators")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a workload on an architecture")
    run.add_argument("--arch", default="default", help="architecture YAML ('default': the packaged one)")
    run.add_argument("--workload", default="default", help="workload YAML ('default': the packaged one)")
    run.add_argument("--samples", type=POSITIVE, help="override T, samples per input item")
    run.add_argument("--seed", type=SEED, help="override the workload seed")
    run.add_argument("--mode", choices=["timing", "functional"], default="timing")
    run.add_argument("--out", default="archsim-out", help="output folder (default: ./archsim-out)")
    topo = run.add_argument_group("SCALE-Sim topology (--workload FILE.csv)")
    topo.add_argument("--pbit", action="store_true", help="run the topology as a p-DNN (1-bit p-bit activations)")
    topo.add_argument("--weight-bits", type=_int_flag(1, 16), help="weight bits (default 8)")
    topo.add_argument("--act-bits", type=_int_flag(1, 32), help="deterministic activation bits (default 8)")
    run.add_argument("--trace", help="stream every memory transaction to FILE (.parquet or .csv; timing mode)")
    add_memory_limit(run)
    run.set_defaults(handler=_run)
    rep = sub.add_parser("replay", help="replay a trace on another memory configuration")
    rep.add_argument("trace_file", metavar="TRACE")
    rep.add_argument("--arch", default="default", help="architecture YAML to replay on")
    rep.add_argument("--out", default="archsim-replay", help="output folder (default: ./archsim-replay)")
    rep.set_defaults(handler=_replay)
    from .sweep import register as register_sweep
    from .validate import register as register_validate
    register_sweep(sub)
    register_validate(sub)
    imp = sub.add_parser("import", help="turn an ONNX model into a workload YAML + weights .npz")
    imp.add_argument("model", metavar="MODEL.onnx")
    imp.add_argument("--out", default=".", help="output folder (default: .)")
    imp.add_argument("--weight-bits", type=_int_flag(1, 16), default=8)
    imp.add_argument("--activation", choices=["pbit", "noisy", "quantized"], default="pbit")
    imp.add_argument("--act-bits", type=_int_flag(1, 32), default=4, help="bits of noisy/quantized activations")
    imp.add_argument("--input-bits", type=_int_flag(1, 16), default=1)
    imp.add_argument("--samples", type=POSITIVE, default=8)
    imp.add_argument("--seed", type=SEED, default=0)
    imp.set_defaults(handler=_import)
    to = sub.add_parser("tradeoff", help="accuracy against energy: more samples or more bits?")
    to.add_argument("--workload", default="workloads/digits-mlp.yaml", help="dense topology to train")
    to.add_argument("--samples", default="1,2,4,8,16,32", help="T values (and sample-aware s values)")
    to.add_argument("--bits", default="1,2,3,4,8,32", help="deterministic activation bits (32: float)")
    to.add_argument("--arch", default="default", help="architecture (MAC synapses and wide accumulators forced)")
    to.add_argument("--data", default="digits", help="'digits' (scikit-learn) or an .npz with x and y")
    to.add_argument("--epochs", type=POSITIVE, default=60)
    to.add_argument("--seed", type=SEED, default=0)
    to.add_argument("--out", default="tradeoff-out")
    to.add_argument("--claims", help="also write the paper's claims, answered, to this Markdown file")
    to.add_argument("--no-progress", action="store_true")
    to.set_defaults(handler=_tradeoff)
    tr = sub.add_parser("trace", help="trace utilities").add_subparsers(dest="trace_command", required=True)
    ex = tr.add_parser("export", help="export a memory's traffic for a DRAM simulator")
    ex.add_argument("trace_file", metavar="TRACE")
    ex.add_argument("--format", required=True, choices=list(EXPORT_FORMATS))
    ex.add_argument("--component", default="weight_mem", choices=["weight_mem", "act_mem"])
    ex.add_argument("--out", required=True, help="output file")
    ex.set_defaults(handler=_export)
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    try:
        check_outputs(args)
        _memory_limit(args)
        return args.handler(args, argv)
    except ArchsimError as e:
        print(f"archsim: error: {with_inputs(e, args)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("archsim: interrupted", file=sys.stderr)
        return 130
