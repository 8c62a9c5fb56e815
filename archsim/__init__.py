"""archsim: a cycle-level simulator of p-bit accelerators.

    from archsim import load_arch, load_workload, simulate
    result = simulate(load_arch("default"), load_workload("default"), mode="timing")
"""
__version__ = "0.1.0"

from .config.loader import load_arch  # noqa: E402
from .engine.simulate import RunResult, simulate  # noqa: E402
from .errors import ArchsimError, ConfigError  # noqa: E402
from .workload.loader import load_workload  # noqa: E402

__all__ = ["load_arch", "load_workload", "simulate", "RunResult", "ArchsimError", "ConfigError", "__version__"]
