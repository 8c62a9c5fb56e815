"""The engine: a pure planner (tiles and loop order), functional and SimPy timing execution, simulate()."""
