"""The exceptions archsim raises for bad input or impossible runs; the CLI turns them into one message."""


class ArchsimError(Exception):
    """Base class: a user-facing problem with a clear message (CLI exit status 2)."""


class ConfigError(ArchsimError):
    """One or more problems in a config or workload file, each naming file, field, value and what is allowed."""

    def __init__(self, file, problems):
        self.file = str(file)
        self.problems = list(problems)
        lines = [f"{self.file}: {len(self.problems)} problem(s)"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class MappingError(ArchsimError):
    """A workload cannot be mapped onto the architecture (e.g. multi-bit inputs on accumulate-only synapses)."""


class OverflowError_(ArchsimError):
    """An integer accumulator or output exceeded its declared width during the run."""
