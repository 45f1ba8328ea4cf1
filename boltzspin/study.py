"""Studies: a TOML file -> a sweep of :func:`boltzspin.transport` -> netCDF.

A study file has the sections

.. code-block:: toml

    [study]
    name = "rashba_null"
    output = "results/rashba_null.nc"      # merged Dataset
    figure = "figures/rashba_null.png"     # optional

    [model]                                # a built-in model and its arguments
    type = "Rashba"
    mass = 1.0
    alpha = 0.5

    [transport]                            # keyword arguments of transport()
    observable = "sz"
    charge = -1.0
    n_points = 256

    [sweep]
    mu = { start = -0.1, stop = 1.0, num = 12 }   # or a list of values

    [disorder.delta]                       # one or more named disorders
    type = "DeltaCorrelated"
    density = 0.01
    strength = 1.0

A disorder entry may instead be ``[[disorder.NAME.species]]`` tables, which
are added (a mixture).  The merged Dataset has dims
``(disorder, mu, contribution, i, j)``.

Nothing is lost: every finished point is written atomically (temporary file
plus ``os.replace``) to ``<output>.points/<key>.nc``, keyed by a hash of
everything that determines it.  Rerunning an interrupted study recomputes
only the missing points and merges to the identical Dataset.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path

import numpy as np
import xarray as xr

from . import disorder as disorder_module
from . import models as models_module
from .errors import BoltzspinError
from .response import transport

__all__ = ["load_study", "run_study", "build_model", "build_disorder"]

MODEL_TYPES = {"Rashba": models_module.Rashba, "MassiveDirac": models_module.MassiveDirac}
DISORDER_TYPES = {
    "DeltaCorrelated": disorder_module.DeltaCorrelated,
    "GaussianCorrelated": disorder_module.GaussianCorrelated,
    "MagneticImpurities": disorder_module.MagneticImpurities,
}


class StudyError(BoltzspinError, ValueError):
    """A study file is malformed."""


def _construct(kind, table, registry, what):
    table = dict(table)
    name = table.pop("type", None)
    if name not in registry:
        raise StudyError(f"{what} type {name!r} is not one of {sorted(registry)}")
    try:
        return registry[name](**table)
    except TypeError as exc:
        raise StudyError(f"bad arguments for {what} {name!r} in [{kind}]: {exc}") from exc


def build_model(table):
    """A model from a ``[model]`` table."""
    return _construct("model", table, MODEL_TYPES, "model")


def build_disorder(name, table):
    """A disorder (or mixture) from a ``[disorder.NAME]`` table."""
    if "species" in table:
        parts = [_construct(f"disorder.{name}", t, DISORDER_TYPES, "disorder") for t in table["species"]]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total
    return _construct(f"disorder.{name}", table, DISORDER_TYPES, "disorder")


def _axis(spec, name):
    if isinstance(spec, dict):
        try:
            return np.linspace(float(spec["start"]), float(spec["stop"]), int(spec["num"]))
        except KeyError as exc:
            raise StudyError(f"sweep axis {name!r} needs start, stop and num") from exc
    values = np.asarray(spec, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise StudyError(f"sweep axis {name!r} must be a non-empty list or a range table")
    return values


def load_study(path):
    """Parse and validate a study file; returns a dict."""
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StudyError(f"study file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"study file {path} is not valid TOML: {exc}") from exc
    for section in ("study", "model", "sweep", "disorder"):
        if section not in spec:
            raise StudyError(f"study file {path} has no [{section}] section")
    if set(spec["sweep"]) != {"mu"}:
        raise StudyError("only a 'mu' sweep axis is supported by this version; see issue 6")
    spec["mu"] = _axis(spec["sweep"]["mu"], "mu")
    spec.setdefault("transport", {})
    spec["study"].setdefault("output", f"results/{spec['study'].get('name', path.stem)}.nc")
    # build once to validate everything before any work starts
    build_model(spec["model"])
    for name, table in spec["disorder"].items():
        build_disorder(name, table)
    return spec


def _point_key(spec, disorder_name, mu):
    payload = json.dumps(
        [spec["model"], spec["disorder"][disorder_name], spec["transport"], repr(float(mu))],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _write_atomic(ds, path):
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run_study(spec, progress=True):
    """Run every point of a study (resuming from saved points); return the Dataset."""
    from tqdm.auto import tqdm

    out = Path(spec["study"]["output"])
    points_dir = out.parent / (out.name + ".points")
    points_dir.mkdir(parents=True, exist_ok=True)
    model = build_model(spec["model"])
    names = list(spec["disorder"])
    jobs = [(d, mu) for mu in spec["mu"] for d in names]  # mu-major: disorders share the Fermi surface
    results = {}
    bar = tqdm(jobs, desc=spec["study"].get("name", "study"), disable=not progress, unit="point")
    for name, mu in bar:
        path = points_dir / f"{_point_key(spec, name, mu)}.nc"
        if path.exists():
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                results[name, mu] = ds.load()
            continue
        ds = transport(model, float(mu), build_disorder(name, spec["disorder"][name]), **spec["transport"])
        _write_atomic(ds, path)
        results[name, mu] = ds
    rows = []
    for name in names:
        per_mu = [results[name, mu] for mu in spec["mu"]]
        attrs_keep = {
            "disorder_repr": ("mu", [ds.attrs["disorder"] for ds in per_mu]),
            "solver_residual": ("mu", [ds.attrs["solver_residual"] for ds in per_mu]),
            "state": ("mu", [ds.attrs["state"] for ds in per_mu]),
        }
        merged = xr.concat([ds.drop_attrs() for ds in per_mu], dim="mu")
        merged = merged.assign_coords(mu=spec["mu"]).assign(**attrs_keep)
        rows.append(merged)
    result = xr.concat(rows, dim="disorder").assign_coords(disorder=names)
    first = results[names[0], spec["mu"][0]].attrs
    result.attrs.update(
        study=spec["study"].get("name", ""),
        units=first["units"],
        charge=first["charge"],
        observable=first["observable"],
        model=first["model"],
        n_points=first["n_points"],
        temperature=first["temperature"],
    )
    result["mu"].attrs.update(long_name="chemical potential", units="energy (model units)")
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(result, out)
    return result


def format_table(result, i="x", j="y"):
    """A plain-text table of ``sigma_ij`` per contribution, disorder and mu."""
    contributions = list(result.contribution.values)
    short = {
        "intrinsic_berry": "berry",
        "intrinsic_dipole": "dipole",
        "boltzmann": "boltzmann",
        "side_jump": "side_jump",
        "dipole_change": "dip_change",
        "anomalous_distribution": "anom_dist",
        "total": "total",
    }
    head = f"{'disorder':<10} {'mu':>8} " + " ".join(f"{short.get(c, c):>11}" for c in contributions)
    head += f" {'conventional':>12}"
    lines = [f"sigma_{i}{j} in units of |q|/(8 pi)  [{result.attrs.get('units', '')}]", head]
    scale = abs(result.attrs.get("charge", 1.0)) / (8 * np.pi)
    for d in result.disorder.values:
        for mu in result.mu.values:
            sig = result.sigma.sel(disorder=d, mu=mu, i=i, j=j).values / scale
            conv = float(result.sigma_conventional_intrinsic.sel(disorder=d, mu=mu, i=i, j=j)) / scale
            lines.append(
                f"{str(d):<10} {mu:>8.4f} " + " ".join(f"{x:>11.3e}" for x in sig) + f" {conv:>12.3e}"
            )
    return "\n".join(lines)
