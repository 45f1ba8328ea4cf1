"""Checks of a parsed study file that run before any point is computed (used by :mod:`.study_file`).

Every check raises :class:`StudyError` naming the section, the key and a remedy;
a misspelled name gets a did-you-mean list (:func:`difflib.get_close_matches`)
and the list of valid names.  The values of ``[transport]`` / ``[magnetization]``
go through the same checks the computed function applies to its arguments
(:mod:`boltzspin.responses.response`), once per point, so that a bad value fails
the study before the first point instead of failing every point.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers

from ..errors import BoltzspinError
from ..models.continuum import resolve_observable
from ..responses import response

__all__ = ["StudyError", "MAX_POINTS", "SECTIONS", "STUDY_KEYS", "RANGE_KEYS", "unknown_key", "check_keys",
           "constructor_parameters", "check_study_table", "sweep_values", "check_sweep_size",
           "check_point_arguments"]

#: The largest number of points of one study (models x disorders x sweep values): a larger
#: sweep would take minutes to list before the first point runs.  Split it into several files.
MAX_POINTS = 10**5

#: Top-level tables of a study file (besides the quantity's own table, e.g. ``[transport]``).
SECTIONS = ("study", "model", "disorder", "sweep")

#: Keys of ``[study]``: name -> (Python type, default or None when optional, meaning).
STUDY_KEYS = {
    "name": (str, "the file's stem", "name of the study (progress bar, Dataset attrs)"),
    "output": (str, "results/<name>.nc", "path of the merged netCDF file (relative to the working directory)"),
    "quantity": (str, "transport", "the function computed per point: 'transport', 'magnetization', 'spin_density' or 'spin_orbit_torque'"),
    "figure": (str, None, "path of the figure written by the figure script"),
    "figure_script": (str, None, "Python file next to the study file defining make_figure(ds, path)"),
    "retries": (int, 2, "retries of a point that fails with an unexpected error (never of a BoltzspinError)"),
    "scheduler": (str, None, "address of an existing dask scheduler, e.g. 'tcp://host:8786'"),
    "component": ((str, list), None, "tensor component(s) sigma_ij of the table and default figure, "
                  "e.g. 'xy' or ['xx', 'xy'] (default: the largest)"),
}

#: Keys of a ``{start, stop, num}`` range table of ``[sweep]`` (``numpy.linspace``, both ends included).
RANGE_KEYS = ("start", "stop", "num")


class StudyError(BoltzspinError, ValueError):
    """A study file is malformed."""


def unknown_key(key, valid, context, noun="key"):
    """A :class:`StudyError` for an unknown ``key``: did-you-mean candidates and every valid name.

    The message reads ``"{context}: unknown {noun} 'key'; did you mean 'a'? valid: a, b, ..."``.
    """
    valid = sorted(valid)
    close = difflib.get_close_matches(str(key), valid, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return StudyError(f"{context}: unknown {noun} {key!r}; {hint}valid: {', '.join(valid) or '(none)'}")


def check_keys(table, valid, context, noun="key"):
    """Raise :func:`unknown_key` for the first key of ``table`` that is not in ``valid``."""
    for key in table:
        if key not in valid:
            raise unknown_key(key, valid, context, noun)


def constructor_parameters(cls):
    """Keyword names accepted by ``cls(...)``, or None when it takes ``**kwargs``."""
    params = inspect.signature(cls).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_study_table(study, path):
    """Validate the keys and value types of ``[study]``."""
    check_keys(study, STUDY_KEYS, f"[study] of {path}")
    for key, value in study.items():
        kind = STUDY_KEYS[key][0]
        if kind is int:
            if not _is_int(value) or value < 0:
                raise StudyError(f"[study] of {path}: {key} = {value!r} must be an integer >= 0, e.g. {key} = 2")
        elif not isinstance(value, kind):
            what = "a string or a list of strings" if kind == (str, list) else "a string"
            raise StudyError(f"[study] of {path}: {key} = {value!r} must be {what}, e.g. {key} = \"...\"")


def _axis_length(spec, key):
    """Number of values of sweep axis ``key`` (validated, without building them)."""
    if isinstance(spec, dict):
        check_keys(spec, RANGE_KEYS, f"the range table of sweep axis {key!r}")
        missing = [k for k in RANGE_KEYS if k not in spec]
        if missing:
            raise StudyError(f"sweep axis {key!r} needs start, stop and num; missing {', '.join(missing)}")
        num = spec["num"]
        if isinstance(num, float) and num.is_integer():
            raise StudyError(f"sweep axis {key!r}: num = {num!r} must be an integer; write num = {int(num)}")
        if not _is_int(num) or num < 1:
            raise StudyError(f"sweep axis {key!r}: num = {num!r} must be an integer >= 1 (the number of values)")
        for end in ("start", "stop"):
            v = spec[end]
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise StudyError(f"sweep axis {key!r}: {end} = {v!r} must be a finite number")
        if num > 1 and spec["start"] == spec["stop"]:
            raise StudyError(f"sweep axis {key!r}: start = stop = {spec['start']!r} with num = {num} repeats one "
                             "value; use a list of one value or different ends")
        return num
    if not isinstance(spec, list) or not spec:
        raise StudyError(f"sweep axis {key!r} must be a non-empty list or a range table {{start, stop, num}}")
    return len(spec)


def check_sweep_size(sweep, n_models, n_disorders):
    """Refuse a study with more than :data:`MAX_POINTS` points, before any value is built."""
    lengths = {key: _axis_length(values, key) for key, values in sweep.items()}
    total = n_models * n_disorders * math.prod(lengths.values())
    if total > MAX_POINTS:
        factors = " x ".join([*(f"{n} models" for _ in [0] if n_models > 1),
                              *(f"{n_disorders} disorders" for _ in [0] if n_disorders > 1),
                              *(f"{n} ({k})" for k, n in lengths.items())])
        raise StudyError(
            f"the study has {total} points ({factors}), more than MAX_POINTS = {MAX_POINTS}: split it into "
            "several study files (e.g. one per value of the longest axis, each with its own output) or "
            "sweep fewer values")
    return lengths


def _canonical(value):
    """A hashable stand-in of a sweep value that equals another one's iff the values are ==."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, list):
        return ("list",) + tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    return (type(value).__name__, str(value))


def sweep_values(spec, key):
    """The values of sweep axis ``key`` (a list); refuses NaN and repeated values."""
    import numpy as np

    if isinstance(spec, dict):
        values = [float(v) for v in np.linspace(float(spec["start"]), float(spec["stop"]), spec["num"])]
    else:
        values = list(spec)
    seen = {}
    for n, v in enumerate(values):
        if isinstance(v, float) and math.isnan(v):
            raise StudyError(f"sweep axis {key!r}: value {n} is NaN, which cannot label a point")
        c = _canonical(v)
        if c in seen:
            raise StudyError(f"sweep axis {key!r} repeats the value {v!r} (entries {seen[c]} and {n}): every "
                             "value labels one point; remove the duplicate")
        seen[c] = n
    return values


def check_point_arguments(quantity, function, model, kwargs, disorder=None):
    """Check the keyword arguments of one point cheaply, with the checks ``function`` applies itself.

    ``transport``: mu, charge, n_points, temperature, energy_step, the numerical
    options (:func:`boltzspin.responses.response._check_options`) and the
    observable against the model.  ``magnetization``: mu, charge, temperature,
    energy_step and the observable.  Raises the function's own error
    (:class:`boltzspin.errors.ModelError`, ...).
    """
    bound = inspect.signature(function).bind(model, **kwargs, **({"disorder": disorder} if disorder else {}))
    bound.apply_defaults()
    a = bound.arguments
    if quantity == "spin_orbit_torque":
        from ..responses.torque import _exchange

        response._check_inputs(a["mu"], a["charge"], a["n_points"], a["disorder"])
        _exchange(model)
        return
    temperature = response._scalar(a["temperature"])
    response.check_temperature(temperature)
    response._check_energy_step(a["energy_step"])
    if quantity in ("transport", "spin_density"):
        _, charge, _ = response._check_inputs(a["mu"], a["charge"], a["n_points"], a["disorder"])
        response._check_options(model, a["origin"], a["k_max"], a["method"], a["sparse_tol"], a["solver_tol"],
                                a["gauge_seed"], a["sea_order"], a["radial_samples"])
    else:
        response._real("mu", a["mu"], "a finite real number (the chemical potential, an energy)")
        charge = response._real("charge", a["charge"], "a finite nonzero real number (electrons: -1)")
    if quantity == "spin_density":
        from ..responses.spin_density import _observables

        _observables(model, a["observables"], charge)
    else:
        resolve_observable(model, a["observable"], charge)
