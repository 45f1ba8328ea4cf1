"""Shared figure helpers for study scripts (matplotlib, Agg backend).

Colours are the Okabe-Ito colour-blind-safe palette; markers differ as well so
that figures also read in greyscale.  Conductivities are plotted in units of
``|q|/(8 pi)`` (hbar = 1), the Rashba spin Hall unit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["STYLE", "OKABE_ITO", "figure", "plot_contributions_vs", "save", "unit"]

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]

#: contribution -> (colour, marker, label)
STYLE = {
    "intrinsic_berry": ("#E69F00", "o", "intrinsic (Berry)"),
    "intrinsic_dipole": ("#56B4E9", "^", "intrinsic (s-dipole)"),
    "boltzmann": ("#009E73", "s", "Boltzmann"),
    "side_jump": ("#F0E442", "D", "side jump"),
    "dipole_change": ("#0072B2", "v", "dipole change"),
    "anomalous_distribution": ("#D55E00", "x", "anomalous distribution"),
    "total": ("#000000", None, "total (conserved)"),
}


def figure(rows, cols, width=4.6, height=3.8):
    """A new figure and its axes grid (Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    return fig, axes


def unit(ds):
    """``|q|/(8 pi)`` of a result."""
    return abs(float(ds.attrs.get("charge", 1.0))) / (8 * np.pi)


def plot_contributions_vs(ax, sigma, x, contributions=None, scale=1.0, logx=False, conventional=None):
    """One line per contribution of ``sigma`` (dims ``(contribution, x)``) against ``x``."""
    contributions = contributions or [str(c) for c in sigma.contribution.values]
    for c in contributions:
        colour, marker, label = STYLE[c]
        ax.plot(x, sigma.sel(contribution=c) / scale, color=colour, marker=marker, ms=4,
                lw=2.6 if c == "total" else 1.6, label=label, zorder=3 if c == "total" else 2)
    if conventional is not None:
        ax.plot(x, conventional / scale, color="#CC79A7", ls="--", lw=1.8, label="conventional intrinsic {s, v}/2")
    if logx:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axhline(0, color="grey", lw=0.5)
    ax.grid(alpha=0.3)


def save(fig, path, title=None, legend_axes=None, legend_rows=2):
    """Finish and write a figure; returns the path.

    ``legend_axes``: put that axes' legend below all panels (figure legend).
    """
    import matplotlib.pyplot as plt

    if title:
        fig.suptitle(title, fontsize=10)
    bottom = 0.0
    if legend_axes is not None:
        handles, labels = legend_axes.get_legend_handles_labels()
        ncol = -(-len(labels) // legend_rows)
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
        bottom = 0.035 * legend_rows + 0.02
    fig.tight_layout(rect=(0, bottom, 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
