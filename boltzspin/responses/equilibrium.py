r"""Equilibrium: the s orbital magnetization of the letter's Eq. (6).

.. math:: M^s = \sum_n\int[dk]\,\big(f_n\,m^s_n + g_n\,\Omega_n s_n\big),\qquad
          g_n = k_B T\ln(1 - f_n)

with the s orbital moment :math:`m^s_n` of :func:`boltzspin.geometry.bands.s_orbital_moment`
and the Berry curvature :math:`\Omega_n` (2D: z components).  The first term
is the *local* circuit (self-rotation and the moving s-dipole), the second
the *global* circuit (Berry curvature).  At T = 0, :math:`g_n = (e_n-\mu)\,\Theta(\mu-e_n)`;
at T > 0 both terms are Fermi-window averages of their T = 0 values at
chemical potential :math:`\epsilon`, because
:math:`f(e) = \int d\epsilon\,(-f'(\epsilon))\,\Theta(\epsilon-e)` and
:math:`g(e) = \int d\epsilon\,(-f'(\epsilon))\,(e-\epsilon)\,\Theta(\epsilon-e)`.
For a band filled to infinity (Dirac) the two circuits can each depend
logarithmically on the momentum cutoff while their sum converges; the error
estimates of the parts and of the total are reported separately.
For ``s = q`` (observable "charge") this is the ordinary orbital
magnetization; in an insulator ``q dM^s/d mu`` equals the Berry-part
conductivity ``sigma_xy = -q int f Omega s`` (letter Eq. 12, the Streda
formula).  Units: hbar = 1, k_B = 1; ``M^s`` in [s] x energy x length^2 / area
-- i.e. [s] x energy for a 2D sheet (magnetization per area).
"""

from __future__ import annotations

import numbers

import numpy as np
import xarray as xr

from ..geometry.bands import (berry_curvature, conventional_current, expectation, expectation_gradient,
                    s_orbital_moment, torque_dipole)
from ..geometry.brillouin import uses_grid
from ..errors import ModelError
from ..progress import Stages, bar
from ..models.continuum import check_model, resolve_observable
from .response import ENERGY_STEP, check_temperature, fermi_window, sea_integral

__all__ = ["magnetization", "equilibrium_current"]


def _zero_temperature(model, mu, s_matrix, n_angles, origin, k_max, order, n_grid):
    """(local, global) parts of M^s_z at T = 0 and chemical potential ``mu``, plus the error."""

    def integrand(es):
        omega_s = berry_curvature(es)[..., 0, 1] * expectation(es, s_matrix)
        local, global_ = s_orbital_moment(es, s_matrix), (es.energies - mu) * omega_s
        return np.stack([local, global_, local + global_], axis=-1)

    return sea_integral(model, mu, integrand, n_grid=n_grid, n_angles=n_angles, origin=origin, k_max=k_max,
                        order=order)


def magnetization(model, mu, observable="sz", charge=-1.0, temperature=0.0, n_angles=128, *,
                  origin=(0.0, 0.0), k_max=None, order=16, energy_step=ENERGY_STEP, n_grid=128, progress=False):
    """The s orbital magnetization ``M^s_z`` of a 2D model (letter Eq. 6).

    Parameters
    ----------
    model : Model
        A 2D model (continuum or lattice, see :func:`boltzspin.transport`).
    mu : float
        Chemical potential (energy).
    observable : str or (n, n) array
        The quantity ``s``, as in :func:`boltzspin.transport` (``"charge"`` gives
        the ordinary orbital magnetization of carriers of charge ``q``).
    charge : float
        Carrier charge ``q`` (electrons: ``-1``).
    temperature : float
        k_B T (k_B = 1); T > 0 averages over :func:`boltzspin.responses.response.fermi_window`.
    n_angles : int
        Rays of the Fermi-sea quadrature of continuum models (see :mod:`boltzspin.geometry.fermi`).
    origin : 2-sequence of float
        Centre of the rays (continuum models).
    k_max : float, optional
        Radial extent of the rays; default probed from the model.
    order : int
        Gauss-Legendre order of the radial panels (continuum models).
    energy_step : float
        Step of the Fermi-window rule (T > 0).
    n_grid : int
        k-grid points per reciprocal axis for lattice models (:mod:`boltzspin.geometry.brillouin`).
    progress : bool
        Draw a tqdm bar on stderr (one step per Fermi-window energy; the postfix shows
        the k-grid refinement levels).  Off by default; the ``"boltzspin"`` logger
        reports the same independently (:mod:`boltzspin.progress`).

    Returns
    -------
    xarray.Dataset
        ``magnetization`` (z component) and its ``local`` (``f m^s``) and
        ``global`` (``g Omega s``) circuits; attrs record units, conventions and
        the quadrature error estimates (``fermi_sea_error_estimate`` of the
        total, ``local_error_estimate``, ``global_error_estimate``).

    Raises
    ------
    ModelError
        For a model that is not 2D, an invalid ``mu`` or ``temperature``.
    FermiSurfaceError
        If the Fermi sea cannot be resolved.

    References
    ----------
    C. Xiao and Q. Niu, arXiv:2009.12058, Eqs. (6)-(7) and (12).
    """
    energies, weights = _window(mu, temperature, energy_step)
    check_model(model)
    if model.dim != 2:
        raise ModelError("magnetization is implemented for 2D models")
    s_matrix, label = resolve_observable(model, observable, float(charge))
    with Stages(f"magnetization mu={float(mu):g}", bar(len(energies), "magnetization", "energy", progress)) as st:
        parts = []
        for e in energies:
            parts.append(_zero_temperature(model, float(e), s_matrix, n_angles, origin, k_max, order, n_grid))
            st.done(f"energy {float(e):.6g}")
    local, global_, total = np.sum([w * p[0] for w, p in zip(weights, parts)], axis=0)
    # the window average's error is bounded by the weighted sum of the energies' errors
    error = np.tensordot(weights, np.array([p[1] for p in parts]), axes=(0, 0))
    units = "[s] x energy (per area, hbar = 1, k_B = 1)"
    ds = xr.Dataset({
        "magnetization": ((), total, {"long_name": "s orbital magnetization M^s_z", "units": units}),
        "local": ((), local, {"long_name": "local circuit int f m^s", "units": units}),
        "global": ((), global_, {"long_name": "global circuit int g Omega s", "units": units}),
    })
    ds.attrs.update(model=repr(model), observable=label, charge=float(charge), mu=float(mu),
                    temperature=float(temperature),
                    resolution=f"{int(n_grid)}^2 k-grid" if uses_grid(model) else f"{int(n_angles)} rays",
                    fermi_sea_error_estimate=float(error[2]),
                    local_error_estimate=float(error[0]),
                    global_error_estimate=float(error[1]),
                    conventions="M^s = int (f m^s + g Omega s), g = k_B T ln(1 - f); hbar = 1, k_B = 1")
    return ds


def _window(mu, temperature, energy_step):
    check_temperature(temperature)
    if not isinstance(mu, numbers.Real) or not np.isfinite(mu):
        raise ModelError(f"mu={mu!r} must be a finite real number")
    if temperature == 0:
        return np.array([float(mu)]), np.array([1.0])
    energies, weights, _ = fermi_window(float(mu), float(temperature), energy_step)
    return energies, weights


def equilibrium_current(model, mu, observable="sz", temperature=0.0, n_angles=128, *,
                        origin=(0.0, 0.0), k_max=None, order=16, energy_step=ENERGY_STEP, n_grid=128,
                        progress=False):
    r"""Uniform equilibrium s-currents: the conventional one and the conserved one (letter Eq. 5).

    .. math::

        J^{s}_{\rm conv} = \sum_n\int[dk]\,f_n (J^s)_{nn},\qquad
        D^\tau = \sum_n\int[dk]\,\big(f_n d^\tau_n + g_n \Omega^\tau_n\big),\qquad
        J^s_0 = J^s_{\rm conv} + D^\tau = \sum_n\int[dk]\,\big(f_n v_n s_n + g_n\,\partial_k s_n\big)

    with the torque dipole :math:`d^\tau_n = -(J^s)_{nn} + v_n s_n`
    (:func:`boltzspin.geometry.bands.torque_dipole`) and :math:`\Omega^{\tau}_n = \partial_k s_n`
    (:func:`boltzspin.geometry.bands.expectation_gradient`), ``g = k_B T ln(1 - f)``.  Because
    :math:`\partial_k g_n = f_n v_n`, the conserved current is the integral of a total
    derivative, ``int d(g s)/dk``, and vanishes (Eq. 5: no net flow at equilibrium), while
    the conventional current ``{s, v}/2`` need not (e.g. Rashba's equilibrium spin current,
    E. I. Rashba, PRB 68, 241315 (2003)).  No charge factor: these are s-currents.

    Parameters
    ----------
    model : Model
        A 2D or 3D model (continuum or lattice, see :func:`boltzspin.transport`).
    mu : float
        Chemical potential (energy).
    observable : str or (n, n) array
        The quantity ``s`` (a name in ``model.operators`` or a Hermitian matrix).
    temperature : float
        k_B T (k_B = 1).
    n_angles : int
        Rays of the Fermi-sea quadrature of 2D continuum models.
    origin : 2-sequence of float
        Centre of the rays (continuum models).
    k_max : float, optional
        Radial extent of the rays; default probed from the model.
    order : int
        Gauss-Legendre order of the radial panels (continuum models).
    energy_step : float
        Step of the Fermi-window rule (T > 0).
    n_grid : int
        k-grid points per reciprocal axis for lattice models.
    progress : bool
        Draw a tqdm bar on stderr, as :func:`magnetization`.

    Returns
    -------
    xarray.Dataset
        ``conventional``, ``torque_dipole`` and ``conserved`` (dim ``i``), in
        units of [s] x energy / length in 2D ([s] x velocity / length^(D-1),
        hbar = 1), with ``conventional_error_estimate`` and
        ``torque_dipole_error_estimate`` in attrs.

    Raises
    ------
    FermiSurfaceError
        For a band filled to infinity (the result would depend on the cutoff)
        or an unresolved Fermi sea.

    References
    ----------
    C. Xiao and Q. Niu, arXiv:2009.12058, Eq. (5).
    """
    check_model(model)
    s_matrix, label = resolve_observable(model, observable, 1.0)
    energies, weights = _window(mu, temperature, energy_step)
    d = model.dim

    def integrand_at(e_mu):
        def integrand(es):
            f_part = np.diagonal(conventional_current(es, s_matrix), axis1=-2, axis2=-1).real  # (..., D, n)
            conv = np.swapaxes(f_part, -1, -2)
            tau = torque_dipole(es, s_matrix) + (es.energies - e_mu)[..., None] * expectation_gradient(es, s_matrix)
            return np.stack([conv, tau], axis=-2)  # (..., n, 2, D)
        return integrand

    values, errors = [], []
    with Stages(f"equilibrium_current mu={float(mu):g}",
                bar(len(energies), "equilibrium_current", "energy", progress)) as st:
        for e in energies:
            v, err = sea_integral(model, float(e), integrand_at(float(e)), n_grid=n_grid, n_angles=n_angles,
                                  origin=origin, k_max=k_max, order=order, bounded=True)
            values.append(v)
            errors.append(err)
            st.done(f"energy {float(e):.6g}")
    conv, tau = np.tensordot(weights, np.array(values), axes=(0, 0))
    error = np.tensordot(weights, np.array(errors), axes=(0, 0))  # weighted, like the values
    axes = ["x", "y", "z"][:d]
    units = "[s] x velocity / length^(D-1) (hbar = 1)"
    ds = xr.Dataset(
        {
            "conventional": ("i", conv, {"long_name": "conventional equilibrium current int f {s, v}/2",
                                         "units": units}),
            "torque_dipole": ("i", tau, {"long_name": "torque-dipole density int (f d^tau + g Omega^tau)",
                                         "units": units}),
            "conserved": ("i", conv + tau, {"long_name": "conserved equilibrium current (letter Eq. 5: zero)",
                                            "units": units}),
        },
        coords={"i": axes},
    )
    ds.attrs.update(model=repr(model), observable=label, mu=float(mu), temperature=float(temperature),
                    conventional_error_estimate=float(error[0].max()),
                    torque_dipole_error_estimate=float(error[1].max()),
                    conventions="hbar = 1, k_B = 1, g = k_B T ln(1 - f); J_i per unit length (2D)")
    return ds
