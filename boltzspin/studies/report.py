"""Reporting a study: its figure and its terminal table.

:func:`make_figure` writes the figure named by ``[study] figure``: with the study's
own script (``[study] figure_script``) or, without one, :func:`default_figure`.
:func:`format_table` turns the merged Dataset into plain text for the terminal.
The figure-script contract is described in ``docs/guide/figures.md``.

Which tensor component ``sigma_ij`` the table (and the default figure) shows is
``[study] component`` (``"xy"``, or a list such as ``["xx", "xy"]``); without it,
the component with the largest ``|sigma_ij|`` (any contribution, any point) of
the study, see :func:`table_components`.
"""

from __future__ import annotations

import importlib.util
import itertools
import textwrap
from pathlib import Path

import numpy as np
import xarray as xr

from .study_file import StudyError

__all__ = ["make_figure", "default_figure", "format_table", "table_components", "check_report"]

#: Preference among components of (nearly) equal size: off-diagonal (Hall-like) first.
COMPONENT_ORDER = ("xy", "yx", "xz", "zx", "yz", "zy", "xx", "yy", "zz")
#: Components whose largest ``|sigma_ij|`` is within this relative margin of the largest count as equal.
TIE_RTOL = 1e-6


def _requested_components(study):
    """``[study] component`` as a list of 2-letter strings, or None; StudyError on a bad value."""
    value = study.get("component")
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values) \
            or any(len(v) != 2 or set(v) - set("xyz") for v in values):
        raise StudyError(f"[study] component = {value!r} is not a tensor component: give two of x, y, z "
                         "(e.g. component = \"xy\") or a list (component = [\"xx\", \"xy\"])")
    return list(values)


def check_report(spec):
    """Check the reporting keys of ``[study]`` before any work; raises StudyError.

    Checks ``component`` (see :func:`table_components`), that ``figure_script`` comes
    with a ``figure`` path and that the script exists next to the study file.
    """
    study = spec["study"]
    requested = _requested_components(study)
    if requested is not None and spec.get("quantity", "transport") != "transport":
        raise StudyError(f"[study] component applies to transport studies (sigma_ij); this study computes "
                         f"quantity = {spec['quantity']!r}: remove the key")
    script, figure = study.get("figure_script"), study.get("figure")
    if script and not figure:
        raise StudyError(f"[study] figure_script = {script!r} but no figure path: add figure = \"figures/NAME.png\"")
    if script and not (Path(spec["path"]).parent / script).exists():
        raise StudyError(f"figure script {Path(spec['path']).parent / script} does not exist (figure_script is "
                         "relative to the study file); fix the name, or remove figure_script for the default figure")


def make_figure(spec, result=None):
    """Write the study's figure from its saved (or given) Dataset; returns the figure path.

    Runs ``make_figure(ds, path)`` of ``[study] figure_script`` (a file next to the
    study file) or, without a script, :func:`default_figure`.  Returns None when
    the study names no ``figure``.  Raises StudyError when the script is missing,
    defines no ``make_figure`` or writes no file at ``path``.
    """
    check_report(spec)
    script, figure = spec["study"].get("figure_script"), spec["study"].get("figure")
    if not figure:
        return None
    if result is None:
        with xr.open_dataset(spec["study"]["output"], engine="h5netcdf") as ds:
            result = ds.load()
    path = Path(figure)
    before = path.stat().st_mtime_ns if path.exists() else None
    if not script:
        default_figure(result, figure, components=_requested_components(spec["study"]))
        return figure
    script_path = Path(spec["path"]).parent / script
    module_spec = importlib.util.spec_from_file_location(f"boltzspin_figure_{Path(script).stem}", script_path)
    if module_spec is None:
        raise StudyError(f"figure script {script_path} is not a Python file: name a .py file in figure_script")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not callable(getattr(module, "make_figure", None)):
        raise StudyError(f"figure script {script_path} defines no function make_figure(ds, path)")
    module.make_figure(result, figure)
    if not path.exists() or path.stat().st_mtime_ns == before:
        raise StudyError(f"figure script {script_path}: make_figure(ds, path) wrote no file at {figure}; "
                         "it must save the figure to the path it is given")
    return figure


def table_components(result, requested=None):
    """The components ``(i, j)`` a study's table and default figure show.

    Parameters
    ----------
    result : xarray.Dataset
        A merged transport study (``sigma`` with dims ``i``, ``j``).
    requested : str or list of str, optional
        ``"xy"`` or ``["xx", "xy"]`` (``[study] component``).  Default: the single
        component with the largest ``max |sigma_ij|`` over every contribution and
        point; components within a relative ``TIE_RTOL`` of it count as equal
        and the first in ``COMPONENT_ORDER`` (off-diagonal first) wins.

    Returns
    -------
    list of tuple of str
        ``[(i, j), ...]``.

    Raises
    ------
    StudyError
        A requested component that is not a component of the result.
    """
    axes = [str(a) for a in result.i.values]
    if requested is not None:
        requested = _requested_components({"component": requested})
        bad = [c for c in requested if not set(c) <= set(axes)]
        if bad:
            have = ", ".join(a + b for a in axes for b in axes)
            raise StudyError(f"component {bad[0]!r} is not a component of this {len(axes)}D result; have {have}")
        return [(c[0], c[1]) for c in requested]
    sizes = {}
    for c in COMPONENT_ORDER:
        if set(c) <= set(axes):
            values = np.abs(result.sigma.sel(i=c[0], j=c[1]).values)
            sizes[c] = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    largest = max(sizes.values())
    best = next(c for c, size in sizes.items() if size >= (1 - TIE_RTOL) * largest)
    return [(best[0], best[1])]


def _units(result, name):
    """The ``units`` of a coordinate or variable (empty when it has none)."""
    return str(result[name].attrs.get("units", "")) if name in result.variables else ""


#: Units of common sweep axes, used only when the Dataset's coordinate has no ``units`` attribute.
_AXIS_UNITS = {"mu": "model energy units", "temperature": "model energy units, k_B = 1",
               "energy_step": "model energy units"}


def axis_label(result, dim):
    """``dim (units)``: the coordinate's ``units`` attribute, else a known sweep keyword's units."""
    units = _units(result, dim) or _AXIS_UNITS.get(dim) or (
        "1/length^D" if dim.endswith("_density") else "length" if dim.endswith("_length") else "")
    return f"{dim} ({units})" if units else dim


def _blocks(result, block_dims):
    """``(title, selection)`` per combination of the block dims (model, disorder) present."""
    dims = [d for d in block_dims if d in result.dims]
    for values in itertools.product(*(result[d].values for d in dims)):
        selection = dict(zip(dims, values))
        title = ", ".join(f"{d} = {v}" for d, v in selection.items())
        if "disorder_repr" in result and "disorder" in selection:
            title += f": {result.disorder_repr.sel(disorder=selection['disorder']).item()}"
        yield title, selection


def _label(value, width):
    if isinstance(value, (float, np.floating)):
        return f"{value:>{width}.6g}"
    return f"{str(value):>{width}}"


def _row_indices(n, max_rows):
    """All rows, or evenly spaced ones (first and last included) when there are more than ``max_rows``."""
    if n <= max_rows:
        return list(range(n)), ""
    step = -(-n // (max_rows - 1))
    rows = sorted(set(range(0, n, step)) | {n - 1})
    return rows, f"  (showing {len(rows)} of {n} points, evenly spaced with the first and the last; all are in the netCDF file)"


def _block_lines(columns, point_dims, sub, max_rows):
    """Lines of one block: a header of full names, one row per point of ``sub``'s point dims."""
    widths = [max(len(d), 12) for d in point_dims] + [max(len(c), 11) for c in columns]
    head = " ".join(f"{name:>{w}}" for name, w in zip(point_dims + list(columns), widths))
    labels = list(itertools.product(*(sub[d].values for d in point_dims)))
    rows, note = _row_indices(len(labels), max_rows)
    lines = [head]
    for n in rows:
        point = dict(zip(point_dims, labels[n]))
        cells = [_label(v, w) for v, w in zip(labels[n], widths)]
        cells += [f"{float(values.sel(point).values):>{w}.3e}"
                  for values, w in zip(columns.values(), widths[len(point_dims):])]
        failed = " failed" if "failed" in sub and bool(sub.failed.sel(point).values) else ""
        lines.append(" ".join(cells) + failed)
    return lines + ([note] if note else [])


def format_table(result, i=None, j=None, max_rows=40, component=None):
    """A plain-text table of a study's result, one block per disorder (and model).

    Transport results: ``sigma_ij`` of every contribution in units of ``|q|/(8 pi)``,
    the conventional intrinsic value and the error estimate of the total
    (``sigma_error``), one row per point.  Results without ``sigma`` (e.g.
    magnetization) get one column per variable that has only the point dims.

    Parameters
    ----------
    result : xarray.Dataset
        A merged study (:func:`boltzspin.studies.study.run_study`).
    i, j : str, optional
        The component shown (both or neither); default ``component``.
    max_rows : int
        Rows per block; a longer block shows evenly spaced points and says so.
    component : str or list of str, optional
        ``"xy"`` or ``["xx", "xy"]``: one set of blocks per component.  Default:
        :func:`table_components` (the largest ``|sigma_ij|`` of the study).

    Returns
    -------
    str
    """
    if "sigma" not in result:
        return _format_scalars(result, max_rows)
    if (i is None) != (j is None):
        raise StudyError("format_table: give both i and j (e.g. i='x', j='y') or neither")
    components = [(i, j)] if i is not None else table_components(result, component)
    scale = abs(result.attrs.get("charge", 1.0)) / (8 * np.pi)
    units = result.attrs.get("units", "")
    chosen = "" if i is not None or component is not None else \
        " (chosen as the largest |sigma_ij| of this study; [study] component = [...] shows others)"
    lines = []
    for a, b in components:
        lines += [f"sigma_{a}{b}{chosen}", f"in units of |q|/(8 pi); sigma itself: {units}"]
        for title, selection in _blocks(result, ("model", "disorder")):
            sub = result.sel(selection).sel(i=a, j=b)
            columns = {str(c): sub.sigma.sel(contribution=c) / scale for c in sub.contribution.values}
            columns["conventional_intrinsic"] = sub.sigma_conventional_intrinsic / scale
            if "sigma_error" in sub:
                columns["total_error_estimate"] = sub.sigma_error.sel(contribution="total") / scale
            point_dims = [d for d in sub.sigma.dims if d != "contribution"]
            lines += ["", title] if title else [""]
            lines += _block_lines(columns, point_dims, sub, max_rows)
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def _format_scalars(result, max_rows=40):
    """Table of every float variable with only the point dims, full names, one block per model."""
    point_dims = list(result.failed.dims)
    names = [n for n, v in result.data_vars.items()
             if set(v.dims) == set(point_dims) and v.dtype.kind in "fc"]
    estimates = [n for n in names if n.endswith("_error_estimate")]
    names = [n for n in names if n not in estimates] + estimates
    lines = [f"{result.attrs.get('quantity', '')} [{result.attrs.get('units', '')}]"]
    for title, selection in _blocks(result, ("model",)):
        sub = result.sel(selection)
        columns = {n: sub[n] for n in names}
        if title:
            lines += ["", title]
        lines += _block_lines(columns, [d for d in point_dims if d not in selection], sub, max_rows)
    return "\n".join(lines)


def _title(result, selection, fixed):
    """Panel title: the block (model, disorder with its repr) and, on a second line, the held sweep axes."""
    parts = []
    for d, v in selection.items():
        text = f"{d} = {v}"
        if d == "disorder" and "disorder_repr" in result:
            text = f"{v}: {result.disorder_repr.sel(disorder=v).item()}"
        parts.append(text)
    held = ", ".join(f"{d} = {v:g}" if isinstance(v, float) else f"{d} = {v}" for d, v in fixed.items())
    lines = textwrap.wrap(", ".join(parts), 58) + ([f"at {held}"] if held else [])
    return "\n".join(lines)


def default_figure(result, path, components=None):
    """The figure of a study without ``figure_script``; returns the path.

    Transport: every contribution of ``sigma_ij`` (in ``|q|/(8 pi)``) and the
    conventional intrinsic value against the first sweep axis, one panel per
    disorder (columns) and per model and component (rows); components as
    :func:`table_components`.  Magnetization and other quantities: every variable
    with only the point dims (error bars from ``NAME_error_estimate`` where
    present) against the first sweep axis, one panel per model.  Further sweep
    axes are held at their first value (stated in each panel title).
    """
    import json

    from .plot import figure, plot_contributions_vs, save, unit

    sweep = [k.replace(".", "_") for k in json.loads(result.attrs.get("sweep_keys", "[]"))]
    point_dims = list(result.failed.dims)
    if bool(result.failed.all()):
        raise StudyError("every point of the study failed (see the variable 'error' of the result): no figure; "
                         "fix the cause and rerun, the failed points are computed again")
    axes_dims = [d for d in sweep if d in point_dims] or [d for d in point_dims if d not in ("model", "disorder")]
    if not axes_dims:
        raise StudyError("the default figure needs a sweep axis: add one under [sweep], or give a figure_script")
    x_dim, others = axes_dims[0], axes_dims[1:]
    fixed = {d: result[d].values[0].item() for d in others}
    result = result.isel({d: 0 for d in others})
    x = result[x_dim].values
    models = list(result.model.values) if "model" in result.dims else [None]
    if "sigma" in result:
        components = table_components(result, components)
        disorders = list(result.disorder.values) if "disorder" in result.dims else [None]
        rows = [(m, c) for m in models for c in components]
        fig, grid = figure(len(rows), len(disorders))
        u = unit(result)
        for r, (model, (a, b)) in enumerate(rows):
            for col, name in enumerate(disorders):
                ax = grid[r, col]
                selection = {k: v for k, v in (("model", model), ("disorder", name)) if v is not None}
                sub = result.sel(selection).sel(i=a, j=b)
                plot_contributions_vs(ax, sub.sigma.transpose("contribution", x_dim), x, scale=u,
                                      conventional=sub.sigma_conventional_intrinsic.transpose(x_dim).values,
                                      distinct=True)
                ax.set_title(_title(result, selection, fixed), fontsize=7.5)
                ax.set_xlabel(axis_label(result, x_dim))
                ax.set_ylabel(f"sigma_{a}{b} in units of |q|/(8 pi)   (hbar = 1)", fontsize=9)
        title = (f"{result.attrs.get('study', '')}: {result.attrs.get('model', '')}, "
                 f"s = {result.attrs.get('observable', '')}, q = {result.attrs.get('charge', '')}")
        return save(fig, path, title, legend_axes=grid[0, 0], legend_rows=2)
    names = [n for n, v in result.data_vars.items() if set(v.dims) == set(p for p in point_dims if p not in others)
             and v.dtype.kind in "fc" and not n.endswith("_error_estimate")]
    fig, grid = figure(1, len(models))
    for col, model in enumerate(models):
        ax = grid[0, col]
        sub = result.sel(model=model) if model is not None else result
        for k, name in enumerate(names):
            error = sub[name + "_error_estimate"].values if name + "_error_estimate" in sub else None
            ax.errorbar(x, sub[name].values, yerr=error, marker="osD^vx"[k % 6], ms=4, capsize=2, lw=1.4,
                        label=f"{name} [{_units(result, name)}]" if _units(result, name) else name)
        ax.axhline(0, color="grey", lw=0.5)
        ax.grid(alpha=0.3)
        ax.set_title(_title(result, {"model": model} if model is not None else {}, fixed), fontsize=8)
        ax.set_xlabel(axis_label(result, x_dim))
        ax.set_ylabel(f"{result.attrs.get('quantity', '')} [{result.attrs.get('units', '')}]", fontsize=8)
    title = f"{result.attrs.get('study', '')}: {result.attrs.get('quantity', '')}, {result.attrs.get('model', '')}"
    return save(fig, path, title, legend_axes=grid[0, 0], legend_rows=1)
