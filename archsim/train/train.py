"""Seeded NumPy training of feed-forward networks whose inference is exactly what archsim's kernels compute.

Hidden layers: z = x W^T + b with W quantised to weight_bits (straight-through), then
  float: sigmoid(z); quantized k: rint(sigmoid(z) (2^k - 1)) / (2^k - 1); pbit: Bernoulli(sigmoid(z));
  noisy k: stochastic rounding of sigmoid(z) (2^k - 1), divided by 2^k - 1;
with the gradient of sigmoid(z) passed straight through the rounding / sampling. The last layer is linear (the
paper's "analog" layer). Sample-aware training (the paper's scheme): the loss is the cross-entropy of the mean
of `samples` stochastic forward passes. Export: integer weights W_int = rint(W / s_w) and biases; archsim's
activation p = sigmoid(2 gain I) with I = W_int x_int + b_int reproduces sigmoid(z) when gain = s_w / (2 L_in),
L_in the input's levels (2^bits - 1; 1 for p-bits). Float models export as 8-bit quantized activations."""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

@dataclass(frozen=True)
class ModelSpec:
    sizes: tuple            # (inputs, hidden..., classes)
    activation: str = "pbit"
    act_bits: int = 1       # quantized / noisy levels; 1 for pbit; ignored for float
    weight_bits: int = 8
    input_bits: int = 4
    samples: int = 1        # s of sample-aware training (1: plain)
    epochs: int = 40
    lr: float = 1e-3
    batch: int = 64
    seed: int = 0


@dataclass
class Model:
    spec: ModelSpec
    weights: list
    biases: list
    history: list = field(default_factory=list)

    @property
    def name(self):
        s = self.spec
        kind = {"float": "float32", "pbit": "pbit", "quantized": f"det{s.act_bits}b",
                "noisy": f"noisy{s.act_bits}b"}[s.activation]
        return kind + (f"-s{s.samples}" if s.samples > 1 else "")


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _quantize_weights(w, bits):
    scale = max(float(np.max(np.abs(w))), 1e-12) / (2 ** (bits - 1) - 1)
    return np.clip(np.rint(w / scale), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) * scale, scale


def _activate(p, spec, rng):
    if spec.activation == "float":
        return p
    levels = 2 ** spec.act_bits - 1
    if spec.activation == "quantized":
        return np.rint(p * levels) / levels
    if spec.activation == "pbit":
        return (rng.random(p.shape) < p).astype(float)
    return np.minimum(np.floor(p * levels + rng.random(p.shape)), levels) / levels  # noisy


def forward(model, x, rng):
    """Logits of one stochastic pass, with what backward needs."""
    h, cache = x, []
    n_layers = len(model.weights)
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        wq, _ = _quantize_weights(w, model.spec.weight_bits)
        z = h @ wq.T + b
        cache.append((h, wq, z))
        if l < n_layers - 1:
            p = _sigmoid(z)
            cache[-1] = (h, wq, p)
            h = _activate(p, model.spec, rng)
    return z, cache


def backward(model, cache, dlogits):
    grads = [None] * len(model.weights)
    d = dlogits
    for l in range(len(model.weights) - 1, -1, -1):
        h, wq, last = cache[l]
        if l < len(model.weights) - 1:
            d = d * last * (1 - last)  # straight through the rounding/sampling: d sigmoid(z) / dz
        grads[l] = (d.T @ h, d.sum(axis=0))
        d = d @ wq
    return grads


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def train(spec: ModelSpec, x, y):
    """Adam, Glorot-uniform init, minibatches; the same spec and data give bit-identical weights."""
    rng = np.random.default_rng(spec.seed)
    weights, biases = [], []
    for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:]):
        limit = np.sqrt(6.0 / (n_in + n_out))
        weights.append(rng.uniform(-limit, limit, (n_out, n_in)))
        biases.append(np.zeros(n_out))
    model = Model(spec, weights, biases)
    params = [p for pair in zip(weights, biases) for p in pair]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    onehot = np.eye(spec.sizes[-1])[y]
    step = 0
    for epoch in range(spec.epochs):
        order = rng.permutation(len(x))
        loss_sum = 0.0
        for start in range(0, len(x), spec.batch):
            idx = order[start:start + spec.batch]
            passes = [forward(model, x[idx], rng) for _ in range(spec.samples)]
            mean_logits = np.mean([z for z, _ in passes], axis=0)
            prob = _softmax(mean_logits)
            loss_sum += -np.log(prob[np.arange(len(idx)), y[idx]] + 1e-12).sum()
            dlogits = (prob - onehot[idx]) / len(idx) / spec.samples
            grads = [g for _, cache in passes for g in [backward(model, cache, dlogits)]]
            flat = [sum(g[l][k] for g in grads) for l in range(len(weights)) for k in (0, 1)]
            step += 1
            for p, g, a, b in zip(params, flat, m1, m2):
                a *= 0.9
                a += 0.1 * g
                b *= 0.999
                b += 0.001 * g * g
                p -= spec.lr * (a / (1 - 0.9 ** step)) / (np.sqrt(b / (1 - 0.999 ** step)) + 1e-8)
        model.history.append(loss_sum / len(x))
    return model


def float_accuracy(model, x, y, samples=1, seed=0):
    """Accuracy of the float (training-time) forward pass averaged over `samples` passes."""
    rng = np.random.default_rng(seed)
    logits = np.mean([forward(model, x, rng)[0] for _ in range(samples)], axis=0)
    return float(np.mean(np.argmax(logits, axis=1) == y))


def export(model, out_dir, name, x_int, y, samples=1, seed=0, activation=None, act_bits=None):
    """Write NAME.npz (layer<i>, bias<i>, inputs x/y in NAME-inputs.npz) and NAME.yaml; `activation`/`act_bits`
    override the hidden activation at inference (noise injection into a trained deterministic network)."""
    s = model.spec
    activation = activation or ("quantized" if s.activation == "float" else s.activation)
    act_bits = act_bits or (8 if s.activation == "float" else s.act_bits)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arrays, layers = {}, []
    levels_in = 2 ** s.input_bits - 1
    n_layers = len(model.weights)
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        _, s_w = _quantize_weights(w, s.weight_bits)
        w_int = np.clip(np.rint(w / s_w), -(2 ** (s.weight_bits - 1)), 2 ** (s.weight_bits - 1) - 1)
        unit = s_w / levels_in  # real pre-activation per unit of the integer sum
        b_int = np.rint(b / unit).astype(np.int64)
        bias_bits = max(2, int(np.abs(b_int).max()).bit_length() + 1)
        arrays[f"layer{l}"], arrays[f"bias{l}"] = w_int.astype(np.int64), b_int
        layer = {"type": "dense", "outputs": int(w.shape[0]), "weight_bits": s.weight_bits, "bias": True,
                 "bias_bits": min(bias_bits, 32)}
        if l == n_layers - 1:
            layer.update(activation="linear", output_bits=32)
        else:
            layer.update(activation=activation, gain=float(unit / 2))
            if activation != "pbit":
                layer["output_bits"] = act_bits
            levels_in = 1 if activation == "pbit" else 2 ** act_bits - 1
        layers.append(layer)
    np.savez(out / f"{name}.npz", **arrays)
    np.savez(out / f"{name}-inputs.npz", x=x_int, y=y)
    spec = {"schema_version": 1, "kind": "pdnn", "name": name, "samples": samples, "seed": seed,
            "input": {"size": int(s.sizes[0]), "bits": s.input_bits}, "weights": f"{name}.npz",
            "inputs": f"{name}-inputs.npz", "layers": layers}
    path = out / f"{name}.yaml"
    path.write_text(f"# trained by archsim ({model.name}, seed {s.seed}); accuracy is measured by `archsim run`\n"
                    + yaml.safe_dump(spec, sort_keys=False))
    return path
