"""Make workloads/mlp-sigmoid.onnx, the small model README's `archsim import` example reads: a 16-24-5
multilayer perceptron (Gemm, Sigmoid, Gemm) with seeded normal weights, float32. Needs the onnx extra.

    python examples/make_onnx_model.py [--out FILE]"""
import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]


def make_model(seed=0):
    rng = np.random.default_rng(seed)
    weights = {"W1": rng.normal(size=(24, 16)), "b1": rng.normal(size=24) * 0.3, "W2": rng.normal(size=(5, 24)),
               "b2": rng.normal(size=5) * 0.3}
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
             helper.make_node("Sigmoid", ["h"], ["a"], name="act1"),
             helper.make_node("Gemm", ["a", "W2", "b2"], ["y"], transB=1, name="fc2")]
    graph = helper.make_graph(nodes, "mlp-sigmoid", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
                              [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()])
    model = helper.make_model(graph, producer_name="archsim examples/make_onnx_model.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "workloads" / "mlp-sigmoid.onnx")
    out = parser.parse_args().out
    onnx.save(make_model(), out)
    print(f"{out} ({out.stat().st_size} bytes)")
