"""Reading traces back in chunks, validated: a bad file is a ConfigError naming the file, and the column or
line at fault."""
import json

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .records import ACTIONS, COLUMNS, COMPONENTS, INT_COLUMNS, PHASES
from .writer import meta_path


def read_meta(path):
    try:
        return json.loads(meta_path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(path, [f"no trace metadata {meta_path(path).name} beside the trace (written by "
                                 f"`archsim run --trace`)"]) from None
    except json.JSONDecodeError as e:
        raise ConfigError(meta_path(path), [f"not valid JSON: {e}"]) from None


def _validate(path, frame, first_line):
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(path, [f"missing column(s) {missing}; a trace has {COLUMNS}"])
    for col, allowed in (("component", COMPONENTS), ("action", ACTIONS), ("phase", PHASES)):
        bad = ~frame[col].isin(allowed)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ConfigError(path, [f"line {first_line + i}, column {col!r}: {frame[col].iloc[i]!r}; allowed: "
                                     f"{', '.join(allowed)}"])
    for col in INT_COLUMNS:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | (values < 0) | (values != values.round())
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ConfigError(path, [f"line {first_line + i}, column {col!r}: {frame[col].iloc[i]!r} is not a "
                                     f"non-negative integer"])
        frame[col] = values.astype("int64")
    return frame


def read_chunks(path, chunk_rows=100_000):
    """Yield validated DataFrame chunks of a .parquet or .csv trace. CSV line numbers count the header as 1."""
    path = str(path)
    try:
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq
            line = 1
            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
                frame = batch.to_pandas()
                yield _validate(path, frame, line)
                line += len(frame)
        else:
            line = 2
            for frame in pd.read_csv(path, chunksize=chunk_rows, dtype=str):
                yield _validate(path, frame, line)
                line += len(frame)
    except FileNotFoundError:
        raise ConfigError(path, ["file not found"]) from None
    except (ValueError, OSError) as e:
        raise ConfigError(path, [f"not a readable trace: {e}"]) from None
