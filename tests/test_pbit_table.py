"""The p-bit activation table against the formula P(1 | I) = (1 + tanh(gain * I)) / 2 itself, not against the
table the kernel and the reference share: the reported error bound is the exact worst case over every integer
I, and the Numba kernel's empirical P(1) meets the formula within that bound (exactly at bucket centres)."""
import math

import numpy as np
import pytest

from archsim.kernels import dense, tables


def formula(gain, I):
    return (1 + np.tanh(gain * np.asarray(I, dtype=np.float64))) / 2


def brute_force_error(table, gain, shift, table_bits, rng_bits, I):
    """|table probability - formula| for the integers I, indexing by round-to-nearest bucket written afresh."""
    half = 2 ** (table_bits - 1)
    idx = np.clip(np.floor((I + 2.0 ** shift / 2 * (shift > 0)) / 2.0 ** shift), -half, half - 1).astype(int) + half
    return np.abs(table[idx] / 2.0 ** rng_bits - formula(gain, I))


@pytest.mark.parametrize("fan_in, weight_bits, table_bits, rng_bits", [(256, 8, 8, 16), (64, 4, 6, 12),
                                                                        (1000, 6, 10, 20), (16, 2, 4, 8)])
def test_error_bound_is_the_worst_case_over_every_integer(fan_in, weight_bits, table_bits, rng_bits):
    gain = tables.default_gain(fan_in, weight_bits)
    shift = tables.table_shift(gain, table_bits)
    table = tables.activation_table("pbit", gain, shift, table_bits, 1, rng_bits)
    bound = tables.pbit_error_bound(table, gain, shift, table_bits, rng_bits)
    reach = 2 ** (table_bits - 1 + shift) + 2 ** shift
    far = int(12 / gain)  # |gain * I| = 12: the formula is within 1e-10 of 0 or 1 there
    I = np.arange(-max(reach, far), max(reach, far) + 1)
    worst = brute_force_error(table, gain, shift, table_bits, rng_bits, I).max()
    assert worst <= bound + 1e-15
    assert bound <= worst + 1e-9
    # the bound's parts: half a bucket at the steepest slope 1/2, the tail beyond the table, threshold rounding
    assert bound <= gain * 2 ** shift / 4 + formula(-gain, reach - 2 ** shift) + 2.0 ** -(rng_bits + 1) + 1e-15


def test_resolution_is_configurable_and_the_bound_falls_with_it():
    gain = tables.default_gain(256, 8)
    bounds = []
    for tb in (6, 8, 10, 12):
        shift = tables.table_shift(gain, tb)
        bounds.append(tables.pbit_error_bound(tables.activation_table("pbit", gain, shift, tb, 1, 20),
                                              gain, shift, tb, 20))
    assert all(b < a / 3 for a, b in zip(bounds, bounds[1:]))


def kernel_p1(I, table, table_bits, shift, rng_bits, samples, seed=7):
    """Empirical P(1) of the Numba kernel for a single neuron with pre-activation I, over `samples` draws."""
    x = np.ones((samples, 1), np.int64)
    w = np.array([[I]], np.int64)
    y = np.zeros((samples, 1), np.int64)
    lo, hi = np.zeros(1, np.int64), np.zeros(1, np.int64)
    dense.dense_tile(x, w, np.zeros(1, np.int64), False, tables.PBIT, table, table_bits, shift, 1, rng_bits, seed,
                     0, samples, 1, np.arange(samples, dtype=np.int64), 0, y, lo, hi)
    return y.mean()


@pytest.mark.parametrize("fan_in, weight_bits, table_bits", [(256, 8, 8), (64, 4, 6)])
def test_kernel_probability_matches_the_formula(fan_in, weight_bits, table_bits):
    """Z = 4.5 standard errors of N = 400,000 draws (sigma <= 0.00079): a false alarm per comparison has
    probability 7e-6. At bucket centres (I = 0 included) the allowance is the threshold rounding only, so a bias
    d is detected with probability Phi((d - 0.0036) / 0.00079): 0.999999 for the 0.0075 of the former
    bucket-midpoint table at I = 0 (8-bit weights, fan-in 256), 0.5 for d = 0.0036. Elsewhere the allowance is
    the reported bound plus 4.5 sigma."""
    N, z, rng_bits = 400_000, 4.5, 16
    gain = tables.default_gain(fan_in, weight_bits)
    shift = tables.table_shift(gain, table_bits)
    assert shift > 0  # a shifted table: buckets hold several integers
    table = tables.activation_table("pbit", gain, shift, table_bits, 1, rng_bits)
    bound = tables.pbit_error_bound(table, gain, shift, table_bits, rng_bits)
    step = 2 ** shift
    centres = [0, 3 * step, -7 * step]
    edges = [step // 2 - 1, -(step // 2), 5 * step + step // 2 - 1, 2 ** (table_bits - 1) * step * 3]
    for I in centres + edges:
        p = float(formula(gain, I))
        sigma = math.sqrt(max(p * (1 - p), 1 / N) / N)
        allowance = 2.0 ** -(rng_bits + 1) if I in centres else bound
        assert abs(kernel_p1(I, table, table_bits, shift, rng_bits, N) - p) <= allowance + z * sigma, I


def test_bound_is_reported_in_summary_and_plan():
    from archsim import load_arch, load_workload, simulate
    from archsim.report.run import summarize
    result = simulate(load_arch(), load_workload(), "functional")
    summary, frames = summarize(result)
    plan = result.plan
    expected = [tables.pbit_error_bound(lp.table, lp.gain, lp.shift, plan.table_bits, plan.rng_bits)
                for lp in plan.layers if lp.activation == "pbit"]
    assert expected and summary["pbit_p1_max_abs_error"] == max(expected)
    assert frames["plan"].pbit_p1_max_abs_error.dropna().tolist() == expected
