"""Study files: the TOML format of parameter studies and its parser (run by :mod:`boltzspin.studies.study`).

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
:func:`boltzspin.responses.equilibrium.magnetization` per point instead: its keyword
arguments come from a ``[magnetization]`` table (``mu``, ``observable``,
``charge``, ``temperature``, ``n_grid``, ``energy_step``, ...; non-model sweep
keys go there too), there is no ``[disorder]`` section, and the merged Dataset
has dims ``(model, <sweep axes>)`` (``model`` only for named models) with one
variable per variable of a point (``magnetization``, ``local``, ``global``),
each ``*_error_estimate`` attribute of a point as a variable, the model actually
computed per point as ``point_model``, and ``failed`` / ``error``.

Every point is built once by :func:`load_study` before any work, so a bad
file fails fast; :func:`jobs` lists the points with the file each is saved to.
"""


from __future__ import annotations

import copy
import hashlib
import inspect
import itertools
import json
import tomllib
from pathlib import Path

import numpy as np

from ..collisions import disorder as disorder_module
from ..models import continuum as models_module
from ..models import superconductivity
from ..models import tight_binding
from ..responses.equilibrium import magnetization
from ..errors import BoltzspinError, ModelError
from ..responses.response import transport

__all__ = ["load_study", "jobs", "build_model", "build_disorder", "dim_name", "StudyError",
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
