"""The command line: parses arguments, calls the API, prints. An ArchsimError becomes one message, exit 2."""
import argparse
import importlib
import os
import sys
import time
from pathlib import Path

from .errors import ArchsimError, ConfigError


PROGRESS_DELAY_S = 2.0  # a p-DNN run shows its progress bar once it has run this long
PROGRESS_MIN_UPDATES = 200_000_000  # a Gibbs run above this (about 2 s at 1e8 updates/s) shows a progress bar


def _progress(args):
    """Progress bars only on a terminal, and not with --no-progress."""
    return not args.no_progress and sys.stderr.isatty()


def _note_first_compile(module):
    """One line on stderr when kernels/<module>.py has no Numba cache yet: this run compiles it first."""
    import os
    from pathlib import Path
    cache = Path(os.environ.get("NUMBA_CACHE_DIR") or Path(__file__).parent / "kernels" / "__pycache__")
    if not (cache.is_dir() and next(cache.rglob(f"{module}.*.nbi"), None)):
        print(f"archsim: compiling the Numba kernels of kernels/{module}.py (first run only; cached afterwards)",
              file=sys.stderr)


def _run_topology(args, argv):
    """Every row of a SCALE-Sim topology as its own one-layer network; per-layer folders plus a table."""
    import json

    import pandas as pd
    from tqdm import tqdm

    from . import load_arch, simulate
    from .report.run import write_run
    from .workload.topology import safe_name, topology_workloads
    if args.trace and not args.chain:
        raise ArchsimError(f"--trace: {args.workload} runs one network per row; add --chain to run (and trace) its "
                           f"rows as one network")
    arch = load_arch(args.arch)
    if args.samples is not None and not args.pbit:
        raise ArchsimError("--samples sets T of a p-DNN: with a topology it needs --pbit (a deterministic network "
                           "runs T = 1)")
    rows = []
    workloads = topology_workloads(args.workload, args.pbit, args.samples or 1, args.seed or 0,
                                   args.weight_bits or 8, args.act_bits or 8, chain=args.chain)
    _note_first_compile("dense")
    bar = tqdm(workloads, desc="topology rows", unit="row", disable=not _progress(args))
    for i, (name, workload) in enumerate(bar):
        folder = Path(args.out) / "layers" / f"{i:03d}-{safe_name(name)}"
        s = write_run(simulate(arch, workload, mode=args.mode, trace=args.trace), folder, argv=argv)
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
    print(f"archsim run: {len(rows)} {'chained network' if args.chain else 'topology layers'} of {args.workload} on "
          f"{arch.name} "
          f"({'p-DNN' if args.pbit else 'deterministic'}, {args.mode} mode)")
    print(table.to_string(index=False))
    print(f"  total cycles {summary['cycles']:,}  energy {summary['energy_pj']:,.1f} pJ  -> {args.out}/")
    return 0


def _run_gibbs(args, argv, kind):
    from . import load_arch, load_workload
    from . import simulate
    from .report.run import write_run
    if args.trace is not None:
        raise ConfigError(args.workload, [f"--trace: traces are recorded for p-DNN workloads only, this is a "
                                          f"{kind} workload; drop --trace"])
    arch = load_arch(args.arch)
    _note_first_compile("ising")
    work = load_workload(args.workload, samples=args.samples, seed=args.seed)
    from tqdm import tqdm
    stages = [work] if kind == "boltzmann" else work.stages
    total = sum(bm.spec.sweeps * bm.spec.chains * int((~bm.clamped).sum()) for bm in stages)
    with tqdm(total=total, desc="p-bit updates", unit="upd", unit_scale=True,
              disable=not _progress(args) or total < PROGRESS_MIN_UPDATES) as bar:
        result = simulate(arch, work, args.mode, progress=None if bar.disable else bar.update)
    s = write_run(result, args.out, argv=argv)
    print(f"archsim run: {s['workload']} ({kind}, {s['stages']} stage(s), {s['chains']} chain(s)) on {s['arch']} "
          f"({s['mode']} mode)")
    print(f"  cycles {s['cycles']:,}  energy {s['energy_pj']:,.1f} pJ  ({s['energy_pj_per_update']:.4g} pJ per "
          f"update, {s['energy_pj_per_sample']:,.1f} pJ per {'generated ' if kind == 'dtm' else ''}sample chain)")
    print(f"  {s['updates']:,} p-bit updates, {s['updates_per_s']:.3g} updates/s at the clock; counts match the "
          f"analytic model: {'yes' if s['counts_match_analytic'] else 'no'}")
    print(f"  samples.npy: {s['samples']} row(s) per chain -> {args.out}/")
    return 0


def _run(args, argv):
    from . import load_arch, load_workload
    from .report.outdir import output_folder
    from .workload.loader import workload_kind
    args.out = output_folder(args.out, args.force, "run", args.workload)
    if args.trace and Path(args.trace).exists() and not args.force:
        raise ArchsimError(f"--trace {args.trace}: exists already; give a new file or pass --force to overwrite it")
    kind = workload_kind(args.workload)
    if args.mapping and kind in ("topology", "boltzmann", "dtm"):
        raise ArchsimError(f"--mapping {args.mapping}: mapping files map p-DNN workloads; {args.workload} is a "
                           f"{kind} workload")
    if kind == "topology":
        return _run_topology(args, argv)
    _topology_flags_only(args)
    if kind in ("boltzmann", "dtm"):
        return _run_gibbs(args, argv, kind)
    t0 = time.perf_counter()
    arch = load_arch(args.arch)
    from .engine.plan import capacity_check
    workload = load_workload(args.workload, samples=args.samples, seed=args.seed,
                             before_arrays=capacity_check(arch, args.mapping))
    from . import simulate  # Numba and pandas load once the inputs are known to be valid
    from .report.run import departure_line, write_run
    t1 = time.perf_counter()
    _note_first_compile("dense")
    from tqdm import tqdm
    with tqdm(total=workload.inputs.shape[0] * len(workload.spec.layers), desc="layer passes", unit="pass",
              delay=PROGRESS_DELAY_S, disable=not _progress(args)) as bar:  # shown once a run passes the delay
        result = simulate(arch, workload, mode=args.mode, trace=args.trace, progress=bar.update,
                          mapping=args.mapping)
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
                                               "; beyond eps_EO: " + departure_line(summary["departure_groups"])))
    print(f"  outputs sha256 {summary['outputs_sha256'][:16]}...  -> {args.out}/")
    return 0


def _replay(args, argv):
    import json

    from . import load_arch
    from .report.outdir import output_folder
    from .trace.replay import replay
    out = output_folder(args.out, args.force, "replay", args.trace_file)
    summary, counts, energy = replay(args.trace_file, load_arch(args.arch))
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
    lines = export(args.trace_file, args.out, args.format, component=args.component, speed_bin=args.speed_bin,
                   ranks=args.ranks, bank_groups=args.bank_groups, banks_per_group=args.banks_per_group)
    print(f"archsim trace export: {lines:,} lines of {args.component} traffic in {args.format} format -> {args.out}")
    return 0


def _export_scalesim(args, argv):
    from .workload.topology import read_topology, rows_from_workload, write_topology
    if str(args.workload).lower().endswith(".csv"):
        (fmt, rows), skipped = read_topology(args.workload), []
    else:
        from . import load_workload
        fmt, rows, skipped = rows_from_workload(load_workload(args.workload, kinds=("pdnn",)).spec)
    n = write_topology(fmt, rows, args.out)
    print(f"archsim export scalesim: {n} {fmt} rows of {args.workload} -> {args.out} (run SCALE-Sim with -i {fmt})")
    if skipped:
        print(f"  not in SCALE-Sim's format, skipped: {', '.join(skipped)}")
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
                             args.arch, args.data, args.epochs, args.seed, progress=not args.no_progress,
                             seeds=args.seeds)
    except ValueError as e:
        raise ArchsimError(str(e)) from None
    print(f"archsim tradeoff: {len(table)} runs -> {args.out}/tradeoff.csv, accuracy_vs_energy.png, "
          f"accuracy_vs_T.png, pareto.csv")
    if args.claims:
        frame = claims(table, args.claims)
        for _, r in frame.iterrows():
            print(f"  [{r.holds}] {r.claim}: {r.measured}")
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
    if getattr(args, "trace_command", None) == "export" or getattr(args, "export_command", None) == "scalesim":
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


# Subcommands whose modules import pandas and pydantic: listed with their help at once, built only when they run
# (tests/test_startup.py keeps these help texts equal to the modules' own).
LAZY_COMMANDS = {"sweep": "run a design-space sweep, or `archsim sweep plot DIR`",
                 "validate": "check the simulator against published figures",
                 "map": "search mappings (tilings, loop orders, unrolling) for each layer",
                 "trace": "trace utilities"}
LAZY_MODULES = {"sweep": "sweep", "validate": "validate", "map": "mapper_cli"}


def _lazy(sub, name, command):
    """Register subcommand `name` in full when it is the one about to run, else only its name and help."""
    if name != command:
        sub.add_parser(name, help=LAZY_COMMANDS[name])
    elif name == "trace":
        _trace_parser(sub)
    else:
        importlib.import_module(f".{LAZY_MODULES[name]}", __package__).register(sub)


def _trace_parser(sub):
    from .trace.export import FORMATS as EXPORT_FORMATS
    tr = sub.add_parser("trace", help=LAZY_COMMANDS["trace"]).add_subparsers(dest="trace_command", required=True)
    ex = tr.add_parser("export", help="export a memory's traffic for a DRAM simulator")
    ex.add_argument("trace_file", metavar="TRACE")
    ex.add_argument("--format", required=True, choices=list(EXPORT_FORMATS))
    ex.add_argument("--component", default="weight_mem", help="a traced level (the trace's sidecar lists them)")
    ex.add_argument("--out", required=True, help="output file")
    from .trace.dram import speed_bins
    ex.add_argument("--speed-bin", default="DDR4_1600K", choices=speed_bins(), help="DDR4 speed bin (JEDEC)")
    ex.add_argument("--ranks", type=POSITIVE, help="ranks (default 1)")
    ex.add_argument("--bank-groups", type=POSITIVE, help="bank groups per rank (default 4)")
    ex.add_argument("--banks-per-group", type=POSITIVE, help="banks per bank group (default 4)")
    ex.set_defaults(handler=_export)


def parser(command=None):
    """The argument parser; `command`: the subcommand about to run (see LAZY_COMMANDS)."""
    p = argparse.ArgumentParser(prog="archsim", description="Cycle-level simulator of p-bit accelerators")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a workload on an architecture")
    run.add_argument("--arch", default="default", help="architecture YAML ('default': the packaged one)")
    run.add_argument("--workload", default="default", help="workload YAML ('default': the packaged one)")
    run.add_argument("--samples", type=POSITIVE, help="override T, samples per input item")
    run.add_argument("--seed", type=SEED, help="override the workload seed")
    run.add_argument("--mode", choices=["timing", "functional"], default="timing")
    run.add_argument("--out", help="output folder, new or empty (default: a fresh runs/run-WORKLOAD-TIME/)")
    run.add_argument("--force", action="store_true", help="write into a non-empty --out (and over --trace)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars (also off when not a terminal)")
    topo = run.add_argument_group("SCALE-Sim topology (--workload FILE.csv)")
    topo.add_argument("--pbit", action="store_true", help="run the topology as a p-DNN (1-bit p-bit activations)")
    topo.add_argument("--weight-bits", type=_int_flag(1, 16), help="weight bits (default 8)")
    topo.add_argument("--act-bits", type=_int_flag(1, 32), help="deterministic activation bits (default 8)")
    topo.add_argument("--chain", action="store_true", help="chain the rows into one network (padding and pooling "
                                                           "inferred from the IFMAP sizes)")
    run.add_argument("--trace", help="stream every memory transaction to FILE (.parquet or .csv; timing mode)")
    run.add_argument("--mapping", metavar="FILE", help="run this mapping (the format `archsim map` writes) "
                     "instead of the planner's choice (p-DNN workloads)")
    add_memory_limit(run)
    run.set_defaults(handler=_run)
    rep = sub.add_parser("replay", help="replay a trace on another memory configuration")
    rep.add_argument("trace_file", metavar="TRACE")
    rep.add_argument("--arch", default="default", help="architecture YAML to replay on")
    rep.add_argument("--out", help="output folder, new or empty (default: a fresh runs/replay-TRACE-TIME/)")
    rep.add_argument("--force", action="store_true", help="write into a non-empty --out")
    rep.set_defaults(handler=_replay)
    _lazy(sub, "sweep", command)
    _lazy(sub, "validate", command)
    _lazy(sub, "map", command)
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
    to.add_argument("--seeds", type=POSITIVE, default=8, help="replicates: training and RNG seeds seed .. seed+N-1")
    to.add_argument("--out", default="tradeoff-out")
    to.add_argument("--claims", help="also write the paper's claims, answered, to this Markdown file")
    to.add_argument("--no-progress", action="store_true")
    to.set_defaults(handler=_tradeoff)
    _lazy(sub, "trace", command)
    xs = sub.add_parser("export", help="export to other tools' formats").add_subparsers(dest="export_command",
                                                                                         required=True)
    sc = xs.add_parser("scalesim", help="a workload (YAML) or topology (CSV) as a SCALE-Sim topology CSV")
    sc.add_argument("--workload", required=True, help="p-DNN workload YAML or SCALE-Sim topology CSV")
    sc.add_argument("--out", required=True, help="output .csv")
    sc.set_defaults(handler=_export_scalesim)
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parser(next((a for a in argv if not a.startswith("-")), None)).parse_args(argv)
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
