"""Reading YAML files into schema models. Every problem becomes one ConfigError that lists, for each problem,
the dotted field path, the value found and what is allowed."""
from importlib import resources

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from ..inputs import read_yaml_mapping
from .schema import Arch, ArchV1, convert_v1

DEFAULT_ARCH = "default"


def read_yaml(path):
    """YAML file -> dict of fields, read through the input boundary (size, encoding, depth and aliases bounded);
    every file-level problem is a ConfigError naming the file."""
    return read_yaml_mapping(path)


def dotted(loc, data=None):
    """pydantic's location as a dotted path; an element of a list of named entries (memory levels) is shown by
    its name, levels[act_mem], as set_path selects it."""
    out, node = "", data
    for part in loc:
        named = isinstance(node, list) and isinstance(part, int) and part < len(node) and \
            isinstance(node[part], dict) and isinstance(node[part].get("name"), str)
        node = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
        if isinstance(part, int):
            out += f"[{node['name']}]" if named else f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _has(node, part):
    return part in node if isinstance(node, dict) else isinstance(part, int) and part < len(node)


def _model_at(model, loc):
    """The schema model class reached by following loc (field names, list indices and discriminated-union tags,
    as pydantic reports them) from `model`; None when the path leaves the schema."""
    candidates = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        by_field = [m for m in candidates if part in m.model_fields]
        if by_field:
            candidates = _models_in(by_field[0].model_fields[part].annotation)
            continue
        by_tag = [m for m in candidates if _tag(m) == part]  # a union member's tag, e.g. 'dense'
        if not by_tag:
            return None
        candidates = by_tag
    return candidates[0] if len(candidates) == 1 else None


def _without_tags(model, loc):
    """loc without the discriminated-union tags pydantic inserts (layers[0].dense.activation ->
    layers[0].activation)."""
    out, candidates = [], [model]
    for part in loc:
        if isinstance(part, int):
            out.append(part)
            continue
        by_field = [m for m in candidates if part in m.model_fields]
        if by_field:
            candidates = _models_in(by_field[0].model_fields[part].annotation)
            out.append(part)
        elif any(_tag(m) == part for m in candidates):
            candidates = [m for m in candidates if _tag(m) == part]
        else:
            out.append(part)
    return out


def _models_in(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


def _tag(model):
    field = model.model_fields.get("type")
    args = getattr(field.annotation, "__args__", ()) if field else ()
    return args[0] if len(args) == 1 else None


def format_errors(err: ValidationError, model, data=None):
    problems = []
    for e in err.errors(include_url=False):
        loc = [p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        where = dotted(_without_tags(model, loc), data)
        value = e.get("input")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            allowed = sorted(parent.model_fields) if parent else []
            problems.append(f"{where}: unknown field (value {value!r}); allowed fields here: {', '.join(allowed)}")
        elif e["type"] == "missing":
            problems.append(f"{where}: required field is missing")
        else:
            shown = repr(value)
            problems.append(f"{where}: {msg}" + (f" (got {shown})" if len(shown) <= 120 else ""))
    return problems


def validate(model, data, file):
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(file, format_errors(err, model, data)) from None


def default_arch_path():
    return resources.files("archsim.config") / "default.yaml"


def arch_from_data(data, path="<arch>") -> Arch:
    """Validate an architecture given as a dict (as read from YAML); `path` names it in errors. A version 1 file
    is validated as version 1 (errors name its own fields) and converted by schema.convert_v1."""
    if data.get("kind", "arch") != "arch":
        raise ConfigError(path, [f"kind: this is not an architecture file (got {data.get('kind')!r}); "
                                 "allowed: 'arch'"])
    version = data.get("schema_version", 2)
    if version == 1:
        return validate(Arch, convert_v1(validate(ArchV1, data, path)), path)
    if version != 2:
        raise ConfigError(path, [f"schema_version: {version!r} is not supported; allowed: 1 (converted), 2"])
    return validate(Arch, data, path)


def resolve_arch_path(path):
    return default_arch_path() if str(path) == DEFAULT_ARCH else path


def load_arch(path=DEFAULT_ARCH) -> Arch:
    """Load and validate an architecture file ('default' for the packaged building-block system)."""
    path = resolve_arch_path(path)
    return arch_from_data(read_yaml(path), path)
