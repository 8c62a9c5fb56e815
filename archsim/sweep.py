"""Design-space sweeps: a grid (or zip) of values over dotted paths into an architecture and a workload,
expanded and validated before anything runs, executed serially, on a local process pool or on Dask, each
finished point written at once and atomically (a killed sweep resumes without redoing or losing points).

Paths: `arch.synapse.count`, `workload.samples`, `workload.layers[*].weight_bits` ([*]: every element, [2]:
one), and the axes `arch` / `workload` themselves, whose values are files (relative to the sweep file) or
`default`. Every point is a pure function of its resolved architecture, workload, seed and mode."""
import argparse
import copy
import hashlib
import itertools
import json
import math
import os
import re
import signal
import sys
import time
from concurrent.futures import BrokenExecutor
from pathlib import Path
from typing import Any, Literal, Optional

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from .config.fields import Strict
from .config.loader import arch_from_data, read_yaml, resolve_arch_path, validate
from .errors import ArchsimError, ConfigError

_INDEX = re.compile(r"^(\w+)\[(\*|\d+|[A-Za-z_]\w*)\]$")
MAX_POINTS = 100_000  # points of one sweep: each is validated and written to its own file


class Sweep(Strict):
    schema_version: Literal[1] = 1
    kind: Literal["sweep"]
    name: str = Field(min_length=1)
    arch: str = Field(default="default", description="architecture file (relative to the sweep file) or default")
    workload: str = Field(default="default", description="workload file (relative to the sweep file) or default")
    mode: Literal["functional", "timing"] = "functional"
    grid: Optional[dict[str, list[Any]]] = Field(default=None, description="full product of these axes")
    zip: Optional[dict[str, list[Any]]] = Field(default=None, description="these axes paired element by element")
    seeds: Optional[list[int]] = Field(default=None, description="repetitions: each point once per seed")

    @model_validator(mode="after")
    def _axes(self):
        axes = {**(self.grid or {}), **(self.zip or {})}
        if not axes:
            raise ValueError("give at least one axis under grid: or zip:")
        empty = [k for k, v in axes.items() if not v]
        if empty:
            raise ValueError(f"axis {empty[0]!r} has no values: the grid would be empty")
        if self.zip and len({len(v) for v in self.zip.values()}) > 1:
            lengths = {k: len(v) for k, v in self.zip.items()}
            raise ValueError(f"zip: lists must have equal lengths, got {lengths}")
        for k in axes:
            if k not in ("arch", "workload") and not k.startswith(("arch.", "workload.")):
                raise ValueError(f"axis {k!r} must start with 'arch.' or 'workload.' (or be 'arch' / 'workload')")
        for k in ("arch", "workload"):
            bad = [v for v in axes.get(k, []) if not isinstance(v, str) or not v]
            if bad:
                raise ValueError(f"axis {k!r}: {bad[0]!r} is not a file name; allowed: file names or 'default'")
        n_zip = len(next(iter(self.zip.values()))) if self.zip else 1
        n_points = math.prod(len(v) for v in (self.grid or {}).values()) * n_zip * len(self.seeds or [None])
        if n_points > MAX_POINTS:
            raise ValueError(f"the sweep has {n_points:,} points, more than the limit of {MAX_POINTS:,}; split it "
                             f"into several sweeps")
        return self


def set_path(data, path, value):
    """Set a dotted path (with [i] / [*] / [name] list steps; [name] picks the element whose `name` is name, e.g.
    levels[act_mem].capacity) in a nested dict; KeyError names the missing step."""
    parts = path.split(".")
    nodes = [data]
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        m = _INDEX.match(part)
        key, index = (m.group(1), m.group(2)) if m else (part, None)
        next_nodes = []
        for node in nodes:
            if not isinstance(node, dict) or (key not in node and not (last and index is None)):
                raise KeyError(f"{'.'.join(parts[:depth + 1])!r} does not exist")
            if index is None:  # a missing leaf is created: the schema then accepts or names it
                if last:
                    node[key] = copy.deepcopy(value)
                else:
                    next_nodes.append(node[key])
                continue
            seq = node[key]
            if not isinstance(seq, list):
                raise KeyError(f"{'.'.join(parts[:depth]) + '.' if depth else ''}{key!r} is not a list")
            picks = range(len(seq)) if index == "*" else [int(index)] if index.isdigit() else \
                [i for i, e in enumerate(seq) if isinstance(e, dict) and e.get("name") == index]
            if not picks:
                names = [e.get("name") for e in seq if isinstance(e, dict)]
                raise KeyError(f"{key}[{index}] does not exist (names: {names})")
            for i in picks:
                if i >= len(seq):
                    raise KeyError(f"{key}[{i}] does not exist ({len(seq)} elements)")
                if last:
                    seq[i] = copy.deepcopy(value)
                else:
                    next_nodes.append(seq[i])
        nodes = next_nodes
    return data


def _file(base, name):
    return name if name == "default" else str((base / name).resolve())


def _workload_path(name):
    from .workload.loader import resolve_workload_path
    return Path(str(resolve_workload_path(name)))


def expand(sweep, base):
    """[(index, axis values, arch dict, workload dict, workload folder, seed)] for every point; ConfigError with
    every problem if a path is wrong or a value is rejected by the schema."""
    grid, zipped = sweep.grid or {}, sweep.zip or {}
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())] if grid else [{}]
    pairs = [dict(zip(zipped, values)) for values in zip(*zipped.values())] if zipped else [{}]
    seeds = sweep.seeds or [None]
    points, problems, files = [], [], {}
    for axes in ({**a, **b} for a in combos for b in pairs):
        arch_file = _file(base, axes.get("arch", sweep.arch))
        work_file = axes.get("workload", sweep.workload)
        work_path = _workload_path(work_file if work_file == "default" else base / work_file)
        for file in (resolve_arch_path(arch_file), work_path):
            if str(file) not in files:
                files[str(file)] = read_yaml(file)
        arch, work = files[str(resolve_arch_path(arch_file))], files[str(work_path)]
        for seed in seeds:
            label = {k: v for k, v in axes.items()}
            a, w = copy.deepcopy(arch), copy.deepcopy(work)
            bad = False
            for path, value in axes.items():
                target, rest = (a, path[5:]) if path.startswith("arch.") else (w, path[9:])
                if path in ("arch", "workload"):
                    continue
                try:
                    set_path(target, rest, value)
                except KeyError as e:
                    problems.append(f"axis {path!r}: {e.args[0]} in the {path.split('.')[0]}")
                    bad = True
            if bad:
                continue
            if seed is not None:
                w["seed"] = seed
            points.append((len(points), label, a, w, str(work_path.parent), seed))
    if problems:
        raise ConfigError(base, sorted(set(problems)))
    _validate_points(points, base)
    return points


def _validate_points(points, base):
    problems = []
    for index, label, a, w, wbase, _ in points:
        for check in (lambda: arch_from_data(a, f"point {index}"), lambda: _validate_workload(w, index, wbase)):
            try:
                check()
            except ConfigError as e:
                problems.extend(f"point {index} {json.dumps(label)}: {p}" for p in e.problems)
    if problems:
        raise ConfigError(base, problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20
                                                 else []))


def _validate_workload(w, index, wbase):
    kind = w.get("kind")
    if kind == "pdnn":
        from .workload.schema import Pdnn
        validate(Pdnn, w, f"point {index}")
    elif kind in ("boltzmann", "dtm"):
        from .workload.loader import check_gibbs_budget
        check_gibbs_budget(w, f"point {index}", wbase)
    else:
        raise ConfigError(f"point {index}", [f"kind: unknown workload kind {kind!r}"])


def point_key(arch, work, seed, mode):
    canon = json.dumps({"arch": arch, "workload": work, "seed": seed, "mode": mode}, sort_keys=True, default=str)
    return hashlib.sha256(canon.encode()).hexdigest()[:32]


def run_point(index, label, arch, work, wbase, seed, mode, threads=None):
    """One point, as a one-row dict; failures are recorded, not raised. `threads`: Numba threads for this
    process (1 in pool workers, where the parallelism is across points; results do not depend on it)."""
    if threads:
        import numba
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    from . import simulate
    from .engine.plan import capacity_check
    from .report.run import summarize
    from .workload.loader import workload_from_data
    t0 = time.perf_counter()
    row = {"point": index, **{k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in label.items()},
           "seed": work.get("seed")}
    try:
        a = arch_from_data(arch, f"point {index}")
        kind = work.get("kind")
        if kind == "pdnn":
            workload = workload_from_data(work, f"point {index}", wbase, before_arrays=capacity_check(a))
            summary, _ = summarize(simulate(a, workload, mode))
        else:
            from .workload.boltzmann import boltzmann_from_data, dtm_from_data
            load = boltzmann_from_data if kind == "boltzmann" else dtm_from_data
            summary, _ = summarize(simulate(a, load(work, f"point {index}", wbase), mode))
        row.update(cycles=summary["cycles"], energy_pj=summary["energy_pj"],
                   analytic_energy_pj=summary["analytic_energy_pj"],
                   counts_match_analytic=summary["counts_match_analytic"],
                   outputs_sha256=summary["outputs_sha256"], accuracy=summary.get("accuracy"),
                   **{f"energy_pj.{k}": v for k, v in sorted(summary["energy_pj_by_component"].items())},
                   status="ok", error="")
    except ArchsimError as e:
        row.update(status="failed", error=str(e))
    except Exception as e:  # a bug must not stop the sweep; it is recorded with its type
        row.update(status="failed", error=f"{type(e).__name__}: {e}")
    row["wall_s"] = time.perf_counter() - t0
    return row


def _write_atomic(path, row):
    import pyarrow as pa
    import pyarrow.parquet as pq
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    table = pa.Table.from_pylist([row])
    with open(tmp, "wb") as f:
        pq.write_table(table, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_point(path):
    try:
        return pd.read_parquet(path).iloc[0].to_dict()
    except Exception:  # partial or corrupt: not trusted, recomputed
        return None


def _done(path):
    """A point counts as finished only when its file is intact and it succeeded: failures are retried."""
    row = _read_point(path)
    return row is not None and row.get("status") == "ok"


def _die_with_driver(driver_pid):
    """Pool worker initializer: exit as soon as the driver is gone (even after SIGKILL, which runs no
    clean-up in the driver), so no worker outlives the sweep that started it."""
    import threading

    def watch():
        while os.getppid() == driver_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="archsim-driver-watch").start()


def _executor(kind, scheduler, workers):
    if kind == "serial":
        return None, None
    if kind == "local":  # spawn: forking after Numba's OpenMP threads have run is unsafe
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        return ProcessPoolExecutor(max_workers=workers or os.cpu_count(),
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_die_with_driver, initargs=(os.getpid(),)), None
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ArchsimError("--executor dask needs Dask: pip install 'archsim[dask]'") from None
    cluster = None if scheduler else LocalCluster(n_workers=workers or os.cpu_count(), threads_per_worker=1,
                                                  processes=True, dashboard_address=None)
    try:
        client = Client(scheduler or cluster, timeout="20s")
    except (ValueError, OSError) as e:
        if cluster is not None:
            cluster.close()
        raise ArchsimError(f"--scheduler {scheduler}: cannot connect ({e}); allowed: an address such as "
                           f"tcp://10.0.0.5:8786 of a running Dask scheduler") from None
    return client, cluster


def run_sweep(path, out_dir, executor="local", scheduler=None, workers=None, progress=True):
    """Run (or resume) a sweep; returns (results DataFrame, computed point count). Raises ConfigError before
    running anything if the sweep is invalid."""
    path = Path(path)
    sweep = validate(Sweep, read_yaml(path), path)
    try:
        points = expand(sweep, path.parent.resolve())
    except ConfigError as e:
        raise ConfigError(path, e.problems) from None
    out = Path(out_dir)
    (out / "points").mkdir(parents=True, exist_ok=True)
    keyed = [(point_key(a, w, seed, sweep.mode), (i, label, a, w, wbase, seed, sweep.mode))
             for i, label, a, w, wbase, seed in points]
    todo = [(k, args) for k, args in keyed if not _done(out / "points" / f"{k}.parquet")]
    computed = 0
    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum
        raise KeyboardInterrupt

    def record(k, row):
        nonlocal computed
        _write_atomic(out / "points" / f"{k}.parquet", row)
        computed += 1
        if bar:
            bar.update(1)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    bar = None
    try:
        if progress and todo:
            from tqdm import tqdm
            bar = tqdm(total=len(keyed), initial=len(keyed) - len(todo), desc=f"sweep {sweep.name}", unit="pt")
        pool, cluster = _executor(executor, scheduler, workers)
        try:
            for k, args in ([todo.pop(0)] if todo and pool is not None else []):  # in the driver, before the
                record(k, run_point(*args))                                      # pool: warms Numba's cache
            if pool is None:
                rest = ((k, run_point(*args)) for k, args in todo)
            elif executor == "local":
                futures = {pool.submit(run_point, *args, 1): k for k, args in todo}
                from concurrent.futures import as_completed
                rest = ((futures[f], f.result()) for f in as_completed(futures))
            else:
                from dask.distributed import as_completed
                futures = {pool.submit(run_point, *args, 1, pure=False): k for k, args in todo}
                rest = ((futures[f], f.result()) for f in as_completed(list(futures)))
            for k, row in rest:
                record(k, row)
        finally:
            if pool is not None:
                if executor == "local":
                    pool.shutdown(cancel_futures=True)
                else:
                    pool.close()
                    if cluster is not None:
                        cluster.close()
    except KeyboardInterrupt:
        pass
    except BrokenExecutor:
        raise ArchsimError(f"{path}: a worker process died (killed, or out of memory); the {computed} point(s) "
                           f"finished now are kept in {out}/points; rerun to finish the rest, perhaps with fewer "
                           f"--workers") from None
    finally:
        if bar:
            bar.close()
        for s, handler in old.items():
            signal.signal(s, handler)
    rows = [r for r in (_read_point(out / "points" / f"{k}.parquet") for k, _ in keyed) if r is not None]
    table = pd.DataFrame(rows).sort_values("point").reset_index(drop=True) if rows else pd.DataFrame()
    for col in table.columns[table.dtypes == object]:  # an axis of mixed types ('200MHz', 2e8): one column type
        if table[col].dropna().map(type).nunique() > 1:
            table[col] = table[col].map(lambda v: v if v is None else str(v))
    if not table.empty:
        table.to_parquet(out / "results.parquet", index=False)
        table.to_csv(out / "results.csv", index=False)
    if stop["signal"] is not None:
        raise SweepInterrupted(stop["signal"], len(table), len(keyed))
    return table, computed


class SweepInterrupted(Exception):
    def __init__(self, signum, done, total):
        self.signum, self.done, self.total = signum, done, total
        super().__init__(f"interrupted by signal {signum}: {done} of {total} points finished and kept; "
                         f"rerun the same command to finish the rest")


def pareto(frame, x, y):
    """Rows not dominated in (x, y), both minimised (NaNs dropped), sorted by x."""
    f = frame.dropna(subset=[x, y]).sort_values([x, y])
    front, best = [], np.inf
    for i, row in f.iterrows():
        if row[y] < best:
            front.append(i)
            best = row[y]
    return f.loc[front]


def sweep_plot(out_dir):
    """Energy and cycles against each axis, the energy-cycles Pareto front (energy-accuracy when present);
    the front's points in pareto.csv. Returns the PNG paths."""
    from .inputs import read_parquet
    out = Path(out_dir)
    if not (out / "results.parquet").exists():
        raise ArchsimError(f"{out}: no results.parquet (run `archsim sweep FILE --out {out}` first)")
    table = read_parquet(out / "results.parquet", "sweep results file")
    fixed = {"point", "seed", "cycles", "energy_pj", "analytic_energy_pj", "counts_match_analytic",
             "outputs_sha256", "accuracy", "status", "error", "wall_s"}
    missing = sorted(fixed - {"accuracy", "seed"} - set(table.columns))
    if missing:
        raise ConfigError(out / "results.parquet", [f"missing column(s) {missing}; not written by `archsim sweep`"])
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = table[table.status == "ok"]
    axes = [c for c in table.columns if c not in fixed and not c.startswith("energy_pj.")]
    written = []
    for axis in axes:
        fig, (e_ax, c_ax) = plt.subplots(1, 2, figsize=(10, 4))
        for ax, col, unit in ((e_ax, "energy_pj", "energy (pJ)"), (c_ax, "cycles", "cycles")):
            ax.scatter(ok[axis].astype(str), ok[col], s=14)
            ax.set_xlabel(axis)
            ax.set_ylabel(unit)
            ax.set_yscale("log")
        fig.suptitle(f"energy and cycles against {axis}")
        fig.tight_layout()
        name = out / f"axis_{re.sub(r'[^A-Za-z0-9_.-]', '_', axis)}.png"
        fig.savefig(name, dpi=110)
        plt.close(fig)
        written.append(name)
    with_accuracy = "accuracy" in ok and ok["accuracy"].notna().any()
    fronts = [("cycles", "energy_pj")] + ([("energy_pj", "error_rate")] if with_accuracy else [])
    if len(fronts) == 2:
        ok = ok.assign(error_rate=1 - ok["accuracy"])
    front_tables = []
    for x, y in fronts:
        front = pareto(ok, x, y)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.scatter(ok[x], ok[y], s=12, color="0.6", label="points")
        ax.plot(front[x], front[y], "o-", color="C3", label="Pareto front")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend()
        fig.tight_layout()
        name = out / f"pareto_{x}_{y}.png"
        fig.savefig(name, dpi=110)
        plt.close(fig)
        written.append(name)
        front_tables.append(front.assign(front=f"{x} vs {y}"))
    pd.concat(front_tables).to_csv(out / "pareto.csv", index=False)
    return written


def register(subparsers):
    p = subparsers.add_parser("sweep", help="run a design-space sweep, or `archsim sweep plot DIR`")
    p.add_argument("target", nargs="+", metavar="FILE | plot DIR")
    p.add_argument("--out", help="output folder (default: sweep-<name> beside the current folder)")
    p.add_argument("--executor", choices=["serial", "local", "dask"], default="local")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster)")
    from .cli import POSITIVE, add_memory_limit
    p.add_argument("--workers", type=POSITIVE, help="processes for local/LocalCluster (default: all cores)")
    p.add_argument("--no-progress", action="store_true")
    add_memory_limit(p)
    p.set_defaults(handler=_cli)


def _cli(args, argv):
    if args.target[0] == "plot":
        if len(args.target) != 2:
            raise ArchsimError("usage: archsim sweep plot DIR")
        for name in sweep_plot(args.target[1]):
            print(f"archsim sweep plot: wrote {name}")
        return 0
    if len(args.target) != 1:
        raise ArchsimError("usage: archsim sweep FILE [--out DIR] [--executor serial|local|dask]")
    if args.scheduler and args.executor != "dask":
        raise ArchsimError(f"--scheduler is a Dask scheduler address: it needs --executor dask (got --executor "
                           f"{args.executor})")
    if args.workers and args.scheduler:
        raise ArchsimError("--workers sizes a local pool or LocalCluster; with --scheduler the cluster has its own")
    path = Path(args.target[0])
    out = Path(args.out or f"sweep-{path.stem}")
    if args.out is None:
        from .cli import check_outputs
        check_outputs(argparse.Namespace(out=out))
    try:
        table, computed = run_sweep(path, out, args.executor, args.scheduler, args.workers, not args.no_progress)
    except SweepInterrupted as e:
        print(f"archsim sweep: {e}", file=sys.stderr)
        return 128 + e.signum
    failed = table[table.status != "ok"] if not table.empty else table
    print(f"archsim sweep: {len(table)} points ({computed} computed now, {len(table) - computed} from earlier "
          f"runs) -> {out}/results.parquet, results.csv")
    for _, row in failed.iterrows():  # the whole cause: a ConfigError's first line only counts its problems
        cause = "\n    ".join(str(row.error).splitlines()) or "(no message)"
        print(f"  FAILED point {row.point}: {cause}", file=sys.stderr)
    return 1 if len(failed) else 0


if __name__ == "__main__":  # python -m archsim.sweep FILE ... (the same as `archsim sweep`)
    parser = argparse.ArgumentParser(prog="python -m archsim.sweep")
    register(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args(["sweep", *sys.argv[1:]])
    raise SystemExit(ns.handler(ns, sys.argv[1:]))
