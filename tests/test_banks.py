"""Memory banks: a transaction costs latency + (words on its busiest bank) x occupancy, word-interleaved (word
address a on bank a mod banks). Oracles: the cycle-stepped reference's per-bank queues (engine/stepped.py), and
closed forms derived by hand below. Banks change cycles only, never counts."""
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim import load_arch, load_workload, simulate
from archsim.engine.stepped import _Transfer, stepped_cycles
from archsim.hw.memory import Memory
from archsim.hw.timing import transfer_cycles
from archsim.ledger import Ledger
from archsim.trace.reader import read_chunks
from archsim.trace.replay import replay
from helpers import arch, pdnn

runs = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30), st.integers(1, 4)), min_size=1, max_size=5)


def stepped_transfer(runs, latency, banks, occupancy):
    transfer, cycles = _Transfer(runs, latency, banks, occupancy), 0
    while not transfer.done():
        transfer.step()
        cycles += 1
    return cycles


def closed_form_agrees_with_the_stepped_banks(runs, latency, banks, occupancy):
    assert transfer_cycles(runs, latency, banks, occupancy) == stepped_transfer(runs, latency, banks, occupancy)


cases = (runs, st.integers(0, 5), st.integers(1, 12), st.integers(0, 4))


@given(*cases)
def test_closed_form_agrees_with_the_stepped_banks(runs, latency, banks, occupancy):
    """Random runs (gathers, overlapping and repeated rows), bank counts, latencies and occupancies."""
    closed_form_agrees_with_the_stepped_banks(runs, latency, banks, occupancy)


@pytest.mark.slow
@settings(max_examples=5000)
@given(*cases)
def test_closed_form_agrees_with_the_stepped_banks_on_many_cases(runs, latency, banks, occupancy):
    closed_form_agrees_with_the_stepped_banks(runs, latency, banks, occupancy)


@given(st.integers(0, 10_000), st.integers(1, 200), st.integers(1, 4), st.integers(1, 16), st.integers(0, 5),
       st.integers(1, 4))
def test_a_contiguous_stream_keeps_the_interleaved_figure_wherever_it_starts(address, words, copies, banks,
                                                                             latency, occupancy):
    """w consecutive words visit the banks in turn from any start: no bank holds more than ceil(w / banks) of
    them; c copies of the row, c times that. c = 1 is the figure of perfect interleaving."""
    expected = latency + copies * -(-words // banks) * occupancy
    assert transfer_cycles(((address, words, copies),), latency, banks, occupancy) == expected
    assert stepped_transfer(((address, words, copies),), latency, banks, occupancy) == expected


def test_a_conflict_costs_cycles():
    """A 3-word input row read by 4 synapse units (each its own copy) on 4 banks, occupancy 2, latency 3: the
    row's banks b, b+1, b+2 serve 4 words each, bank b+3 none: 3 + 4 x 2 = 11 cycles, where spreading the 12
    words evenly would take 3 + 3 x 2 = 9. A 4-word row fills every bank equally: 3 + 4 x 2 = 11 = 3 +
    ceil(16 / 4) x 2. A gather of words 0, 4 and 8 (all on bank 0) takes 3 + 3 x 2 = 9; of 0, 5, 10: 3 + 2."""
    level = arch(**{"levels[act_mem].banks": 4, "levels[act_mem].cycles_per_access": 2,
                    "levels[act_mem].read_latency_cycles": 3}).level("act_mem")
    mem = Memory(level, Ledger())
    for address in range(8):
        assert mem.read(0, "inputs", 4 * 3 * 64, 12, rows=4, copies=4, address=address) == 11
        assert mem.read(0, "inputs", 4 * 4 * 64, 16, rows=4, copies=4, address=address) == 11
        assert mem.read(0, "inputs", 12 * 64, 12, rows=12, address=address) == 3 + 3 * 2  # 12 rows, one stream
    assert transfer_cycles(((0, 1, 1), (4, 1, 1), (8, 1, 1)), 3, 4, 2) == 9
    assert transfer_cycles(((0, 1, 1), (5, 1, 1), (10, 1, 1)), 3, 4, 2) == 5


def conflict_case(act_banks, T=2, batch=1):
    """One dense layer, 24 1-bit inputs -> 4 p-bit outputs on 4 synapse units, each reading its own copy of the
    3-word input row (8-bit activation words)."""
    a = arch(**{"levels[act_mem].banks": act_banks, "levels[act_mem].word_bits": 8, "synapse.count": 4,
                "neuron.count": 4, "rng.count": 4})
    w = pdnn([{"type": "dense", "outputs": 4, "weight_bits": 2, "activation": "pbit"}], n_in=24, T=T, batch=batch)
    return a, w


@pytest.mark.parametrize("banks,busiest", [(1, 12), (2, 8), (3, 4), (4, 4), (6, 4)])
def test_a_run_pays_its_conflicts_in_every_model(banks, busiest):
    """By hand, per item: one tile of 4 outputs. Its hop reads 4 weight rows of 24 x 2 = 48 bits (one 64-bit
    word each) from weight_mem (1 bank, latency 1, 1 cycle per word): 1 + 4 = 5 cycles; the register file
    writes combinationally (0). Each of T = 2 samples: read latency 1, then the longest of the input stream (4
    copies of 3 words: 4 x ceil(3 / banks) words on the busiest bank, 1 cycle each), the accumulation
    (ceil(24 / 16) = 2 cycles) and the RNGs (4 draws x 16 bits / (4 x 16 bits per cycle) = 1); then the neuron
    (1) and the write of 4 output bits (1 word: latency 1 + 1). 3-word rows on 2 banks: banks 0, 1, 0 -> 2 words
    on bank 0 per copy."""
    a, w = conflict_case(banks)
    expected = 5 + 2 * (1 + max(busiest, 2, 1) + 1 + 2)
    f, t = simulate(a, w, "functional"), simulate(a, w, "timing")
    assert f.cycles == t.cycles == stepped_cycles(a, t.plan) == expected


def test_banks_change_cycles_never_counts():
    """The packaged default with banked levels: every count is unchanged, eps_EO still met exactly."""
    from archsim.report.run import summarize
    base = simulate(load_arch(), load_workload(), "functional")
    banked = arch(**{"levels[act_mem].banks": 5, "levels[weight_mem].banks": 3})
    result = simulate(banked, load_workload(), "timing")
    assert result.ledger.items() == base.ledger.items()
    assert result.cycles == stepped_cycles(banked, result.plan)
    assert summarize(result)[0]["counts_match_analytic"]


def test_trace_banks_follow_the_mapping_and_replay_reprices_the_conflicts(tmp_path):
    """Every record's bank is its first word's, address mod the level's banks; replaying on other banks gives
    the cycles that architecture simulates (the input stream dominates every sample here, so replay's first-
    order stretch of the compute phase is exact)."""
    a, w = conflict_case(3, T=3, batch=2)
    path = tmp_path / "t.csv"
    result = simulate(a, w, "timing", trace=str(path))
    banks = {"weight_mem": a.level("weight_mem").banks, "act_mem": 3}
    seen = defaultdict(set)
    for chunk in read_chunks(path):
        for r in chunk.itertuples(index=False):
            assert r.bank == r.address % banks[r.component]
            seen[r.component].add(r.bank)
    assert seen["act_mem"] == {0, 1}  # layer 0 reads the lower half of act_mem, writes the upper (word 4096)
    assert replay(path, a)[0]["cycles"] == result.cycles
    for other in (1, 2, 4):
        b, _ = conflict_case(other, T=3, batch=2)
        assert replay(path, b)[0]["cycles"] == simulate(b, w, "timing").cycles
