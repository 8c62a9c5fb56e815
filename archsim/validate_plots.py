"""The seed paper's analyses redrawn from the simulator (`archsim validate --plots`): energy per elementary
operation against T with the weight-memory share, one more sample against one more bit, the building block's
component breakdown. The FPGA predicted-vs-measured plot needs FPGA component energies nobody published."""
from pathlib import Path

from .config.loader import arch_from_data, read_yaml, resolve_arch_path

SCENARIOS = {"SRAM (building block)": "default", "DRAM weights": "configs/dram-weights.yaml"}


def _arch(base, name):
    d = read_yaml(resolve_arch_path(name if name == "default" else base / name))
    d["synapse"]["kind"] = "mac"
    d["synapse"]["accumulator_bits"] = 40
    d["act_mem"]["capacity"] = "1MiB"
    d["weight_mem"]["capacity"] = d["weight_mem"]["capacity"] if d["weight_mem"]["kind"] == "dram" else "1MiB"
    return arch_from_data(d, name)


def _layer(n, m, T, act, bits):
    from .workload.loader import workload_from_data
    layer = {"type": "dense", "outputs": m, "weight_bits": 8, "activation": act}
    if act != "pbit":
        layer["output_bits"] = bits
    return workload_from_data({"schema_version": 1, "kind": "pdnn", "name": "eo", "samples": T, "seed": 1,
                               "input": {"size": n, "bits": 1 if act == "pbit" else bits}, "layers": [layer]})


def _energy(arch, workload):
    from . import simulate
    from .report.run import summarize
    s = summarize(simulate(arch, workload, "functional"))[0]
    return s["energy_pj"], s["energy_pj_by_component"]


def write_plots(out, base):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n, m = 256, 16
    Ts = [1, 2, 4, 8, 16, 32]
    fig, (ax, share_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, name in SCENARIOS.items():
        arch = _arch(base, name)
        runs = [_energy(arch, _layer(n, m, T, "pbit", 1)) for T in Ts]
        ax.plot(Ts, [e / m for e, _ in runs], "o-", label=label)
        share_ax.plot(Ts, [by["weight_mem"] / e for e, by in runs], "o-", label=label)
    ax.set(xscale="log", yscale="log", xlabel="samples T", ylabel="energy per EO (pJ)",
           title=f"eps_EO against T (n = {n}, 8-bit weights, p-bits)")
    share_ax.set(xscale="log", xlabel="samples T", ylabel="weight-memory share of energy", ylim=(0, 1.05))
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "energy_per_eo_vs_T.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    width = 0.35
    for i, (label, name) in enumerate(SCENARIOS.items()):
        arch = _arch(base, name)
        one_sample = (_energy(arch, _layer(n, m, 2, "pbit", 1))[0] - _energy(arch, _layer(n, m, 1, "pbit", 1))[0])
        one_bit = (_energy(arch, _layer(n, m, 1, "quantized", 4))[0] - _energy(arch, _layer(n, m, 1, "quantized", 3))[0])
        ax.bar([i - width / 2], [one_sample / m], width, color="C0", label="one more sample (T 1 -> 2)" if i == 0 else None)
        ax.bar([i + width / 2], [one_bit / m], width, color="C1", label="one more bit (3 -> 4-bit, T = 1)" if i == 0 else None)
    ax.set_xticks(range(len(SCENARIOS)), list(SCENARIOS))
    ax.set_ylabel("added energy per EO (pJ)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "sample_vs_bit.png", dpi=110)
    plt.close(fig)
    from . import load_workload
    _, by = _energy(_arch(base, "default"), load_workload())
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(list(by), list(by.values()))
    ax.set_ylabel("energy (pJ)")
    ax.set_title("building block (default arch and workload): components")
    fig.tight_layout()
    fig.savefig(out / "building_block_breakdown.png", dpi=110)
    plt.close(fig)
