"""Figures from saved study Datasets (matplotlib, Agg backend).

Colours are the Okabe-Ito colour-blind-safe palette; line styles differ as
well so that the figure also reads in greyscale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_contributions", "STYLE"]

#: contribution -> (colour, linestyle, marker, label)
STYLE = {
    "intrinsic_berry": ("#E69F00", "-", "o", "intrinsic (Berry)"),
    "intrinsic_dipole": ("#56B4E9", "-", "^", "intrinsic (s-dipole)"),
    "boltzmann": ("#009E73", "-", "s", "Boltzmann"),
    "side_jump": ("#F0E442", "-", "D", "side jump"),
    "dipole_change": ("#0072B2", "-", "v", "dipole change"),
    "anomalous_distribution": ("#D55E00", "-", "x", "anomalous distribution"),
    "total": ("#000000", "-", None, "total (conserved)"),
}


def plot_contributions(result, path, i="x", j="y", title=None):
    """Plot every contribution to ``sigma_ij`` vs ``mu``, one panel per disorder.

    Values are in units of ``|q|/(8 pi)``; the conventional intrinsic value is
    drawn dashed for contrast.  Writes ``path`` (PNG) and returns it.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = abs(result.attrs.get("charge", 1.0)) / (8 * np.pi)
    disorders = list(result.disorder.values)
    fig, axes = plt.subplots(1, len(disorders), figsize=(4.6 * len(disorders), 4.2), sharey=True, squeeze=False)
    mu = result.mu.values
    for ax, d in zip(axes[0], disorders):
        sub = result.sel(disorder=d, i=i, j=j)
        for c in result.contribution.values:
            colour, ls, marker, label = STYLE.get(str(c), ("grey", "-", None, str(c)))
            lw = 2.6 if c == "total" else 1.6
            ax.plot(mu, sub.sigma.sel(contribution=c) / scale, color=colour, ls=ls, marker=marker,
                    ms=4, lw=lw, label=label, zorder=3 if c == "total" else 2)
        ax.plot(mu, sub.sigma_conventional_intrinsic / scale, color="#CC79A7", ls="--", lw=1.8,
                label="conventional intrinsic {s, v}/2")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5, ls=":")
        name = str(sub["disorder_repr"].values[0]).split("(")[0] if "disorder_repr" in sub else str(d)
        ax.set_title(f"{d}: {name}", fontsize=10)
        ax.set_xlabel(r"chemical potential $\mu$ (model energy units)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(rf"$\sigma_{{{i}{j}}}$ / ($|q|/8\pi$)   ($\hbar=1$, q = {result.attrs.get('charge')})")
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.suptitle(title or f"{result.attrs.get('study', '')}: {result.attrs.get('model', '')}, "
                 f"s = {result.attrs.get('observable', '')}", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
