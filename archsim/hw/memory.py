"""A word-organised, banked memory level (register file, SRAM or DRAM) that counts bits and words per access
and prices each transaction by the words it puts on each bank (word-interleaved: word address a is on bank
a mod banks; hw/timing.py), and, when tracing, records each transaction (word address, bank of its first word)
for the trace writer; and the assignment of the pipeline's stages to a level's ports."""
from ..errors import MappingError
from .timing import ceil_div, transfer_cycles

READ, WRITE = "read", "write"
BANKS = "banks"  # the resource of a level whose ports share its banks (Level.banks_shared)


class Memory:
    def __init__(self, spec, ledger):
        self.name, self.spec, self.ledger = spec.name, spec, ledger
        self.pending = None  # a list while tracing: transactions not yet stamped with their phase's cycles
        self._actions = {a: (f"{a}_bits", f"{a}_words") for a in (READ, WRITE)}
        self._cycles = {}  # (action, words, copies, first bank) -> cycles: the spec is fixed for the run

    def words(self, row_bits, rows=1):
        """Words for `rows` rows of `row_bits` bits each, every row starting on a word boundary."""
        return rows * ceil_div(row_bits, self.spec.word_bits)

    def bank(self, address):
        """The bank holding word `address` (word-interleaved)."""
        return address % self.spec.banks

    def _access(self, layer, operand, action, bits, words, repeat, address, rows, copies, stride):
        bits_action, words_action = self._actions[action]
        self.ledger.add(layer, self.name, bits_action, repeat * bits, operand)
        self.ledger.add(layer, self.name, words_action, repeat * words, operand)
        if self.pending is not None:
            self.pending.append((self.name, action, self.bank(address), address, bits, words, rows, repeat,
                                 words if stride is None else stride))
        return self.cycles(action, words, address, copies)

    def cycles(self, action, words, address=0, copies=1):
        """Cycles of one transaction: `copies` accesses of the same words // copies consecutive words from word
        `address` on (`words` in all)."""
        key = (action, words, copies, self.bank(address))
        if key not in self._cycles:
            s = self.spec
            latency = s.read_latency_cycles if action == READ else s.write_latency_cycles
            self._cycles[key] = transfer_cycles(((address, words // copies, copies),), latency, s.banks,
                                                s.occupancy_cycles)
        return self._cycles[key]

    def read(self, layer, operand, bits, words, repeat=1, address=0, rows=1, copies=1, stride=None):
        """Count `repeat` read transactions of `bits` bits of `operand` in `words` words from word `address` on
        (repeat k from address + k x stride; stride default: words, back to back); return the cycles of one.
        copies: units each reading the same words // copies words (their own copy of one row; every copy
        occupies the banks)."""
        return self._access(layer, operand, READ, bits, words, repeat, address, rows, copies, stride)

    def write(self, layer, operand, bits, words, repeat=1, address=0, rows=1, stride=None):
        """Count `repeat` write transactions of `bits` bits of `operand` in `words` words from word `address`
        on (repeat k from address + k x stride; default: words); return the cycles of one."""
        return self._access(layer, operand, WRITE, bits, words, repeat, address, rows, 1, stride)


def assign_ports(levels, needs):
    """Ports of each level given to the stages that use it. levels: {name: Level}; needs: [(stage, level name,
    READ or WRITE)] in stage order. A need takes a free port of its own direction, else a free read_write port,
    else a compatible port the same stage already holds, else it shares the compatible port with the fewest
    stages (shared ports serve their stages in program order). A level whose ports share its banks
    (Level.banks_shared: a DRAM channel's one data bus) and serves stages on more than one port adds its banks,
    (level, BANKS, 0, every stage using the level): those stages take turns on the banks, in program order, each
    for its whole duration, latency included (close for transfers, which stream after their latency; an upper
    bound for a compute stage, which also waits on its units). Returns [(level, port kind, index, {stages})]."""
    ports = {name: [[kind, k, set()] for kind in ("read", "write", "read_write")
                    for k in range(getattr(lv.ports, kind))] for name, lv in levels.items()}

    def fits(port, direction):
        return port[0] in (direction, "read_write")

    for stage, name, direction in sorted(needs, key=lambda n: n[0]):
        mine = ports[name]
        options = ([p for p in mine if p[0] == direction and not p[2]] or
                   [p for p in mine if p[0] == "read_write" and not p[2]] or
                   [p for p in mine if fits(p, direction) and stage in p[2]] or
                   sorted((p for p in mine if fits(p, direction)), key=lambda p: len(p[2])))
        if not options:
            raise MappingError(f"levels[{name}].ports: this run must {direction} the level but none of its "
                               f"ports can; give it ports.{direction} or ports.read_write")
        options[0][2].add(stage)
    out = [(name, kind, k, users) for name, mine in ports.items() for kind, k, users in mine if users]
    for name, mine in ports.items():  # ports that share the banks: the banks are one more resource, in turn
        used = [users for _, _, users in mine if users]
        if len(used) > 1 and levels[name].banks_shared:
            out.append((name, BANKS, 0, set().union(*used)))
    return out
