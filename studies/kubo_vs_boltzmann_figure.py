"""Figure of the Kubo-vs-Boltzmann study: anomalous Hall conductivity of the magnetized Rashba gas
(the study's sweep) and of the 2D massive Dirac model, semiclassical curves mechanism by mechanism
with the disorder-averaged Kubo-Streda points (boltzspin.kubo.clean_limit, with error bars).

The Kubo points take a few minutes; they are cached in ``results/kubo_vs_boltzmann_kubo.nc`` and
recomputed when the cached parameters differ from the ones below.
"""

import ast
from pathlib import Path

import numpy as np
import xarray as xr

import boltzspin as bs
from boltzspin.studies.plot import STYLE, figure, save, split_at

Q = -1.0
ALLOY = (0.02, 1.0)  # BinaryAlloy(density, strength): the study's two species +-1 at density 0.01 each
KUBO_OPTIONS = {"n_angles": 16, "order": 12}  # isotropic models
FACTORS = tuple(2.0 ** -k for k in range(7))
RASHBA_KUBO_MU = (-0.1, 0.0, 0.1, 0.15, 0.3, 0.4, 0.6, 0.8, 1.0)
DIRAC = {"velocity": 1.0, "gap": 0.3}
DIRAC_KUBO_EF = (0.35, 0.4, 0.5, 0.6, 0.8, 1.0, 1.3)
DIRAC_ALLOY = (0.1, 1.0)
CACHE = Path("results/kubo_vs_boltzmann_kubo.nc")
EXTRA = {"intrinsic_skew": ("#CC79A7", "P", "intrinsic skew (4th order)")}
EXTRINSIC = ("side_jump", "dipole_change", "anomalous_distribution", "intrinsic_skew")


def _signature(rashba):
    return repr((ALLOY, KUBO_OPTIONS, FACTORS, RASHBA_KUBO_MU, DIRAC, DIRAC_KUBO_EF, DIRAC_ALLOY, rashba))


def _kubo_points(model, energies, disorder):
    """sigma_yx of the bubble and the ladder (weak-disorder limit) and their errors at each energy."""
    out = np.zeros((2, 2, len(energies)))
    for n, e in enumerate(energies):
        for d, diagrams in enumerate(("bubble", "ladder")):
            ds = bs.kubo.clean_limit(model, e, disorder, observable="charge", charge=Q, diagrams=diagrams,
                                     factors=FACTORS, **KUBO_OPTIONS)
            out[d, 0, n] = float(ds.sigma.sel(i="y", j="x"))
            out[d, 1, n] = float(ds.sigma_error.sel(i="y", j="x"))
    return out


def kubo_data(rashba_params):
    """The Kubo points of both models (cached)."""
    sig = _signature(rashba_params)
    if CACHE.exists():
        with xr.open_dataset(CACHE, engine="h5netcdf") as cached:
            if cached.attrs.get("signature") == sig:
                return cached.load()
    rashba = bs.Rashba(rashba_params["mass"], rashba_params["alpha"], exchange=tuple(rashba_params["exchange"]))
    r = _kubo_points(rashba, RASHBA_KUBO_MU, bs.BinaryAlloy(*ALLOY))
    d = _kubo_points(bs.MassiveDirac(DIRAC["velocity"], DIRAC["gap"]), DIRAC_KUBO_EF, bs.BinaryAlloy(*DIRAC_ALLOY))
    ds = xr.Dataset(
        {"rashba": (("diagrams", "value", "mu"), r), "dirac": (("diagrams", "value", "e_f"), d)},
        coords={"diagrams": ["bubble", "ladder"], "value": ["sigma", "sigma_error"],
                "mu": list(RASHBA_KUBO_MU), "e_f": list(DIRAC_KUBO_EF)},
        attrs={"signature": sig, "component": "yx", "charge": Q},
    )
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(CACHE, engine="h5netcdf")
    return ds


def dirac_semiclassics(e_f):
    """boltzspin.transport sigma_yx of the massive Dirac model with intrinsic skew scattering, per contribution."""
    model = bs.MassiveDirac(DIRAC["velocity"], DIRAC["gap"])
    runs = [bs.transport(model, e, bs.BinaryAlloy(*DIRAC_ALLOY), observable="charge", charge=Q, n_points=64,
                         scattering=("intrinsic_skew",)).sigma.sel(i="y", j="x") for e in e_f]
    return xr.concat(runs, dim="e_f").assign_coords(e_f=list(e_f))


def _panel(ax, x, curves, kubo, x_kubo, scale, breaks=()):
    style = dict(STYLE, **EXTRA)
    x = np.asarray(x, dtype=float)
    xs = split_at(x, x, breaks)[0]

    def line(y):
        return split_at(x, y, breaks)[1]

    lines = {"intrinsic_berry": dict(lw=4, alpha=0.45), "side_jump": dict(lw=1.5, ls=(0, (5, 3))),
             "anomalous_distribution": dict(lw=1.2, ls=":"), "intrinsic_skew": dict(lw=1.2)}
    for c, kw in lines.items():  # coinciding curves stay visible: wide light / dashed / dotted / thin
        colour, _, label = style[c]
        ax.plot(xs, line(curves.sel(contribution=c) / scale), color=colour, label=f"Boltzmann: {label}", **kw)
    extrinsic = sum(curves.sel(contribution=c) for c in EXTRINSIC)
    ax.plot(xs, line(extrinsic / scale), color="#009E73", lw=1.2, ls="--",
            label="Boltzmann: side jump + dipole change + anom. distr. + intrinsic skew")
    ax.plot(xs, line(curves.sel(contribution="total") / scale), color="k", lw=2.0, alpha=0.6, label="Boltzmann: total")
    ax.plot(xs, line((curves.sel(contribution="total") - curves.sel(contribution="intrinsic_skew")) / scale),
            color="grey", lw=1, ls=":", label="Boltzmann: first-Born total (no intrinsic skew)")
    bubble, ladder = kubo.sel(diagrams="bubble"), kubo.sel(diagrams="ladder")
    kw = dict(ls="none", capsize=3, mfc="none")
    ax.errorbar(x_kubo, ladder.sel(value="sigma") / scale, ladder.sel(value="sigma_error") / scale, marker="o",
                ms=9, color="k", label="Kubo: ladder (non-crossing) total", **kw)
    ax.errorbar(x_kubo, bubble.sel(value="sigma") / scale, bubble.sel(value="sigma_error") / scale, marker="s",
                ms=6, color="#E69F00", label="Kubo: bare bubble", **kw)
    vertex = ladder.sel(value="sigma") - bubble.sel(value="sigma")
    ax.errorbar(x_kubo, vertex / scale, (ladder.sel(value="sigma_error") + bubble.sel(value="sigma_error")) / scale,
                marker="D", ms=6, color="#009E73", label="Kubo: ladder vertex correction", **kw)
    ax.axhline(0, color="grey", lw=0.5)
    ax.grid(alpha=0.3)


def _difference(ax, x_kubo, kubo, curves_at, label):
    ladder = kubo.sel(diagrams="ladder")
    diff = np.abs(ladder.sel(value="sigma").values - curves_at.sel(contribution="total").values)
    ax.semilogy(x_kubo, np.maximum(diff, 1e-16), "o", mfc="none", color="k", label="|Kubo ladder - Boltzmann total|")
    ax.semilogy(x_kubo, ladder.sel(value="sigma_error"), "_", ms=14, color="#D55E00", label="stated Kubo error")
    first_born = curves_at.sel(contribution="total") - curves_at.sel(contribution="intrinsic_skew")
    ax.semilogy(x_kubo, np.abs(ladder.sel(value="sigma").values - first_born.values), "x", color="grey",
                label="|Kubo ladder - first-Born total|")
    ax.set_ylabel(r"$|\Delta\sigma_{yx}|$")
    ax.set_xlabel(label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def make_figure(ds, path):
    call = ast.parse(ds.attrs["model"], mode="eval").body  # "Rashba(mass=..., alpha=..., ..., exchange=(...))"
    model = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    params = {"mass": model["mass"], "alpha": model["alpha"], "exchange": model.get("exchange", (0, 0, 0))}
    kubo = kubo_data(params)
    scale = abs(Q) ** 2 / (4 * np.pi)
    fig, axes = figure(2, 2, width=6.2, height=5.0)

    rashba = ds.sigma.sel(disorder="alloy", i="y", j="x")
    h = abs(params["exchange"][2])
    _panel(axes[0, 0], ds.mu.values, rashba, kubo.rashba, kubo.mu.values, scale, breaks=(h,))
    axes[0, 0].axvline(h, color="grey", lw=0.5)
    axes[0, 0].set_title(f"magnetized Rashba (m = {params['mass']}, alpha = {params['alpha']}, h_z = {h}), "
                         f"binary alloy n u^2 = {ALLOY[0] * ALLOY[1] ** 2}", fontsize=9)
    axes[0, 0].set_ylabel(r"$\sigma_{yx}$ / ($q^2/4\pi$)   ($\hbar = 1$)")
    axes[0, 0].set_xlabel(r"$\mu$ (upper subband occupied for $\mu > h_z$)")
    at = rashba.sel(mu=kubo.mu.values)
    _difference(axes[1, 0], kubo.mu.values, kubo.rashba, at, r"$\mu$")

    e_f = np.unique(np.concatenate([np.linspace(DIRAC["gap"] * 1.02, 1.4, 40), kubo.e_f.values]))
    dirac = dirac_semiclassics(e_f)
    gap = DIRAC["gap"]
    _panel(axes[0, 1], e_f / gap, dirac, kubo.dirac, kubo.e_f.values / gap, scale)
    axes[0, 1].set_title(f"massive Dirac (v = {DIRAC['velocity']}, Delta = {gap}), binary alloy "
                         f"n u^2 = {DIRAC_ALLOY[0] * DIRAC_ALLOY[1] ** 2}", fontsize=9)
    axes[0, 1].set_xlabel(r"$e_F/\Delta$")
    _difference(axes[1, 1], kubo.e_f.values / gap, kubo.dirac, dirac.sel(e_f=kubo.e_f.values), r"$e_F/\Delta$")
    return save(fig, path, "Anomalous Hall conductivity (s = charge, q = -1): boltzspin.transport with intrinsic skew scattering "
                "(curves)\nvs the disorder-averaged Kubo-Streda reference, non-crossing, weak-disorder limit "
                "(points with stated errors)\n"
                "bubble / vertex correction = intrinsic / extrinsic only where the Born broadening is spin "
                "independent (Rashba, both subbands); the totals agree everywhere",
                legend_axes=axes[0, 1], legend_rows=3)
