"""`archsim map`: search each layer's mapping on an architecture's levels and write the candidates."""
from .errors import ArchsimError
from .mapping.search import SAMPLES


def register(subparsers):
    p = subparsers.add_parser("map", help="search mappings (tilings, loop orders, unrolling) for each layer")
    p.add_argument("--arch", default="default", help="architecture YAML ('default': the packaged one)")
    p.add_argument("--workload", default="default", help="p-DNN workload YAML ('default': the packaged one)")
    p.add_argument("--objective", choices=["energy", "cycles", "edp"], default="energy")
    p.add_argument("--budget", type=int, default=2000, help="the largest space searched exhaustively "
                   "(default 2000); above it, a sampled search and climbs")
    p.add_argument("--samples", type=int, default=SAMPLES, help=f"random draws per round of the sampled search "
                   f"(default {SAMPLES})")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled search")
    p.add_argument("--out", help="output folder, new or empty (default: a fresh runs/map-WORKLOAD-TIME/)")
    p.add_argument("--force", action="store_true", help="write into a non-empty --out")
    p.add_argument("--no-plot", action="store_true", help="skip mappings.png")
    p.set_defaults(handler=_cli)


def _cli(args, argv):
    from . import load_arch, load_workload
    from .engine.mapper import map_workload
    from .mapping.loopnest import EXACT
    from .mapping.mapfile import mapping_text
    from .report.mappings import write_mappings
    from .report.outdir import output_folder
    for name in ("budget", "samples"):
        if getattr(args, name) < 1:
            raise ArchsimError(f"--{name} {getattr(args, name)}: allowed: an integer >= 1")
    args.out = output_folder(args.out, args.force, "map", args.workload)
    arch = load_arch(args.arch)
    workload = load_workload(args.workload, kinds=("pdnn",))
    names, results = map_workload(arch, workload, args.objective, args.budget, args.seed, args.samples)
    if not results:
        raise ArchsimError(f"{args.workload}: no dense or conv2d layer to map")
    frame = write_mappings(names, results, args.objective, args.out, plot=not args.no_plot)
    print(f"archsim map: {workload.spec.name} on {arch.name}, objective {args.objective}")
    for r in results:
        if r.best is None:
            print(f"  layers[{r.layer}]: no mapping fits the levels' capacities ({len(r.candidates)} tried)")
            continue
        uneven = sum(1 for _, c in r.candidates if c.mapping.remainder != EXACT)
        staged = sum(1 for keep, _ in r.candidates if _staged(keep))
        print(f"  layers[{r.layer}]: {r.method}, {len(r.candidates):,} candidates ({uneven:,} with a partial last "
              f"output tile, {staged:,} with activations staged) in {r.seconds:.2f} s; "
              f"{r.best.energy_pj * r.passes:,.1f} pJ memory energy, >= {r.best.cycles * r.passes:,} cycles")
        print(f"    {mapping_text(r.best.mapping, names, r.keep)}")
    print(f"  {len(frame):,} candidates -> {args.out}/mappings.csv, mapping.yaml"
          f"{'' if args.no_plot else ', mappings.png'}")
    print(f"  run it: archsim run --arch {args.arch} --workload {args.workload} --mapping {args.out}/mapping.yaml")
    return 0


def _staged(keep):
    """Whether inputs or outputs are kept at more than one level (tiles staged inside their home)."""
    return any(sum(1 for k in keep.values() if operand in k) > 1 for operand in ("inputs", "outputs"))
