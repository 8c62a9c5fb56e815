"""ONNX models as archsim workloads: a network of Gemm/MatMul(+Add), Conv, Relu/Tanh/Sigmoid, MaxPool/
AveragePool and Flatten nodes becomes a workload YAML plus an integer weights .npz.

Weights are quantised per layer, symmetrically, to `weight_bits`. Each layer's input is tracked as
x_real = scale * x_int + offset, so that its real pre-activation z = W x_real + b becomes
z = s_w * (W_int x_int + b_int), where W * scale ~ s_w * W_int and b_int = round((b + offset * rowsum(W)) / s_w).
archsim's activations output 1 with probability sigmoid(2 * gain * I) (p-bit) or the k-bit level of it:
- Sigmoid(z): gain = s_w / 2, exact in expectation; the output reads as x (scale 1, offset 0);
- Tanh(z) = 2 sigmoid(2z) - 1: gain = s_w; the output reads as 2x - 1 (scale 2, offset -1);
- Relu has no stochastic equivalent: mapped as Sigmoid, with a warning (retrain with p-bits, the paper's way).
k-bit levels divide the scale by 2**k - 1; AveragePool sums, so it divides the scale by the window size.
The last weighted layer without an activation is `linear`: its real output is `output_scale` * integer output
(saved in the .npz). ONNX is NCHW; archsim maps are HWC, so conv weights and the first dense layer after a
Flatten are permuted accordingly."""
from pathlib import Path

import numpy as np
import yaml

from ..errors import ArchsimError, ConfigError
from ..inputs import memory_limit_bytes, regular_file

SUPPORTED = ["Gemm", "MatMul", "Add (bias after MatMul)", "Conv", "Relu", "Tanh", "Sigmoid", "MaxPool",
             "AveragePool", "Flatten", "Softmax/LogSoftmax (last node only)"]


def _attrs(node):
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _quantize(w, bits):
    peak = float(np.max(np.abs(w))) if w.size else 0.0
    scale = peak / (2 ** (bits - 1) - 1) if peak > 0 else 1.0
    return np.clip(np.rint(w / scale), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1).astype(np.int64), scale


def import_onnx(model_path, out_dir, weight_bits=8, activation="pbit", act_bits=4, input_bits=1, samples=8,
                seed=0, output_bits=24, input_scale=None, name=None):
    """Write NAME.yaml and NAME.npz into out_dir; return (yaml path, npz path, warnings)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ArchsimError("archsim import needs the onnx package: pip install 'archsim[onnx]'") from None
    path = regular_file(model_path, memory_limit_bytes(), "ONNX model")  # the input boundary: no /dev/zero
    try:
        model = onnx.load(str(path))
    except Exception as e:  # onnx raises several unrelated types for unreadable files
        raise ConfigError(path, [f"not a readable ONNX model: {e}"]) from None
    graph = model.graph
    inits = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    graph_inputs = [i for i in graph.input if i.name not in inits]
    if len(graph_inputs) != 1:
        raise ConfigError(path, [f"the graph must have one data input, it has {len(graph_inputs)}"])
    dims = [d.dim_value for d in graph_inputs[0].type.tensor_type.shape.dim][1:]
    if len(dims) == 3:
        C, H, W = dims
        shape = [H, W, C]
    elif len(dims) == 1:
        shape = [dims[0]]
    else:
        raise ConfigError(path, [f"input {graph_inputs[0].name!r} has shape {dims} (after the batch); "
                                 f"expected (features) or (channels, height, width)"])
    levels = 2 ** act_bits - 1
    layers, arrays, warnings = [], {}, []
    scale, offset = (input_scale if input_scale is not None else 1.0 / (2 ** input_bits - 1)), 0.0
    chw_flat = None    # (C, H, W) of the map flattened just before, for the NCHW -> HWC weight permutation
    pending = None     # the weighted layer whose activation is not yet known: (layer dict, s_w, bias index)
    nodes = list(graph.node)

    def finish(kind):
        nonlocal scale, offset, pending
        layer, s_w, _ = pending
        layer["activation"] = activation
        if activation != "pbit":
            layer["output_bits"] = act_bits
        tanh = kind == "Tanh"
        layer["gain"] = float(s_w * (1.0 if tanh else 0.5))  # s_w already carries the input scale
        out_levels = 1 if activation == "pbit" else levels
        scale, offset = (2.0 if tanh else 1.0) / out_levels, (-1.0 if tanh else 0.0)
        pending = None

    def weighted(node, w_eff, b, layer):
        nonlocal pending
        if pending is not None:
            raise ConfigError(path, [f"node {node.name!r} ({node.op_type}): two weighted layers in a row; "
                                     f"insert an activation (Relu, Tanh or Sigmoid) between them"])
        i = len(layers)
        w_int, s_w = _quantize(w_eff * scale, weight_bits)
        rows = w_eff.reshape(w_eff.shape[0], -1)
        b_real = (np.zeros(w_eff.shape[0]) if b is None else b) + offset * rows.sum(axis=1)
        if np.any(b_real != 0):
            b_int = np.rint(b_real / s_w).astype(np.int64)
            bits = max(2, int(np.max(np.abs(b_int))).bit_length() + 1)
            if bits > 32:
                raise ConfigError(path, [f"node {node.name!r}: its bias needs {bits} bits at this weight scale"])
            layer.update(bias=True, bias_bits=bits)
            arrays[f"bias{i}"] = b_int
        layer["weight_bits"] = weight_bits
        arrays[f"layer{i}"] = w_int
        layers.append(layer)
        pending = (layer, s_w, i)
        return s_w

    k = 0
    while k < len(nodes):
        node, op = nodes[k], nodes[k].op_type
        a = _attrs(node)
        where = f"node {node.name or k!r} ({op})"
        if op in ("Gemm", "MatMul"):
            if len(shape) != 1:
                raise ConfigError(path, [f"{where}: needs a flat input; add a Flatten before it"])
            w = inits.get(node.input[1])
            if w is None:
                raise ConfigError(path, [f"{where}: its weights must be an initializer"])
            if op == "Gemm":
                w = w * a.get("alpha", 1.0)
                w = w if a.get("transB", 0) else w.T
                if a.get("transA", 0):
                    raise ConfigError(path, [f"{where}: transA = 1 is not supported"])
                b = inits[node.input[2]] * a.get("beta", 1.0) if len(node.input) > 2 and node.input[2] else None
            else:
                w, b = w.T, None
                nxt = nodes[k + 1] if k + 1 < len(nodes) else None
                if nxt is not None and nxt.op_type == "Add" and nxt.input[1] in inits:
                    b, k = inits[nxt.input[1]], k + 1
            if chw_flat is not None:  # ONNX flattened C,H,W; archsim flattens H,W,C
                C_, H_, W_ = chw_flat
                w = w.reshape(w.shape[0], C_, H_, W_).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
                chw_flat = None
            if w.shape[1] != shape[0]:
                raise ConfigError(path, [f"{where}: weights take {w.shape[1]} inputs, the layer before gives "
                                         f"{shape[0]}"])
            weighted(node, w, b, {"type": "dense", "outputs": int(w.shape[0])})
            shape = [int(w.shape[0])]
        elif op == "Conv":
            w = inits.get(node.input[1])
            if w is None or len(shape) != 3:
                raise ConfigError(path, [f"{where}: needs initializer weights and an image input"])
            kh, kw = w.shape[2:]
            strides, pads = a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])
            if kh != kw or len(set(strides)) != 1 or len(set(pads)) != 1 or a.get("group", 1) != 1 or \
                    set(a.get("dilations", [1, 1])) != {1}:
                raise ConfigError(path, [f"{where}: only square kernels, equal strides and pads, group 1 and "
                                         f"dilation 1 are supported"])
            b = inits[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            weighted(node, w.transpose(0, 2, 3, 1), b, {"type": "conv2d", "channels": int(w.shape[0]),
                                                        "kernel": int(kh), "stride": int(strides[0]),
                                                        "padding": int(pads[0])})
            H, W_, pad, s = shape[0], shape[1], pads[0], strides[0]
            shape = [(H + 2 * pad - kh) // s + 1, (W_ + 2 * pad - kw) // s + 1, int(w.shape[0])]
        elif op in ("Relu", "Tanh", "Sigmoid"):
            if pending is None:
                raise ConfigError(path, [f"{where}: an activation must follow a Gemm, MatMul or Conv"])
            if op == "Relu":
                warnings.append(f"{where}: Relu has no stochastic equivalent; mapped as Sigmoid")
            finish(op)
        elif op in ("MaxPool", "AveragePool"):
            kh, kw = a["kernel_shape"]
            s = a.get("strides", [kh, kw])
            if kh != kw or len(set(s)) != 1 or any(a.get("pads", [0])):
                raise ConfigError(path, [f"{where}: only square windows, equal strides and no padding"])
            if pending is not None:
                raise ConfigError(path, [f"{where}: pooling before the activation is not supported"])
            layers.append({"type": "maxpool" if op == "MaxPool" else "avgpool", "kernel": int(kh),
                           "stride": int(s[0])})
            if op == "AveragePool":
                scale /= kh * kw
            shape = [(shape[0] - kh) // s[0] + 1, (shape[1] - kw) // s[0] + 1, shape[2]]
        elif op == "Flatten":
            if len(shape) == 3:
                chw_flat = (shape[2], shape[0], shape[1])
                shape = [shape[0] * shape[1] * shape[2]]
            layers.append({"type": "flatten"})
        elif op in ("Softmax", "LogSoftmax") and k == len(nodes) - 1:
            warnings.append(f"{where}: dropped (monotonic; argmax of the linear outputs is unchanged)")
        else:
            raise ConfigError(path, [f"{where}: unsupported node; supported: {', '.join(SUPPORTED)}"])
        k += 1
    if pending is None:
        raise ConfigError(path, ["the last weighted layer is followed by an activation; archsim's last layer is "
                                 "linear (multi-bit): export the logits"])
    layer, s_w, _ = pending
    layer.update(activation="linear", output_bits=output_bits)
    arrays["output_scale"] = np.float64(s_w)
    name = name or path.stem
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / f"{name}.npz", **arrays)
    spec = {"schema_version": 1, "kind": "pdnn", "name": name, "samples": samples, "seed": seed,
            "input": {"shape": shape_in(graph_inputs[0])} if len(dims) == 3 else {"size": dims[0]},
            "weights": f"{name}.npz", "layers": layers}
    spec["input"]["bits"] = input_bits
    (out / f"{name}.yaml").write_text(f"# imported from {path.name} by archsim import\n" +
                                      yaml.safe_dump(spec, sort_keys=False))
    return out / f"{name}.yaml", out / f"{name}.npz", warnings


def shape_in(graph_input):
    C, H, W = [d.dim_value for d in graph_input.type.tensor_type.shape.dim][1:]
    return [H, W, C]
