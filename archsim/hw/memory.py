"""A word-organised, banked memory (register file, SRAM or DRAM) that counts bits and words per access."""
from .timing import ceil_div, transfer_cycles


class Memory:
    def __init__(self, name, spec, ledger):
        self.name, self.spec, self.ledger = name, spec, ledger

    def words(self, row_bits, rows=1):
        """Words for `rows` rows of `row_bits` bits each, every row starting on a word boundary."""
        return rows * ceil_div(row_bits, self.spec.word_bits)

    def read(self, layer, bits, words, repeat=1):
        """Count `repeat` read transactions of `bits` bits in `words` words; return the cycles of one."""
        self.ledger.add(layer, self.name, "read_bits", repeat * bits)
        self.ledger.add(layer, self.name, "read_words", repeat * words)
        s = self.spec
        return transfer_cycles(words, s.read_latency_cycles, s.banks, s.cycles_per_access)

    def write(self, layer, bits, words, repeat=1):
        """Count `repeat` write transactions of `bits` bits in `words` words; return the cycles of one."""
        self.ledger.add(layer, self.name, "write_bits", repeat * bits)
        self.ledger.add(layer, self.name, "write_words", repeat * words)
        s = self.spec
        return transfer_cycles(words, s.write_latency_cycles, s.banks, s.cycles_per_access)
