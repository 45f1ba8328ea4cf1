"""Figure of the magnetized Rashba study: scaling of each contribution with impurity density.

Parts of equal size (the Berry, s-dipole and dipole-change parts) stay visible as concentric
markers of different shapes and sizes; the 1/n_imp guide is drawn a factor 2 above the
Boltzmann part so that it does not hide it.
"""

import re
import sys

import numpy as np
import xarray as xr
from matplotlib.ticker import NullFormatter

from boltzspin.studies.plot import DISTINCT, STYLE, figure, save, unit

GUIDE_SHIFT = 2.0  # the 1/n_imp guide is drawn this factor above the Boltzmann part


def describe(disorder_repr):
    """``Kind: parameters except the (swept) density``, e.g. ``GaussianCorrelated: strength = 1.0, length = 1.0``."""
    kind = disorder_repr.split("(")[0]
    params = dict(re.findall(r"(\w+)=([^,)]+)", disorder_repr))
    names = {"length": "correlation length"}
    return kind + ": " + ", ".join(f"{names.get(k, k)} = {v}" for k, v in params.items() if k != "density")


def make_figure(ds, path):
    mus = ds.mu.values
    fig, axes = figure(ds.sizes["disorder"], len(mus))
    u = unit(ds)
    n = ds.disorder_density.values
    for row, name in enumerate(ds.disorder.values):
        kind = describe(str(ds.disorder_repr.sel(disorder=name).values))
        for col, mu in enumerate(mus):
            ax = axes[row, col]
            sub = ds.sigma.sel(disorder=name, mu=mu)
            for c, (i, j) in [("boltzmann", ("x", "x")), ("intrinsic_berry", ("x", "y")),
                              ("intrinsic_dipole", ("x", "y")), ("side_jump", ("x", "y")),
                              ("dipole_change", ("x", "y")), ("anomalous_distribution", ("x", "y"))]:
                colour, marker, label = STYLE[c]
                ls, ms, hollow = DISTINCT[c]
                ax.loglog(n, np.abs(sub.sel(contribution=c, i=i, j=j)) / u, color=colour, marker=marker,
                          ms=ms, mew=1.3, ls=ls, lw=1.4, fillstyle="none" if hollow else "full",
                          label=f"{label} |sigma_{i}{j}|")
            boltz = np.abs(sub.sel(contribution="boltzmann", i="x", j="x").values) / u
            ax.loglog(n, GUIDE_SHIFT * boltz[0] * n[0] / n, color="grey", ls=":", lw=1.2,
                      label=rf"$\propto 1/n_\mathrm{{imp}}$ (guide, drawn {GUIDE_SHIFT:g}x above Boltzmann)")
            ax.set_title(f"{kind}\n" + rf"$\mu$ = {mu}", fontsize=9)
            ax.set_xlabel(r"impurity density $n_\mathrm{imp}$ (1/length$^2$)")
            ax.grid(alpha=0.3, which="both")
            ax.xaxis.set_minor_formatter(NullFormatter())
        axes[row, 0].set_ylabel(r"$|\sigma^{s_z}|$ / ($|q|/8\pi$)   ($\hbar = 1$)")
    title = (f"Magnetized Rashba: {ds.attrs['model']}, s = {ds.attrs['observable']}\n"
             "(the Berry and s-dipole parts coincide in magnitude: J_B + J_d = 0 for two bands)")
    return save(fig, path, title, legend_axes=axes[0, 0], legend_rows=3)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
