"""ONNX import: every supported node, the clear error for an unsupported one, and the imported network's
outputs against a float evaluation of the ONNX graph written here in NumPy (an independent oracle)."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from archsim import load_arch, load_workload, simulate  # noqa: E402
from archsim.errors import ConfigError  # noqa: E402
from archsim.workload.onnx_import import import_onnx  # noqa: E402
from helpers import arch  # noqa: E402

R = np.random.default_rng(0)


def model(nodes, inits, in_shape, out_shape, path):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out_shape)],
                              [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    onnx.save(helper.make_model(graph), path)
    return path


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_mlp_gemm_sigmoid_matches_float_onnx(tmp_path):
    W1, b1, W2, b2 = R.normal(size=(24, 16)), R.normal(size=24) * 0.3, R.normal(size=(5, 24)), R.normal(size=5)
    path = model([helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1, name="fc1"),
                  helper.make_node("Sigmoid", ["h"], ["a"], name="act1"),
                  helper.make_node("Gemm", ["a", "W2", "b2"], ["y"], transB=1, name="fc2")],
                 {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, [1, 16], [1, 5], tmp_path / "mlp.onnx")
    yml, npz, warnings = import_onnx(path, tmp_path, weight_bits=12, activation="quantized", act_bits=10,
                                     input_bits=1, samples=1)
    assert warnings == []
    w = load_workload(yml)
    result = simulate(arch(**{"synapse.kind": "mac", "synapse.accumulator_bits": 40, "levels[weight_mem].capacity": "1MiB",
                              "neuron.table_bits": 14}), w)
    x = w.inputs.astype(float)                                     # 1-bit inputs: x_real = x_int
    want = sigmoid(x @ W1.T + b1) @ W2.T + b2                      # the ONNX graph, in float
    got = result.output_mean * float(np.load(npz)["output_scale"])
    assert np.max(np.abs(got - want)) < 0.05 * np.max(np.abs(want))


def test_pbit_mean_over_samples_approaches_float_sigmoid(tmp_path):
    W1 = R.normal(size=(8, 12))
    W2 = R.normal(size=(3, 8))
    path = model([helper.make_node("MatMul", ["x", "W1t"], ["h"]), helper.make_node("Sigmoid", ["h"], ["a"]),
                  helper.make_node("MatMul", ["a", "W2t"], ["y"])],
                 {"W1t": W1.T, "W2t": W2.T}, [1, 12], [1, 3], tmp_path / "m.onnx")
    yml, npz, _ = import_onnx(path, tmp_path, weight_bits=10, activation="pbit", samples=4000)
    w = load_workload(yml)
    result = simulate(arch(**{"neuron.table_bits": 12, "rng.bits_per_draw": 20,
                              "levels[act_mem].capacity": "1MiB", "synapse.accumulator_bits": 32}), w)
    want = sigmoid(w.inputs.astype(float) @ W1.T) @ W2.T
    got = result.output_mean * float(np.load(npz)["output_scale"])
    assert np.max(np.abs(got - want)) < 0.15  # T = 4000 p-bit samples: std of the mean ~ 0.5*|W2|/sqrt(T)


def test_conv_relu_pool_flatten_tanh_nodes(tmp_path):
    Wc, bc = R.normal(size=(4, 2, 3, 3)), R.normal(size=4)
    Wd = R.normal(size=(6, 4 * 3 * 3))
    We = R.normal(size=(3, 6))
    path = model([helper.make_node("Conv", ["x", "Wc", "bc"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", ["c"], ["r"]),
                  helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
                  helper.make_node("AveragePool", ["p"], ["q"], kernel_shape=[1, 1]),
                  helper.make_node("Flatten", ["q"], ["f"]),
                  helper.make_node("Gemm", ["f", "Wd"], ["d"], transB=1),
                  helper.make_node("Tanh", ["d"], ["t"]),
                  helper.make_node("Gemm", ["t", "We"], ["y"], transB=1),
                  helper.make_node("Softmax", ["y"], ["s"])],
                 {"Wc": Wc, "bc": bc, "Wd": Wd, "We": We}, [1, 2, 6, 6], [1, 3], tmp_path / "cnn.onnx")
    yml, npz, warnings = import_onnx(path, tmp_path, weight_bits=6, activation="pbit")
    assert any("Relu" in w for w in warnings) and any("Softmax" in w for w in warnings)
    w = load_workload(yml)
    assert [l.type for l in w.spec.layers] == ["conv2d", "maxpool", "avgpool", "flatten", "dense", "dense"]
    assert w.weights[0].shape == (4, 3, 3, 2) and w.weights[4].shape == (6, 36)
    assert w.spec.layers[5].bias  # the Tanh output's -1 offset folded into the last layer's bias
    result = simulate(arch(**{"synapse.kind": "mac", "levels[weight_mem].capacity": "64KiB"}), w, "timing")
    assert result.outputs.shape == (8, 3)


def test_matmul_add_becomes_dense_with_bias(tmp_path):
    W, b = R.normal(size=(4, 6)), R.normal(size=4)
    path = model([helper.make_node("MatMul", ["x", "Wt"], ["h"]), helper.make_node("Add", ["h", "b"], ["z"]),
                  helper.make_node("Sigmoid", ["z"], ["a"]),
                  helper.make_node("MatMul", ["a", "W2t"], ["y"])],
                 {"Wt": W.T, "b": b, "W2t": R.normal(size=(4, 2))}, [1, 6], [1, 2], tmp_path / "ma.onnx")
    yml, npz, _ = import_onnx(path, tmp_path, weight_bits=10, activation="quantized", act_bits=8)
    w = load_workload(yml)
    assert w.spec.layers[0].bias and w.biases[0].shape == (4,)
    s_w = np.abs(W).max() / (2 ** 9 - 1)  # input scale 1 (1-bit inputs): the bias in units of s_w
    np.testing.assert_allclose(w.biases[0] * s_w, b, atol=s_w)


def test_unsupported_node_is_named(tmp_path):
    path = model([helper.make_node("Gemm", ["x", "W"], ["h"], transB=1),
                  helper.make_node("LeakyRelu", ["h"], ["y"], name="odd")],
                 {"W": R.normal(size=(4, 4))}, [1, 4], [1, 4], tmp_path / "u.onnx")
    with pytest.raises(ConfigError, match=r"node 'odd' \(LeakyRelu\): unsupported node; supported: Gemm"):
        import_onnx(path, tmp_path)


def test_cli_import(tmp_path):
    import subprocess
    import sys
    path = model([helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)], {"W": R.normal(size=(3, 5))},
                 [1, 5], [1, 3], tmp_path / "one.onnx")
    r = subprocess.run([sys.executable, "-m", "archsim", "import", str(path), "--out", str(tmp_path / "w")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert simulate(load_arch(), load_workload(tmp_path / "w" / "one.yaml")).outputs.shape == (8, 3)
    r = subprocess.run([sys.executable, "-m", "archsim", "import", str(tmp_path / "nope.onnx")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "nope.onnx" in r.stderr and "Traceback" not in r.stderr
