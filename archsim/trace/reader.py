"""Reading traces back in chunks, validated: a bad file is a ConfigError naming the file, and the column or
line at fault."""
import numpy as np
import pandas as pd
from pyarrow import ArrowException

from ..config.loader import arch_from_data
from ..errors import ConfigError
from ..inputs import read_json, regular_file
from .records import ACTIONS, ADDED, COLUMNS, COMPONENTS, FORMAT, INT_COLUMNS, PHASES
from .writer import meta_path


MAX_COUNT = 1 << 53  # any integer column, and bits x repeat of a record: far below int64, exact as float64


def read_meta(path):
    """The sidecar metadata of a trace, checked: its recorded architecture (validated, resolved to numbers) and
    its cycles."""
    file = meta_path(path)
    if not file.exists():
        raise ConfigError(path, [f"no trace metadata {file.name} beside the trace (written by "
                                 f"`archsim run --trace`)"])
    meta = read_json(file, what="trace metadata file")
    if not isinstance(meta, dict) or not isinstance(meta.get("arch"), dict):
        raise ConfigError(file, ["arch: the recorded architecture (a mapping of fields) is missing"])
    cycles = meta.get("cycles")
    if isinstance(cycles, bool) or not isinstance(cycles, int) or not 0 <= cycles <= MAX_COUNT:
        raise ConfigError(file, [f"cycles: {cycles!r}; allowed: an integer in [0, 2**53]"])
    fmt = meta.get("format", 1)
    if isinstance(fmt, bool) or fmt not in range(1, FORMAT + 1):
        raise ConfigError(file, [f"format: {fmt!r}; allowed: " + ", ".join(map(str, range(1, FORMAT + 1)))
                                 + " (a newer archsim wrote this trace?)"])
    arch = arch_from_data(meta["arch"], f"{file} (recorded architecture)")
    names = [lv.name for lv in arch.levels]
    levels = traced_levels(path)
    if any(lv not in names for lv in levels):
        raise ConfigError(file, [f"levels: {list(levels)!r}; allowed: levels of the recorded architecture "
                                 f"({', '.join(names)})"])
    replayable = meta.get("replayable", True)
    if not isinstance(replayable, bool):
        raise ConfigError(file, [f"replayable: {replayable!r}; allowed: true, false"])
    return {**meta, "arch": arch.model_dump(mode="json"), "levels": levels, "replayable": replayable}


def traced_levels(path):
    """The levels a trace records: its sidecar's `levels`, or COMPONENTS for a trace written before them (or
    without a sidecar: read_meta reports that)."""
    file = meta_path(path)
    meta = read_json(file, what="trace metadata file") if file.exists() else {}
    levels = meta.get("levels", COMPONENTS) if isinstance(meta, dict) else COMPONENTS
    if not isinstance(levels, list | tuple) or not levels or not all(isinstance(lv, str) for lv in levels):
        raise ConfigError(file, [f"levels: {levels!r}; allowed: a non-empty list of level names"])
    return tuple(levels)


def _validate(path, frame, first_line, levels=COMPONENTS):
    """A chunk checked, its integer columns as int64; a column a format-1 trace lacks takes its ADDED value."""
    for col, like in ADDED.items():
        if col not in frame.columns and like in frame.columns:
            frame[col] = frame[like]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(path, [f"missing column(s) {missing}; a trace has {COLUMNS}"])
    for col, allowed in (("component", levels), ("action", ACTIONS), ("phase", PHASES)):
        bad = ~frame[col].isin(allowed)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ConfigError(path, [f"line {first_line + i}, column {col!r}: {frame[col].iloc[i]!r}; allowed: "
                                     f"{', '.join(allowed)}"])
    for col in INT_COLUMNS:
        values = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        bad = values.isna() | (values < 0) | (values != values.round()) | (values > MAX_COUNT)
        _first_bad(path, frame, first_line, bad, col, "is not an integer in [0, 2**53]")
        frame[col] = values.astype("int64")
    checks = [(frame.end_cycle < frame.start_cycle, "end_cycle", "ends before its start_cycle"),
              (frame.rows < 1, "rows", "must be at least 1 (a transaction covers whole rows)"),
              (frame.repeat < 1, "repeat", "must be at least 1"),
              (frame.bits.astype("float64") * frame.repeat > MAX_COUNT, "repeat",
               "times bits exceeds 2**53 bits in one record")]
    for bad, col, what in checks:
        _first_bad(path, frame, first_line, bad, col, what)
    return frame


def _first_bad(path, frame, first_line, bad, col, what):
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise ConfigError(path, [f"line {first_line + i}, column {col!r}: {frame[col].iloc[i]!r} {what}"])


def read_chunks(path, chunk_rows=100_000):
    """Yield validated DataFrame chunks of a .parquet or .csv trace. CSV line numbers count the header as 1."""
    path = str(regular_file(path, what="trace"))
    levels = traced_levels(path)
    try:
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq
            line = 1
            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
                frame = batch.to_pandas()
                yield _validate(path, frame, line, levels)
                line += len(frame)
        else:
            line = 2
            for frame in pd.read_csv(path, chunksize=chunk_rows, dtype=str):
                yield _validate(path, frame, line, levels)
                line += len(frame)
    except (ValueError, OSError, ArrowException) as e:
        raise ConfigError(path, [f"not a readable trace: {e}"]) from None
