"""Bit-exact integer kernels (Numba) and their NumPy oracles (reference.py). Imports nothing else from archsim."""
