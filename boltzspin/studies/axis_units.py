"""Units and long names of the coordinates of a study's merged Dataset.

Every sweep axis becomes a coordinate with ``units`` and ``long_name`` attributes,
taken from the parameter it sets: ``mu`` and ``temperature`` are energies in the
model's units (``k_B = 1``), an impurity density is per area (2D) or volume (3D),
and a model or disorder parameter has the units its constructor documents
(``hbar = 1`` throughout).  A parameter missing from :data:`PARAMETER_UNITS` is
labelled "model units (see the docstring of TYPE)" rather than left without units.
"""

from __future__ import annotations

__all__ = ["PARAMETER_UNITS", "QUANTITY_UNITS", "LABEL_COORDS", "PER_POINT_VARIABLES", "sweep_axis_attrs"]

ENERGY = "energy (model units)"
AREA_ENERGY = "energy x length^D (energy x area in 2D, hbar = 1)"
COUNT = "1 (count)"

#: ``(type, parameter) -> units``; type ``None`` applies to any type (and to keywords of
#: ``transport`` / ``magnetization``).  Values follow the constructors' docstrings.
PARAMETER_UNITS = {
    (None, "mu"): "energy (model units; chemical potential)",
    (None, "temperature"): "energy (model units, k_B = 1)",
    (None, "energy_step"): "1 (step of the double-exponential Fermi-window rule)",
    (None, "n_points"): "1 (points per Fermi sheet, or k-grid points per reciprocal axis)",
    (None, "n_angles"): "1 (rays)",
    (None, "n_grid"): "1 (k-grid points per reciprocal axis)",
    (None, "charge"): "elementary charge (carrier charge q; electrons q = -1)",
    (None, "k_max"): "1/length",
    (None, "sparse_tol"): "1 (relative)",
    (None, "solver_tol"): "1 (relative)",
    (None, "sea_order"): COUNT,
    (None, "radial_samples"): COUNT,
    # models
    ("Rashba", "mass"): "1/(energy x length^2) (hbar = 1)",
    ("Rashba", "alpha"): "energy x length",
    ("Rashba", "dresselhaus"): "energy x length",
    ("MassiveDirac", "velocity"): "energy x length (hbar = 1)",
    ("QiWuZhang", "mass"): "1 (dimensionless, in units of the hopping)",
    (None, "exchange"): ENERGY,
    (None, "alpha"): ENERGY,
    (None, "gap"): ENERGY,
    (None, "hopping"): ENERGY,
    (None, "hopping_z"): ENERGY,
    (None, "chemical_potential"): "energy (model units; normal-state chemical potential)",
    (None, "delta"): "energy (model units; gap amplitude)",
    # disorder
    (None, "density"): "1/length^D (impurities per area in 2D, per volume in 3D)",
    (None, "strength"): AREA_ENERGY,
    ("ScreenedCoulomb", "strength"): "energy x length (e^2/(4 pi eps) times the impurity charge)",
    (None, "length"): "length (correlation length)",
    (None, "screening"): "1/length (Thomas-Fermi wavevector)",
    ("MagneticImpurities", "exchange"): AREA_ENERGY,
    (None, "spin"): "1 (impurity spin S, dimensionless)",
    (None, "scalar"): AREA_ENERGY,
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
    "solver_residual": ("relative residual of the Boltzmann solve", "1 (relative)", False),
    "source_projection": ("fraction of the Boltzmann source removed by the range projection", "1 (relative)",
                          False),
    "fermi_surface_error_estimate": ("relative density-of-states change between grids G and G/2, / 3",
                                     "1 (relative)", False),
}


def _units(kind, parameter):
    for key in ((kind, parameter), (None, parameter)):
        if key in PARAMETER_UNITS:
            return PARAMETER_UNITS[key]
    return f"model units (see the docstring of {kind})" if kind else "model units"


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
        ``long_name`` (the sweep key) and ``units`` (hbar = 1, k_B = 1, energies and
        lengths in the model's units).
    """
    path = key.split(".")
    if path[0] == "model":
        targets = _model_targets(spec, path[1:])
    elif path[0] == "disorder":
        targets = _disorder_targets(spec, path[1:])
    else:
        targets = {(None, key)}
    units = sorted({_units(kind, parameter) for kind, parameter in targets}) or [_units(None, path[-1])]
    return {"long_name": f"sweep axis {key}", "units": " or ".join(units)}
