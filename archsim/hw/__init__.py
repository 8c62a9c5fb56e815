"""Hardware components. Each counts its accesses into the ledger in the same method that returns the cycles
they take; timing mode spends those cycles in SimPy, functional mode only sums them."""
