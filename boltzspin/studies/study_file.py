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

``quantity = "spin_density"`` (:func:`boltzspin.spin_density`) and ``quantity =
"spin_orbit_torque"`` (:func:`boltzspin.spin_orbit_torque`) take a ``[disorder]`` like
``transport``, their keywords in a table of the same name; the merged Dataset has the
``disorder`` dim first and every variable of a point (``chi``, ``chi_error``, or the
torques over ``direction``).

Every point is built once by :func:`load_study` before any work, so a bad
file fails fast; :func:`jobs` lists the points with the file each is saved to.
"""


from __future__ import annotations

import copy
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
from ..errors import BoltzspinError
from ..responses.response import transport
from ..responses.spin_density import spin_density
from ..responses.torque import spin_orbit_torque
from .point_files import point_inputs
from .study_checks import (MAX_POINTS, SECTIONS, StudyError, check_keys, check_point_arguments,
                           check_study_table, check_sweep_size, constructor_parameters, sweep_values, unknown_key)

__all__ = ["load_study", "jobs", "build_model", "build_disorder", "dim_name", "StudyError",
           "QUANTITIES", "MODEL_TYPES", "PAIRING_TYPES", "DISORDER_TYPES", "MAX_POINTS"]

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
QUANTITIES = {"transport": transport, "magnetization": magnetization, "spin_density": spin_density,
              "spin_orbit_torque": spin_orbit_torque}
#: Quantities computed with a ``[disorder]`` (swept as the ``disorder`` dim of the result)
DISORDER_QUANTITIES = ("transport", "spin_density", "spin_orbit_torque")
DISORDER_TYPES = {
    name: getattr(disorder_module, name)
    for name in ("DeltaCorrelated", "GaussianCorrelated", "MagneticImpurities", "ScreenedCoulomb")
    if hasattr(disorder_module, name)
}


def _construct(where, table, registry, what, nested=False):
    """``registry[type](**table)``; with ``nested``, table values that are tables with a
    ``type`` are built first (models or gap functions)."""
    table = dict(table)
    name = _type(table)
    raw = table.pop("type", None)
    if name not in registry:
        raise StudyError(f"{what} type {raw!r} in [{where}] is not one of {sorted(registry)}")
    _check_arguments(where, table, registry[name], what, name)
    if nested:
        for key, value in table.items():
            if isinstance(value, dict) and "type" in value:
                table[key] = _build_nested(f"{where}.{key}", value)
    try:
        return registry[name](**table)
    except (TypeError, ValueError, BoltzspinError) as exc:  # ModelError, DisorderError, ...
        raise StudyError(f"bad arguments for {what} {name!r} in [{where}]: {exc}") from exc


def _type(table):
    """``table["type"]`` when it is a string, else None (reported as an unknown type)."""
    kind = table.get("type")
    return kind if isinstance(kind, str) else None


def _check_arguments(where, table, cls, what, name):
    """Every key of ``table`` (without ``type``) must be a parameter of ``cls`` (did-you-mean)."""
    valid = constructor_parameters(cls)
    if valid is not None:
        check_keys(table, valid, f"bad arguments for {what} {name!r} in [{where}]", "parameter")


def _check_tables(spec):
    """Types and keys of every model table (nested ones too) and every disorder species table."""
    def walk(where, table):
        kind = _type(table)
        registry = PAIRING_TYPES if kind in PAIRING_TYPES else MODEL_TYPES
        what = "pairing" if kind in PAIRING_TYPES else "model"
        if kind not in registry:
            return  # reported, with the list of types, when the table is built
        _check_arguments(where, {k: v for k, v in table.items() if k != "type"}, registry[kind], what, kind)
        for key, value in table.items():
            if isinstance(value, dict) and "type" in value:
                walk(f"{where}.{key}", value)

    for name, table in spec["models"].items():
        walk("model" if name is None else f"model.{name}", table)
    for name, table in spec["disorder"].items():
        where = f"disorder.{name}"
        if not isinstance(table, dict):
            raise StudyError(f"[{where}] must be a table with a type = ... key (or [[{where}.species]] tables)")
        if "species" in table:
            if set(table) != {"species"}:
                extra = sorted(set(table) - {"species"})
                raise StudyError(f"[{where}] has [[{where}.species]] tables and also the keys {extra}: put every "
                                 f"parameter into a [[{where}.species]] table")
            if not isinstance(table["species"], list) or not table["species"] \
                    or not all(isinstance(t, dict) for t in table["species"]):
                raise StudyError(f"[{where}] species must be [[{where}.species]] tables")
        for t in _species_tables(table):
            kind = _type(t)
            if kind not in DISORDER_TYPES:
                raise StudyError(f"disorder type {t.get('type')!r} in [{where}] is not one of {sorted(DISORDER_TYPES)}")
            _check_arguments(where, {k: v for k, v in t.items() if k != "type"}, DISORDER_TYPES[kind],
                             "disorder", kind)


def _species_has(table, parameter):
    """Whether a species table sets ``parameter`` or its type's constructor accepts it."""
    if parameter in table:
        return True
    params = constructor_parameters(DISORDER_TYPES[_type(table)]) if _type(table) in DISORDER_TYPES else None
    return params is not None and parameter in params and parameter != "type"


def _build_nested(where, table):
    if _type(table) in PAIRING_TYPES:
        return _construct(where, table, PAIRING_TYPES, "pairing", nested=True)
    if _type(table) not in MODEL_TYPES:
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
                if _species_has(table, path[-1]):
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


def _sweep_targets(spec, key):
    """What sweep axis ``key`` sets, as tuples; two axes conflict when a tuple of one starts another's."""
    path = key.split(".")
    if path[0] == "model":
        out = set()
        for name, table in spec["models"].items():
            rest = path[1:]
            if name is not None and rest and rest[0] in spec["models"]:
                if rest[0] != name:
                    continue
                rest = rest[1:]
            elif name is not None and rest and rest[0] not in table:
                continue
            out.add(("model", name, *rest))
        return out
    if path[0] == "disorder":
        names = [path[1]] if len(path) == 3 else list(spec["disorder"])
        return {("disorder", d, i, path[-1]) for d in names
                for i, t in enumerate(_species_tables(spec["disorder"][d])) if _species_has(t, path[-1])}
    return {("kwargs", key)}


def _check_sweep_keys(spec, path):
    """Sweep keys must name something that exists, and no two may set the same parameter."""
    quantity = spec["quantity"]
    function = QUANTITIES[quantity]
    keywords = set(inspect.signature(function).parameters) - {"model", "disorder"}
    targets = {}
    for key in spec["sweep"]:
        head = key.split(".")
        if head[0] == "disorder":
            if quantity not in DISORDER_QUANTITIES:
                raise StudyError(f"sweep axis {key!r}: quantity = {quantity!r} takes no disorder")
            if len(head) not in (2, 3):
                raise StudyError(f"sweep axis {key!r} must be disorder.PARAMETER (every disorder) or "
                                 "disorder.NAME.PARAMETER (one disorder)")
            if len(head) == 3 and head[1] not in spec["disorder"]:
                raise unknown_key(head[1], spec["disorder"], f"sweep axis {key!r}", "disorder")
        elif head[0] != "model" and key not in keywords:
            raise unknown_key(key, keywords, f"sweep axis {key!r} of {path} (sweep keys are model.PARAMETER, "
                              f"disorder.PARAMETER, disorder.NAME.PARAMETER or a keyword of {quantity})",
                              f"keyword of {quantity}")
        elif head[0] != "model" and key in spec[quantity]:
            raise StudyError(f"{key!r} is given in [{quantity}] and swept in [sweep] of {path}; the sweep would "
                             f"override it: remove one of them")
        targets[key] = _sweep_targets(spec, key)
        if head[0] == "disorder" and not targets[key]:
            species = sorted({t["type"] for d in spec["disorder"].values() for t in _species_tables(d)})
            raise StudyError(f"sweep axis {key!r}: no disorder species has a parameter {head[-1]!r} "
                             f"(the species here are {', '.join(species)}; see their parameters in "
                             "help(boltzspin.<species>))")
    keys = list(targets)
    for n, a in enumerate(keys):
        for b in keys[:n]:
            if any(x[:len(y)] == y or y[:len(x)] == x for x in targets[a] for y in targets[b]):
                raise StudyError(f"sweep axes {b!r} and {a!r} of {path} both set the same parameter, which would "
                                 "make one of them a fake axis; sweep it under one key only")


def load_study(path):
    """Parse and validate a study file; every point is built and checked once before any work.

    Raises
    ------
    StudyError
        Whatever is wrong with the file: unknown sections or keys (with a
        did-you-mean list), bad types, bad or repeated sweep values, two axes
        setting one parameter, more than :data:`MAX_POINTS` points, a model or
        disorder that cannot be built, or an argument of the computed function
        that fails its own checks at some point (the point is named).
    """
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StudyError(f"study file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"study file {path} is not valid TOML: {exc}") from exc
    check_keys(spec, SECTIONS + tuple(QUANTITIES), f"study file {path}", "section")
    for section in ("study", "model", "sweep"):
        if section not in spec:
            raise StudyError(f"study file {path} has no [{section}] section")
    for section, table in spec.items():
        if not isinstance(table, dict):
            raise StudyError(f"{section} = {table!r} in {path} must be a table: write [{section}] and its keys")
    check_study_table(spec["study"], path)
    quantity = spec["study"].setdefault("quantity", "transport")
    if quantity not in QUANTITIES:
        raise StudyError(f"[study] quantity = {quantity!r} in {path} is not one of {sorted(QUANTITIES)}")
    for other in QUANTITIES:
        if other != quantity and other in spec:
            raise StudyError(f"study file {path} computes quantity = {quantity!r}; its keyword arguments "
                             f"go in [{quantity}], not [{other}]")
    if quantity in DISORDER_QUANTITIES and "disorder" not in spec:
        raise StudyError(f"study file {path} has no [disorder] section")
    if quantity not in DISORDER_QUANTITIES and "disorder" in spec:
        raise StudyError(f"study file {path}: quantity = {quantity!r} takes no disorder; remove [disorder]")
    if quantity in DISORDER_QUANTITIES and not spec["disorder"]:
        raise StudyError(f"[disorder] of {path} names no disorder; add a [disorder.NAME] table with a type")
    spec["quantity"] = quantity
    spec["path"] = str(path)
    spec["models"] = _models(spec, path)
    spec.setdefault(quantity, {})
    spec.setdefault("disorder", {})
    study = spec["study"]
    study.setdefault("name", path.stem)
    study.setdefault("output", f"results/{study['name']}.nc")
    study.setdefault("retries", 2)
    _check_tables(spec)
    params = inspect.signature(QUANTITIES[quantity]).parameters
    keywords = {name for name, p in params.items() if p.kind is not p.VAR_KEYWORD} - {"model", "disorder"}
    if quantity == "spin_orbit_torque":  # its **options go to spin_density (and transport)
        keywords |= set(inspect.signature(QUANTITIES["spin_density"]).parameters) - {
            "model", "disorder", "observables"}
    check_keys(spec[quantity], keywords, f"bad keyword in [{quantity}] of {path}", f"keyword of {quantity}")
    n_disorders = len(spec["disorder"]) if quantity in DISORDER_QUANTITIES else 1
    check_sweep_size(spec["sweep"], len(spec["models"]), n_disorders)  # before any value is built
    spec["axes"] = {key: sweep_values(values, key) for key, values in spec["sweep"].items()}
    _check_sweep_keys(spec, path)
    if "mu" not in spec["axes"] and "mu" not in spec[quantity]:
        raise StudyError(f"give mu in [{quantity}] or as a sweep axis")
    models, disorders = {}, {}
    for job in jobs(spec):
        key = json.dumps(job["model"], sort_keys=True, default=str)
        if key not in models:
            models[key] = build_model(job["model"])
        disorder = None
        if job["disorder"] is not None:
            dkey = json.dumps(job["disorder"], sort_keys=True, default=str)
            if dkey not in disorders:
                disorders[dkey] = build_disorder(job["coords"]["disorder"], job["disorder"])
            disorder = disorders[dkey]
        try:
            check_point_arguments(quantity, QUANTITIES[quantity], models[key], job["kwargs"], disorder)
        except (BoltzspinError, TypeError) as exc:
            point = ", ".join(f"{k} = {v!r}" for k, v in job["coords"].items())
            raise StudyError(f"[{quantity}] of {path}" + (f" at the point {point}" if point else "")
                             + f": {exc}") from exc
    return spec


def jobs(spec):
    """Every point of a study as a dict (model/disorder tables, kwargs, coords, inputs, file).

    ``job["inputs"]`` is the JSON of the point's inputs and ``job["inputs_sha256"]``
    its hash (:func:`boltzspin.studies.point_files.point_inputs`); the point file
    ``job["file"]`` is named by the hash and records both.  ``job["kwargs"]`` are the keyword arguments of ``QUANTITIES[job["quantity"]]``
    (also under the quantity's name, e.g. ``job["transport"]``); ``job["disorder"]``
    is None for quantities without disorder.
    """
    out = Path(spec["study"]["output"])
    points_dir = out.parent / (out.name + ".points")
    keys = list(spec["axes"])
    quantity = spec.get("quantity", "transport")
    disorders = list(spec["disorder"]) if quantity in DISORDER_QUANTITIES else [None]
    result = []
    # models outermost, disorder innermost: consecutive points share a Fermi surface
    for model_name in spec["models"]:
        for values in itertools.product(*spec["axes"].values()):
            for name in disorders:
                overrides = dict(zip(keys, values))
                model, dis, kwargs = _apply(spec, model_name, name, overrides)
                payload, digest = point_inputs(quantity, model, dis, kwargs)
                coords = {"disorder": name, **overrides} if name is not None else dict(overrides)
                if model_name is not None:
                    coords["model"] = model_name
                result.append({
                    "quantity": quantity, "model": model, "disorder": dis, "kwargs": kwargs, quantity: kwargs,
                    "coords": coords,
                    "inputs": payload, "inputs_sha256": digest,  # recorded in the point file
                    "file": str(points_dir / f"{digest[:20]}.nc"),
                })
    return result
