"""The pipeline's closed form and the layer overlap rule (hw/timing.py): a run of identical tiles scheduled at
once equals the same tiles one at a time (the plain recurrence); two single-tile layers overlap exactly as far as
the weight buffer's slots allow, against cycles worked out by hand from the micro-architecture's rules."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archsim import simulate
from archsim.engine.stepped import stepped_cycles
from archsim.hw.timing import Pipeline, Stage
from helpers import arch, pdnn


@st.composite
def stage_list(draw, n_ports):
    """1-4 stages: hops filling levels 0.. (1 or 2 slots), then compute; each stage using some of the ports."""
    hops = draw(st.integers(0, 3))
    ports = lambda: tuple(draw(st.sets(st.integers(0, n_ports - 1), max_size=2)))  # noqa: E731
    return tuple([Stage(("hop", k), ("level", k), draw(st.integers(1, 2)), ports()) for k in range(hops)] +
                 [Stage(("compute",), None, 0, ports())])


@st.composite
def pipeline_case(draw):
    """Some tiles of earlier passes (other stage lists and cycles), then a run of identical tiles."""
    n_ports = draw(st.integers(1, 3))
    before = draw(st.lists(st.tuples(stage_list(n_ports), st.lists(st.integers(0, 30), min_size=4, max_size=4)),
                           max_size=4))
    stages = draw(stage_list(n_ports))
    row = draw(st.lists(st.integers(0, 30), min_size=len(stages), max_size=len(stages)))
    return before, stages, row, draw(st.integers(1, 40))


def _state(p):
    return p.end, p.engine_free, p.port_free, {k: list(v) for k, v in p.resident.items()}


@given(pipeline_case())
def test_a_run_at_once_equals_its_tiles_one_at_a_time(case):
    before, stages, row, count = case
    at_once, each = Pipeline(), Pipeline()
    for p in (at_once, each):
        for st_, cycles in before:
            p.add(st_, cycles[:len(st_)])
    at_once.run(stages, row, count)
    for _ in range(count):
        each.add(stages, row)
    assert _state(at_once) == _state(each)


def test_the_run_is_scheduled_without_visiting_every_tile():
    """A long run reaches its steady state after a few tiles: the rest costs no more work."""
    p = Pipeline()
    calls = []
    add = p.add
    p.add = lambda *a: calls.append(1) or add(*a)
    p.run((Stage(("hop", 0), ("level", 0), 2, ()), Stage(("compute",), None, 0, ())), (3, 5), 100_000)
    assert p.end == 3 + 100_000 * 5 and len(calls) < 10


@pytest.mark.parametrize("double_buffered", [True, False])
def test_next_layer_loads_its_weights_while_this_layer_computes(double_buffered):
    """Two layers of one tile each on the default hierarchy: weights in weight_mem (one bank, 64-bit words, read
    latency 1, one word per cycle), one hop into weight_buf (a register file: written in 0 cycles), activations in
    act_mem (one port, 64-bit words, latencies 1, one word per cycle); 16 synapse units taking 16 inputs per cycle,
    16 RNGs of 16 bits per cycle, 16-bit draws, neuron latency 1; T = 4.
    Worked by hand from the rules in hw/timing.py:
      layer 1: 64 1-bit inputs, 16 p-bit outputs, 4-bit weights (a 256-bit row: 4 words, 16 rows fill one
               4096-bit slot of the 8 Kib double-buffered weight_buf)
        load L1 = 1 + 16 * 4 = 65
        sample  = read latency 1 + max(16 units x 1 input word, ceil(64 / 16) = 4 adds, 16 x 16 bits / 256 = 1)
                  + neuron 1 + write (1 + 1 word of 16 output bits) = 20;  C1 = 4 x 20 = 80
      layer 2: 16 inputs, 10 linear 24-bit outputs, 8-bit weights (a 128-bit row: 2 words)
        load L2 = 1 + 10 * 2 = 21
        sample  = 1 + max(10 input words, 1, no draws) + 1 + (1 + ceil(240 / 64) = 4) = 17;  C2 = 68
    With a barrier between the layers: L1 + C1 + L2 + C2 = 234. Double-buffered, layer 2's tile loads into the
    free slot while layer 1 computes and only its compute waits: L1 + max(C1, L2) + C2 = 213. With one slot, layer
    2's load waits for layer 1's tile to leave the buffer: the barrier's 234."""
    a = arch(**{"levels[weight_mem].read_latency_cycles": 1, "levels[weight_mem].cycles_per_access": 1,
                "levels[weight_mem].word_bits": 64, "levels[weight_mem].banks": 1,
                "levels[act_mem].read_latency_cycles": 1, "levels[act_mem].write_latency_cycles": 1,
                "levels[act_mem].cycles_per_access": 1, "levels[act_mem].word_bits": 64, "levels[act_mem].banks": 1,
                "levels[weight_buf].capacity": "8Kib", "levels[weight_buf].double_buffered": double_buffered,
                "mapping.input_broadcast": False})
    w = pdnn([{"type": "dense", "outputs": 16, "weight_bits": 4, "activation": "pbit"},
              {"type": "dense", "outputs": 10, "weight_bits": 8, "activation": "linear", "output_bits": 24}],
             n_in=64, T=4)
    L1, C1, L2, C2 = 65, 4 * 20, 21, 4 * 17
    barrier = L1 + C1 + L2 + C2
    expected = L1 + max(C1, L2) + C2 if double_buffered else barrier
    runs = [simulate(a, w, "functional"), simulate(a, w, "timing"), simulate(a, w, "timing", batch=False)]
    assert [len(runs[0].plan.tiles(0, lp)) for lp in runs[0].plan.layers] == [1, 1]
    assert [r.cycles for r in runs] + [stepped_cycles(a, runs[0].plan)] == [expected] * 4
    assert (expected < barrier) == double_buffered


def test_tile_processes_are_created_lazily(monkeypatch):
    """One process per tile when not batched, but only a few alive at once, however many tiles the run has: one
    per slot of the levels (tiles in flight), one waiting, and the one finishing that creates the next."""
    import simpy
    made, most = [], []
    original = simpy.Environment.process

    def process(env, generator):
        made.append(original(env, generator))
        most.append(sum(p.is_alive for p in made))
        return made[-1]

    monkeypatch.setattr(simpy.Environment, "process", process)
    a = arch()
    w = pdnn([{"type": "dense", "outputs": 160, "weight_bits": 4, "activation": "pbit"},
              {"type": "dense", "outputs": 10, "weight_bits": 8, "activation": "linear", "output_bits": 24}],
             n_in=64, T=2, batch=3)
    result = simulate(a, w, "timing", batch=False)
    tiles = sum(len(tiles) for _, _, tiles in result.plan.passes())
    assert len(made) == tiles > 30
    assert max(most) <= sum(lv.slots for lv in a.levels) + 2
    assert result.cycles == stepped_cycles(a, result.plan)
