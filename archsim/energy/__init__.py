"""Energy: the ledger priced by the architecture's energy table (table.py) and the closed-form eps_EO
model (analytic.py, the only place that uses the paper's symbols)."""
