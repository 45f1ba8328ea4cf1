r"""Spin-orbit torques from the current-induced spin density.

For a model with an exchange field :math:`\mathbf h = J_{ex}\mathbf m` (``|m| = 1``, coupling
:math:`\mathbf h\cdot\boldsymbol\sigma`) the current-induced spin density
:math:`\delta\langle\mathbf s\rangle = \chi\,\mathbf E` (:func:`boltzspin.spin_density`, spin in
units of hbar) gives the torque per unit field along the current direction :math:`\hat e`

.. math:: \mathbf T = J_{ex}\,\mathbf m\times\delta\langle\mathbf s\rangle ,

split, with :math:`\hat y = \hat z\times\hat e` (in-plane, perpendicular to the current), into

.. math:: \mathbf T = \tau_{FL}\,\mathbf m\times\hat y + \tau_{DL}\,\mathbf m\times(\mathbf m\times\hat y),
          \qquad \tau_{FL} = \frac{\mathbf T\cdot(\mathbf m\times\hat y)}{|\mathbf m\times\hat y|^2},\quad
          \tau_{DL} = \frac{\mathbf T\cdot[\mathbf m\times(\mathbf m\times\hat y)]}{|\mathbf m\times\hat y|^2}

(the two vectors are orthogonal, of equal length, and span the plane perpendicular to ``m``).
The efficiencies divide by the longitudinal charge conductivity :math:`\sigma_{ee}` of
:func:`boltzspin.transport`: torque per unit current density.  ``T`` is the rate at which the
exchange field rotates the conduction spin, ``ds/dt = 2 h x s``, divided by 2: the reaction
torque on the magnetization's angular momentum is ``-2 T``.

Reference: I. A. Ado, O. A. Tretiakov and M. Titov, PRB 95, 094401 (2017), arXiv:1603.07994;
A. Manchon et al., Rev. Mod. Phys. 91, 035004 (2019).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ModelError
from ..models.continuum import Rashba
from ..models.tight_binding import LatticeRashba
from .response import transport
from .spin_density import spin_density

__all__ = ["spin_orbit_torque", "with_exchange"]


def with_exchange(model, exchange):
    """A copy of ``model`` with the exchange field ``exchange`` (3 components).

    Supported: :class:`~boltzspin.Rashba`, :class:`~boltzspin.LatticeRashba`, and any model with a
    ``with_exchange(h)`` method.

    Parameters
    ----------
    model : Model
        A model with an exchange field.
    exchange : 3-sequence of float
        The new field ``h`` (energy).

    Returns
    -------
    Model
        The same model with field ``h``.
    """
    h = tuple(float(x) for x in exchange)
    if hasattr(model, "with_exchange"):
        return model.with_exchange(h)
    if type(model) is Rashba:
        return Rashba(model.mass, model.alpha, dresselhaus=model.dresselhaus, exchange=h)
    if type(model) is LatticeRashba:
        return LatticeRashba(model.hopping, model.alpha, exchange=h)
    raise ModelError(f"{model!r} has no known way to change its exchange field; pass models with the field "
                     "already set (one call per direction), or give the model a with_exchange(h) method")


def _exchange(model):
    h = getattr(model, "exchange", None)
    if h is None:
        raise ModelError(f"{model!r} has no exchange field: spin-orbit torques T = J_ex m x delta<s> need a "
                         "magnetization; use e.g. bs.Rashba(mass, alpha, exchange=(0, 0, 0.2))")
    h = np.asarray(h, dtype=float)
    if h.shape != (3,) or not np.all(np.isfinite(h)) or np.linalg.norm(h) == 0:
        raise ModelError(f"{model!r} has exchange field {tuple(h)}: spin-orbit torques T = J_ex m x delta<s> "
                         "need a nonzero exchange field; set e.g. exchange=(0, 0, 0.2)")
    return h


def spin_orbit_torque(model, mu, disorder, current=(1.0, 0.0), charge=-1.0, n_points=256, *,
                      magnetization=None, polar_angles=None, azimuth=0.0, spin=("sx", "sy", "sz"), **options):
    r"""Field-like and damping-like spin-orbit torques per unit field, and their efficiencies.

    Parameters
    ----------
    model : Model
        A 2D model with an exchange field ``h = J_ex m`` coupling as ``h . sigma`` (attribute
        ``exchange``), e.g. ``bs.Rashba(mass, alpha, exchange=(hx, hy, hz))``.
    mu : float
        Chemical potential.
    disorder : Disorder
        Impurity species.
    current : 2-sequence of float
        In-plane direction ``e`` of the field (current); normalized.
    charge : float
        Carrier charge ``q`` (electrons ``-1``).
    n_points : int
        Resolution, as for :func:`boltzspin.spin_density`.
    magnetization : (M, 3) array, optional
        Directions ``m`` (normalized) at which to evaluate, keeping ``J_ex = |h|`` of ``model``
        (an angle sweep; models supported by :func:`with_exchange`).  Default: the model's own.
    polar_angles : sequence of float, optional
        Instead of ``magnetization``: polar angles ``theta`` of ``m`` from z (radians), at
        azimuth ``azimuth``: ``m = (sin theta cos phi, sin theta sin phi, cos theta)``.
    azimuth : float
        Azimuth ``phi`` of ``m`` for ``polar_angles`` (radians; default 0, the xz plane).
    spin : 3-sequence
        The spin operators (units of hbar) along x, y, z; default the model's ``sx, sy, sz``.
    **options
        Passed to :func:`boltzspin.spin_density` and :func:`boltzspin.transport`
        (temperature, method, scattering, gauge_seed, ...).

    Returns
    -------
    xarray.Dataset
        Over dims ``("direction", "contribution")`` (``axis`` = x, y, z for vectors):
        ``m``, ``spin_density`` (``chi . e``), ``torque`` (``J_ex m x chi . e``),
        ``field_like`` and ``damping_like`` (``tau_FL``, ``tau_DL``), their ``*_error``
        (propagated from ``chi_error``), ``sigma`` (longitudinal charge conductivity
        ``e . sigma . e``, total) and the efficiencies ``field_like_efficiency``,
        ``damping_like_efficiency`` (``tau / sigma``).  Units in attrs.

    Raises
    ------
    ModelError
        No (or a zero) exchange field, a bad current direction, or ``m`` parallel to
        ``z x e`` (where the decomposition is undefined).

    Notes
    -----
    With spin-independent delta-correlated disorder and both Rashba subbands occupied the
    ``intrinsic`` and ``extrinsic_coherence`` damping-like parts cancel exactly and the
    Boltzmann density is the magnetization-independent Edelstein value; the
    ``anomalous_distribution`` part of the damping-like torque remains (documentation: Theory,
    "Current-induced spin density").

    References
    ----------
    I. A. Ado, O. A. Tretiakov and M. Titov, PRB 95, 094401 (2017); A. Qaiumzadeh, R. A. Duine
    and M. Titov, PRB 92, 014402 (2015).
    """
    if getattr(model, "dim", None) != 2:
        raise ModelError(f"spin_orbit_torque is defined for 2D models (current in the plane); got {model!r}")
    h = _exchange(model)
    j_ex = float(np.linalg.norm(h))
    e = np.asarray(current, dtype=float)
    if e.shape != (2,) or not np.all(np.isfinite(e)) or np.linalg.norm(e) == 0:
        raise ModelError(f"current={current!r} must be a nonzero in-plane direction (ex, ey)")
    e = e / np.linalg.norm(e)
    e3 = np.array([e[0], e[1], 0.0])
    y_hat = np.cross([0.0, 0.0, 1.0], e3)
    if polar_angles is not None:
        if magnetization is not None:
            raise ModelError("give magnetization or polar_angles, not both")
        theta = np.asarray(polar_angles, dtype=float).reshape(-1)
        magnetization = np.stack([np.sin(theta) * np.cos(azimuth), np.sin(theta) * np.sin(azimuth),
                                  np.cos(theta)], axis=1)
    if magnetization is None:
        directions = (h / j_ex)[None, :]
        models = [model]
    else:
        directions = np.asarray(magnetization, dtype=float).reshape(-1, 3)
        norms = np.linalg.norm(directions, axis=1)
        if not np.all(np.isfinite(directions)) or np.any(norms == 0):
            raise ModelError("magnetization must be nonzero finite 3-vectors")
        directions = directions / norms[:, None]
        models = [with_exchange(model, j_ex * m) for m in directions]
    rows = []
    for m, mod in zip(directions, models):
        my = np.cross(m, y_hat)
        norm2 = float(my @ my)
        if norm2 < 1e-12:
            raise ModelError(f"m = {tuple(np.round(m, 6))} is parallel to z x e = {tuple(np.round(y_hat, 6))}: "
                             "the field-like/damping-like decomposition is undefined there; tilt m")
        mmy = np.cross(m, my)
        ds = spin_density(mod, mu, disorder, observables=spin, charge=charge, n_points=n_points, **options)
        chi = ds.chi.values @ e  # (contribution, 3)
        chi_err = ds.chi_error.values @ np.abs(e)
        torque = j_ex * np.cross(m[None, :], chi)
        # |T_a| <= J sum_b |eps_abc m_c| err_b
        cross_abs = np.abs(np.array([[0, -m[2], m[1]], [m[2], 0, -m[0]], [-m[1], m[0], 0]]))
        torque_err = j_ex * chi_err @ cross_abs.T
        fl = torque @ my / norm2
        dl = torque @ mmy / norm2
        fl_err = torque_err @ np.abs(my) / norm2
        dl_err = torque_err @ np.abs(mmy) / norm2
        tr = transport(mod, mu, disorder, "charge", charge, n_points, **options)
        sig = float(e @ tr.sigma.sel(contribution="total").values @ e)
        sig_err = float(np.abs(e) @ tr.sigma_error.sel(contribution="total").values @ np.abs(e))
        rows.append((m, chi, torque, torque_err, fl, dl, fl_err, dl_err, sig, sig_err, ds))
    contributions = list(rows[0][-1].contribution.values)
    axis = ["x", "y", "z"]
    stack = [np.stack([r[i] for r in rows]) for i in range(10)]
    sig, sig_err = stack[8], stack[9]
    fl, dl, fl_err, dl_err = stack[4], stack[5], stack[6], stack[7]
    units_t = "J_ex * chi units (energy x q[s]/(energy length)) per unit field"
    out = xr.Dataset(
        {
            "m": (("direction", "axis"), stack[0], {"long_name": "magnetization direction"}),
            "spin_density": (("direction", "contribution", "axis"), stack[1],
                             {"long_name": "delta<s> per unit field along the current, chi . e"}),
            "torque": (("direction", "contribution", "axis"), stack[2],
                       {"long_name": "T = J_ex m x delta<s> per unit field", "units": units_t}),
            "torque_error": (("direction", "contribution", "axis"), stack[3], {"units": units_t}),
            "field_like": (("direction", "contribution"), fl,
                           {"long_name": "tau_FL, T = tau_FL m x y + tau_DL m x (m x y)", "units": units_t}),
            "damping_like": (("direction", "contribution"), dl, {"long_name": "tau_DL", "units": units_t}),
            "field_like_error": (("direction", "contribution"), fl_err, {"units": units_t}),
            "damping_like_error": (("direction", "contribution"), dl_err, {"units": units_t}),
            "sigma": (("direction",), sig, {"long_name": "longitudinal charge conductivity e . sigma . e (total)"}),
            "sigma_error": (("direction",), sig_err),
            "field_like_efficiency": (("direction", "contribution"), fl / sig[:, None],
                                      {"long_name": "tau_FL / sigma (torque per unit current density)"}),
            "damping_like_efficiency": (("direction", "contribution"), dl / sig[:, None],
                                        {"long_name": "tau_DL / sigma (torque per unit current density)"}),
        },
        coords={"contribution": contributions, "axis": axis,
                "theta": ("direction", np.arccos(np.clip(stack[0][:, 2], -1, 1))),
                "phi": ("direction", np.arctan2(stack[0][:, 1], stack[0][:, 0]))},
    )
    out.attrs.update({k: v for k, v in rows[0][-1].attrs.items() if isinstance(v, (str, int, float))})
    out.attrs.update(exchange_coupling=j_ex, current_direction=tuple(float(x) for x in e),
                     y_hat=tuple(float(x) for x in y_hat),
                     convention="h = J_ex m couples as h . sigma; T = J_ex m x delta<s> (s = sigma/2); "
                                "the torque on the magnetization's angular momentum is -2T")
    return out
