"""Figure of the disorder-types study: each contribution vs mu, one line per disorder."""

import sys

import xarray as xr

from boltzspin.studies.plot import OKABE_ITO, STYLE, figure, save, unit

PANELS = [("boltzmann", "x", "x"), ("side_jump", "x", "y"), ("anomalous_distribution", "x", "y"),
          ("dipole_change", "x", "y"), ("intrinsic_dipole", "x", "y"), ("total", "x", "y")]
MARKERS = "osD^vx"


def make_figure(ds, path):
    fig, axes = figure(2, 3)
    u = unit(ds)
    for ax, (c, i, j) in zip(axes.flat, PANELS):
        for k, name in enumerate(ds.disorder.values):
            label = str(ds.disorder_repr.sel(disorder=name).values)
            values = ds.sigma.sel(disorder=name, contribution=c, i=i, j=j) / u
            ax.plot(ds.mu.values, abs(values) if c == "boltzmann" else values,
                    color=OKABE_ITO[k % len(OKABE_ITO)], marker=MARKERS[k % len(MARKERS)], ms=4, lw=1.5,
                    label=label)
        bars = "|" if c == "boltzmann" else ""
        ax.set_title(f"{STYLE[c][2]}: ${bars}\\sigma^{{s_z}}_{{{i}{j}}}{bars}$", fontsize=10)
        ax.set_xlabel(r"chemical potential $\mu$ (model energy units)")
        ax.set_ylabel(r"$\sigma$ / ($|q|/8\pi$)   ($\hbar = 1$)")
        ax.grid(alpha=0.3)
    axes[0, 0].set_yscale("log")
    title = f"Disorder types at n_imp = 0.01: {ds.attrs['model']}, s = {ds.attrs['observable']}"
    return save(fig, path, title, legend_axes=axes[0, 0], legend_rows=3)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
