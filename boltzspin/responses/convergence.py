r"""Raise the resolution of a calculation until every reported error estimate is small.

Every boltzspin response reports how accurate it is: attributes named
``*_error_estimate`` (e.g. ``fermi_sea_error_estimate``,
``fermi_surface_error_estimate``) and data variables named ``X_error`` that
carry the error of the variable ``X`` (e.g. ``sigma_error``).  :func:`converge`
reads all of them, whatever their names, so it works unchanged for
:func:`boltzspin.transport`, :func:`boltzspin.magnetization`,
:func:`boltzspin.thermal_hall` and any function that follows the same
convention.

The rule, with :math:`e` an estimate and :math:`X` the value it belongs to:

.. math::

    e_{\text{attribute}} \le \text{tol},\qquad
    |X_{\text{error}}| \le \text{tol} + \text{rtol}\,|X| \quad\text{(elementwise)} .

The estimates keep their own meaning and units: absolute ones are in the units
of their quantity, ``fermi_surface_error_estimate`` is relative (a change of the
density of states), so ``tolerances={name: value}`` can give each its own
bound.  See the convergence tutorial of the documentation.
"""

from __future__ import annotations

import numbers

import numpy as np
import xarray as xr

from ..errors import ConvergenceError, FermiSurfaceError, ModelError
from ..progress import LOGGER

__all__ = ["converge", "error_estimates"]

#: Suffix of the attributes that hold error estimates.
ATTRIBUTE_SUFFIX = "_error_estimate"
#: Suffix of the data variables that hold the error of another variable.
VARIABLE_SUFFIX = "_error"


def error_estimates(ds):
    """Every error estimate a result reports.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`boltzspin.transport` or any function following the
        same convention.

    Returns
    -------
    attributes : dict
        ``{name: float}`` for every attribute whose name ends in ``_error_estimate``.
    variables : dict
        ``{name: (error, value)}`` for every data variable ``X_error``, with
        ``value`` the variable ``X`` (``None`` if the dataset has no ``X``).
    """
    attributes = {k: float(np.max(v)) for k, v in ds.attrs.items()
                  if k.endswith(ATTRIBUTE_SUFFIX) and np.size(v)}
    variables = {}
    for name in ds.data_vars:
        if str(name).endswith(VARIABLE_SUFFIX):
            base = str(name)[: -len(VARIABLE_SUFFIX)]
            variables[str(name)] = (ds[name], ds[base] if base in ds.data_vars else None)
    return attributes, variables


def _excess(ds, tol, rtol, tolerances):
    """``{name: worst error / bound}`` for every estimate of ``ds`` (converged where <= 1)."""
    attributes, variables = error_estimates(ds)
    out = {}
    for name, value in attributes.items():
        bound = tolerances.get(name, tol)
        out[name] = value / bound if bound > 0 else (0.0 if value == 0 else np.inf)
    for name, (error, value) in variables.items():
        atol = tolerances.get(name, tol)
        err = np.abs(np.asarray(error, dtype=float))
        scale = 0.0 if value is None else rtol * np.abs(np.asarray(value, dtype=float))
        bound = atol + scale
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(err == 0, 0.0, err / bound)
        ratio = np.where(np.isnan(err), np.inf, ratio)  # a NaN error is never converged
        out[name] = float(np.max(ratio)) if ratio.size else 0.0
    return out


def _check_positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ModelError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def converge(function, *args, tol=1e-4, rtol=0.0, tolerances=None, parameter="n_points", start=64,
             n_max=2048, growth=2.0, **kwargs):
    r"""Call ``function`` at growing resolution until every error estimate is within tolerance.

    Parameters
    ----------
    function : callable
        Returns an :class:`xarray.Dataset` that reports its accuracy, e.g.
        :func:`boltzspin.transport`.
    *args
        Positional arguments of ``function`` (e.g. ``model, mu, disorder``).
    tol : float
        Bound on every estimate: on each ``*_error_estimate`` attribute, and the
        absolute part of the bound on each ``X_error`` variable.  Each estimate is
        compared in its own units (``fermi_surface_error_estimate`` is relative,
        ``fermi_sea_error_estimate`` is in the units of ``sigma``).
    rtol : float
        Relative part of the bound on ``X_error`` variables:
        ``|X_error| <= tol + rtol |X|`` elementwise.
    tolerances : dict, optional
        Per-estimate absolute bounds ``{name: bound}`` that replace ``tol`` for
        the named estimates (attribute or variable names).
    parameter : str
        Keyword of ``function`` that sets the resolution: ``"n_points"`` for
        :func:`boltzspin.transport` and :func:`boltzspin.thermal_hall`,
        ``"n_angles"`` or ``"n_grid"`` for :func:`boltzspin.magnetization`.
    start : int
        First resolution tried.
    n_max : int
        Largest resolution tried.  Reaching it unconverged raises
        :class:`~boltzspin.errors.ConvergenceError`.
    growth : float
        Factor between successive resolutions (> 1); the resolution is rounded
        to an even integer.
    **kwargs
        Further keyword arguments of ``function`` (e.g. ``observable="sz"``;
        ``progress=True`` draws the progress bar of each call).  Each resolution
        tried, and its worst estimate, is logged at INFO to the ``"boltzspin"``
        logger (:mod:`boltzspin.progress`).

    Returns
    -------
    xarray.Dataset
        The result at the first resolution whose estimates are all within
        tolerance.  Its attrs add ``convergence_parameter``,
        ``convergence_tolerance``, ``convergence_rtol``, the resolutions tried
        (``convergence_history_<parameter>``) and, for every estimate, its worst
        value relative to its bound at each of them
        (``convergence_history_<estimate>``; converged where <= 1; ``inf`` where
        the call raised :class:`~boltzspin.errors.FermiSurfaceError`).

    Raises
    ------
    ConvergenceError
        If ``n_max`` is reached with an estimate above its bound (the message
        lists the worst estimates and the resolutions tried), or if the result
        reports no error estimate at all.
    ModelError
        For invalid ``tol``, ``rtol``, ``start``, ``n_max`` or ``growth``, or a
        ``parameter`` also given in ``kwargs``.

    See Also
    --------
    boltzspin.transport : The main calculation, whose estimates are read here.

    Notes
    -----
    An estimate is only as good as its definition: each one is a difference of
    two resolutions or a rigorous bound (see the numerics pages of the
    documentation).  A call that raises
    :class:`~boltzspin.errors.FermiSurfaceError` (an unresolved Fermi surface or
    Fermi sea, which asks for a higher resolution) counts as unconverged and
    the resolution is raised; any other error propagates.

    Examples
    --------
    >>> import boltzspin as bs
    >>> ds = bs.converge(bs.transport, bs.LatticeRashba(1.0, 0.3, exchange=(0, 0, 0.1)), 0.3,
    ...                  bs.DeltaCorrelated(0.01, 1.0), tol=1e-3, start=32)   # doctest: +SKIP
    >>> ds.attrs["convergence_history_n_points"]                                # doctest: +SKIP
    array([ 32,  64, 128])
    """
    for name, value in (("tol", tol), ("rtol", rtol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 or not np.isfinite(value):
            raise ModelError(f"{name}={value!r} must be a finite number >= 0")
    tolerances = dict(tolerances or {})
    for name, value in tolerances.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ModelError(f"tolerances[{name!r}]={value!r} must be a number >= 0")
    start = _check_positive_int("start", start, 2)
    n_max = _check_positive_int("n_max", n_max, start)
    if isinstance(growth, bool) or not isinstance(growth, numbers.Real) or not growth > 1:
        raise ModelError(f"growth={growth!r} must be a number > 1 (e.g. 2)")
    if parameter in kwargs:
        raise ModelError(f"{parameter}= is set by converge; pass start= and n_max= instead")

    tried, history, failures = [], [], {}
    n = start
    while True:
        tried.append(n)
        try:
            ds = function(*args, **{parameter: n}, **kwargs)
        except FermiSurfaceError as exc:  # unresolved at this resolution: raise it
            LOGGER.info("converge: %s=%d unresolved (%s); raising it", parameter, n, type(exc).__name__)
            failures[n] = exc
            history.append(None)
        else:
            if not isinstance(ds, xr.Dataset):
                raise ModelError(f"{function!r} returned {type(ds).__name__}, not an xarray.Dataset")
            excess = _excess(ds, float(tol), float(rtol), tolerances)
            if not excess:
                raise ConvergenceError(
                    f"{getattr(function, '__name__', function)} reports no error estimate (no attribute "
                    f"'*{ATTRIBUTE_SUFFIX}' and no variable '*{VARIABLE_SUFFIX}'), so convergence cannot be "
                    "judged; compare two resolutions yourself or use a function that reports its errors"
                )
            history.append(excess)
            worst = max(excess, key=excess.get)
            LOGGER.info("converge: %s=%d, worst estimate %s at %.3g x its bound", parameter, n, worst, excess[worst])
            if max(excess.values()) <= 1.0:
                return _annotate(ds, parameter, tried, history, tol, rtol)
        if n >= n_max:
            break
        n = min(n_max, 2 * int(np.ceil(n * float(growth) / 2)))
    raise ConvergenceError(_unconverged_message(function, parameter, tried, history, failures, tol, rtol))


def _annotate(ds, parameter, tried, history, tol, rtol):
    ds = ds.copy()
    names = sorted({name for h in history if h for name in h})
    ds.attrs.update(convergence_parameter=parameter, convergence_tolerance=float(tol),
                    convergence_rtol=float(rtol))
    ds.attrs[f"convergence_history_{parameter}"] = np.array(tried, dtype=int)
    for name in names:
        ds.attrs[f"convergence_history_{name}"] = np.array(
            [np.inf if h is None else h.get(name, np.nan) for h in history], dtype=float)
    return ds


def _unconverged_message(function, parameter, tried, history, failures, tol, rtol):
    name = getattr(function, "__name__", repr(function))
    last = next((h for h in reversed(history) if h), None)
    if last is None:
        detail = f"every call raised FermiSurfaceError; the last: {failures[tried[-1]]}"
    else:
        worst = sorted(last.items(), key=lambda kv: -kv[1])[:3]
        detail = "worst estimates at the last completed call, as multiples of their bounds: " + ", ".join(
            f"{k} = {v:.3g}" for k, v in worst)
    return (f"{name} did not converge to tol={tol:g}, rtol={rtol:g} with {parameter} up to {tried[-1]} "
            f"(tried {tried}); {detail}. Raise n_max (the cost grows with {parameter}), loosen tol/rtol or "
            "give a looser bound to one estimate with tolerances={name: bound}")
