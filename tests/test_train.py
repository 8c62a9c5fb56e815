"""Training and the trade-off: determinism, the exported workload's contract, accuracy measured by the
hardware model equal to the NumPy reference chain, the claims table."""
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from archsim import load_workload, simulate  # noqa: E402
from archsim.errors import ConfigError  # noqa: E402
from archsim.kernels import reference  # noqa: E402
from archsim.report.run import summarize  # noqa: E402
from archsim.train import data  # noqa: E402
from archsim.train.train import ModelSpec, export, float_accuracy, train  # noqa: E402
from helpers import arch  # noqa: E402

DS = data.digits()
X = data.quantize_inputs(DS.x_train, 4) / 15
XT = data.quantize_inputs(DS.x_test, 4)
HW = arch(**{"synapse.kind": "mac", "synapse.accumulator_bits": 48, "levels[act_mem].capacity": "1MiB",
             "levels[weight_mem].capacity": "1MiB"})


def test_split_is_fixed_and_stratified():
    again = data.digits()
    assert len(DS.y_train) + len(DS.y_test) == 1797 and np.array_equal(DS.y_test, again.y_test)
    counts = np.bincount(DS.y_test)
    assert counts.min() >= 35 and counts.max() <= 37  # 20 % of every class


def test_same_seed_same_weights_other_seed_other_weights():
    spec = ModelSpec((64, 16, 10), "pbit", epochs=3, seed=5)
    a, b = train(spec, X, DS.y_train), train(spec, X, DS.y_train)
    c = train(ModelSpec((64, 16, 10), "pbit", epochs=3, seed=6), X, DS.y_train)
    assert all(np.array_equal(p, q) for p, q in zip(a.weights, b.weights))
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_export_contract(tmp_path):
    model = train(ModelSpec((64, 16, 10), "quantized", 3, weight_bits=6, epochs=2), X, DS.y_train)
    path = export(model, tmp_path, "m", XT, DS.y_test, samples=1)
    npz = np.load(tmp_path / "m.npz")
    assert npz["layer0"].shape == (16, 64) and npz["layer1"].shape == (10, 16)
    assert npz["layer0"].dtype == np.int64 and np.abs(npz["layer0"]).max() <= 32
    w = load_workload(path)  # validated by the workload schema, bias widths included
    assert [l.activation for l in w.spec.layers] == ["quantized", "linear"]


def reference_predictions(result):
    plan, T = result.plan, result.plan.samples
    x = np.repeat(result.workload.inputs, T, axis=0)
    for lp in plan.layers:
        x, _, _ = reference.dense_layer(x, result.workload.weights[lp.index], lp.kind_code, lp.table,
                                        plan.table_bits, lp.shift, lp.ba_out, plan.rng_bits, plan.seed, lp.index, T,
                                        result.workload.biases.get(lp.index))
    return np.argmax(x.reshape(plan.items, T, -1).mean(axis=1), axis=1)


def test_pbit_model_learns_and_hardware_accuracy_is_the_reference_chain(tmp_path):
    """A trained p-DNN is far above chance (0.1) on the hardware model; its accuracy equals, image for image,
    the NumPy reference chain's; more samples do not hurt (T = 8 >= T = 1 - 0.01)."""
    model = train(ModelSpec((64, 32, 10), "pbit", epochs=30, seed=2), X, DS.y_train)
    accuracy = {}
    for T in (1, 8):
        result = simulate(HW, load_workload(export(model, tmp_path, f"p{T}", XT, DS.y_test, samples=T)))
        np.testing.assert_array_equal(np.argmax(result.output_mean, axis=1), reference_predictions(result))
        accuracy[T] = summarize(result)[0]["accuracy"]
    assert accuracy[8] > 0.8 and accuracy[8] >= accuracy[1] - 0.01
    assert abs(accuracy[8] - float_accuracy(model, XT / 15, DS.y_test, samples=8)) < 0.05


def test_npz_dataset_errors(tmp_path):
    np.savez(tmp_path / "bad.npz", x=np.zeros((4, 3)))
    with pytest.raises(ConfigError, match=r"lacks array\(s\) \['y'\]"):
        data.from_npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "bad2.npz", x=np.zeros((4, 3)), y=np.array([0.5, 1, 2, 3]))
    with pytest.raises(ConfigError, match="non-negative integer labels"):
        data.from_npz(tmp_path / "bad2.npz")
    np.savez(tmp_path / "ok.npz", x=np.random.default_rng(0).normal(size=(50, 3)), y=np.arange(50) % 2)
    ds = data.from_npz(tmp_path / "ok.npz")
    assert ds.x_train.min() >= 0 and ds.x_train.max() <= 1 and len(ds.y_test) == 10


def test_tradeoff_cli_writes_table_plots_and_claims(tmp_path):
    r = subprocess.run([sys.executable, "-m", "archsim", "tradeoff", "--samples", "1,2", "--bits", "1,3,32",
                        "--epochs", "3", "--seeds", "2", "--out", str(tmp_path / "t"), "--claims",
                        str(tmp_path / "claims.md"), "--no-progress"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import pandas as pd
    table = pd.read_csv(tmp_path / "t" / "tradeoff.csv")
    assert {"model", "activation", "bits", "T", "seed", "accuracy", "energy_pj", "cycles"} <= set(table.columns)
    assert set(table[table.activation == "pbit"]["T"]) == {1, 2} and set(table.seed) == {0, 1}
    # the float baseline runs with float activations (NumPy), not as an 8-bit hardware model: no energy
    fp = table[table.activation == "float"]
    assert len(fp) == 2 and (fp.bits == 32).all() and fp.energy_pj.isna().all()
    assert table[(table.model == "float32") & (table.activation == "quantized")].noise_injected.all()
    for png in ("accuracy_vs_energy.png", "accuracy_vs_T.png"):
        assert (tmp_path / "t" / png).stat().st_size > 1000
    text = (tmp_path / "claims.md").read_text()
    assert "two samples beat the float baseline" in text and "deterministic 1-bit model" in text
    verdicts = pd.read_csv(tmp_path / "claims.csv").holds
    assert set(verdicts) <= {"yes", "no", "indistinguishable"} and len(verdicts) >= 5
    r = subprocess.run([sys.executable, "-m", "archsim", "tradeoff", "--samples", "1,x"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "--samples" in r.stderr


def test_interval_is_the_student_t_interval_and_verdicts_follow_it():
    from scipy import stats
    from archsim.train.tradeoff import _verdict, interval
    rng = np.random.default_rng(1)
    for n in (2, 3, 8, 30):
        v = rng.normal(0.9, 0.02, n)
        lo, hi = stats.t.interval(0.95, n - 1, loc=v.mean(), scale=stats.sem(v))
        assert interval(v) == pytest.approx((v.mean(), lo, hi), rel=1e-12)
    assert interval([0.5]) == (0.5, 0.5, 0.5)
    assert _verdict(0.01, 0.03) == "yes" and _verdict(-0.03, -0.01) == "no"
    assert _verdict(-0.01, 0.02) == "indistinguishable"
    assert _verdict(-0.005, 0.004, -0.01, 0.01) == "yes" and _verdict(-0.02, 0.0, -0.01, 0.01) == "indistinguishable"
