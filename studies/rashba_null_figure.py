"""Figure of the Rashba null study: contributions to sigma_xy vs mu and vs impurity density."""

import sys

import xarray as xr

from boltzspin.studies.plot import figure, plot_contributions_vs, save, unit

DENSITY, MU = 0.01, 0.6


def make_figure(ds, path):
    fig, axes = figure(2, ds.sizes["disorder"])
    u = unit(ds)
    for col, name in enumerate(ds.disorder.values):
        kind = str(ds.disorder_repr.sel(disorder=name).values).split("(")[0]
        sub = ds.sel(disorder=name, i="x", j="y")
        at_n = sub.sel(disorder_density=DENSITY)
        plot_contributions_vs(axes[0, col], at_n.sigma.transpose("contribution", "mu"), ds.mu.values, scale=u,
                              conventional=at_n.sigma_conventional_intrinsic)
        axes[0, col].axvline(0, color="grey", lw=0.5, ls=":")
        axes[0, col].set_title(f"{kind}, n_imp = {DENSITY}", fontsize=10)
        axes[0, col].set_xlabel(r"chemical potential $\mu$ (model energy units)")
        at_mu = sub.sel(mu=MU)
        plot_contributions_vs(axes[1, col], at_mu.sigma.transpose("contribution", "disorder_density"),
                              ds.disorder_density.values, scale=u, logx=True,
                              conventional=at_mu.sigma_conventional_intrinsic)
        axes[1, col].set_title(f"{kind}, mu = {MU}", fontsize=10)
        axes[1, col].set_xlabel(r"impurity density $n_\mathrm{imp}$ (1/length$^2$)")
    for row in axes:
        row[0].set_ylabel(r"$\sigma^{s_z}_{xy}$ / ($|q|/8\pi$)   ($\hbar = 1$)")
    title = f"Rashba null result: {ds.attrs['model']}, s = {ds.attrs['observable']}, q = {ds.attrs['charge']}"
    return save(fig, path, title, legend_axes=axes[0, 0], legend_rows=2)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
