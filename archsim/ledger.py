"""Exact integer counts by (layer, component, action, operand). The only mutable record of what a run did.
`operand` names what a memory level moved (weights, inputs, outputs, couplings, states); datapath counts leave
it empty."""
from collections import defaultdict

COLUMNS = ["layer", "component", "action", "operand", "count"]


class Ledger:
    def __init__(self):
        self._counts = defaultdict(int)

    def add(self, layer, component, action, count, operand=""):
        count = int(count)
        if count < 0:
            raise ValueError(f"negative count {count} for {component}.{action}")
        self._counts[(int(layer), component, action, operand)] += count

    def get(self, component, action, layer=None, operand=None):
        """The count summed over layers (unless `layer`) and operands (unless `operand`)."""
        return sum(v for (l, c, a, o), v in self._counts.items()
                   if c == component and a == action and (layer is None or l == layer)
                   and (operand is None or o == operand))

    def items(self):
        return sorted(self._counts.items())

    def frame(self):
        import pandas as pd  # only where a table is built: simulating needs plain dicts, not pandas
        rows = [(*key, v) for key, v in self.items()]
        return pd.DataFrame(rows, columns=COLUMNS).astype({"count": "int64"})
