"""DDR4 for the trace exporters: speed bins from a sourced data file, the burst address map, and a legal
command schedule (what DRAMPower reads).

Address map of a byte address, low bits first (bank groups interleaved per burst, so a sequential stream
alternates bank groups at tCCD_S): burst offset | bank group | column (burst within the row) | bank | rank | row.

The scheduler is an in-order open-page controller on one channel: one command per DRAM clock on the command
bus, each request's commands (PRE of another open row, ACT, then RD or WR) at the earliest clock that meets
every constraint below, never before the request arrives. All-bank refresh: each rank gets a REFA every tREFI
(its open banks precharged first), and no ACT before tRFC has passed. Constraints (nCK, from the speed bin):
ACT-ACT same bank tRC, same rank tRRD_L (same bank group) / tRRD_S, at most four ACTs per rank in tFAW;
PRE-ACT tRP; ACT-RD/WR tRCD; ACT-PRE tRAS; RD-PRE tRTP; WR-PRE CWL + BL/2 + tWR; column to column in a rank
tCCD_L (same bank group) / tCCD_S; WR-RD CWL + BL/2 + tWTR_L / tWTR_S; RD-WR CL + BL/2 + 2 - CWL; column
commands of different ranks BL/2 + 2 apart (rank switch); REFA-ACT tRFC."""
from collections import deque
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

import yaml

from ..errors import ArchsimError


@dataclass(frozen=True)
class DDR4:
    """One DDR4 channel: a speed bin's timings in DRAM clocks and the organisation."""
    speed_bin: str
    tCK_ps: int
    nBL: int
    nCL: int
    nCWL: int
    nRCD: int
    nRP: int
    nRAS: int
    nRC: int
    nWR: int
    nRTP: int
    nCCD_S: int
    nCCD_L: int
    nRRD_S: int
    nRRD_L: int
    nWTR_S: int
    nWTR_L: int
    nFAW: int
    nRFC: int
    nREFI: int
    ranks: int
    bank_groups: int
    banks_per_group: int
    rows: int
    columns: int
    burst_bytes: int
    burst_length: int

    @property
    def clock_hz(self):
        return 1e12 / self.tCK_ps

    @property
    def n_rank_switch(self):
        return self.nBL + 2

    @property
    def n_read_to_write(self):
        return self.nCL + self.nBL + 2 - self.nCWL

    @property
    def n_write_to_precharge(self):
        return self.nCWL + self.nBL + self.nWR

    def n_write_to_read(self, same_group):
        return self.nCWL + self.nBL + (self.nWTR_L if same_group else self.nWTR_S)

    def decode(self, byte_address):
        """(rank, bank group, bank within the group, row, column) of a byte address."""
        b = byte_address // self.burst_bytes
        b, bg = divmod(b, self.bank_groups)
        b, col = divmod(b, self.columns // self.burst_length)
        b, bank = divmod(b, self.banks_per_group)
        row, rank = divmod(b, self.ranks)
        if row >= self.rows:
            raise ArchsimError(f"byte address {byte_address:#x} is beyond the DRAM's capacity ({self.ranks} rank(s) "
                               f"of {self.bank_groups * self.banks_per_group} banks x {self.rows} rows x "
                               f"{self.columns} columns)")
        return rank, bg, bank, row, col * self.burst_length


@lru_cache(maxsize=1)
def _data():
    return yaml.safe_load(resources.files("archsim.config").joinpath("ddr4-speed-bins.yaml").read_text())


def speed_bins():
    return tuple(_data()["speed_bins"])


def jedec_cycles(ns, tCK_ps):
    """A time in ns as clocks with JEDEC's rounding, as Ramulator 2's JEDEC_rounding (base/utils.cpp) does it."""
    return (int(ns * 1000) * 1000 // tCK_ps + 974) // 1000


def ddr4(speed_bin="DDR4_1600K", ranks=None, bank_groups=None, banks_per_group=None):
    """The DDR4 channel of a speed bin in the data file; organisation fields default to the file's."""
    data = _data()
    if speed_bin not in data["speed_bins"]:
        raise ArchsimError(f"--speed-bin {speed_bin!r}; allowed: {', '.join(data['speed_bins'])}")
    t = dict(zip(data["columns"], data["speed_bins"][speed_bin]))
    org = data["organization"]
    for name, value in (("ranks", ranks), ("bank_groups", bank_groups), ("banks_per_group", banks_per_group)):
        if value is not None and value <= 0:
            raise ArchsimError(f"--{name.replace('_', '-')} {value}: must be a positive integer")
    dev = DDR4(speed_bin=speed_bin, **t, nRFC=jedec_cycles(org["refresh_ns"]["tRFC"], t["tCK_ps"]),
               nREFI=jedec_cycles(org["refresh_ns"]["tREFI"], t["tCK_ps"]), ranks=org["ranks"],
               bank_groups=org["bank_groups"], banks_per_group=org["banks_per_group"], rows=org["rows"],
               columns=org["columns"], burst_bytes=org["channel_width_bits"] * org["burst_length"] // 8,
               burst_length=org["burst_length"])
    return replace(dev, **{k: v for k, v in (("ranks", ranks), ("bank_groups", bank_groups),
                                             ("banks_per_group", banks_per_group)) if v is not None})


class Scheduler:
    """Turns (arrival clock, is_write, byte address) requests, in arrival order, into DDR4 commands
    (clock, command, rank, bank group, bank within the rank, row, column), in clock order."""

    def __init__(self, dev):
        self.dev = dev
        self.t = -1                                  # clock of the last command on the bus
        n = dev.bank_groups * dev.banks_per_group
        self.open_row = [[None] * n for _ in range(dev.ranks)]
        self.act = [[-10**9] * n for _ in range(dev.ranks)]
        self.pre_ready = [[0] * n for _ in range(dev.ranks)]     # earliest PRE (tRAS, tRTP, write recovery)
        self.act_ready = [[0] * n for _ in range(dev.ranks)]     # earliest ACT (tRP, tRC)
        self.faw = [deque(maxlen=4) for _ in range(dev.ranks)]
        self.last_act = [(-10**9, -1)] * dev.ranks              # (clock, bank group)
        self.ref_until = [0] * dev.ranks
        self.next_ref = [dev.nREFI] * dev.ranks
        self.last_col = None                                    # (clock, rank, bank group, is_write)
        self.last_wr = [[-10**9] * dev.bank_groups for _ in range(dev.ranks)]
        self.out = []

    def _issue(self, earliest, cmd, rank, bg, bank, row, col):
        self.t = max(earliest, self.t + 1)
        self.out.append((self.t, cmd, rank, bg, bg * self.dev.banks_per_group + bank, row, col))
        return self.t

    def _precharge(self, rank, b):
        d = self.dev
        bg, bank = divmod(b, d.banks_per_group)
        t = self._issue(self.pre_ready[rank][b], "PRE", rank, bg, bank, self.open_row[rank][b], 0)
        self.open_row[rank][b] = None
        self.act_ready[rank][b] = max(self.act_ready[rank][b], t + d.nRP)

    def _refresh(self, rank):
        d = self.dev
        for b, row in enumerate(self.open_row[rank]):
            if row is not None:
                self._precharge(rank, b)
        t = self._issue(max([self.next_ref[rank]] + self.act_ready[rank]), "REFA", rank, 0, 0, 0, 0)
        self.ref_until[rank] = t + d.nRFC
        self.next_ref[rank] += d.nREFI

    def refresh_until(self, clock):
        """Issue every refresh due up to `clock`, in due order."""
        while True:
            rank = min(range(self.dev.ranks), key=self.next_ref.__getitem__)
            if self.next_ref[rank] > clock:
                return
            self._refresh(rank)

    def _activate(self, arrival, rank, bg, bank, row):
        d, b = self.dev, bg * self.dev.banks_per_group + bank
        t_last, bg_last = self.last_act[rank]
        earliest = max(arrival, self.act_ready[rank][b], self.ref_until[rank],
                       t_last + (d.nRRD_L if bg_last == bg else d.nRRD_S))
        if len(self.faw[rank]) == 4:
            earliest = max(earliest, self.faw[rank][0] + d.nFAW)
        self.refresh_until(earliest)
        earliest = max(earliest, self.act_ready[rank][b], self.ref_until[rank])
        t = self._issue(earliest, "ACT", rank, bg, bank, row, 0)
        self.faw[rank].append(t)
        self.last_act[rank] = (t, bg)
        self.open_row[rank][b] = row
        self.act[rank][b] = t
        self.act_ready[rank][b] = t + d.nRC
        self.pre_ready[rank][b] = t + d.nRAS

    def _column_earliest(self, rank, bg, is_write):
        d = self.dev
        if self.last_col is None:
            return 0
        t, r, g, w = self.last_col
        if r != rank:
            gap = d.n_read_to_write if is_write and not w else d.n_rank_switch
        elif w == is_write:
            gap = d.nCCD_L if g == bg else d.nCCD_S
        elif is_write:
            gap = d.n_read_to_write
        else:
            gap = d.n_write_to_read(g == bg)
        earliest = t + gap
        if not is_write:  # tWTR counts from every earlier write of the rank, not only the last column command
            earliest = max([earliest] + [tw + d.n_write_to_read(g2 == bg) for g2, tw in enumerate(self.last_wr[rank])])
        return earliest

    def request(self, arrival, is_write, byte_address):
        d = self.dev
        rank, bg, bank, row, col = d.decode(byte_address)
        b = bg * d.banks_per_group + bank
        self.refresh_until(max(arrival, self.t + 1))
        if self.open_row[rank][b] not in (None, row):
            self._precharge(rank, b)
        if self.open_row[rank][b] is None:
            self._activate(arrival, rank, bg, bank, row)
        earliest = max(arrival, self.act[rank][b] + d.nRCD, self._column_earliest(rank, bg, is_write))
        t = self._issue(earliest, "WR" if is_write else "RD", rank, bg, bank, row, col)
        self.last_col = (t, rank, bg, is_write)
        if is_write:
            self.last_wr[rank][bg] = t
            self.pre_ready[rank][b] = max(self.pre_ready[rank][b], t + d.n_write_to_precharge)
        else:
            self.pre_ready[rank][b] = max(self.pre_ready[rank][b], t + d.nRTP)

    def take(self):
        """The commands issued so far (and forget them)."""
        out, self.out = self.out, []
        return out
