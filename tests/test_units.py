import pytest

from archsim import units


@pytest.mark.parametrize("text,bits", [("256KiB", 256 * 1024 * 8), ("64b", 64), ("8Kib", 8192), ("1MB", 8e6),
                                       (4096, 4096), ("2 GiB", 2 * 2**30 * 8)])
def test_sizes(text, bits):
    assert units.parse_bits(text) == bits


def test_energies_frequencies_bandwidths():
    assert units.parse_pj("0.12pJ") == 0.12
    assert units.parse_pj("350aJ") == pytest.approx(350e-6)
    assert units.parse_pj("2.7nJ") == pytest.approx(2700)
    assert units.parse_hz("200MHz") == 2e8
    assert units.parse_bits_per_s("12.8GB/s") == pytest.approx(12.8e9 * 8)


@pytest.mark.parametrize("bad", ["12 parsecs", "KiB", "1.5b", "", "-3b"])
def test_bad_sizes_name_the_allowed_units(bad):
    with pytest.raises(ValueError) as e:
        units.parse_bits(bad)
    assert "KiB" in str(e.value) or "whole number" in str(e.value)
