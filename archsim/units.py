"""The only place that parses unit strings: sizes ("256KiB", "64b"), energies ("0.12pJ"), frequencies ("200MHz"),
bandwidths ("12.8GB/s"). Each parser accepts a plain number (already in the base unit) or a string."""
import math
import re

_NUM = r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

_SIZE_BITS = {"b": 1, "bit": 1, "bits": 1, "B": 8, "byte": 8, "bytes": 8,
              "Kib": 1024, "KiB": 8 * 1024, "Mib": 1024**2, "MiB": 8 * 1024**2, "Gib": 1024**3, "GiB": 8 * 1024**3,
              "kb": 1000, "kB": 8000, "KB": 8 * 1024, "Mb": 10**6, "MB": 8 * 10**6, "Gb": 10**9, "GB": 8 * 10**9}
_ENERGY_PJ = {"aJ": 1e-6, "fJ": 1e-3, "pJ": 1.0, "nJ": 1e3, "uJ": 1e6, "mJ": 1e9, "J": 1e12}
_FREQ_HZ = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}



def _split(text, table, what):
    m = re.fullmatch(r"\s*" + _NUM + r"\s*([A-Za-z/]*)\s*", str(text))
    if not m:
        raise ValueError(f"{text!r} is not a {what}; expected a number followed by one of {', '.join(sorted(table))}")
    value, unit = float(m.group(1)), m.group(2)
    if unit not in table:
        raise ValueError(f"{text!r}: unknown unit {unit!r} for a {what}; allowed: {', '.join(sorted(table))}")
    return _finite(value * table[unit], text, what)


def _finite(value, text, what):
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite {what}")
    return value


def _plain(text, what):
    """A plain number (already in the base unit), or None for a string to parse; bools are not numbers."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a {what}")
    if isinstance(text, (int, float)):
        return _finite(float(text), text, what) if isinstance(text, float) else text
    return None


def parse_bits(text):
    """'256KiB' -> 2097152 (bits). Integers are taken as bits. Fractional bit counts are rejected."""
    plain = _plain(text, "size")
    if isinstance(plain, int):
        return plain
    bits = _split(text, _SIZE_BITS, "size") if plain is None else plain
    if bits != int(bits):
        raise ValueError(f"{text!r} is not a whole number of bits")
    return int(bits)


def parse_pj(text):
    """'0.12pJ' -> 0.12; '350aJ' -> 0.00035. Plain numbers are taken as pJ."""
    plain = _plain(text, "energy")
    return float(plain) if plain is not None else _split(text, _ENERGY_PJ, "energy")


def parse_hz(text):
    """'200MHz' -> 2e8. Plain numbers are taken as Hz."""
    plain = _plain(text, "frequency")
    return float(plain) if plain is not None else _split(text, _FREQ_HZ, "frequency")


def parse_bits_per_s(text):
    """'12.8GB/s' -> 1.024e11 bits/s. Plain numbers are taken as bits/s."""
    plain = _plain(text, "bandwidth")
    if plain is not None:
        return float(plain)
    m = re.fullmatch(r"\s*(.*?)\s*/s\s*", str(text))
    if not m:
        raise ValueError(f"{text!r} is not a bandwidth; expected e.g. '12.8GB/s' or '25.6Gb/s'")
    return _split(m.group(1), _SIZE_BITS, "bandwidth")

