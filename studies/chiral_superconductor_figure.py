"""Figure of the chiral superconductor study: M, local and global circuits vs the normal-state mu.

One row per model, one panel per temperature (local circuit, global circuit and
their sum M), and a last column with |M| and its error estimate on a log scale.
"""

import sys

import numpy as np
import xarray as xr

from boltzspin.studies.plot import OKABE_ITO, figure, save

MU_N = "model_chemical_potential"
T_COLOURS = [OKABE_ITO[2], OKABE_ITO[4], OKABE_ITO[5], OKABE_ITO[6], OKABE_ITO[3], OKABE_ITO[0]]


def _models(ds):
    """(label, sub-Dataset, constructor text without the swept mu_N) per model."""
    if "model" not in ds.dims:
        return [("", ds, ds.attrs["model"].split(", chemical_potential")[0] + ")")]
    return [(str(m), ds.sel(model=m), str(ds.model_repr.sel(model=m).item()).split(", chemical_potential")[0] + ")")
            for m in ds.model.values]


class _Legend:
    """Handles and labels of several axes, for the figure legend of :func:`boltzspin.studies.plot.save`."""

    def __init__(self, *axes):
        self.axes = axes

    def get_legend_handles_labels(self):
        pairs = [ax.get_legend_handles_labels() for ax in self.axes]
        return [h for hs, _ in pairs for h in hs], [lab for _, ls in pairs for lab in ls]


def make_figure(ds, path):
    models = _models(ds)
    temperatures = ds.temperature.values
    fig, axes = figure(len(models), len(temperatures) + 1, width=3.8, height=3.3)
    mu_n = ds[MU_N].values
    for row, (name, sub, _) in enumerate(models):
        top = 1.12 * float(max(np.nanmax(np.abs(sub[v].values)) for v in ("local", "global", "magnetization")))
        for col, t in enumerate(temperatures):
            ax = axes[row, col]
            point = sub.sel(temperature=t)
            ax.plot(mu_n, point["local"], color=OKABE_ITO[0], marker="o", ms=4, lw=1.6,
                    label=r"local circuit $\int f\,m^s$")
            ax.plot(mu_n, point["global"], color=OKABE_ITO[1], marker="^", ms=4, lw=1.6,
                    label=r"global circuit $\int g\,\Omega\,s$")
            ax.plot(mu_n, -point["global"], color=OKABE_ITO[1], ls=":", lw=1.4, label="minus global circuit")
            ax.plot(mu_n, point.magnetization, color=OKABE_ITO[7], marker="s", ms=3.5, lw=2.4, zorder=3,
                    label=r"$M^s_z$ = local + global")
            ax.set_ylim(-top, top)
            ax.axhline(0, color="grey", lw=0.5)
            ax.grid(alpha=0.3)
            ax.set_title(f"{name + ': ' if name else ''}T = {t:g}", fontsize=10)
            ax.set_xlabel(r"normal-state chemical potential $\mu_N$ ($t$)", fontsize=9)
        axes[row, 0].set_ylabel(r"$M_z$ and circuits ($|q|\,t/a^2$, $\hbar = 1$)")
        ax = axes[row, -1]
        for k, t in enumerate(temperatures):
            point = sub.sel(temperature=t)
            colour = T_COLOURS[k % len(T_COLOURS)]
            ax.semilogy(mu_n, np.maximum(np.abs(point.magnetization.values), 1e-16), color=colour,
                        marker="os^D"[k % 4], ms=4, lw=1.5, label=f"|M|, T = {t:g}")
            ax.semilogy(mu_n, point.fermi_sea_error_estimate.values, color=colour, ls=":", lw=1.3,
                        label=f"error estimate of M, T = {t:g}")
        ax.semilogy(mu_n, np.abs(sub["local"].sel(temperature=temperatures[0]).values), color="grey",
                    lw=3, alpha=0.5, label=f"|local circuit|, T = {temperatures[0]:g}")
        ax.set_title(f"{name + ': ' if name else ''}|M| (solid) and error estimate (dotted)", fontsize=9)
        ax.set_xlabel(r"normal-state chemical potential $\mu_N$ ($t$)", fontsize=9)
        ax.set_ylabel(r"$|M_z|$ ($|q|\,t/a^2$)")
        ax.set_ylim(1e-16, 1.0)
        ax.grid(alpha=0.3)
    described = "; ".join(f"{name or 'model'} = {text}" for name, _, text in models)
    title = ("Chiral d + id superconductor: quasiparticle orbital magnetization "
             f"M = local + global circuit (s = q tau_z, q = {ds.attrs['charge']:g}, quasiparticle mu = 0)\n"
             f"{described}, normal-state mu_N swept\n"
             "one trivial normal band: the circuits are equal and opposite, M = 0 within the error estimate; "
             "magnetized Rashba normal state: M != 0")
    return save(fig, path, title, legend_axes=_Legend(axes[0, 0], axes[0, -1]), legend_rows=2)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
