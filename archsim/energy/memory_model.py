"""Per-bit SRAM read energy as a function of capacity and word width, fitted through sourced points.

The points (capacity, energy per read of `word_bits`, citation) live in a data file (data/sram_45nm.yaml:
Horowitz's 8 KB, 32 KB and 1 MB reads), never in code. The fit is a piecewise power law: between sourced
points (C_i, E_i) and (C_j, E_j), E(C) = E_i * (C / C_i)**k with k = log(E_j / E_i) / log(C_j / C_i), so it
passes through every point exactly and is monotone in capacity when the points are. Outside the sourced span
the nearest segment's exponent extrapolates (a CACTI-like square-root growth: bitlines lengthen with the
array).

Uncertainty band: the hull of E_p * (C / C_p)**k over the sourced points p that bracket C (the nearest one
outside the span) and every segment exponent k of the fit. It is zero at a sourced point and widens with the
spread of the exponents elsewhere; the sources state no range of their own.

Word width: the sources give one width. The energy per bit read is taken independent of the word width (an
assumption, not a fit: bitline and sense energy scale with the bits read, the decoder's share is ignored),
so the width only converts between energy per access and per bit (`read_pj_per_access`)."""
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import units

DEFAULT_POINTS = Path(__file__).with_name("data") / "sram_45nm.yaml"


@dataclass(frozen=True)
class MemoryPoints:
    capacity_bits: tuple        # increasing
    read_pj_per_bit: tuple
    word_bits: int
    citation: str

    @property
    def exponents(self):
        return tuple(math.log(self.read_pj_per_bit[i + 1] / self.read_pj_per_bit[i])
                     / math.log(self.capacity_bits[i + 1] / self.capacity_bits[i])
                     for i in range(len(self.capacity_bits) - 1))


def load_points(path=DEFAULT_POINTS) -> MemoryPoints:
    data = yaml.safe_load(Path(path).read_text())
    word = int(data["word_bits"])
    pts = sorted((units.parse_bits(p["capacity"]), float(p["read_pj"]) / word) for p in data["points"])
    if len(pts) < 2 or len({c for c, _ in pts}) != len(pts):
        raise ValueError(f"{path}: points need at least two distinct capacities")
    return MemoryPoints(tuple(c for c, _ in pts), tuple(e for _, e in pts), word, data["citation"])


def _bracket(points, capacity_bits):
    """Indices of the sourced points around the capacity (one index at or outside the span's ends)."""
    caps = points.capacity_bits
    if capacity_bits in caps:
        return (caps.index(capacity_bits),)
    if capacity_bits < caps[0]:
        return (0,)
    if capacity_bits > caps[-1]:
        return (len(caps) - 1,)
    j = next(i for i, c in enumerate(caps) if c > capacity_bits)
    return (j - 1, j)


def read_pj_per_bit(points: MemoryPoints, capacity_bits: float) -> float:
    """The fit: exact at the sourced points, a power law between them, the end segments' exponents outside."""
    caps, k = points.capacity_bits, points.exponents
    anchor = max(sum(c <= capacity_bits for c in caps) - 1, 0)  # the largest sourced point at or below
    return points.read_pj_per_bit[anchor] * (capacity_bits / caps[anchor]) ** k[min(anchor, len(k) - 1)]


def read_pj_per_bit_band(points: MemoryPoints, capacity_bits: float):
    """(low, high) energy per bit: hull of the bracketing points extrapolated with every segment exponent."""
    values = [points.read_pj_per_bit[p] * (capacity_bits / points.capacity_bits[p]) ** k
              for p in _bracket(points, capacity_bits) for k in points.exponents]
    return min(values), max(values)


def read_pj_per_access(points: MemoryPoints, capacity_bits: float, word_bits: int) -> float:
    return read_pj_per_bit(points, capacity_bits) * word_bits
