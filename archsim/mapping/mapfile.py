"""Mapping files: what `archsim map` writes and `archsim run --mapping FILE` executes.

    schema_version: 1
    kind: mapping
    objective: energy            # informational: what the mapper optimised (optional)
    layers:                      # dense and conv2d layers, by index in the workload; a layer left out is
      - layer: 0                 # mapped by the planner
        levels:                  # the architecture's levels that hold weights, inputs or outputs, outermost
          - name: weight_mem     # first (a level left out keeps nothing and has no loops)
            keep: [weights]      # operands the mapping keeps at this level (a subset of the level's holds);
            loops: [[M, 4]]      # the outermost level keeping an operand is its home (resident, not filled)
          - name: act_mem
            keep: [inputs, outputs]
            loops: []
          - name: weight_buf
            keep: [weights]
            loops: [[T, 8], [C, 64]]   # the temporal loops at this level, outermost first: [dimension, factor]
        spatial: {M: 16}         # outputs unrolled over the synapse units and neurons
        remainder: last_tile     # optional (default exact): the outputs' last tile may be partial

One layer pass (one input item through the layer) is the loop nest: N output positions (1 for dense), T samples,
M outputs, C fan-in. The factors of each dimension over all levels and the spatial unrolling multiply to its
size exactly, unless the layer says `remainder: last_tile`: then M = 40 on `spatial: {M: 16}` has temporal M
loops multiplying to ceil(40/16) = 3 (at most one of them above 1) and runs tiles of 16, 16 and 8 outputs
(loopnest.py: the main part of full tiles, then the remainder part). A level's tile of an operand is what the
loops at that level and inside it cover; the loops above choose which tile is resident (loopnest.py states the reuse
rule). Every operand may be kept at several levels: weight and input tiles move down through each, output tiles drain
back up (mapping/execute.py). The outermost level keeping an operand is its home; inputs and outputs share one home,
the same for every layer (a layer's outputs are the next layer's inputs), for example DRAM with tiles staged through
a global buffer:

          - name: dram
            keep: [weights, inputs, outputs]
            loops: [[M, 2]]
          - name: global_buf
            keep: [inputs, outputs]      # each tile's inputs read into it, its outputs drained back to dram
"""
from dataclasses import dataclass

from ..errors import ConfigError
from .hierarchy import PDNN_OPERANDS, pdnn_levels
from .loopnest import EXACT, REMAINDERS, Mapping

DIMENSIONS = ("N", "T", "M", "C")
SPATIAL_DIMENSIONS = ("M",)
TOP_FIELDS = {"schema_version", "kind", "objective", "layers"}
LAYER_FIELDS = {"layer", "levels", "spatial", "remainder"}
LEVEL_FIELDS = {"name", "keep", "loops"}


@dataclass(frozen=True)
class LayerMap:
    """One layer's mapping: what each level keeps, its loops (aligned with the architecture's p-DNN levels,
    outermost first) and the spatial unrolling; `where` names its origin in messages."""
    layer: int
    keep: dict
    mapping: Mapping
    where: str


def _int(value, lo=None):
    return isinstance(value, int) and not isinstance(value, bool) and (lo is None or value >= lo)


def _level(entry, field, arch_level, problems):
    """(keep, loops) of one level entry, problems appended."""
    keep, loops = frozenset(), ()
    if not isinstance(entry, dict):
        problems.append(f"{field}: a mapping of {sorted(LEVEL_FIELDS)}, got {entry!r}")
        return keep, loops
    for k in sorted(set(entry) - LEVEL_FIELDS):
        problems.append(f"{field}.{k}: unknown field; allowed: {', '.join(sorted(LEVEL_FIELDS))}")
    raw_keep = entry.get("keep", [])
    allowed = sorted(frozenset(arch_level.holds) & PDNN_OPERANDS)
    if not isinstance(raw_keep, list):
        problems.append(f"{field}.keep: a list of operands, got {raw_keep!r}")
    else:
        for op in raw_keep:
            if op not in allowed:
                problems.append(f"{field}.keep: {op!r} is not an operand level {arch_level.name} may hold; "
                                f"allowed: {allowed}")
        keep = frozenset(op for op in raw_keep if op in allowed)
    raw_loops = entry.get("loops", [])
    if not isinstance(raw_loops, list):
        problems.append(f"{field}.loops: a list of [dimension, factor] pairs, got {raw_loops!r}")
        return keep, loops
    out = []
    for k, loop in enumerate(raw_loops):
        if not (isinstance(loop, list) and len(loop) == 2):
            problems.append(f"{field}.loops[{k}]: a [dimension, factor] pair, got {loop!r}")
        elif loop[0] not in DIMENSIONS:
            problems.append(f"{field}.loops[{k}]: unknown dimension {loop[0]!r}; allowed: {', '.join(DIMENSIONS)}")
        elif not _int(loop[1], 1):
            problems.append(f"{field}.loops[{k}]: factor {loop[1]!r}; allowed: an integer >= 1")
        else:
            out.append((loop[0], loop[1]))
    return keep, tuple(out)


def _layer(entry, k, names, by_name, problems):
    field = f"layers[{k}]"
    if not isinstance(entry, dict):
        problems.append(f"{field}: a mapping of {sorted(LAYER_FIELDS)}, got {entry!r}")
        return None
    for key in sorted(set(entry) - LAYER_FIELDS):
        problems.append(f"{field}.{key}: unknown field; allowed: {', '.join(sorted(LAYER_FIELDS))}")
    layer = entry.get("layer")
    if not _int(layer, 0):
        problems.append(f"{field}.layer: {layer!r}; allowed: the index (>= 0) of a dense or conv2d layer")
        return None
    levels = entry.get("levels", [])
    if not isinstance(levels, list):
        problems.append(f"{field}.levels: a list of levels, got {levels!r}")
        return None
    keep, temporal, seen = {}, {}, []
    for j, lv in enumerate(levels):
        name = lv.get("name") if isinstance(lv, dict) else None
        where = f"{field}.levels[{j}]"
        if name not in by_name:
            problems.append(f"{where}.name: unknown level {name!r}; allowed (outermost first): {', '.join(names)}")
            continue
        if name in seen:
            problems.append(f"{where}.name: level {name} listed twice")
            continue
        if seen and names.index(name) < names.index(seen[-1]):
            problems.append(f"{where}.name: level {name} listed after {seen[-1]}; list levels outermost first: "
                            f"{', '.join(names)}")
        seen.append(name)
        keep[name], temporal[name] = _level(lv, f"{where}({name})", by_name[name], problems)
    spatial = entry.get("spatial", {}) or {}
    if not isinstance(spatial, dict):
        problems.append(f"{field}.spatial: a mapping of dimension to units, got {spatial!r}")
        spatial = {}
    for d, f in spatial.items():
        if d not in DIMENSIONS:
            problems.append(f"{field}.spatial: unknown dimension {d!r}; allowed: {', '.join(SPATIAL_DIMENSIONS)}")
        elif d not in SPATIAL_DIMENSIONS:
            problems.append(f"{field}.spatial.{d}: only {', '.join(SPATIAL_DIMENSIONS)} (outputs over the synapse "
                            f"units and neurons) may be unrolled")
        elif not _int(f, 1):
            problems.append(f"{field}.spatial.{d}: {f!r}; allowed: an integer >= 1")
    remainder = entry.get("remainder", EXACT)
    if remainder not in REMAINDERS:
        problems.append(f"{field}.remainder: {remainder!r}; allowed: {', '.join(REMAINDERS)}")
        remainder = EXACT
    mapping = Mapping(tuple(temporal.get(n, ()) for n in names),
                      {d: f for d, f in spatial.items() if d in SPATIAL_DIMENSIONS and _int(f, 2)}, remainder)
    return LayerMap(layer, {n: keep.get(n, frozenset()) for n in names}, mapping, field)


def load(path, arch, read):
    """{layer index: LayerMap} of a mapping file for `arch`; `read(path)` gives its top-level mapping (the
    input boundary). ConfigError naming the file and every bad field."""
    data = read(path)
    names = [lv.name for lv in pdnn_levels(arch)]
    by_name = {lv.name: lv for lv in pdnn_levels(arch)}
    problems = []
    for k in sorted(set(data) - TOP_FIELDS):
        problems.append(f"{k}: unknown field; allowed: {', '.join(sorted(TOP_FIELDS))}")
    if data.get("schema_version") != 1:
        problems.append(f"schema_version: {data.get('schema_version')!r}; allowed: 1")
    if data.get("kind") != "mapping":
        problems.append(f"kind: {data.get('kind')!r}; allowed: 'mapping'")
    layers = data.get("layers")
    out = {}
    if not isinstance(layers, list) or not layers:
        problems.append(f"layers: a non-empty list of layer mappings, got {layers!r}")
    else:
        for k, entry in enumerate(layers):
            lm = _layer(entry, k, names, by_name, problems)
            if lm is None:
                continue
            if lm.layer in out:
                problems.append(f"layers[{k}].layer: layer {lm.layer} mapped twice")
            out[lm.layer] = LayerMap(lm.layer, lm.keep, lm.mapping, f"{path}: {lm.where}")
    if problems:
        raise ConfigError(path, problems)
    return out


def mapping_text(mapping, names, keep=None):
    """One line: each level's loops (and what it keeps), then the spatial unrolling."""
    def level(name, loops):
        kept = f"[{','.join(sorted(keep[name]))}]" if keep is not None else ""
        return f"{name}{kept}: " + (" ".join(f"{d}{f}" for d, f in loops) or "-")
    loops = " | ".join(level(n, loops) for n, loops in zip(names, mapping.temporal))
    spatial = " ".join(f"{d}{f}" for d, f in sorted(mapping.spatial.items())) or "-"
    remainder = f" | remainder: {mapping.remainder}" if mapping.remainder != EXACT else ""
    return f"{loops} | spatial: {spatial}{remainder}"


def document(layer_maps, level_names, objective=None):
    """A YAML-ready mapping file of {layer: LayerMap} (every level listed, outermost first)."""
    layers = []
    for layer, lm in sorted(layer_maps.items()):
        levels = [{"name": n, "keep": sorted(lm.keep.get(n, ())), "loops": [[d, int(f)] for d, f in loops]}
                  for n, loops in zip(level_names, lm.mapping.temporal)]
        layers.append({"layer": layer, "levels": levels,
                       "spatial": {d: int(f) for d, f in sorted(lm.mapping.spatial.items())}})
        if lm.mapping.remainder != EXACT:
            layers[-1]["remainder"] = lm.mapping.remainder
    doc = {"schema_version": 1, "kind": "mapping"}
    if objective:
        doc["objective"] = objective
    doc["layers"] = layers
    return doc
