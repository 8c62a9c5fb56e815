"""archsim: a cycle-level simulator of p-bit accelerators.

    from archsim import load_arch, load_workload, simulate
    result = simulate(load_arch("default"), load_workload("default"), mode="timing")

The names below are imported on first use, so that `archsim --help` and argument errors load neither Numba
nor pandas nor pydantic.
"""
import importlib

__version__ = "0.1.0"

_WHERE = {"load_arch": ".config.loader", "simulate": ".engine.simulate", "RunResult": ".engine.simulate",
          "ArchsimError": ".errors", "ConfigError": ".errors", "load_workload": ".workload.loader"}

__all__ = ["load_arch", "load_workload", "simulate", "RunResult", "ArchsimError", "ConfigError", "__version__"]


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module 'archsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
