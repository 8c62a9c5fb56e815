"""The memory model's fit passes through its sourced points exactly (read from its data file), grows with
capacity, and its band holds the fit and closes at the sourced points."""
import numpy as np
import yaml

from archsim import units
from archsim.energy import memory_model


def test_fit_passes_through_the_sourced_points_exactly():
    data = yaml.safe_load(memory_model.DEFAULT_POINTS.read_text())
    points = memory_model.load_points()
    assert data["citation"] and len(data["points"]) >= 2
    for p in data["points"]:
        capacity = units.parse_bits(p["capacity"])
        assert memory_model.read_pj_per_access(points, capacity, data["word_bits"]) == p["read_pj"]
        assert memory_model.read_pj_per_bit_band(points, capacity) == (p["read_pj"] / data["word_bits"],) * 2


def test_fit_is_monotone_in_capacity_and_inside_its_band():
    points = memory_model.load_points()
    capacities = np.geomspace(points.capacity_bits[0] / 8, points.capacity_bits[-1] * 64, 400)
    fit = [memory_model.read_pj_per_bit(points, c) for c in capacities]
    assert all(b > a for a, b in zip(fit, fit[1:]))
    for c, e in zip(capacities, fit):
        lo, hi = memory_model.read_pj_per_bit_band(points, c)
        assert lo <= e * (1 + 1e-12) and e <= hi * (1 + 1e-12)


def test_per_bit_energy_is_independent_of_the_word_width():
    points = memory_model.load_points()
    c = 3 * points.capacity_bits[0]
    assert memory_model.read_pj_per_access(points, c, 128) == 2 * memory_model.read_pj_per_access(points, c, 64)
