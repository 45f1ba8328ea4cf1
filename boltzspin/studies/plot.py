"""Shared figure helpers for study scripts (matplotlib, Agg backend).

Colours are the Okabe-Ito colour-blind-safe palette; markers differ as well so
that figures also read in greyscale.  Conductivities are plotted in units of
``|q|/(8 pi)`` (hbar = 1), the Rashba spin Hall unit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["STYLE", "DISTINCT", "OKABE_ITO", "figure", "plot_contributions_vs", "save", "unit", "split_at"]

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


#: contribution -> (line style, marker size, hollow marker): with ``distinct=True`` curves that
#: coincide (parts that vanish, or cancel each other) stay visible as concentric markers of
#: different shapes and sizes and different dash patterns, drawn above a wide, light total.
DISTINCT = {
    "intrinsic_berry": ("-", 10, True),
    "intrinsic_dipole": ("--", 7, True),
    "boltzmann": ("-.", 8, True),
    "side_jump": (":", 6, True),
    "dipole_change": ("-", 4, False),
    "anomalous_distribution": ("--", 5, False),
}
CONVENTIONAL = ("#CC79A7", "conventional intrinsic {s, v}/2")


def split_at(x, y, breaks=()):
    """``(x, y)`` with NaN inserted between neighbours on either side of each break.

    A line drawn through the result is interrupted at every break (e.g. a band
    crossing that is not computed) instead of joining its neighbours by a segment.
    """
    if not len(breaks):  # x may be categorical (strings)
        return np.asarray(x), np.asarray(y, dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    for b in sorted(breaks, reverse=True):
        cut = np.flatnonzero((x[:-1] - b) * (x[1:] - b) < 0)
        for k in cut[::-1]:
            x, y = np.insert(x, k + 1, np.nan), np.insert(y, k + 1, np.nan)
    return x, y


def plot_contributions_vs(ax, sigma, x, contributions=None, scale=1.0, logx=False, conventional=None,
                          distinct=False, breaks=()):
    """One line per contribution of ``sigma`` (dims ``(contribution, x)``) against ``x``.

    ``distinct=True``: the styles of ``DISTINCT`` (coinciding curves stay visible; the total is a
    wide light grey band underneath, the conventional value a wide pink band with filled-plus markers,
    also underneath, so a part equal to it shows as a thin line inside the band).  ``breaks``: x values
    where the lines are interrupted (see :func:`split_at`).
    """
    contributions = contributions or [str(c) for c in sigma.contribution.values]
    for c in contributions:
        colour, marker, label = STYLE[c]
        xs, ys = split_at(x, sigma.sel(contribution=c).values / scale, breaks)
        if not distinct:
            ax.plot(xs, ys, color=colour, marker=marker, ms=4, lw=2.6 if c == "total" else 1.6, label=label,
                    zorder=3 if c == "total" else 2)
        elif c == "total":
            ax.plot(xs, ys, color=colour, lw=7, alpha=0.25, solid_capstyle="round", label=label, zorder=1)
        else:
            ls, ms, hollow = DISTINCT[c]
            ax.plot(xs, ys, color=colour, ls=ls, lw=1.4, marker=marker, ms=ms, mew=1.3,
                    fillstyle="none" if hollow else "full", label=label, zorder=2 + (10 - ms) / 10)
    if conventional is not None:
        xs, ys = split_at(x, np.asarray(conventional) / scale, breaks)
        if distinct:  # a wide pink band with + markers: a part drawn on top of it stays visible inside it
            ax.plot(xs, ys, color=CONVENTIONAL[0], lw=6.5, alpha=0.45, solid_capstyle="butt", marker="P", ms=10,
                    mew=0, label=CONVENTIONAL[1], zorder=1.5)
        else:
            ax.plot(xs, ys, color=CONVENTIONAL[0], ls="--", lw=1.8, label=CONVENTIONAL[1], zorder=4)
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
