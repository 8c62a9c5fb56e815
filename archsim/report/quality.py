"""Sampling quality of a Boltzmann machine's samples: energy traces, their integrated autocorrelation time,
energy per spin, and the total-variation distance to exact enumeration on small models; and the comparison of a
multi-chip run with the monolithic machine on the same graph and seed (summary.json's `quality`).

Energy E(s) = -(sum over edges J_ij s_i s_j + sum_i h_i s_i), so P(s) is proportional to exp(-beta E(s))."""
import itertools

import numpy as np

EXACT_MAX_NODES = 16   # exact enumeration (2**n states) only for models this small
SOKAL_WINDOW = 5       # Sokal's automatic window: the smallest M with M >= 5 tau(M)


CHUNK_ELEMENTS = 1 << 24  # spins x edges worked on at once (energies of big runs in pieces)


def energies(samples, edges, weights, h):
    """(..., n) spins in {-1, +1} -> (...) integer energies, computed a few states at a time."""
    s = np.asarray(samples)
    flat = s.reshape(-1, s.shape[-1])
    w, h = np.asarray(weights, np.int64), np.asarray(h, np.int64)
    out = np.zeros(len(flat), np.int64)
    step = max(1, CHUNK_ELEMENTS // max(1, len(edges) + s.shape[-1]))
    for k in range(0, len(flat), step):
        x = flat[k:k + step].astype(np.int64)
        pair = (x[:, edges[:, 0]] * x[:, edges[:, 1]]) @ w if len(edges) else 0
        out[k:k + step] = -(pair + x @ h)
    return out.reshape(s.shape[:-1])


def autocorrelation(x):
    """Normalised autocorrelation rho(t) of traces x (records, chains), averaged over the chains (each chain's
    own mean removed); None when the traces do not vary."""
    x = np.asarray(x, np.float64)
    x = x - x.mean(axis=0)
    n = x.shape[0]
    f = np.fft.rfft(x, n=2 * n, axis=0)
    acov = np.fft.irfft(f * np.conj(f), axis=0)[:n].mean(axis=1) / n
    return None if acov[0] <= 0 else acov / acov[0]


def integrated_time(x, window=SOKAL_WINDOW):
    """Integrated autocorrelation time tau = 1 + 2 sum_{t>=1} rho(t), in records, summed up to Sokal's automatic
    window; None when the traces do not vary or are too short for the window (or give no positive estimate)."""
    rho = autocorrelation(x)
    if rho is None:
        return None
    taus = 2 * np.cumsum(rho) - 1
    ok = np.arange(len(taus)) >= window * taus
    tau = float(taus[np.argmax(ok)]) if ok.any() else 0.0
    return tau if tau > 0 else None


def exact_distribution(n, edges, weights, h, beta):
    """(states (2**n, n) in {-1, +1}, their Boltzmann probabilities); states ordered as binary numbers, node 0
    the most significant bit."""
    states = np.array(list(itertools.product([-1, 1], repeat=n)), np.int64)
    e = energies(states, edges, weights, h).astype(np.float64)
    p = np.exp(-beta * (e - e.min()))
    return states, p / p.sum()


def tv_exact(samples, n, edges, weights, h, beta):
    """Total variation between the samples' histogram (every record and chain) and exact enumeration."""
    _, p = exact_distribution(n, edges, weights, h, beta)
    flat = (np.asarray(samples).reshape(-1, n) + 1) // 2
    index = flat.astype(np.int64) @ (1 << np.arange(n)[::-1])
    q = np.bincount(index, minlength=len(p)) / len(index)
    return float(0.5 * np.abs(q - p).sum())


def trace_quality(samples, n, edges, weights, h, beta, record_every, exact):
    """The quality figures of one run's samples (records, chains, n)."""
    e = energies(samples, edges, weights, h)
    tau = integrated_time(e)
    out = {"energy_per_spin_mean": float(e.mean() / n), "energy_per_spin_final": float(e[-1].mean() / n),
           "energy_iat_sweeps": None if tau is None else tau * record_every}
    if exact:
        out["tv_exact"] = tv_exact(samples, n, edges, weights, h, beta)
    return out, e, tau


def versus_monolithic(samples, monolithic, edges, weights, h, beta, record_every, clamped):
    """summary.json's `quality` of a multi-chip run: its figures and the monolithic machine's on the same graph
    and seed, and the difference of their mean energy per spin with its standard error (each run's variance over
    its effective samples, records x chains / tau; tau taken as at least 1, and as 1 where it has no estimate)."""
    n = samples.shape[-1]
    exact = n <= EXACT_MAX_NODES and not np.any(clamped)
    chips, e1, t1 = trace_quality(samples, n, edges, weights, h, beta, record_every, exact)
    mono, e0, t0 = trace_quality(monolithic, n, edges, weights, h, beta, record_every, exact)
    var = sum(e.var() * max(t or 1.0, 1.0) / e.size for e, t in ((e1, t1), (e0, t0)))
    return {"chips": chips, "monolithic": mono, "records": int(samples.shape[0]), "record_every": record_every,
            "energy_per_spin_difference": chips["energy_per_spin_mean"] - mono["energy_per_spin_mean"],
            "energy_per_spin_difference_se": float(np.sqrt(var) / n),
            "exact_enumeration": bool(exact)}
