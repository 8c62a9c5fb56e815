"""Sweep throughput (not a test): points per second for the serial, local-pool and Dask LocalCluster
executors, on >= 200 small points and >= 20 large ones, with the per-point overhead of each parallel executor
against serial (measured in the same run). Run: python benchmarks/bench_sweep.py"""
import tempfile
import time
from pathlib import Path

import yaml

from archsim.sweep import run_sweep

CASES = {
    "small (default p-DNN, 240 points)": {"grid": {"workload.samples": list(range(1, 41)),
                                                     "workload.layers[*].weight_bits": [2, 3, 4, 5, 6, 8]}},
    "large (MNIST generator, T=64, 24 points)": {
        "arch": "../configs/cnn-sram.yaml", "workload": "../workloads/mnist-generator-fpga.yaml",
        "grid": {"workload.samples": [64], "workload.batch": [16], "workload.seed": list(range(24))}},
}


def main():
    here = Path(__file__).resolve().parent
    print(f"{'sweep':44s} {'executor':9s} {'points/s':>9s} {'s/point':>9s} {'vs serial':>9s}")
    for label, body in CASES.items():
        data = {"schema_version": 1, "kind": "sweep", "name": "bench", "arch": "default", "workload": "default",
                "mode": "functional", **body}
        path = here / "_bench_sweep.yaml"
        path.write_text(yaml.safe_dump(data))
        serial_rate = None
        try:
            for executor in ("serial", "local", "dask"):
                with tempfile.TemporaryDirectory() as out:
                    t0 = time.perf_counter()
                    table, _ = run_sweep(path, out, executor, progress=False)
                    wall = time.perf_counter() - t0
                rate = len(table) / wall
                serial_rate = serial_rate or rate
                print(f"{label:44s} {executor:9s} {rate:9.1f} {wall / len(table):9.4f} {rate / serial_rate:8.2f}x")
        finally:
            path.unlink()


if __name__ == "__main__":
    main()
