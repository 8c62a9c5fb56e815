"""Training p-DNNs and deterministic baselines (NumPy), exported as the integer workloads the simulator runs."""
