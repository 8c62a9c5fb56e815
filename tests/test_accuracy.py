"""Accuracy from the hardware model equals, item for item, the predictions of the NumPy reference chain."""
import numpy as np
import yaml

from archsim import load_arch, load_workload, simulate
from archsim.kernels import reference
from archsim.report.run import summarize


def reference_predictions(result):
    """Chain kernels.reference.dense_layer over the layers with the plan's tables: independent of the engine."""
    plan, T = result.plan, result.plan.samples
    x = np.repeat(result.workload.inputs, T, axis=0)
    for lp in plan.layers:
        w = result.workload.weights[lp.index]
        x, _, _ = reference.dense_layer(x, w, lp.kind_code, lp.table, plan.table_bits, lp.shift, lp.ba_out,
                                        plan.rng_bits, plan.seed, lp.index, T)
    return np.argmax(x.reshape(plan.items, T, -1).mean(axis=1), axis=1)


def test_accuracy_matches_reference_predictions(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, (30, 16))
    y = rng.integers(0, 3, 30)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    spec = {"schema_version": 1, "kind": "pdnn", "name": "acc", "samples": 6, "seed": 9, "inputs": "data.npz",
            "input": {"size": 16, "bits": 1},
            "layers": [{"type": "dense", "outputs": 12, "weight_bits": 4, "activation": "pbit"},
                       {"type": "dense", "outputs": 3, "weight_bits": 6, "activation": "linear",
                        "output_bits": 16}]}
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(spec))
    result = simulate(load_arch(), load_workload(tmp_path / "w.yaml"), "timing")
    predictions = reference_predictions(result)
    np.testing.assert_array_equal(np.argmax(result.output_mean, axis=1), predictions)
    assert summarize(result)[0]["accuracy"] == np.mean(predictions == y)


def test_no_labels_no_accuracy():
    assert summarize(simulate(load_arch(), load_workload(), "functional"))[0]["accuracy"] is None
