"""Energy per (layer, component, action): the architecture's per-action energies (each with its source)
times the ledger's counts. Actions that carry no energy of their own (words, sample counters) price at 0."""
import pandas as pd


def unit_energies(arch, lp):
    """{(component, action): (pJ per unit, source)} for one layer (synapse energies depend on its widths): each
    memory level's bits read and written, the synapse's adds (bit-serial adds cost one accumulator-width add
    each) or MACs, neuron evaluations, RNG draws and pooling operations."""
    s, n = arch.synapse, arch.neuron
    add = s.add_pj_per_bit.value * s.accumulator_bits
    mac = s.mul_pj_per_bit2.value * lp.ba_in * lp.bw + add
    out = {}
    for lv in arch.levels:
        out[(lv.name, "read_bits")] = (lv.read_pj_per_bit.value, lv.read_pj_per_bit.source)
        out[(lv.name, "write_bits")] = (lv.write_pj_per_bit.value, lv.write_pj_per_bit.source)
    return {
        **out,
        ("synapse", "adds"): (add, f"{s.accumulator_bits}-bit add: {s.add_pj_per_bit.source}"),
        ("synapse", "macs"): (mac, f"{lp.ba_in}x{lp.bw}-bit multiply + {s.accumulator_bits}-bit add: "
                                   f"{s.mul_pj_per_bit2.source}; {s.add_pj_per_bit.source}"),
        ("neuron", "samples"): (n.compare_pj.value, n.compare_pj.source),
        ("rng", "draws"): arch.rng.draw_energy,
        ("pool", "ops"): (s.add_pj_per_bit.value * lp.ba_out, f"{lp.ba_out}-bit compare/add: "
                                                              f"{s.add_pj_per_bit.source}"),
    }


def energy_frame(arch, plan, ledger):
    """Tidy table: layer, component, action, operand, count, pj_per_unit, energy_pj, source."""
    units = {lp.index: unit_energies(arch, lp) for lp in plan.layers}
    rows = []
    for (layer, comp, action, operand), count in ledger.items():
        pj, source = units[layer].get((comp, action), (0.0, "count only: no energy of its own"))
        rows.append((layer, comp, action, operand, count, pj, count * pj, source))
    return pd.DataFrame(rows, columns=["layer", "component", "action", "operand", "count", "pj_per_unit",
                                       "energy_pj", "source"])


def energy_by_component(frame):
    return {k: float(v) for k, v in frame.groupby("component")["energy_pj"].sum().items()}
