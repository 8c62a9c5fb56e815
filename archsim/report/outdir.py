"""Where a run writes: never over another run. Without --out, a fresh folder named after the command, the
workload and the time under runs/ (git-ignored); with --out DIR, DIR must be new or empty unless --force."""
import time
from pathlib import Path

from ..errors import ArchsimError

RUNS_DIR = Path("runs")


def fresh_folder(command, name, root=RUNS_DIR):
    """runs/<command>-<name>-<YYYYmmdd-HHMMSS>, with -2, -3, ... if that exists already."""
    base = root / f"{command}-{Path(str(name)).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, k = base, 1
    while folder.exists():
        k += 1
        folder = base.with_name(f"{base.name}-{k}")
    return folder


def output_folder(out, force, command, name):
    """The folder to write: `out` checked (None: a fresh one). Refuses a file, or a non-empty folder without
    `force`, naming what is there."""
    if out is None:
        return fresh_folder(command, name)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ArchsimError(f"--out {out}: is a file; give a folder")
    if out.is_dir() and not force:
        present = sorted(p.name for p in out.iterdir())
        if present:
            shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
            raise ArchsimError(f"--out {out}: not empty ({shown}); writing there would overwrite or mix with "
                               f"another run. Give a new folder, leave --out out (a fresh folder under "
                               f"{RUNS_DIR}/), or pass --force to write over it")
    return out
