"""Figure of the Rashba null study: contributions to sigma_xy vs mu and vs impurity density, and |total|.

Rows: (1) every contribution vs mu at n_imp = DENSITY, on a symmetric-log mu axis (decades on either
side of the band crossing mu = 0, linear within +-LINTHRESH); (2) vs n_imp at mu = MU; (3) |total| on
a log scale with its error estimate (``sigma_error``), the largest over every impurity density,
against the size |q|/(8 pi) of the two parts that cancel.  The parts that vanish (Berry, Boltzmann,
side jump, anomalous distribution) are drawn as concentric hollow markers above the wide light band
of the total; the conventional intrinsic value (+q/(8 pi) above the crossing) is a wide pink band
with filled-plus markers, so the dipole-change part that equals it there shows as the thin blue line
inside it.  mu = 0 (the band crossing: the bands are degenerate there, so it cannot be computed) is
the labelled dotted line; the sweep approaches it from both sides (mu = -+0.001) and the lines are
interrupted there.
"""

import re
import sys

import numpy as np
import xarray as xr

from boltzspin.studies.plot import figure, plot_contributions_vs, save, split_at, unit

DENSITY, MU = 0.01, 0.6
CROSSING = 0.0  # band crossing of the Rashba model: mu = 0
LINTHRESH = 1e-3  # mu axis: linear within |mu| < LINTHRESH, logarithmic beyond (points near the crossing resolved)
PARAMETER_NAMES = {"strength": "strength", "length": r"correlation length $\xi$", "exchange": "exchange J",
                   "spin": "spin S"}


def describe(disorder_repr):
    """``Kind`` and its parameters except the (swept) density, e.g. ``correlation length xi = 1.5``."""
    kind = disorder_repr.split("(")[0]
    params = dict(re.findall(r"(\w+)=([^,)]+)", disorder_repr))
    text = ", ".join(f"{PARAMETER_NAMES.get(k, k)} = {v}" for k, v in params.items() if k != "density")
    return kind, text


def crossing_line(ax, label=True, text_y=0.72):
    """The band crossing: a labelled grey dotted line (lines of the curves are interrupted there)."""
    ax.axvline(CROSSING, color="grey", lw=1.0, ls=":", zorder=0,
               label="band crossing mu = 0 (degenerate: not computed)" if label else None)
    ax.text(CROSSING, text_y, "band crossing ", rotation=90, color="grey", fontsize=7, ha="right", va="center",
            transform=ax.get_xaxis_transform())


def mu_axis(ax):
    """Symmetric-log mu axis: decades on either side of the band crossing, linear within +-LINTHRESH."""
    from matplotlib.ticker import FixedLocator, NullFormatter

    ax.set_xscale("symlog", linthresh=LINTHRESH, linscale=0.6)
    ticks = [-0.1, -0.01, -0.001, 0.0, 0.001, 0.01, 0.1, 1.0]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.set_xticklabels(["-0.1", "-0.01", "", "0", "", "0.01", "0.1", "1"])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(-0.13, 1.3)
    ax.set_xlabel(r"chemical potential $\mu$ (model energy units)" + "\n"
                  + rf"symmetric log scale, linear for $|\mu| < {LINTHRESH:g}$", fontsize=9)


def make_figure(ds, path):
    columns = ds.sizes["disorder"]
    fig, axes = figure(3, columns, width=4.8, height=3.7)
    u = unit(ds)
    mu = ds.mu.values
    for col, name in enumerate(ds.disorder.values):
        kind, params = describe(str(ds.disorder_repr.sel(disorder=name).values))
        sub = ds.sel(disorder=name, i="x", j="y")
        at_n = sub.sel(disorder_density=DENSITY)
        ax = axes[0, col]
        plot_contributions_vs(ax, at_n.sigma.transpose("contribution", "mu"), mu, scale=u,
                              conventional=at_n.sigma_conventional_intrinsic, distinct=True, breaks=[CROSSING])
        crossing_line(ax)
        mu_axis(ax)
        ax.set_title(f"{kind}: {params}\n" + r"$n_\mathrm{imp}$" + f" = {DENSITY}", fontsize=9)
        at_mu = sub.sel(mu=MU)
        ax = axes[1, col]
        plot_contributions_vs(ax, at_mu.sigma.transpose("contribution", "disorder_density"),
                              ds.disorder_density.values, scale=u, logx=True,
                              conventional=at_mu.sigma_conventional_intrinsic, distinct=True)
        ax.set_title(f"{kind}: {params}\n" + rf"$\mu$ = {MU}", fontsize=9)
        ax.set_xlabel(r"impurity density $n_\mathrm{imp}$ (1/length$^2$)")
        ax = axes[2, col]
        total = np.abs(sub.sigma.sel(contribution="total")).max("disorder_density").transpose("mu").values / u
        error = sub.sigma_error.sel(contribution="total").max("disorder_density").transpose("mu").values / u
        floor = 1e-18
        exact = total == 0
        shown = np.where(exact, np.nan, total)
        ax.semilogy(mu, shown, "o", color="black", ms=5, label=r"|total| (largest over $n_\mathrm{imp}$)")
        if exact.any():
            ax.semilogy(mu[exact], np.full(exact.sum(), floor), "v", color="black", ms=6, fillstyle="none",
                        label=f"|total| = 0 exactly (drawn at {floor:g})")
        ax.semilogy(*split_at(mu, error, [CROSSING]), color="#D55E00", ls="--", lw=1.6,
                    label="its error estimate (sigma_error)")
        ax.axhline(1.0, color="#56B4E9", lw=1.6, label=r"$|q|/8\pi$ = size of the parts that cancel")
        crossing_line(ax, label=False, text_y=0.3)
        ax.set_ylim(floor / 3, 10)
        ax.set_title(f"{kind}: |total| vs its error estimate", fontsize=9)
        mu_axis(ax)
        ax.grid(alpha=0.3, which="major")
    for row in axes[:2]:
        row[0].set_ylabel(r"$\sigma^{s_z}_{xy}$ / ($|q|/8\pi$)   ($\hbar = 1$)")
    axes[2, 0].set_ylabel(r"$|\sigma^{s_z}_{xy}|$ / ($|q|/8\pi$)   (log scale)")
    for ax in axes[2]:  # between the error estimates and |q|/(8 pi); the crossing label sits lower
        ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 0.93), framealpha=0.9)
    title = f"Rashba null result: {ds.attrs['model']}, s = {ds.attrs['observable']}, q = {ds.attrs['charge']}"
    return save(fig, path, title, legend_axes=axes[0, 0], legend_rows=3)


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
