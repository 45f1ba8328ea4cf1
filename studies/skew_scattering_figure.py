"""Figure of the massive Dirac skew-scattering study with the closed forms of every mechanism."""

import sys

import numpy as np
import xarray as xr

from boltzspin.studies.plot import STYLE, figure, save

GAP = 0.3
EXTRA = {"intrinsic_skew": ("#CC79A7", "P", "intrinsic skew (4th order)"),
         "skew_scattering": ("#999999", "*", "skew scattering (3rd order)")}


def closed_form(e_f, gap=GAP, density=0.01, m2=1.0, m3=1.0):
    """sigma_yx (q = -1, hbar = 1) of each mechanism for e_F > |gap| (Sinitsyn et al. 2007)."""
    e_f = np.asarray(e_f, dtype=float)
    d = e_f**2 + 3 * gap**2
    x = (e_f**2 - gap**2) / d
    unit = gap / (4 * np.pi * e_f)
    return {"intrinsic_berry": unit, "side_jump": 2 * x * unit, "anomalous_distribution": 2 * x * unit,
            "intrinsic_skew": 3 * x**2 * unit, "ladder": (1 + 4 * x + 3 * x**2) * unit,
            "skew_scattering": gap * (e_f**2 - gap**2) ** 2 * m3 / (2 * np.pi * density * m2**2 * d**2)}


def make_figure(ds, path):
    fig, axes = figure(1, 2, width=6.0, height=5.0)
    scale = 1 / (4 * np.pi)
    style = dict(STYLE, **EXTRA)
    x = ds.mu.values / GAP
    fine = np.linspace(GAP * 1.0001, ds.mu.values.max(), 400)
    exact = closed_form(fine)
    ax = axes[0, 0]
    alloy = ds.sigma.sel(disorder="alloy", i="y", j="x")
    for c in ("intrinsic_berry", "side_jump", "anomalous_distribution", "intrinsic_skew", "total"):
        colour, marker, label = style[c]
        ax.plot(x, alloy.sel(contribution=c) / scale, ls="none", marker=marker or "o", color=colour,
                mfc="none", ms=7, label=label + (" (binary alloy: ladder)" if c == "total" else ""))
    for c, ls in (("intrinsic_berry", "-"), ("side_jump", "--"), ("intrinsic_skew", "-."), ("ladder", ":")):
        ax.plot(fine / GAP, exact[c] / scale, color="k", lw=1, ls=ls,
                label={"ladder": "closed form: 1 + 4x + 3x^2"}.get(c, f"closed form: {c.replace('_', ' ')}"))
    ax.set_title(r"$n_\mathrm{imp}$-independent parts, Gaussian disorder", fontsize=10)
    ax.set_ylabel(r"$\sigma_{yx}$ / ($q^2/4\pi$)   ($\hbar = 1$)")
    ax = axes[0, 1]
    ident = ds.sigma.sel(disorder="identical", i="y", j="x")
    for c in ("skew_scattering", "total"):
        colour, marker, label = style[c]
        ax.plot(x, ident.sel(contribution=c) / scale, ls="none", marker=marker or "o", color=colour, mfc="none",
                ms=8, label=label + (" (identical impurities)" if c == "total" else ""))
    ax.plot(fine / GAP, exact["skew_scattering"] / scale, color="k", lw=1,
            label=r"closed form: $\Delta(e_F^2-\Delta^2)^2u^3/(2\pi n u^4 D^2)$")
    ax.set_title(r"third-order skew scattering, $n_\mathrm{imp} = 0.01$, $u = 1$ ($\propto 1/n_\mathrm{imp}$)",
                 fontsize=10)
    for ax in axes[0]:
        ax.axvline(1, color="grey", lw=0.5)
        ax.set_xlabel(r"$e_F / \Delta$")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return save(fig, path, f"Massive Dirac anomalous Hall conductivity beyond first Born: {ds.attrs['model']}, "
                "s = charge (pair skew scattering not included)")


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
