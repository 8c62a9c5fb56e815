"""Builders for random architectures and workloads used across tests."""
import copy

import yaml

from archsim.config.loader import arch_from_data, default_arch_path
from archsim.sweep import set_path
from archsim.workload.loader import workload_from_data

DEFAULT_ARCH = yaml.safe_load(default_arch_path().read_text())


def arch(**changes):
    """The default architecture with dotted-path changes, e.g. arch(**{'synapse.count': 4,
    'levels[act_mem].capacity': '1MiB'})."""
    data = copy.deepcopy(DEFAULT_ARCH)
    for path, value in changes.items():
        set_path(data, path, value)
    return arch_from_data(data, "<test arch>")


def pdnn(layers, n_in=16, in_bits=1, T=4, seed=7, batch=1):
    data = {"schema_version": 1, "kind": "pdnn", "name": "test", "samples": T, "seed": seed, "batch": batch,
            "input": {"size": n_in, "bits": in_bits}, "layers": layers}
    return workload_from_data(data, "<test workload>")
