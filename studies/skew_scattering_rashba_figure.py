"""Figure of the magnetized Rashba spin Hall study: skew scattering ~ 1/n_imp vs the n_imp-independent parts."""

import sys

import numpy as np
import xarray as xr
from matplotlib.ticker import NullFormatter

from boltzspin.studies.plot import STYLE, figure, save, unit

EXTRA = {"intrinsic_skew": ("#CC79A7", "P", "intrinsic skew (4th order)"),
         "skew_scattering": ("#999999", "*", "skew scattering (3rd order)")}


def make_figure(ds, path):
    fig, axes = figure(1, 1, width=8.0, height=6.0)
    ax = axes[0, 0]
    style = dict(STYLE, **EXTRA)
    u = unit(ds)
    name = ds.disorder.values[0]
    n = ds.disorder_density.values
    sub = ds.sigma.sel(disorder=name, i="x", j="y")
    for c in ("skew_scattering", "side_jump", "anomalous_distribution", "intrinsic_skew", "intrinsic_berry",
              "total"):
        colour, marker, label = style[c]
        ax.loglog(n, np.abs(sub.sel(contribution=c)) / u, color=colour, marker=marker or "o", ms=5, lw=1.4,
                  label=f"|{label}|")
    skew = np.abs(sub.sel(contribution="skew_scattering").values) / u
    ax.loglog(n, skew[0] * n[0] / n, color="grey", ls=":", lw=1, label=r"$\propto 1/n_\mathrm{imp}$")
    ax.set_xlabel(r"impurity density $n_\mathrm{imp}$ (1/length$^2$)")
    ax.set_ylabel(r"$|\sigma^{s_z}_{xy}|$ / ($|q|/8\pi$)   ($\hbar = 1$)")
    ax.grid(alpha=0.3, which="both")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=8)
    h = ds.attrs["model"].split("exchange=")[1].split(")")[0] + ")"
    title = (f"Magnetized Rashba (exchange {h}), mu = {float(ds.mu):g}: conserved spin Hall conductivity\n"
             "strengths +1 and -0.983 at equal densities: skew-dominated (clean) to side-jump-dominated (dirty)\n"
             "(side jump = anomalous distribution here; the total changes sign near the crossover; pair skew not included)")
    return save(fig, path, title)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
