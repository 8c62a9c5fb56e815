"""A word-organised, banked memory (register file, SRAM or DRAM) that counts bits and words per access and,
when tracing, records each transaction (word address, bank) for the trace writer."""
from .timing import ceil_div, transfer_cycles


class Memory:
    def __init__(self, name, spec, ledger):
        self.name, self.spec, self.ledger = name, spec, ledger
        self.pending = None  # a list while tracing: transactions not yet stamped with their phase's cycles

    def words(self, row_bits, rows=1):
        """Words for `rows` rows of `row_bits` bits each, every row starting on a word boundary."""
        return rows * ceil_div(row_bits, self.spec.word_bits)

    def _access(self, layer, action, bits, words, repeat, address, rows):
        self.ledger.add(layer, self.name, f"{action}_bits", repeat * bits)
        self.ledger.add(layer, self.name, f"{action}_words", repeat * words)
        if self.pending is not None:
            self.pending.append((self.name, action, address % self.spec.banks, address, bits, words, rows, repeat))
        s = self.spec
        latency = s.read_latency_cycles if action == "read" else s.write_latency_cycles
        return transfer_cycles(words, latency, s.banks, s.cycles_per_access)

    def read(self, layer, bits, words, repeat=1, address=0, rows=1):
        """Count `repeat` read transactions of `bits` bits in `words` words; return the cycles of one."""
        return self._access(layer, "read", bits, words, repeat, address, rows)

    def write(self, layer, bits, words, repeat=1, address=0, rows=1):
        """Count `repeat` write transactions of `bits` bits in `words` words; return the cycles of one."""
        return self._access(layer, "write", bits, words, repeat, address, rows)
