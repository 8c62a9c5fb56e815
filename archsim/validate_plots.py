"""The seed paper's analyses redrawn from the simulator (`archsim validate --plots`):
  energy_per_eo_vs_T.png      energy per elementary operation against T for every scenario, with the
                              weight-memory share of it
  sample_vs_bit.png           one more sample against one more bit, SRAM and DRAM scenarios
  fpga_gain.png               the FPGA's energy gain predicted by archsim against the published measured and
                              eps_EO-predicted gains (read from validation/published.yaml), with the
                              validation rows' interval at their condition
  asic_65nm_breakdown.png     the component breakdown of the 65 nm building block's elementary operation
  ucsb_dpc_rate.png           UCSB's distributed p-computer (row ucsb-dpc-rate): update rate against eta (the
                              link clock over the phase clock) and against the number of boards (the lattice
                              growing with them, about 6 of its 37 x 37 layers per board), for boards that never
                              wait (the design's policy) and boards that wait for each phase's boundary states,
                              with the published figure from the data file
Every number drawn is the simulator's, except the published reference lines, which come from the data file."""
from pathlib import Path

from . import units
from .config.loader import arch_from_data, read_yaml, resolve_arch_path

# scenario label -> architecture (relative to the repository; "default" is the packaged building block)
SCENARIOS = {"SRAM, 45 nm (Horowitz)": "default", "DRAM weights, 45 nm": "configs/dram-weights.yaml",
             "65 nm ASIC building block": "configs/asic-65nm-building-block.yaml",
             "FPGA building block": "configs/fpga-building-block.yaml"}
MEMORY_SCENARIOS = ["SRAM, 45 nm (Horowitz)", "DRAM weights, 45 nm"]
FAN_IN, OUTPUTS, WEIGHT_BITS = 256, 16, 8
SAMPLES = [1, 2, 4, 8, 16, 32]


def _arch(base, name, kind):
    """The scenario's architecture with room for the elementary-operation layer and the given synapse kind."""
    from .validate import arch_field, edit_arch
    d = read_yaml(resolve_arch_path(name if name == "default" else base / name))
    changes = {"synapse.kind": kind, "synapse.accumulator_bits": 40, "act_mem.capacity": "1MiB"}
    if arch_field(d, "weight_mem")["kind"] != "dram":
        changes["weight_mem.capacity"] = "1MiB"
    return arch_from_data(edit_arch(d, changes), name)


def _layer(n, m, T, act, bits):
    from .workload.loader import workload_from_data
    layer = {"type": "dense", "outputs": m, "weight_bits": WEIGHT_BITS, "activation": act}
    if act != "pbit":
        layer["output_bits"] = bits
    return workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "eo", "samples": T, "seed": 1,
                               "input": {"size": n, "bits": 1 if act == "pbit" else bits}, "layers": [layer]})


def _energy(arch, workload):
    from . import simulate
    from .report.run import summarize
    s = summarize(simulate(arch, workload, "functional"))[0]
    return s["energy_pj"], s["energy_pj_by_component"]


def fpga_gains(base, samples, bits):
    """Predicted energy gain, deterministic k-bit (MAC synapses, T = 1) over p-bit (accumulate, T samples),
    of the seed paper's FPGA network shape on the FPGA building block: {k: [gain per T]}."""
    from .validate import deterministic
    from .workload.loader import workload_from_data
    data = read_yaml(base / "workloads" / "mnist-generator-fpga.yaml")
    name = SCENARIOS["FPGA building block"]
    pbit_arch, mac_arch = _arch(base, name, "accumulate"), _arch(base, name, "mac")
    pbit = [_energy(pbit_arch, workload_from_data(dict(data, samples=T), "p-bit"))[0] for T in samples]
    return {k: [_energy(mac_arch, deterministic(data, k))[0] / e for e in pbit] for k in bits}


def _published(base):
    from .validate import PUBLISHED
    return {e["id"]: e for e in read_yaml(base / PUBLISHED)["entries"]}


def _energy_vs_T(plt, base, n, m):
    fig, (ax, share_ax) = plt.subplots(1, 2, figsize=(12, 4.4))
    for label, name in SCENARIOS.items():
        arch = _arch(base, name, "accumulate")
        runs = [_energy(arch, _layer(n, m, T, "pbit", 1)) for T in SAMPLES]
        ax.plot(SAMPLES, [e / m for e, _ in runs], "o-", label=label)
        share_ax.plot(SAMPLES, [by["weight_mem"] / e for e, by in runs], "o-", label=label)
    ax.set(xscale="log", yscale="log", xlabel="samples T", ylabel="energy per EO (pJ)",
           title=f"eps_EO against T (n = {n}, {WEIGHT_BITS}-bit weights, p-bits)")
    share_ax.set(xscale="log", xlabel="samples T", ylabel="weight-memory share of energy", ylim=(0, 1.05),
                 title="weight-memory share")
    ax.legend(fontsize=8)
    return fig, "energy_per_eo_vs_T.png"


def _sample_vs_bit(plt, base, n, m):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    width = 0.35
    for i, label in enumerate(MEMORY_SCENARIOS):
        pbit_arch, mac_arch = _arch(base, SCENARIOS[label], "accumulate"), _arch(base, SCENARIOS[label], "mac")
        one_sample = _energy(pbit_arch, _layer(n, m, 2, "pbit", 1))[0] - _energy(pbit_arch, _layer(n, m, 1, "pbit", 1))[0]
        one_bit = _energy(mac_arch, _layer(n, m, 1, "quantized", 4))[0] - _energy(mac_arch, _layer(n, m, 1, "quantized", 3))[0]
        ax.bar([i - width / 2], [one_sample / m], width, color="C0", label="one more sample (T 1 -> 2)" if i == 0 else None)
        ax.bar([i + width / 2], [one_bit / m], width, color="C1", label="one more bit (3 -> 4-bit, T = 1)" if i == 0 else None)
    ax.set_xticks(range(len(MEMORY_SCENARIOS)), MEMORY_SCENARIOS)
    ax.set(yscale="log", ylabel="added energy per EO (pJ)", title=f"one more sample or one more bit (n = {n})")
    ax.legend()
    return fig, "sample_vs_bit.png"


def _fpga_gain(plt, base, n, m):
    published = _published(base)
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    for k, g in fpga_gains(base, SAMPLES, [4, 8]).items():
        ax.plot(SAMPLES, g, "o-", label=f"archsim: {k}-bit deterministic / p-bit with T samples")
    from .validate import energy_interval
    gain, low, high, _, _ = energy_interval(published["pdnn-fpga-gain"], base, {})
    ax.errorbar([1], [gain], yerr=[[gain - low], [high - gain]], fmt="none", ecolor="C1", capsize=5, lw=1.5,
                label="archsim interval at T = 1, 8-bit (validation rows: hard blocks 1-14x, soft logic 12-14x)")
    for pid, style in (("pdnn-fpga-gain", "--"), ("pdnn-fpga-gain-predicted", ":")):
        e = published[pid]
        ax.axhline(e["value"], color="k", ls=style, lw=1, label=f"published: {e['quantity']} ({e['quality']})")
    ax.set(xscale="log", yscale="log", xlabel="samples T of the p-bit network", ylabel="energy gain (x)",
           title="FPGA: predicted gain against the published gains\n(the measurement's T and bit widths are not in "
                 "the sources read)")
    ax.legend(fontsize=7)
    return fig, "fpga_gain.png"


def _asic_breakdown(plt, base, n, m):
    arch = _arch(base, SCENARIOS["65 nm ASIC building block"], "accumulate")
    Ts = [1, 4, 16]
    breakdowns = [_energy(arch, _layer(n, m, T, "pbit", 1))[1] for T in Ts]
    fig, ax = plt.subplots(figsize=(7, 4.4))
    bottom = [0.0] * len(Ts)
    for c in [c for c in breakdowns[0] if any(b[c] for b in breakdowns)]:
        values = [b[c] / m for b in breakdowns]
        ax.bar([str(T) for T in Ts], values, bottom=bottom, label=c)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set(xlabel="samples T", ylabel="energy per EO (pJ)",
           title=f"65 nm building block: components of one EO (n = {n}, {WEIGHT_BITS}-bit weights)")
    ax.legend()
    return fig, "asic_65nm_breakdown.png"


UCSB = ("configs/ucsb-dpc-vcu118.yaml", "workloads/ucsb-ea-37x37x37.yaml")
ETAS = [0.1, 0.3, 1, 3, 10, 30]
BOARDS = [1, 2, 3, 4, 6, 8, 12]


def _ucsb_rate(base, arch, policy, eta=None, boards=None):
    """Updates per second of the UCSB machine with the links' policy, clock (eta x the phase clock) or boards
    (the lattice grows with them: as many 37 x 37 layers per board as the design has)."""
    from .engine.simulate import simulate
    from .report.run import summarize
    from .workload.boltzmann import boltzmann_from_data
    path = base / UCSB[1]
    data = read_yaml(path)
    chips = data["chips"]
    chips["policy"] = policy
    if eta is not None:
        chips["link"]["clock_hz"] = eta * arch.clock
    if boards is not None:
        shape = data["graph"]["shape"]
        shape[0] = round(shape[0] * boards / chips["count"])
        chips["count"] = boards
    return summarize(simulate(arch, boltzmann_from_data(data, path)))[0]["updates_per_s"]


def _ucsb_dpc_rate(plt, base, n, m):
    from .config.loader import load_arch
    arch = load_arch(base / UCSB[0])
    design = read_yaml(base / UCSB[1])["chips"]
    design_eta = float(units.parse_hz(design["link"]["clock_hz"])) / arch.clock
    published = _published(base)["ucsb-dpc-rate"]
    fig, (eta_ax, chips_ax) = plt.subplots(1, 2, figsize=(12, 4.4))
    for policy, label in (("stale", "boards never wait (the design)"), ("wait", "boards wait for boundary states")):
        eta_ax.plot(ETAS, [_ucsb_rate(base, arch, policy, eta=e) for e in ETAS], "o-", label=label)
        chips_ax.plot(BOARDS, [_ucsb_rate(base, arch, policy, boards=k) for k in BOARDS], "o-", label=label)
    eta_ax.axvline(design_eta, color="grey", lw=1, label=f"the design's FMC links (eta {design_eta:.3g})")
    chips_ax.axvline(design["count"], color="grey", lw=1, label=f"the design's {design['count']} boards")
    for ax in (eta_ax, chips_ax):
        ax.axhline(published["value"], color="k", ls="--", lw=1, label=f"published ({published['quality']})")
        ax.set(yscale="log", ylabel="updates per second")
        ax.legend(fontsize=7)
    eta_ax.set(xscale="log", xlabel="eta = link clock / phase clock",
               title=f"UCSB 37^3 lattice on {design['count']} boards: rate against eta")
    chips_ax.set(xscale="log", xlabel=f"boards ({arch.synapse.count:,} p-bit cells each; the lattice grows with them)",
                 title="rate against the number of boards (the design's links)")
    return fig, "ucsb_dpc_rate.png"


def write_plots(out, base):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for draw in (_energy_vs_T, _sample_vs_bit, _fpga_gain, _asic_breakdown, _ucsb_dpc_rate):
        fig, name = draw(plt, base, FAN_IN, OUTPUTS)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
