"""Point files of a study: each carries the inputs it was computed from, and is checked before use.

A point file ``<output>.points/<key>.nc`` holds the Dataset of one point.  Its
attribute :data:`INPUTS_ATTR` is the JSON of the point's inputs (model table,
disorder table and keyword arguments of the computed function, exactly as the
study file gave them after the sweep overrides) and :data:`HASH_ATTR` its
SHA-256; ``key`` is the first 20 hex digits of that hash.  :func:`read_point`
accepts a file only if it opens, holds data and carries exactly the inputs of
the point asked for, so a truncated, empty or corrupted file, a file of an
older version without the record, or a valid file of another point copied over
this one is never merged: the runner recomputes it and says so.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["INPUTS_ATTR", "HASH_ATTR", "StudyWarning", "point_inputs", "stamp", "read_point"]

#: Attribute of a point file: JSON of the inputs the point was computed from.
INPUTS_ATTR = "study_inputs"
#: Attribute of a point file: SHA-256 (hex) of :data:`INPUTS_ATTR`.
HASH_ATTR = "study_inputs_sha256"


class StudyWarning(UserWarning):
    """A study recomputes a point file it cannot use, or a point failed (the message says which and why)."""


def point_inputs(quantity, model, disorder, kwargs):
    """``(payload, sha256)``: the canonical JSON of a point's inputs and its hash.

    Transport points keep their historical payload ``[model, disorder, kwargs]``
    (so their file names are unchanged); other quantities hash
    ``[quantity, model, kwargs]``.
    """
    parts = [model, disorder, kwargs] if quantity == "transport" else [quantity, model, kwargs] \
        if disorder is None else [quantity, model, disorder, kwargs]
    payload = json.dumps(parts, sort_keys=True, default=str)
    return payload, hashlib.sha256(payload.encode()).hexdigest()


def stamp(ds, job):
    """Record the inputs of ``job`` (and their hash) in ``ds.attrs``; returns ``ds``."""
    ds.attrs[INPUTS_ATTR] = job["inputs"]
    ds.attrs[HASH_ATTR] = job["inputs_sha256"]
    return ds


def _differences(stored, expected, where="", limit=3):
    """Up to ``limit`` strings ``path: stored vs expected`` for two decoded JSON values."""
    if isinstance(stored, dict) and isinstance(expected, dict):
        out = []
        for key in sorted(set(stored) | set(expected)):
            out += _differences(stored.get(key, "(missing)"), expected.get(key, "(missing)"),
                                f"{where}.{key}" if where else str(key), limit - len(out))
            if len(out) >= limit:
                break
        return out
    if isinstance(stored, list) and isinstance(expected, list) and len(stored) == len(expected):
        out = []
        for n, (a, b) in enumerate(zip(stored, expected)):
            out += _differences(a, b, f"{where}[{n}]", limit - len(out))
            if len(out) >= limit:
                break
        return out
    return [] if stored == expected else [f"{where or 'inputs'} = {stored!r} in the file, {expected!r} here"]


_PARTS = {"transport": ("model", "disorder", "kwargs"),
          "spin_density": ("quantity", "model", "disorder", "kwargs"),
          "spin_orbit_torque": ("quantity", "model", "disorder", "kwargs")}


def _named(payload, quantity):
    """The decoded payload as a dict with readable part names (for messages)."""
    parts = json.loads(payload)
    names = _PARTS.get(quantity, ("quantity", "model", "kwargs"))
    return dict(zip(names, parts)) if isinstance(parts, list) and len(parts) == len(names) else {"inputs": parts}


def read_point(job):
    """``(dataset, problem)`` of the point file of ``job``.

    ``(ds, None)``: the file is valid and ``ds`` is loaded (and closed);
    ``(None, None)``: there is no file; ``(None, problem)``: the file cannot
    be used, ``problem`` says why (a phrase to follow the file name).
    """
    import xarray as xr

    path = Path(job["file"])
    if not path.exists():
        return None, None
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds = ds.load()
    except Exception as exc:  # noqa: BLE001 - h5py/netCDF raise many kinds for a broken file
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        return None, f"cannot be read ({type(exc).__name__}: {text}): truncated, empty or corrupted"
    stored, digest = ds.attrs.get(INPUTS_ATTR), ds.attrs.get(HASH_ATTR)
    if not isinstance(stored, str) or not isinstance(digest, str):
        return None, "carries no record of its inputs (written by an older boltzspin or by another program)"
    if hashlib.sha256(stored.encode()).hexdigest() != digest:
        return None, "has an inputs record that does not match its own hash (edited or corrupted)"
    if stored != job["inputs"]:
        quantity = job.get("quantity", "transport")
        try:
            diff = _differences(_named(stored, quantity), _named(job["inputs"], quantity))
        except (ValueError, TypeError):
            diff = []
        return None, ("was computed for another point" + (f" ({'; '.join(diff)})" if diff else "")
                      + ", e.g. copied over this one")
    if not ds.data_vars:
        return None, "holds no data variables"
    return ds, None

