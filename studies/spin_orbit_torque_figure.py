"""Figure of the spin-orbit torque study: damping-like torque per mechanism vs the polar angle of m."""

import sys

import numpy as np
import xarray as xr

from boltzspin.studies.plot import figure, save

PARTS = {"intrinsic": ("#E69F00", "o"), "extrinsic_coherence": ("#56B4E9", "D"),
         "anomalous_distribution": ("#D55E00", "x"), "intrinsic_skew": ("#CC79A7", "v"), "total": ("k", ".")}


def make_figure(ds, path):
    disorders = list(ds.disorder.values)
    mus = list(ds.mu.values)
    fig, axes = figure(len(disorders), len(mus) + 1, width=3.6, height=2.6)
    theta = np.degrees(ds.theta.values)
    for r, name in enumerate(disorders):
        for c, mu in enumerate(mus):
            ax = axes[r, c]
            sub = ds.damping_like.sel(disorder=name, mu=mu)
            for part, (colour, marker) in PARTS.items():
                ax.plot(theta, sub.sel(contribution=part), marker=marker, color=colour, lw=1 if part == "total" else 0.6,
                        mfc="none", label=part)
            pair = sub.sel(contribution="intrinsic") + sub.sel(contribution="extrinsic_coherence")
            ax.plot(theta, pair, ls="--", color="#009E73", lw=1.5, label="intrinsic + extrinsic_coherence")
            pair = sub.sel(contribution="anomalous_distribution") + sub.sel(contribution="intrinsic_skew")
            ax.plot(theta, pair, ls=":", color="#0072B2", lw=1.5, label="anomalous_distribution + intrinsic_skew")
            born = sub.sel(contribution="total") - sub.sel(contribution="intrinsic_skew")
            ax.plot(theta, born, ls="-.", color="grey", lw=1, label="first-Born total")
            ax.axhline(0, color="grey", lw=0.5)
            ax.set_title(f"{name}, mu = {mu:g}: damping-like", fontsize=8)
            ax.grid(alpha=0.3)
            if r == len(disorders) - 1:
                ax.set_xlabel(r"polar angle of m (deg)")
            if c == 0:
                ax.set_ylabel(r"$\tau_{DL}$ per unit $E_x$", fontsize=8)
        ax = axes[r, len(mus)]
        for k, mu in enumerate(mus):
            fl = ds.field_like.sel(disorder=name, mu=mu, contribution="total")
            ax.plot(theta, fl / abs(fl).max(), marker="s", color=f"C{k}", mfc="none", label=f"mu = {mu:g}")
        ax.set_title(f"{name}: field-like total / max", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    axes[0, 0].legend(fontsize=6)
    return save(fig, path, "Rashba ferromagnet, current along x: T = tau_FL m x y + tau_DL m x (m x y), "
                "every n_imp^0 term with intrinsic skew scattering, by mechanism")


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
