"""The command line: parses arguments, calls the API, prints. An ArchsimError becomes one message, exit 2."""
import argparse
import sys
import time

from .errors import ArchsimError


def _run(args, argv):
    from . import load_arch, load_workload, simulate
    from .report.run import write_run
    t0 = time.perf_counter()
    arch = load_arch(args.arch)
    workload = load_workload(args.workload, samples=args.samples, seed=args.seed)
    t1 = time.perf_counter()
    result = simulate(arch, workload, mode=args.mode)
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


def parser():
    p = argparse.ArgumentParser(prog="archsim", description="Cycle-level simulator of p-bit accelerators")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a workload on an architecture")
    run.add_argument("--arch", default="default", help="architecture YAML ('default': the packaged one)")
    run.add_argument("--workload", default="default", help="workload YAML ('default': the packaged one)")
    run.add_argument("--samples", type=int, help="override T, samples per input item")
    run.add_argument("--seed", type=int, help="override the workload seed")
    run.add_argument("--mode", choices=["timing", "functional"], default="timing")
    run.add_argument("--out", default="archsim-out", help="output folder (default: ./archsim-out)")
    run.set_defaults(handler=_run)
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    try:
        return args.handler(args, argv)
    except ArchsimError as e:
        print(f"archsim: error: {e}", file=sys.stderr)
        return 2
