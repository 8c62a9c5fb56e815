"""The input boundary: every file a user hands archsim (YAML, JSON, CSV, .npz, Parquet) is read here.

Each reader checks that the path is a regular file no larger than a limit before reading it, decodes text as
UTF-8, loads YAML safely with nesting depth and alias expansion bounded, and loads .npz archives without
pickles after checking every array's header (dtype, shape, size) against the memory limit. Every failure is
a ConfigError naming the file, the line or array, the value and what is allowed; no reader lets a
Python exception escape. Memory limits: `memory_limit_bytes()` (half the machine's memory by default,
ARCHSIM_MEMORY_LIMIT overrides it, e.g. '4GiB')."""
import json
import os
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np
import yaml

from . import units
from .errors import ArchsimError, ConfigError

MAX_TEXT_BYTES = 64 * 1024 * 1024  # configs, workloads, sweeps, topologies, metadata: far above any real one
MAX_YAML_DEPTH = 64                 # nesting levels of mappings and sequences
MAX_YAML_NODES = 2_000_000          # scalars + collections after expanding every alias
MAX_NPZ_ARRAYS = 10_000            # arrays in one .npz (a model has a few per layer)
MEMORY_LIMIT_ENV = "ARCHSIM_MEMORY_LIMIT"


def _size(n_bytes):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes} bytes"


def format_bytes(n_bytes):
    """A byte count for messages: '512 MiB'."""
    return _size(int(n_bytes))


def memory_limit_bytes():
    """The most memory one run may plan to allocate: ARCHSIM_MEMORY_LIMIT ('4GiB', or a plain byte count),
    else half of the machine's physical memory."""
    text = os.environ.get(MEMORY_LIMIT_ENV)
    if text:
        try:
            value = int(text) if text.strip().isdigit() else units.parse_bits(text) // 8
        except ValueError as e:
            raise ArchsimError(f"{MEMORY_LIMIT_ENV}={text!r}: {e} (e.g. '4GiB')") from None
        if value <= 0:
            raise ArchsimError(f"{MEMORY_LIMIT_ENV}={text!r}: the limit must be positive")
        return value
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def check_memory(file, what, n_bytes):
    """Refuse a planned allocation beyond memory_limit_bytes(), with the estimate in the error."""
    limit = memory_limit_bytes()
    if n_bytes > limit:
        raise ConfigError(file, [f"{what} would need about {format_bytes(n_bytes)} of memory, more than the "
                                 f"limit of {format_bytes(limit)} (set {MEMORY_LIMIT_ENV} or --memory-limit to "
                                 f"raise it)"])


def regular_file(path, limit=None, what="file"):
    """Path of an existing regular file no larger than `limit` bytes; ConfigError otherwise."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigError(path, [f"{what} not found"]) from None
    except OSError as e:
        raise ConfigError(path, [f"cannot read: {e.strerror or e}"]) from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(path, [f"is a folder; a {what} is required"])
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(path, [f"is not a regular file (a device, pipe or socket); a {what} is required"])
    if limit is not None and st.st_size > limit:
        raise ConfigError(path, [f"is {format_bytes(st.st_size)}, larger than the limit of {format_bytes(limit)} "
                                 f"for a {what}"])
    return path


def read_bytes(path, limit=MAX_TEXT_BYTES, what="file"):
    """The bytes of a regular file, refusing it before reading if it is larger than `limit`."""
    path = regular_file(path, limit, what)
    chunks, total = [], 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):  # in pieces: read(limit) would allocate the whole limit up front
                total += len(chunk)
                if total > limit:  # grew while we looked
                    raise ConfigError(path, [f"is larger than the limit of {format_bytes(limit)} for a {what}"])
                chunks.append(chunk)
    except OSError as e:
        raise ConfigError(path, [f"cannot read: {e.strerror or e}"]) from None
    return b"".join(chunks)


def read_text(path, limit=MAX_TEXT_BYTES, what="file"):
    """A UTF-8 text file as str; a decoding error names the line and byte."""
    data = read_bytes(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(path, [f"line {line}: byte 0x{data[e.start]:02x} at offset {e.start} is not UTF-8 "
                                 f"text; allowed: a UTF-8 encoded text file"]) from None


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: fast, not recursive
    """The safe loader whose integers fit int64 (no count, size or seed in archsim is larger)."""
    path = "<yaml>"

    def construct_yaml_int(self, node):
        value = super().construct_yaml_int(node)
        if not -(1 << 63) <= value < (1 << 63):
            raise ConfigError(self.path, [f"line {node.start_mark.line + 1}: {node.value[:40]} is beyond a 64-bit "
                                          f"integer; allowed: |value| < 2**63"])
        return value


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _check_depth(text, path):
    """Refuse nesting deeper than MAX_YAML_DEPTH from the event stream, before any node is built."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise ConfigError(path, [f"line {event.start_mark.line + 1}: nested more than {MAX_YAML_DEPTH} "
                                         f"levels deep; allowed: at most {MAX_YAML_DEPTH}"])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _expanded_size(root, path):
    """Nodes of the document once every alias is expanded (memoised, so a billion-laughs file is counted, not
    built); recursive aliases and duplicate mapping keys are errors."""
    sizes, active = {}, set()

    def size(node):
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ConfigError(path, [f"line {node.start_mark.line + 1}: an alias refers to a node that contains "
                                     f"it (a recursive structure); allowed: acyclic YAML"])
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if k.value in seen:
                        raise ConfigError(path, [f"line {k.start_mark.line + 1}: key {k.value!r} appears twice in "
                                                 f"one mapping (first on line {seen[k.value]}); allowed: each "
                                                 f"key once"])
                    seen[k.value] = k.start_mark.line + 1
                total += size(k) + size(v)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(v) for v in node.value)
        active.discard(key)
        sizes[key] = total
        if total > MAX_YAML_NODES:
            raise ConfigError(path, [f"line {node.start_mark.line + 1}: expands to more than {MAX_YAML_NODES:,} "
                                     f"values (aliases referring to aliases); allowed: at most "
                                     f"{MAX_YAML_NODES:,}"])
        return total

    size(root)


def load_yaml(path, limit=MAX_TEXT_BYTES):
    """A YAML file as Python data (safe types only), with size, encoding, depth and alias expansion bounded."""
    text = read_text(path, limit, "YAML file")
    loader = _Loader(text)
    loader.path = Path(path)
    try:
        _check_depth(text, Path(path))
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, Path(path))
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(path, [f"{where}not valid YAML ({getattr(e, 'problem', None) or e})"]) from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise ConfigError(path, [f"not valid YAML: {e}"]) from None
    finally:
        loader.dispose()


def read_yaml_mapping(path):
    """A YAML file whose top level must be a mapping of fields (every archsim config, workload and sweep)."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(path, [f"the top level must be a mapping of fields, got {type(data).__name__}"])
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ConfigError(path, [f"field name {bad[0]!r} is not text; allowed: names such as 'kind'"])
    return data


def read_json(path, limit=MAX_TEXT_BYTES, what="JSON file"):
    """A JSON file (strict: NaN and Infinity are not JSON)."""
    text = read_text(path, limit, what)

    def no_constant(name):
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as e:
        raise ConfigError(path, [f"line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})"]) from None
    except (ValueError, RecursionError) as e:
        raise ConfigError(path, [f"not valid JSON ({e})"]) from None


def read_csv_rows(path, limit=MAX_TEXT_BYTES, what="CSV file"):
    """[(line number, [cells])] of a UTF-8 CSV file, stripped, blank lines kept as []."""
    import csv
    text = read_text(path, limit, what)
    try:
        return [(i + 1, [c.strip() for c in row]) for i, row in enumerate(csv.reader(text.splitlines()))]
    except csv.Error as e:
        raise ConfigError(path, [f"not valid CSV ({e})"]) from None


def _npz_header(zf, info, path, owner, field):
    """(dtype, shape) of one .npy member, from its header alone (nothing is decompressed beyond it)."""
    name = info.filename.removesuffix(".npy")
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"unknown .npy version {version}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise ConfigError(owner, [f"{field}: {path}:{name} holds Python objects (dtype {dtype}); allowed: "
                                  f"numeric arrays only (archsim never unpickles)"])
    return name, dtype, shape


class Arrays:
    """The arrays of an .npz archive, headers checked; arrays are read on demand by name."""

    def __init__(self, path, owner, field, headers, zf):
        self.path, self.owner, self.field = path, owner, field
        self.headers, self._zf = headers, zf
        self.files = list(headers)

    def __contains__(self, name):
        return name in self.headers

    def __getitem__(self, name):
        try:
            with self._zf.open(name + ".npy") as member:
                array = np.lib.format.read_array(member, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise ConfigError(self.owner, [f"{self.field}: array {name!r} of {self.path} is corrupt ({e})"]) from None
        if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
            raise ConfigError(self.owner, [f"{self.field}: {self.path}:{name} holds NaN or infinite values; allowed: "
                                           f"finite numbers"])
        return array


def load_npz(path, owner=None, field="arrays"):
    """An .npz archive of named numeric arrays (never pickles): every member's header is read first and an
    archive with an object array, a corrupt member, or arrays larger than the memory limit is refused.
    `owner`: the file that named this one (errors name it, with `field`); default the archive itself."""
    owner = path if owner is None else owner
    try:
        path = regular_file(path, what=".npz archive")
    except ConfigError as e:
        raise ConfigError(owner, [f"{field}: {path}: {p}" for p in e.problems]) from None
    limit = memory_limit_bytes()
    try:
        zf = zipfile.ZipFile(path)
        headers, total = {}, 0
        if len(zf.infolist()) > MAX_NPZ_ARRAYS:
            raise ValueError(f"{len(zf.infolist()):,} members, more than the {MAX_NPZ_ARRAYS:,} allowed")
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"member {info.filename!r} is not an .npy array")
            name, dtype, shape = _npz_header(zf, info, path, owner, field)
            n_bytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            total += n_bytes
            if total > limit:
                raise ConfigError(owner, [f"{field}: {path}:{name} would need {format_bytes(n_bytes)} of memory, "
                                          f"more than the limit of {format_bytes(limit)} (set {MEMORY_LIMIT_ENV})"])
            headers[name] = (dtype, shape)
    except zipfile.BadZipFile:
        with path.open("rb") as f:
            plain = f.read(6) == b"\x93NUMPY"
        what = "a single .npy array" if plain else "not a zip archive (corrupt, empty or another format)"
        raise ConfigError(owner, [f"{field}: {path} is {what}; allowed: an .npz archive of named arrays "
                                  f"(numpy.savez)"]) from None
    except (ValueError, OSError, EOFError, zlib.error, NotImplementedError) as e:
        raise ConfigError(owner, [f"{field}: {path} is not a readable .npz archive ({e})"]) from None
    if not headers:
        raise ConfigError(owner, [f"{field}: {path} holds no arrays"])
    return Arrays(path, owner, field, headers, zf)


def check_integers(arrays, name, shape, lo, hi, what):
    """arrays[name] as int64 after checking it is an integer array of `shape` with values in [lo, hi]; problems
    are returned (not raised) so a loader can report them all at once: -> (array or None, [problems])."""
    dtype, found = arrays.headers[name]
    where = f"{arrays.field}: {arrays.path.name}:{name}"
    if tuple(found) != tuple(shape):
        return None, [f"{where} has shape {tuple(found)}; {what} needs {tuple(shape)}"]
    if not (np.issubdtype(dtype, np.integer) or dtype == np.bool_):
        return None, [f"{where} has dtype {dtype}; {what} needs integers"]
    a = arrays[name]
    if a.size and (int(a.min()) < lo or int(a.max()) > hi):
        return None, [f"{where} has values in [{a.min()}, {a.max()}]; {what} allows [{lo}, {hi}]"]
    return a.astype(np.int64), []


def read_parquet(path, what="Parquet file"):
    """A Parquet file as a DataFrame; a corrupt or foreign file is a ConfigError."""
    import pandas as pd
    import pyarrow
    path = regular_file(path, what=what)
    try:
        return pd.read_parquet(path)
    except (pyarrow.ArrowException, OSError, ValueError) as e:
        raise ConfigError(path, [f"not a readable {what} ({e})"]) from None
