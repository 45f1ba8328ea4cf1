"""Parameter studies: a TOML file -> many transport or magnetization points -> one netCDF.

A study file has the sections

.. code-block:: toml

    [study]
    name = "rashba_null"
    output = "results/rashba_null.nc"          # merged Dataset
    figure = "figures/rashba_null.png"         # optional
    figure_script = "rashba_null_figure.py"    # optional, next to the study file
    retries = 2                                # per failed point (default 2)
    # scheduler = "tcp://host:8786"            # optional: an existing dask cluster

    [model]                                    # a built-in model and its arguments
    type = "Rashba"
    mass = 1.0
    alpha = 0.5

    [transport]                                # fixed keyword arguments of transport()
    observable = "sz"
    n_points = 256

    [sweep]                                    # axes: lists or {start, stop, num} ranges
    mu = { start = 0.1, stop = 1.0, num = 10 }
    "disorder.density" = [0.005, 0.01, 0.02]   # every species that has a density
    "model.exchange.2" = [0.0, 0.1]            # component 2 of the model's exchange

    [disorder.delta]                           # one or more named disorders
    type = "DeltaCorrelated"
    density = 0.01
    strength = 1.0

A model argument may itself be a model or a gap function: a table with a
``type`` key is built first (recursively), e.g. a superconductor

.. code-block:: toml

    [model]
    type = "BdG"
    chemical_potential = -1.0
    normal = { type = "SquareLattice", hopping = 1.0 }
    pairing = { type = "ChiralD", delta = 0.3 }

Nested types are looked up in ``MODEL_TYPES`` and ``PAIRING_TYPES``.

A disorder may instead be ``[[disorder.NAME.species]]`` tables, which are
added (a mixture).  Sweep keys are ``model.P[.Q...][.I]`` (model parameter;
dots descend into nested tables, a final integer indexes a vector such as
``model.exchange.2``; ``model.pairing.delta``), ``model.NAME.P...`` (named
model only), ``disorder.P`` (parameter P of every species of every disorder that
has it), ``disorder.NAME.P`` (one disorder only) or a keyword of
``transport`` (``mu``, ``n_points``, ...).  Every combination is a point; the
merged Dataset has dims ``(disorder, <sweep axes in file order>, contribution,
i, j)`` with ``.`` in axis names replaced by ``_``.

``[study] quantity = "magnetization"`` computes
:func:`boltzspin.equilibrium.magnetization` per point instead: its keyword
arguments come from a ``[magnetization]`` table (``mu``, ``observable``,
``charge``, ``temperature``, ``n_grid``, ``energy_step``, ...; non-model sweep
keys go there too), there is no ``[disorder]`` section, and the merged Dataset
has dims ``(model, <sweep axes>)`` (``model`` only for named models) with one
variable per variable of a point (``magnetization``, ``local``, ``global``),
each ``*_error_estimate`` attribute of a point as a variable, the model actually
computed per point as ``point_model``, and ``failed`` / ``error``.

Nothing is lost: each finished point is written atomically (temporary file
plus ``os.replace``) to ``<output>.points/<key>.nc``, keyed by a hash of
everything that determines it.  Rerunning an interrupted study computes only
the missing (or failed) points and merges to the identical Dataset.  A point
that still fails after ``retries`` retries is recorded as failed --
``failed = True``, its message in ``error`` and NaN in its ``sigma`` -- and
never takes the study down.

Execution: ``executor="local"`` (default) starts a dask.distributed
``LocalCluster`` with one single-threaded worker per core; a scheduler
address runs on an existing cluster; ``"serial"`` runs in this process.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import inspect
import itertools
import json
import os
import tomllib
from pathlib import Path

import numpy as np
import xarray as xr

from . import disorder as disorder_module
from . import models as models_module
from . import superconductivity
from . import tight_binding
from .equilibrium import magnetization
from .errors import BoltzspinError, ModelError
from .response import transport

__all__ = ["load_study", "run_study", "build_model", "build_disorder", "StudyError", "make_figure",
           "QUANTITIES", "MODEL_TYPES", "PAIRING_TYPES", "DISORDER_TYPES"]

MODEL_TYPES = {
    "Rashba": models_module.Rashba,
    "MassiveDirac": models_module.MassiveDirac,
    "LatticeRashba": tight_binding.LatticeRashba,
    "QiWuZhang": tight_binding.QiWuZhang,
    "Rashba3D": tight_binding.Rashba3D,
    "SquareLattice": tight_binding.SquareLattice,
    "BdG": superconductivity.BdG,
}
#: gap functions, for nested tables such as ``pairing = { type = "ChiralD", delta = 0.3 }``
PAIRING_TYPES = {name: getattr(superconductivity, name) for name in ("SWave", "DWave", "ChiralD", "ChiralP")}
#: ``[study] quantity`` -> the function computed per point (its keyword table has the same name)
QUANTITIES = {"transport": transport, "magnetization": magnetization}
DISORDER_TYPES = {
    name: getattr(disorder_module, name)
    for name in ("DeltaCorrelated", "GaussianCorrelated", "MagneticImpurities", "ScreenedCoulomb")
    if hasattr(disorder_module, name)
}


class StudyError(BoltzspinError, ValueError):
    """A study file is malformed."""


def _construct(where, table, registry, what, nested=False):
    """``registry[type](**table)``; with ``nested``, table values that are tables with a
    ``type`` are built first (models or gap functions)."""
    table = dict(table)
    name = table.pop("type", None)
    if name not in registry:
        raise StudyError(f"{what} type {name!r} in [{where}] is not one of {sorted(registry)}")
    if nested:
        for key, value in table.items():
            if isinstance(value, dict) and "type" in value:
                table[key] = _build_nested(f"{where}.{key}", value)
    try:
        return registry[name](**table)
    except (TypeError, ModelError) as exc:
        raise StudyError(f"bad arguments for {what} {name!r} in [{where}]: {exc}") from exc


def _build_nested(where, table):
    if table["type"] in PAIRING_TYPES:
        return _construct(where, table, PAIRING_TYPES, "pairing", nested=True)
    if table["type"] not in MODEL_TYPES:
        raise StudyError(f"type {table['type']!r} in [{where}] is neither a model {sorted(MODEL_TYPES)} "
                         f"nor a pairing {sorted(PAIRING_TYPES)}")
    return _construct(where, table, MODEL_TYPES, "model", nested=True)


def build_model(table, where="model"):
    """A model from a ``[model]`` table (nested ``{type = ...}`` tables are built recursively)."""
    return _construct(where, table, MODEL_TYPES, "model", nested=True)


def build_disorder(name, table):
    """A disorder (or mixture) from a ``[disorder.NAME]`` table."""
    parts = [_construct(f"disorder.{name}", t, DISORDER_TYPES, "disorder") for t in _species_tables(table)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


def _species_tables(table):
    return table["species"] if "species" in table else [table]


def _axis(spec, name):
    if isinstance(spec, dict):
        try:
            values = np.linspace(float(spec["start"]), float(spec["stop"]), int(spec["num"]))
        except KeyError as exc:
            raise StudyError(f"sweep axis {name!r} needs start, stop and num") from exc
        return [float(v) for v in values]
    if not isinstance(spec, list) or not spec:
        raise StudyError(f"sweep axis {name!r} must be a non-empty list or a range table")
    return list(spec)


def dim_name(key):
    """Dataset dimension of a sweep key: dots become underscores."""
    return key.replace(".", "_")


def _set_path(table, path, value, key):
    """Set ``table[path[0]][path[1]]... = value``: descend into tables, index into vectors.

    A segment whose current value is a table (dict) descends; one whose value is
    a vector (list) takes the next segment as an index, which must be the last.
    """
    head, rest = path[0], path[1:]
    if not rest:
        table[head] = value
        return
    child = table.get(head)
    if isinstance(child, dict):
        _set_path(child, rest, value, key)
        return
    if not isinstance(child, list):
        raise StudyError(f"sweep axis {key!r}: {head!r} is "
                         + ("not given" if child is None else f"{child!r}, neither a table nor a vector")
                         + " in the model table, so it cannot be descended into or indexed")
    try:
        index = int(rest[0])
    except ValueError:
        raise StudyError(f"sweep axis {key!r}: {head!r} is a vector; {rest[0]!r} is not an index") from None
    if len(rest) > 1 or not -len(child) <= index < len(child):
        raise StudyError(f"sweep axis {key!r}: {head!r} = {child!r} has no component {'.'.join(rest)}")
    child = list(child)
    child[index] = value
    table[head] = child


def _apply(spec, model_name, disorder_name, overrides):
    """Model table, disorder table (None without disorder) and kwargs of one point.

    ``model.KEY`` overrides every model that has KEY (the only model: always);
    ``model.NAME.KEY`` only the named model ``[model.NAME]``.  Further dots
    descend into nested tables (``model.pairing.delta``) or index a vector
    (``model.exchange.2``).
    """
    model = copy.deepcopy(spec["models"][model_name])
    named = model_name is not None
    dis = copy.deepcopy(spec["disorder"][disorder_name]) if disorder_name is not None else None
    kwargs = dict(spec[spec.get("quantity", "transport")])
    for key, value in overrides.items():
        path = key.split(".")
        if path[0] == "model":
            if len(path) < 2:
                raise StudyError(f"sweep axis {key!r} names no model parameter (model.PARAMETER)")
            if named and path[1] in spec["models"]:
                if path[1] != model_name:
                    continue
                path = path[:1] + path[2:]
                if len(path) < 2:
                    raise StudyError(f"sweep axis {key!r} names no model parameter (model.NAME.PARAMETER)")
            elif named and path[1] not in model:
                continue
            _set_path(model, path[1:], value, key)
        elif path[0] == "disorder":
            if len(path) == 3 and path[1] != disorder_name:
                continue
            for table in _species_tables(dis):
                if path[-1] in table:
                    table[path[-1]] = value
        else:
            kwargs[key] = value
    return model, dis, kwargs


def _models(spec, path):
    """``{None: table}`` for one ``[model]``, or ``{NAME: table}`` for named ``[model.NAME]`` tables."""
    model = spec["model"]
    if "type" in model:
        return {None: model}
    if not model or not all(isinstance(t, dict) and "type" in t for t in model.values()):
        raise StudyError(
            f"[model] in {path} needs a type = ... key, or named sub-tables [model.NAME] each with a type"
        )
    return dict(model)


def load_study(path):
    """Parse and validate a study file; every point is built once before any work."""
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StudyError(f"study file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"study file {path} is not valid TOML: {exc}") from exc
    for section in ("study", "model", "sweep"):
        if section not in spec:
            raise StudyError(f"study file {path} has no [{section}] section")
    quantity = spec["study"].setdefault("quantity", "transport")
    if quantity not in QUANTITIES:
        raise StudyError(f"[study] quantity = {quantity!r} in {path} is not one of {sorted(QUANTITIES)}")
    for other in QUANTITIES:
        if other != quantity and other in spec:
            raise StudyError(f"study file {path} computes quantity = {quantity!r}; its keyword arguments "
                             f"go in [{quantity}], not [{other}]")
    if quantity == "transport" and "disorder" not in spec:
        raise StudyError(f"study file {path} has no [disorder] section")
    if quantity != "transport" and "disorder" in spec:
        raise StudyError(f"study file {path}: quantity = {quantity!r} takes no disorder; remove [disorder]")
    spec["quantity"] = quantity
    spec["path"] = str(path)
    spec["models"] = _models(spec, path)
    spec.setdefault(quantity, {})
    spec.setdefault("disorder", {})
    study = spec["study"]
    study.setdefault("name", path.stem)
    study.setdefault("output", f"results/{study['name']}.nc")
    study.setdefault("retries", 2)
    spec["axes"] = {key: _axis(values, key) for key, values in spec["sweep"].items()}
    for key in spec["axes"]:
        head = key.split(".")
        if head[0] == "disorder" and quantity != "transport":
            raise StudyError(f"sweep axis {key!r}: quantity = {quantity!r} takes no disorder")
        if head[0] == "disorder" and len(head) == 3 and head[1] not in spec["disorder"]:
            raise StudyError(f"sweep axis {key!r} names no disorder; have {sorted(spec['disorder'])}")
        if head[0] == "disorder" and not any(
            head[-1] in t for d in spec["disorder"].values() for t in _species_tables(d)
        ):
            raise StudyError(f"sweep axis {key!r}: no disorder species has a parameter {head[-1]!r}")
    if "mu" not in spec["axes"] and "mu" not in spec[quantity]:
        raise StudyError(f"give mu in [{quantity}] or as a sweep axis")
    if quantity == "magnetization":
        names = [k for k in spec["axes"] if k.split(".")[0] != "model"]
        try:
            inspect.signature(magnetization).bind(None, **{**spec[quantity], **dict.fromkeys(names)})
        except TypeError as exc:
            raise StudyError(f"bad keyword in [{quantity}] or [sweep] of {path}: {exc}") from exc
    for job in jobs(spec):
        build_model(job["model"])
        if job["disorder"] is not None:
            build_disorder(job["coords"]["disorder"], job["disorder"])
    return spec


def jobs(spec):
    """Every point of a study as a dict (model/disorder tables, kwargs, coords, file).

    ``job["kwargs"]`` are the keyword arguments of ``QUANTITIES[job["quantity"]]``
    (also under the quantity's name, e.g. ``job["transport"]``); ``job["disorder"]``
    is None for quantities without disorder.
    """
    out = Path(spec["study"]["output"])
    points_dir = out.parent / (out.name + ".points")
    keys = list(spec["axes"])
    quantity = spec.get("quantity", "transport")
    disorders = list(spec["disorder"]) if quantity == "transport" else [None]
    result = []
    # models outermost, disorder innermost: consecutive points share a Fermi surface
    for model_name in spec["models"]:
        for values in itertools.product(*spec["axes"].values()):
            for name in disorders:
                overrides = dict(zip(keys, values))
                model, dis, kwargs = _apply(spec, model_name, name, overrides)
                # transport keeps its historical key (existing point files stay valid)
                parts = [model, dis, kwargs] if quantity == "transport" else [quantity, model, kwargs]
                payload = json.dumps(parts, sort_keys=True, default=str)
                key = hashlib.sha256(payload.encode()).hexdigest()[:20]
                coords = {"disorder": name, **overrides} if name is not None else dict(overrides)
                if model_name is not None:
                    coords["model"] = model_name
                result.append({
                    "quantity": quantity, "model": model, "disorder": dis, "kwargs": kwargs, quantity: kwargs,
                    "coords": coords,
                    "file": str(points_dir / f"{key}.nc"),
                })
    return result


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
    if quantity == "transport":
        dis = build_disorder(job["coords"]["disorder"], job["disorder"])
        ds = transport(_MODELS[key], disorder=dis, **kwargs)
    else:
        ds = QUANTITIES[quantity](_MODELS[key], **kwargs)
    _write_atomic(ds, Path(job["file"]))
    return job["file"]


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
            except Exception as exc:  # noqa: BLE001 - recorded, never fatal
                if attempt == retries:
                    failures[job["file"]] = f"{type(exc).__name__}: {exc}"
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
        futures = {client.submit(compute_point, job, 1, retries=retries, pure=False): job for job in todo}
        for fut in as_completed(futures):
            if fut.status == "error":
                exc = fut.exception()
                failures[futures[fut]["file"]] = f"{type(exc).__name__}: {exc}"
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
    todo = [j for j in every if not Path(j["file"]).exists()]
    retries = int(spec["study"]["retries"])
    name = spec["study"]["name"]
    with tqdm(total=len(todo), desc=name, disable=not progress, unit="point") as bar:
        if not todo:
            failures = {}
        elif executor == "serial":
            failures = _run_serial(todo, retries, bar)
        else:
            failures = _run_dask(todo, retries, bar, executor, workers)
    result = merge(spec, every, failures)
    _write_atomic(result, out)
    return result


#: Point attributes that become per-point variables of the merged Dataset (with every
#: ``*_error_estimate``): diagnostics that differ from point to point.
PER_POINT_ATTRS = ("solver_residual", "solver_iterations", "n_fermi_points")


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
    names = list(spec["disorder"]) if spec["quantity"] == "transport" else []
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
        path = Path(job["file"])
        if not path.exists():
            failed[idx] = True
            error[idx] = failures.get(job["file"], "not computed")
            continue
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds = ds.load()
        if template is None:
            template, attrs = ds, dict(ds.attrs)
            for name, var in ds.data_vars.items():
                kind = var.dtype.kind
                if kind in "fc":
                    arrays[name] = np.full(shape + var.shape, np.nan, dtype=var.dtype)
                elif kind in "iub":
                    arrays[name] = np.full(shape + var.shape, np.nan)
                else:
                    arrays[name] = np.full(shape + var.shape, "", dtype=object)
            for name, value in ds.attrs.items():
                if name in PER_POINT_ATTRS or name.endswith("_error_estimate"):
                    estimates[name] = np.full(shape, np.nan)
        for name in arrays:
            arrays[name][idx] = ds[name].values
        for name in estimates:
            estimates[name][idx] = float(ds.attrs.get(name, np.nan))
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
    for name, values in estimates.items():
        data[name] = (dims, values, {"long_name": name.replace("_", " ")})
    data["point_model"] = (dims, point_model.astype(str), {"long_name": "model computed at this point"})
    data["failed"] = (dims, failed)
    data["error"] = (dims, error.astype(str))
    coords = {}
    if template is not None:
        coords.update({name: c.variable for name, c in template.coords.items()})
    if model_names:
        coords["model"] = model_names
    if names:
        coords["disorder"] = names
    coords.update({dim_name(k): np.asarray(v) for k, v in axes.items()})
    result = xr.Dataset(data, coords=coords)
    if names:
        result["disorder_repr"] = ("disorder", [repr(build_disorder(n, spec["disorder"][n])) for n in names])
    if model_names:
        result["model_repr"] = ("model", [repr(build_model(spec["models"][m])) for m in model_names])
    kwargs = spec[spec["quantity"]]
    swept = {k for k in axes if k.split(".")[0] not in ("model", "disorder")}
    attrs = {k: v for k, v in (attrs or {}).items() if k not in swept and k != "model"
             and k not in PER_POINT_ATTRS and not k.endswith("_error_estimate")}
    variables = template.data_vars.values() if template is not None else ()
    units = attrs.get("units") or next((str(v.attrs["units"]) for v in variables if "units" in v.attrs), "")
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


def make_figure(spec, result=None):
    """Run the study's figure script on its saved (or given) Dataset; returns the figure path."""
    script, figure = spec["study"].get("figure_script"), spec["study"].get("figure")
    if not script or not figure:
        return None
    script_path = Path(spec["path"]).parent / script
    module_spec = importlib.util.spec_from_file_location(f"boltzspin_figure_{Path(script).stem}", script_path)
    if module_spec is None or not script_path.exists():
        raise StudyError(f"figure script {script_path} does not exist")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if result is None:
        with xr.open_dataset(spec["study"]["output"], engine="h5netcdf") as ds:
            result = ds.load()
    module.make_figure(result, figure)
    return figure


def format_table(result, i="x", j="y", max_rows=40):
    """A plain-text table of ``sigma_ij`` per contribution for every point (first ``max_rows``).

    Results without ``sigma`` (e.g. magnetization) get one column per variable
    that has only the point dims.
    """
    if "sigma" not in result:
        return _format_scalars(result, max_rows)
    short = {"intrinsic_berry": "berry", "intrinsic_dipole": "dipole", "boltzmann": "boltzmann",
             "side_jump": "side_jump", "dipole_change": "dip_change",
             "anomalous_distribution": "anom_dist", "total": "total"}
    scale = abs(result.attrs.get("charge", 1.0)) / (8 * np.pi)
    sub = result.sigma.sel(i=i, j=j) / scale
    conv = result.sigma_conventional_intrinsic.sel(i=i, j=j) / scale
    point_dims = [d for d in sub.dims if d != "contribution"]
    stacked = sub.stack(point=point_dims).transpose("point", "contribution")
    conv = conv.stack(point=point_dims)
    head = " ".join(f"{d[:12]:>12}" for d in point_dims) + " " + " ".join(
        f"{short[str(c)]:>11}" for c in sub.contribution.values) + f" {'conventional':>12}"
    lines = [f"sigma_{i}{j} in units of |q|/(8 pi)  [{result.attrs.get('units', '')}]", head]
    for n, point in enumerate(stacked.point.values):
        if n == max_rows:
            lines.append(f"... {stacked.sizes['point'] - max_rows} more points in the netCDF file")
            break
        label = " ".join(f"{v:>12.4g}" if isinstance(v, float) else f"{str(v):>12}" for v in point)
        row = stacked.sel(point=point).values
        lines.append(label + " " + " ".join(f"{x:>11.3e}" for x in row) + f" {float(conv.sel(point=point)):>12.3e}")
    return "\n".join(lines)



def _format_scalars(result, max_rows=40):
    point_dims = list(result.failed.dims)
    names = [n for n, v in result.data_vars.items()
             if set(v.dims) == set(point_dims) and v.dtype.kind in "fc"]
    estimates = [n for n in names if n.endswith("_error_estimate")]
    names = [n for n in names if n not in estimates] + estimates
    stacked = {n: result[n].transpose(*point_dims).values.ravel() for n in names}
    labels = list(itertools.product(*(result[d].values for d in point_dims)))
    head = " ".join(f"{d[:12]:>12}" for d in point_dims) + " " + " ".join(
        f"{n.replace('_error_estimate', '_err')[:13]:>13}" for n in names)
    lines = [f"{result.attrs.get('quantity', '')} [{result.attrs.get('units', '')}]", head]
    for n, point in enumerate(labels):
        if n == max_rows:
            lines.append(f"... {len(labels) - max_rows} more points in the netCDF file")
            break
        label = " ".join(f"{v:>12.4g}" if isinstance(v, (float, np.floating)) else f"{str(v):>12}" for v in point)
        lines.append(label + " " + " ".join(f"{stacked[name][n]:>13.4e}" for name in names))
    return "\n".join(lines)
