"""Figure of the Edelstein study: chi_yx against the closed form q alpha / (2 pi n_imp u0^2)."""

import sys

import numpy as np
import xarray as xr

from boltzspin.studies.plot import figure, save

ALPHA, STRENGTH, CHARGE = 0.5, 1.0, -1.0
DENSITIES = {"dilute": 0.01, "dense": 0.02}
MARKERS = {"boltzmann": "s", "intrinsic": "o", "extrinsic_coherence": "D", "anomalous_distribution": "x",
           "total": "."}


def make_figure(ds, path):
    fig, axes = figure(1, 2, width=6.0, height=4.6)
    ax, rel = axes[0, 0], axes[0, 1]
    mu = ds.mu.values
    for k, name in enumerate(ds.disorder.values):
        exact = CHARGE * ALPHA / (2 * np.pi * DENSITIES[str(name)] * STRENGTH**2)
        colour = f"C{k}"
        for c, marker in MARKERS.items():
            y = ds.chi.sel(disorder=name, contribution=c, component="sy", j="x").values
            ax.plot(mu, y, ls="none", marker=marker, color=colour, mfc="none" if c != "total" else colour,
                    label=f"{c}, n_imp = {DENSITIES[str(name)]}")
        ax.plot([0, mu.max()], [exact, exact], color=colour, lw=1, label=f"Edelstein closed form, n_imp = "
                f"{DENSITIES[str(name)]}")
        total = ds.chi.sel(disorder=name, contribution="total", component="sy", j="x").values
        err = ds.chi_error.sel(disorder=name, contribution="total", component="sy", j="x").values
        above = mu > 0
        rel.semilogy(mu[above], np.maximum(np.abs(total[above] / exact - 1), 1e-17), "o-", color=colour,
                     label=f"|chi/closed form - 1|, n_imp = {DENSITIES[str(name)]}")
        rel.semilogy(mu[above], err[above] / abs(exact), "--", color=colour, label="chi_error / |closed form|")
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel(r"$\mu$ (band crossing at 0)")
    ax.set_ylabel(r"$\chi_{yx}$: $\delta\langle s_y\rangle / E_x$  ($q = -1$, $\hbar = 1$)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="center right")
    rel.set_xlabel(r"$\mu$")
    rel.set_ylabel("relative deviation from the closed form")
    rel.grid(alpha=0.3)
    rel.legend(fontsize=6)
    return save(fig, path, f"Edelstein effect: {ds.attrs.get('model', '')}, delta-correlated disorder")


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
