"""Transaction-level traces of memory traffic: written in chunks during a timing run, replayed on another
memory configuration, exported to DRAM simulators' formats."""
