"""Exact integer counts by (layer, component, action). The only mutable record of what a run did."""
from collections import defaultdict

import pandas as pd


class Ledger:
    def __init__(self):
        self._counts = defaultdict(int)

    def add(self, layer, component, action, count):
        count = int(count)
        if count < 0:
            raise ValueError(f"negative count {count} for {component}.{action}")
        self._counts[(int(layer), component, action)] += count

    def get(self, component, action, layer=None):
        return sum(v for (l, c, a), v in self._counts.items()
                   if c == component and a == action and (layer is None or l == layer))

    def items(self):
        return sorted(self._counts.items())

    def frame(self):
        rows = [(l, c, a, v) for (l, c, a), v in self.items()]
        return pd.DataFrame(rows, columns=["layer", "component", "action", "count"]).astype({"count": "int64"})
