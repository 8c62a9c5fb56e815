"""Uneven output tiles: a layer whose outputs the units do not divide runs ceil(M/g) tiles, the last one partial
(loopnest.LAST_TILE), with exact counts (the loop-nest model and its brute-force oracle), the same outputs bit for
bit, and the cycles the micro-architecture's rules (hw/timing.py) give by hand. Mapping files opt in with
`remainder: last_tile`; without it a tile that does not divide its dimension stays an error."""
import copy

import numpy as np
import pandas as pd
import pytest
import yaml

from archsim import simulate
from archsim.cli import main
from archsim.engine.stepped import stepped_cycles
from archsim.mapping.loopnest import LAST_TILE, Mapping, counts
from archsim.mapping.mapfile import LayerMap
from helpers import arch, pdnn
from test_loopnest import brute_force
from test_mapping_exec import _per_operand

N_IN, M, T, BW = 20, 40, 3, 4


def _case():
    """The default building block with 16 units and a single-slot weight buffer (a tile's weights are fetched
    after the previous tile has computed: the pipeline is serial), a 40-output dense p-bit layer."""
    a = arch(**{"levels[weight_buf].double_buffered": False})
    w = pdnn([{"type": "dense", "outputs": M, "weight_bits": BW, "activation": "pbit"}], n_in=N_IN, T=T)
    return a, w


def _hand_cycles(a, g):
    """One tile of g outputs, by the rules of hw/timing.py on this architecture. Hop: weight_mem reads g rows of
    N_IN*BW bits, each row from a word boundary (one bank, one word per cycle, read latency first); the
    weight_buf register file writes combinationally. Compute, per sample: the act_mem read latency, then the
    longest of the input stream (each of the g units reads its own copy of the 1-bit inputs), the synapses'
    accumulation (inputs_per_cycle per cycle) and the RNGs' g draws; then the neuron latency and the write of
    the g output bits (write latency, then its words)."""
    wm, act = a.level("weight_mem"), a.level("act_mem")
    ceil = lambda x, y: -(-x // y)  # noqa: E731
    hop = wm.read_latency_cycles + g * ceil(N_IN * BW, wm.word_bits) * wm.cycles_per_access
    stream = g * ceil(N_IN, act.word_bits) * act.cycles_per_access
    accumulate = ceil(N_IN, a.synapse.inputs_per_cycle)
    rng = ceil(g * a.rng.bits_per_draw, a.rng.count * a.rng.bits_per_cycle)
    write = act.write_latency_cycles + ceil(g, act.word_bits) * act.cycles_per_access
    sample = act.read_latency_cycles + max(stream, accumulate, rng) + a.neuron.latency_cycles + write
    return hop + T * sample


def test_forty_outputs_on_sixteen_units_run_three_tiles():
    a, w = _case()
    assert min(a.synapse.count, a.neuron.count) == 16
    result = simulate(a, w, "timing")
    lp = result.plan.layers[0]
    tiles = result.plan.tiles(0, lp)
    assert [(t.o0, t.o1, t.units) for t in tiles] == [(0, 16, 16), (16, 32, 16), (32, 40, 8)]
    assert lp.layer_map.mapping.remainder == LAST_TILE and lp.group == 16
    # serial pipeline: each tile's hop, then its compute
    assert result.cycles == sum(_hand_cycles(a, g) for g in (16, 16, 8))
    assert result.cycles == stepped_cycles(a, result.plan) == simulate(a, w, "timing", batch=False).cycles
    assert simulate(a, w, "functional").cycles == result.cycles
    # counts: the ledger, the count model and the literal walk of the uneven nest
    op, levels, mapping = lp.nest
    oracle = _per_operand(brute_force(op, levels, mapping))
    assert oracle == _per_operand(counts(op, levels, mapping))
    for (level, operand, action), n in oracle.items():
        assert result.ledger.get(level, action, 0, operand) == n, (level, operand, action)
    # the same outputs as tiles that divide the outputs (5 of 8), bit for bit
    keep = lp.layer_map.keep
    even = Mapping(((), (("M", 5),), (), (("T", T), ("C", N_IN))), {"M": 8})
    exact = simulate(a, w, "timing", mapping={0: LayerMap(0, keep, even, "five tiles of 8")})
    assert [t.units for t in exact.plan.tiles(0, exact.plan.layers[0])] == [8] * 5
    np.testing.assert_array_equal(result.outputs, exact.outputs)
    assert exact.cycles == 5 * _hand_cycles(a, 8)


def test_outputs_that_divide_keep_their_tiles():
    """64 outputs on 16 units: four full tiles, no remainder part."""
    a, _ = _case()
    w = pdnn([{"type": "dense", "outputs": 64, "weight_bits": BW, "activation": "pbit"}], n_in=N_IN, T=T)
    plan = simulate(a, w).plan
    assert [t.units for t in plan.tiles(0, plan.layers[0])] == [16] * 4


def test_a_prime_output_count_runs_full_tiles():
    """17 outputs on 16 units: a tile of 16 and one of 1 (no longer 17 tiles of one output)."""
    a, _ = _case()
    w = pdnn([{"type": "dense", "outputs": 17, "weight_bits": BW, "activation": "pbit"}], n_in=N_IN, T=T)
    result = simulate(a, w, "timing")
    tiles = result.plan.tiles(0, result.plan.layers[0])
    assert [t.units for t in tiles] == [16, 1]
    assert result.cycles == _hand_cycles(a, 16) + _hand_cycles(a, 1) == stepped_cycles(a, result.plan)


FILE = {"schema_version": 1, "kind": "mapping", "layers": [{"layer": 0, "levels": [
    {"name": "weight_mem", "keep": ["weights"], "loops": [["M", 3]]},
    {"name": "act_mem", "keep": ["inputs", "outputs"], "loops": []},
    {"name": "weight_buf", "keep": ["weights"], "loops": [["T", T], ["C", N_IN]]}], "spatial": {"M": 16}}]}


def _run_file(tmp_path, doc, capsys):
    (tmp_path / "w.yaml").write_text(yaml.safe_dump({
        "schema_version": 1, "kind": "pdnn", "name": "forty", "samples": T, "seed": 7,
        "input": {"size": N_IN, "bits": 1},
        "layers": [{"type": "dense", "outputs": M, "weight_bits": BW, "activation": "pbit"}]}))
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(doc))
    out = tmp_path / "out"
    code = main(["run", "--workload", str(tmp_path / "w.yaml"), "--mapping", str(tmp_path / "m.yaml"), "--out",
                 str(out), "--no-progress"])
    return code, capsys.readouterr().err, out


def test_a_mapping_file_opts_in_to_a_partial_last_tile(tmp_path, capsys):
    code, err, out = _run_file(tmp_path, FILE, capsys)
    assert code == 2 and "m.yaml" in err and "dimension M = 40, but the mapping's factors multiply to 48" in err
    assert "remainder: last_tile" in err and "Traceback" not in err and not out.exists()
    doc = copy.deepcopy(FILE)
    doc["layers"][0]["remainder"] = "last_tile"
    code, err, out = _run_file(tmp_path, doc, capsys)
    assert code == 0, err
    plan = pd.read_csv(out / "plan.csv")
    assert "remainder: last_tile" in plan.reason[0]


@pytest.mark.parametrize("edit, message", [
    ({"remainder": "round_up"}, r"layers\[0\].remainder: 'round_up'; allowed: exact, last_tile"),
    ({"remainder": "last_tile", "spatial": {"M": 8}}, r"ceil\(40/8\) = 5 tiles, but the temporal M loops multiply "
                                                      r"to 3"),
])
def test_bad_remainders_name_the_field(tmp_path, capsys, edit, message):
    import re
    doc = copy.deepcopy(FILE)
    doc["layers"][0].update(edit)
    code, err, out = _run_file(tmp_path, doc, capsys)
    assert code == 2 and "m.yaml" in err and re.search(message, err), err
    assert not out.exists()


def test_an_uneven_mapping_round_trips_through_its_file():
    """mapfile.document writes `remainder: last_tile`; loading the document gives the same mapping back."""
    from archsim.mapping import mapfile
    from archsim.mapping.hierarchy import pdnn_levels
    a, w = _case()
    lm = simulate(a, w).plan.layers[0].layer_map
    names = [lv.name for lv in pdnn_levels(a)]
    doc = mapfile.document({0: lm}, names)
    assert doc["layers"][0]["remainder"] == "last_tile"
    back = mapfile.load("<doc>", a, lambda _: doc)[0]
    assert back.mapping == lm.mapping and back.keep == lm.keep
