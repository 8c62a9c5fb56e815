"""A chunked trace writer: records are buffered and flushed every `chunk_rows` rows as a Parquet row group
(pyarrow) or appended to a CSV, so a long run never holds its trace in memory. A sidecar FILE.meta.json holds
the resolved architecture, the run's cycles (what replay needs) and the trace format (records.FORMAT)."""
import json
from pathlib import Path

from .records import COLUMNS, FORMAT


def meta_path(path):
    return Path(str(path) + ".meta.json")


class TraceWriter:
    def __init__(self, path, chunk_rows=100_000):
        self.path = Path(path)
        self.format = "parquet" if self.path.suffix == ".parquet" else "csv"
        self.chunk_rows = chunk_rows
        self.rows, self.n_rows, self._parquet = [], 0, None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.format == "csv":
            self.path.write_text(",".join(COLUMNS) + "\n")

    def add(self, *record):
        self.rows.append(record)
        if len(self.rows) >= self.chunk_rows:
            self.flush()

    def flush(self):
        if not self.rows:
            return
        if self.format == "csv":
            with self.path.open("a") as f:
                f.writelines(",".join(map(str, r)) + "\n" for r in self.rows)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq
            table = pa.table({c: [r[i] for r in self.rows] for i, c in enumerate(COLUMNS)})
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)
        self.n_rows += len(self.rows)
        self.rows = []

    def close(self, meta):
        self.flush()
        if self._parquet is not None:
            self._parquet.close()
        meta_path(self.path).write_text(json.dumps({**meta, "records": self.n_rows, "format": FORMAT}, indent=2) + "\n")
