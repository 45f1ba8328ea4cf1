"""Figure of the thermal Rashba study: sigma and alpha vs mu at several T, Mott prediction overlaid."""

import sys

import numpy as np
import xarray as xr

from boltzspin.studies.plot import OKABE_ITO, figure, save, unit

PANELS = [("sigma", "boltzmann", "x", "x"), ("alpha", "boltzmann", "x", "x"),
          ("sigma", "total", "x", "y"), ("alpha", "total", "x", "y")]


def make_figure(ds, path):
    fig, axes = figure(2, 2, width=5.2, height=4.0)
    ds = ds.isel(disorder=0)
    u = unit(ds)
    q = float(ds.attrs["charge"])
    mu = ds.mu.values
    cold = ds.sel(temperature=0.0)
    for ax, (var, c, i, j) in zip(axes.flat, PANELS):
        for k, t in enumerate(ds.temperature.values):
            values = ds[var].sel(temperature=t, contribution=c, i=i, j=j) / u
            ax.plot(mu, values, color=OKABE_ITO[k], marker="os^D"[k % 4], ms=4, lw=1.5, label=f"T = {t:g}")
            if var == "alpha" and t > 0:
                slope = np.gradient(cold.sigma.sel(contribution=c, i=i, j=j).values, mu)
                mott = (np.pi**2 / 3) * (t / q) * slope / u
                ax.plot(mu, mott, color=OKABE_ITO[k], ls="--", lw=1.2, label=f"Mott, T = {t:g}")
        name = "Boltzmann" if c == "boltzmann" else "total (conserved)"
        symbol = r"\sigma" if var == "sigma" else r"\alpha"
        ax.set_title(f"{name}: ${symbol}^{{s_z}}_{{{i}{j}}}$", fontsize=10)
        ax.set_xlabel(r"chemical potential $\mu$ (model energy units)")
        label = r"$\sigma$ / ($|q|/8\pi$)" if var == "sigma" else r"$\alpha$ / ($1/8\pi$)"
        ax.set_ylabel(label + r"   ($\hbar = k_B = 1$)")
        ax.grid(alpha=0.3)
    title = (f"Thermoelectric spin response, s = sz: {ds.attrs['model']}\n{str(ds.disorder_repr.values)}; "
             "J = sigma (E - grad mu / q) - alpha grad T; dashed: Mott (pi^2/3)(T/q) d sigma/d mu")
    return save(fig, path, title, legend_axes=axes[0, 1], legend_rows=1)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
