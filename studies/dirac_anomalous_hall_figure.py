"""Figure of the Dirac anomalous Hall study with the closed-form first-Born curves."""

import sys

import numpy as np
import xarray as xr

from boltzspin.studies.plot import STYLE, figure, save

GAP = 0.3


def closed_form(e_f, gap):
    """sigma_yx (q = -1, hbar = 1): intrinsic, side jump, anomalous distribution."""
    e_f = np.asarray(e_f, dtype=float)
    metal = np.abs(e_f) > abs(gap)
    x = (e_f**2 - gap**2) / (e_f**2 + 3 * gap**2)
    inverse = np.divide(1.0, np.abs(e_f), out=np.zeros_like(e_f), where=metal)
    intrinsic = np.where(metal, gap * inverse / (4 * np.pi), np.sign(gap) / (4 * np.pi))
    extrinsic = np.where(metal, 2 * x * gap * inverse / (4 * np.pi), 0.0)
    return intrinsic, extrinsic


def make_figure(ds, path):
    fig, axes = figure(1, 1, width=7.0, height=6.0)
    ax = axes[0, 0]
    scale = 1 / (4 * np.pi)
    x = ds.mu.values / GAP
    for k, name in enumerate(ds.disorder.values):
        sub = ds.sigma.sel(disorder=name, i="y", j="x")
        n = str(ds.disorder_repr.sel(disorder=name).values).split("density=")[1].split(",")[0]
        for c in ("intrinsic_berry", "side_jump", "anomalous_distribution", "total"):
            colour, marker, label = STYLE[c]
            # first disorder: large hollow markers; second: small filled ones inside them
            ax.plot(x, sub.sel(contribution=c) / scale, ls="none", marker=marker or "o",
                    mfc="none" if k == 0 else colour, color=colour, ms=9 if k == 0 else 4,
                    label=f"{label}, n_imp = {n}")
    fine = np.linspace(0, ds.mu.values.max(), 400)
    intrinsic, extrinsic = closed_form(fine, GAP)
    ax.plot(fine / GAP, intrinsic / scale, color="k", lw=1, label="closed form (Sinitsyn et al. 2007)")
    ax.plot(fine / GAP, extrinsic / scale, color="k", lw=1, ls="--", label="closed form: side jump = anomalous dist.")
    ax.plot(fine / GAP, (intrinsic + 2 * extrinsic) / scale, color="k", lw=1, ls=":", label="closed form: total")
    ax.axvline(1, color="grey", lw=0.5)
    ax.set_xlabel(r"$e_F / \Delta$")
    ax.set_ylabel(r"$\sigma_{yx}$ / ($q^2/4\pi$)   ($\hbar = 1$, $h = 2\pi$)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    return save(fig, path, f"Massive Dirac anomalous Hall conductivity: {ds.attrs['model']}, s = charge")


if __name__ == "__main__":
    make_figure(xr.load_dataset(sys.argv[1], engine="h5netcdf"), sys.argv[2])
