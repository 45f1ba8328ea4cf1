"""Units and long names of the coordinates of a study's merged Dataset.

Every sweep axis becomes a coordinate with ``units`` and ``long_name`` attributes,
taken from the parameter it sets: ``mu`` and ``temperature`` are energies in the
model's units (``k_B = 1``), an impurity density is per area (2D) or volume (3D),
and a model or disorder parameter has the units its constructor documents
(``hbar = 1`` throughout).  A parameter missing from :data:`PARAMETER_UNITS` is
labelled "model units (see the docstring of TYPE)" rather than left without units.
"""

from __future__ import annotations

__all__ = ["PARAMETER_UNITS", "PARAMETER_NAMES", "QUANTITY_UNITS", "LABEL_COORDS", "PER_POINT_VARIABLES", "sweep_axis_attrs"]

ENERGY = "model energy units"
AREA_ENERGY = "energy x length^D"
COUNT = "1"

#: ``(type, parameter) -> units``; type ``None`` applies to any type (and to keywords of
#: ``transport`` / ``magnetization``).  Values follow the constructors' docstrings (hbar = 1).
PARAMETER_UNITS = {
    (None, "mu"): ENERGY,
    (None, "temperature"): "model energy units, k_B = 1",
    (None, "energy_step"): COUNT,
    (None, "n_points"): COUNT,
    (None, "n_angles"): COUNT,
    (None, "n_grid"): COUNT,
    (None, "charge"): "elementary charge",
    (None, "k_max"): "1/length",
    (None, "sparse_tol"): COUNT,
    (None, "solver_tol"): COUNT,
    (None, "sea_order"): COUNT,
    (None, "radial_samples"): COUNT,
    # models
    ("Rashba", "mass"): "1/(energy x length^2), hbar = 1",
    ("Rashba", "alpha"): "energy x length",
    ("Rashba", "dresselhaus"): "energy x length",
    ("MassiveDirac", "velocity"): "energy x length, hbar = 1",
    ("QiWuZhang", "mass"): "1 (in units of the hopping)",
    (None, "exchange"): ENERGY,
    (None, "alpha"): ENERGY,
    (None, "gap"): ENERGY,
    (None, "hopping"): ENERGY,
    (None, "hopping_z"): ENERGY,
    (None, "chemical_potential"): ENERGY,
    (None, "delta"): ENERGY,
    # disorder
    (None, "density"): "1/length^D",
    (None, "strength"): AREA_ENERGY,
    ("ScreenedCoulomb", "strength"): "energy x length",
    (None, "length"): "length",
    (None, "screening"): "1/length",
    ("MagneticImpurities", "exchange"): AREA_ENERGY,
    (None, "spin"): COUNT,
    (None, "scalar"): AREA_ENERGY,
}

#: parameter -> what it is, for the ``long_name`` of a sweep coordinate.
PARAMETER_NAMES = {
    "mu": "chemical potential", "temperature": "temperature", "energy_step": "step of the Fermi-window rule",
    "n_points": "points per Fermi sheet (rays) or k-grid points per reciprocal axis",
    "charge": "carrier charge q (electrons: -1)", "density": "impurity density (per area in 2D, per volume in 3D)",
    "strength": "impurity strength", "length": "correlation length", "screening": "Thomas-Fermi wavevector",
    "spin": "impurity spin S", "exchange": "exchange", "alpha": "Rashba coupling", "mass": "mass",
    "hopping": "hopping t", "delta": "gap amplitude", "chemical_potential": "normal-state chemical potential",
}

#: Units of each quantity's results, used for a study whose every point failed.
QUANTITY_UNITS = {
    "transport": None,  # filled in lazily from boltzspin.responses.response.UNITS
    "magnetization": "[s] x energy (per area, hbar = 1, k_B = 1)",
}

#: Coordinates that are labels (no units): their long names.
LABEL_COORDS = {
    "model": "named model of the study ([model.NAME])",
    "disorder": "named disorder of the study ([disorder.NAME])",
    "contribution": "contribution to the conserved current",
    "i": "current direction (J_i)",
    "j": "field direction (E_j, grad T_j)",
}

#: Per-point diagnostics that become variables of the merged Dataset: ``(long_name, units, integer)``.
PER_POINT_VARIABLES = {
    "n_fermi_points": ("Fermi-surface points of the point (-1 where it failed)", COUNT, True),
    "solver_iterations": ("conjugate-gradient iterations (-1 where the point failed)", COUNT, True),
    "solver_residual": ("relative residual of the Boltzmann solve", COUNT, False),
    "source_projection": ("fraction of the Boltzmann source removed by the range projection", COUNT, False),
    "fermi_surface_error_estimate": ("relative density-of-states change between grids G and G/2, / 3",
                                     COUNT, False),
}


def _units(kind, parameter):
    for key in ((kind, parameter), (None, parameter)):
        if key in PARAMETER_UNITS:
            return PARAMETER_UNITS[key]
    return f"model units, see the docstring of {kind}" if kind else "model units"


def _model_targets(spec, path):
    """``{(type, parameter)}`` a ``model.`` sweep key sets (named models, nested tables, vector index)."""
    out = set()
    for name, table in spec["models"].items():
        rest = list(path)
        if name is not None and rest and rest[0] in spec["models"]:
            if rest[0] != name:
                continue
            rest = rest[1:]
        while len(rest) > 1 and isinstance(table.get(rest[0]), dict):
            table, rest = table[rest[0]], rest[1:]
        if rest:
            out.add((table.get("type"), rest[0]))
    return out


def _disorder_targets(spec, path):
    names = [path[0]] if len(path) == 2 else list(spec.get("disorder") or {})
    out = set()
    for name in names:
        table = spec["disorder"].get(name, {})
        for species in table.get("species", [table]):
            out.add((species.get("type"), path[-1]))
    return out


def sweep_axis_attrs(spec, key):
    """``{"long_name", "units"}`` of the coordinate of sweep axis ``key`` of a loaded study ``spec``.

    Parameters
    ----------
    spec : dict
        A loaded study (:func:`boltzspin.studies.study_file.load_study`).
    key : str
        A sweep key: ``mu``, a keyword of the computed function, ``model.PARAM[.INDEX]``,
        ``model.NAME.PARAM``, ``disorder.PARAM`` or ``disorder.NAME.PARAM``.

    Returns
    -------
    dict
        ``long_name`` (the sweep key and what it sets) and ``units`` (hbar = 1,
        k_B = 1, energies and lengths in the model's units).
    """
    path = key.split(".")
    if path[0] == "model":
        targets = _model_targets(spec, path[1:])
    elif path[0] == "disorder":
        targets = _disorder_targets(spec, path[1:])
    else:
        targets = {(None, key)}
    units = sorted({_units(kind, parameter) for kind, parameter in targets}) or [_units(None, path[-1])]
    name = PARAMETER_NAMES.get(path[-1] if not path[-1].lstrip("-").isdigit() else path[-2], "")
    return {"long_name": f"{key}: {name}" if name else key, "units": " or ".join(units)}
