"""Figure of the magnetized Rashba study: scaling of each contribution with impurity density."""

import sys

import numpy as np
import xarray as xr
from matplotlib.ticker import NullFormatter

from boltzspin.studies.plot import STYLE, figure, save, unit


def make_figure(ds, path):
    mus = ds.mu.values
    fig, axes = figure(ds.sizes["disorder"], len(mus))
    u = unit(ds)
    n = ds.disorder_density.values
    for row, name in enumerate(ds.disorder.values):
        kind = str(ds.disorder_repr.sel(disorder=name).values).split("(")[0]
        for col, mu in enumerate(mus):
            ax = axes[row, col]
            sub = ds.sigma.sel(disorder=name, mu=mu)
            for c, (i, j) in [("boltzmann", ("x", "x")), ("intrinsic_berry", ("x", "y")),
                              ("intrinsic_dipole", ("x", "y")), ("side_jump", ("x", "y")),
                              ("dipole_change", ("x", "y")), ("anomalous_distribution", ("x", "y"))]:
                colour, marker, label = STYLE[c]
                ax.loglog(n, np.abs(sub.sel(contribution=c, i=i, j=j)) / u, color=colour, marker=marker,
                          ms=4, lw=1.6, label=f"{label} |sigma_{i}{j}|")
            boltz = np.abs(sub.sel(contribution="boltzmann", i="x", j="x").values) / u
            ax.loglog(n, boltz[0] * n[0] / n, color="grey", ls=":", lw=1, label=r"$\propto 1/n_\mathrm{imp}$")
            ax.set_title(f"{kind}, mu = {mu}", fontsize=10)
            ax.set_xlabel(r"impurity density $n_\mathrm{imp}$ (1/length$^2$)")
            ax.grid(alpha=0.3, which="both")
            ax.xaxis.set_minor_formatter(NullFormatter())
        axes[row, 0].set_ylabel(r"$|\sigma^{s_z}|$ / ($|q|/8\pi$)   ($\hbar = 1$)")
    title = (f"Magnetized Rashba: {ds.attrs['model']}, s = {ds.attrs['observable']}\n"
             "(the Berry and s-dipole parts coincide in magnitude: J_B + J_d = 0 for two bands)")
    return save(fig, path, title, legend_axes=axes[0, 0], legend_rows=2)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
