"""Parameter studies: run every point of a study file, resumably, and merge one netCDF.

The study-file format (TOML: model, disorder, sweep axes, quantity) and its
parser are in :mod:`boltzspin.studies.study_file`; this module executes the points and
assembles the result.

Nothing is lost: each finished point is written atomically (temporary file
plus ``os.replace``) to ``<output>.points/<key>.nc``, keyed by a hash of
everything that determines it, and records those inputs and their hash
(:mod:`boltzspin.studies.point_files`).  Rerunning an interrupted study computes
only the missing (or failed) points and merges to the identical Dataset.  A point
file that cannot be used -- truncated, empty, corrupted, without its inputs
record, or holding another point -- is recomputed with a :class:`StudyWarning`
naming the file and the reason; it is never merged.  A point that fails with a
:class:`boltzspin.errors.BoltzspinError` (a deterministic refusal: bad input,
unresolved Fermi surface, ...) is not retried; any other exception is retried
``retries`` times.  A failed point is recorded -- ``failed = True``, its message
in ``error`` and NaN (integer variables: -1) in its variables -- its message is
reported as a :class:`StudyWarning`, and it never takes the study down.

Execution: ``executor="local"`` (default) starts a dask.distributed
``LocalCluster`` with one single-threaded worker per core; a scheduler
address runs on an existing cluster; ``"serial"`` runs in this process.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import BoltzspinError
from .axis_units import LABEL_COORDS, PER_POINT_VARIABLES, QUANTITY_UNITS, sweep_axis_attrs
from .point_files import HASH_ATTR, INPUTS_ATTR, StudyWarning, read_point, stamp
from .report import format_table, make_figure  # noqa: F401 - public names, moved to report.py
from .study_file import (DISORDER_QUANTITIES, DISORDER_TYPES, MODEL_TYPES, PAIRING_TYPES, QUANTITIES, StudyError,
                         build_disorder, build_model, dim_name, jobs, load_study)

__all__ = ["load_study", "jobs", "run_study", "build_model", "build_disorder", "StudyError", "StudyWarning",
           "make_figure",
           "format_table", "QUANTITIES", "MODEL_TYPES", "PAIRING_TYPES", "DISORDER_TYPES"]


_MODELS = {}


def compute_point(job, threads=None):
    """Compute one point and write it atomically; returns the file name."""
    if threads:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    key = json.dumps(job["model"], sort_keys=True)
    if key not in _MODELS:  # one object per model table: transport reuses its Fermi surface
        _MODELS.clear()
        _MODELS[key] = build_model(job["model"])
    quantity = job.get("quantity", "transport")
    kwargs = job.get("kwargs", job.get(quantity))
    extra = {"disorder": build_disorder(job["coords"]["disorder"], job["disorder"])} \
        if job.get("disorder") is not None else {}
    ds = QUANTITIES[quantity](_MODELS[key], **kwargs, **extra)
    _write_atomic(stamp(ds, job), Path(job["file"]))
    return job["file"]


def _attempt(job, threads=None):
    """:func:`compute_point`; a :class:`BoltzspinError` (deterministic) is returned as a message, not raised."""
    try:
        compute_point(job, threads)
    except BoltzspinError as exc:
        return _message(exc)
    return None


def _message(exc):
    return f"{type(exc).__name__}: {exc}"


def _write_atomic(ds, path):
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _run_serial(todo, retries, bar):
    failures = {}
    for job in todo:
        for attempt in range(retries + 1):
            try:
                compute_point(job)
                break
            except (KeyboardInterrupt, SystemExit):
                raise
            except BoltzspinError as exc:  # deterministic: the same inputs fail again, never retried
                failures[job["file"]] = _message(exc)
                break
            except Exception as exc:  # noqa: BLE001 - recorded, never fatal
                if attempt == retries:
                    failures[job["file"]] = _message(exc)
        bar.update(1)
    return failures


def _run_dask(todo, retries, bar, executor, workers):
    from dask.distributed import Client, LocalCluster, as_completed

    if executor == "local":
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(executor)
    failures = {}
    try:
        # dask retries only what _attempt raises: unexpected errors (a lost worker, MemoryError, ...)
        futures = {client.submit(_attempt, job, 1, retries=retries, pure=False): job for job in todo}
        for fut in as_completed(futures):
            if fut.status == "error":
                failures[futures[fut]["file"]] = _message(fut.exception())
            elif fut.result() is not None:
                failures[futures[fut]["file"]] = fut.result()
            bar.update(1)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return failures


def run_study(spec, progress=True, executor=None, workers=None):
    """Run every missing point of ``spec`` and return the merged Dataset.

    Parameters
    ----------
    executor : {"local", "serial"} or str, optional
        ``"local"``: a dask ``LocalCluster`` (``workers`` processes, default
        one per core); ``"serial"``: this process; otherwise the address of a
        dask scheduler.  Default: ``[study] scheduler`` if given, else "local".
    """
    from tqdm.auto import tqdm

    executor = executor or spec["study"].get("scheduler", "local")
    out = Path(spec["study"]["output"])
    points_dir = out.parent / (out.name + ".points")
    points_dir.mkdir(parents=True, exist_ok=True)
    for stale in points_dir.glob("*.tmp"):  # left by a killed run; never a result
        stale.unlink(missing_ok=True)
    every = jobs(spec)
    todo = []
    for job in every:
        ds, problem = read_point(job)
        if problem is not None:
            warnings.warn(f"point file {job['file']} {problem}; recomputing it", StudyWarning, stacklevel=2)
            Path(job["file"]).unlink(missing_ok=True)
        if ds is None:
            todo.append(job)
    retries = int(spec["study"]["retries"])
    name = spec["study"]["name"]
    with tqdm(total=len(todo), desc=name, disable=not progress, unit="point") as bar:
        if not todo:
            failures = {}
        elif executor == "serial":
            failures = _run_serial(todo, retries, bar)
        else:
            failures = _run_dask(todo, retries, bar, executor, workers)
    _report_failures(name, every, failures)
    result = merge(spec, every, failures)
    _write_atomic(result, out)
    return result


def _report_failures(name, every, failures):
    """One :class:`StudyWarning` per distinct failure message, with the count and the first point."""
    by_message = {}
    for job in every:
        if job["file"] in failures:
            by_message.setdefault(failures[job["file"]], []).append(job)
    for message, failed in by_message.items():
        point = ", ".join(f"{k} = {v!r}" for k, v in failed[0]["coords"].items())
        warnings.warn(f"study {name}: {len(failed)} point(s) failed" + (f" (first: {point})" if point else "")
                      + f": {message}", StudyWarning, stacklevel=3)


#: Point attributes that become per-point variables of the merged Dataset (with every
#: ``*_error_estimate``): diagnostics that differ from point to point.
PER_POINT_ATTRS = ("solver_residual", "solver_iterations", "n_fermi_points", "source_projection")


def _result_units(quantity, attrs, template):
    """The ``units`` attribute of a study result: the points' own, else the quantity's (all points failed)."""
    if attrs and attrs.get("units"):
        return str(attrs["units"])
    if template is not None:
        found = next((str(v.attrs["units"]) for v in template.data_vars.values() if "units" in v.attrs), None)
        if found:
            return found
    if quantity == "transport":
        from ..responses.response import UNITS

        return UNITS
    return QUANTITY_UNITS[quantity]


def merge(spec, every, failures):
    """Assemble the point files into one Dataset (NaN and ``failed`` where a point failed)."""
    return _merge_points(spec, every, failures)


def _merge_points(spec, every, failures):
    """Generic merge: every data variable of a point gets the point dims prepended.

    Variable dims, coords and attrs come from the first successful point; each
    ``*_error_estimate`` attribute of a point becomes a variable; other point
    attributes that are equal for every successful point (and not a swept
    keyword) become attributes of the result.
    """
    model_names = [m for m in spec["models"] if m is not None]
    names = list(spec["disorder"]) if spec["quantity"] in DISORDER_QUANTITIES else []
    axes = spec["axes"]
    shape = ((len(model_names),) if model_names else ()) + ((len(names),) if names else ()) \
        + tuple(len(v) for v in axes.values())
    dims = (("model",) if model_names else ()) + (("disorder",) if names else ()) \
        + tuple(dim_name(k) for k in axes)

    def index(job):
        c = job["coords"]
        return ((model_names.index(c["model"]),) if model_names else ()) \
            + ((names.index(c["disorder"]),) if names else ()) + tuple(axes[k].index(c[k]) for k in axes)

    template, attrs, estimates = None, None, {}
    failed = np.zeros(shape, dtype=bool)
    error = np.full(shape, "", dtype=object)
    point_model = np.full(shape, "", dtype=object)
    arrays = {}
    for job in every:
        idx = index(job)
        point_model[idx] = repr(build_model(job["model"]))
        ds, problem = read_point(job)
        if ds is None:  # never merge a file that does not hold exactly this point
            failed[idx] = True
            error[idx] = failures.get(job["file"], "not computed") if problem is None else \
                f"point file {job['file']} {problem}; rerun the study to recompute it"
            continue
        if template is None:
            template, attrs = ds, dict(ds.attrs)
            for name, var in ds.data_vars.items():
                kind = var.dtype.kind
                if kind in "fc":
                    arrays[name] = np.full(shape + var.shape, np.nan, dtype=var.dtype)
                elif kind in "iu":
                    arrays[name] = np.full(shape + var.shape, -1, dtype=np.int64)
                elif kind == "b":
                    arrays[name] = np.full(shape + var.shape, np.nan)
                else:
                    arrays[name] = np.full(shape + var.shape, "", dtype=object)
            for name, value in ds.attrs.items():
                if name in PER_POINT_ATTRS or name.endswith("_error_estimate"):
                    integer = PER_POINT_VARIABLES.get(name, ("", "", False))[2]
                    estimates[name] = np.full(shape, -1, dtype=np.int64) if integer else np.full(shape, np.nan)
        for name in arrays:
            arrays[name][idx] = ds[name].values
        for name in estimates:
            estimates[name][idx] = ds.attrs.get(name, -1 if estimates[name].dtype.kind == "i" else np.nan)
        for name in list(attrs):
            if name not in ds.attrs or not np.array_equal(np.asarray(ds.attrs[name]), np.asarray(attrs[name])):
                del attrs[name]
    data = {}
    if template is not None:
        for name, var in template.data_vars.items():
            values = arrays[name]
            if values.dtype == object:
                values = values.astype(str)
            data[name] = (dims + var.dims, values, dict(var.attrs))
    units = _result_units(spec["quantity"], attrs, template)
    main_units = next((str(v.attrs["units"]) for v in template.data_vars.values() if "units" in v.attrs), units) \
        if template is not None else units
    for name, values in estimates.items():
        long_name, unit, _ = PER_POINT_VARIABLES.get(
            name, (name.replace("_", " ") + " (absolute, in the units of the result)", main_units, False))
        data[name] = (dims, values, {"long_name": long_name, "units": unit})
    data["point_model"] = (dims, point_model.astype(str), {"long_name": "model computed at this point"})
    data["failed"] = (dims, failed, {"long_name": "the point failed (after its retries); see error"})
    data["error"] = (dims, error.astype(str), {"long_name": "why the point failed (empty where it did not)"})
    coords = {}
    if template is not None:
        coords.update({name: c.variable for name, c in template.coords.items()})
    if model_names:
        coords["model"] = model_names
    if names:
        coords["disorder"] = names
    coords.update({dim_name(k): xr.Variable(dim_name(k), np.asarray(v), sweep_axis_attrs(spec, k))
                   for k, v in axes.items()})
    result = xr.Dataset(data, coords=coords)
    for name, long_name in LABEL_COORDS.items():
        if name in result.coords:
            result[name].attrs.setdefault("long_name", long_name)
    if names:
        result["disorder_repr"] = ("disorder", [repr(build_disorder(n, spec["disorder"][n])) for n in names],
                                   {"long_name": "the disorder of each name"})
    if model_names:
        result["model_repr"] = ("model", [repr(build_model(spec["models"][m])) for m in model_names],
                                {"long_name": "the model of each name"})
    kwargs = spec[spec["quantity"]]
    swept = {k for k in axes if k.split(".")[0] not in ("model", "disorder")}
    attrs = {k: v for k, v in (attrs or {}).items() if k not in swept and k not in ("model", INPUTS_ATTR, HASH_ATTR)
             and k not in PER_POINT_ATTRS and not k.endswith("_error_estimate")}
    result.attrs.update(attrs)
    result.attrs.update(
        study=spec["study"]["name"],
        quantity=spec["quantity"],
        units=units,
        charge=attrs.get("charge", kwargs.get("charge", -1.0)),
        observable=attrs.get("observable", kwargs.get("observable", "sz")),
        model=repr(build_model(spec["model"])) if not model_names else "see model_repr",
        n_failed=int(failed.sum()),
        sweep_keys=json.dumps(list(axes)),
    )
    return result
