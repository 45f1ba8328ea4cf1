"""Figure of the lattice-vs-continuum Rashba study: sigma_xy per contribution vs mu."""

import sys

import xarray as xr

from boltzspin.studies.plot import STYLE, figure, save, split_at, unit

CROSSING = 0.0  # without exchange the two bands cross at k = 0, mu = 0: lines are interrupted there


def make_figure(ds, path):
    def short(model):  # the constructor call without the swept exchange (and zero Dresselhaus)
        return str(ds.model_repr.sel(model=model).item()).split(", dresselhaus")[0].split(", exchange")[0] + ")"

    exchanges = ds.model_exchange_2.values
    fig, axes = figure(ds.sizes["disorder"], len(exchanges))
    u = unit(ds)
    mu = ds.mu.values
    shown = ["intrinsic_berry", "intrinsic_dipole", "boltzmann", "side_jump", "dipole_change",
             "anomalous_distribution", "total"]
    for row, name in enumerate(ds.disorder.values):
        kind = str(ds.disorder_repr.sel(disorder=name).values).split("(")[0]
        for col, h in enumerate(exchanges):
            ax = axes[row, col]
            for c in shown:
                colour, marker, label = STYLE[c]
                for model, style in (("lattice", "-"), ("continuum", "--")):
                    y = ds.sigma.sel(model=model, disorder=name, model_exchange_2=h, contribution=c, i="x", j="y")
                    xs, ys = split_at(mu, y.values / u, [CROSSING] if h == 0 else [])
                    ax.plot(xs, ys, color=colour, ls=style, marker=marker if model == "lattice" else None,
                            ms=4, lw=2.4 if c == "total" else 1.5,
                            label=f"{label} ({model})")
            ax.axhline(0, color="grey", lw=0.5)
            if h == 0:
                ax.axvline(CROSSING, color="grey", lw=1.0, ls=":", zorder=0)
                ax.text(CROSSING, 0.72, "band crossing ", rotation=90, color="grey", fontsize=7, ha="right",
                        va="center", transform=ax.get_xaxis_transform())
            ax.grid(alpha=0.3)
            ax.set_title(f"{kind}, exchange h_z = {h}", fontsize=10)
            ax.set_xlabel(r"chemical potential $\mu$ (energy, units of the hopping $t$)")
        axes[row, 0].set_ylabel(r"$\sigma^{s_z}_{xy}$ / ($|q|/8\pi$)   ($\hbar = 1$)")
    title = ("Lattice Rashba (solid, markers) vs continuum Rashba (dashed), s = sz\n"
             f"{short('lattice')} vs {short('continuum')}, exchange (0, 0, h_z) per panel")
    return save(fig, path, title, legend_axes=axes[0, 0], legend_rows=4)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
