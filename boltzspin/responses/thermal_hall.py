r"""Intrinsic thermal Hall conductivity of (quasi)particles from the Berry curvature.

.. math::

    \kappa_{xy} = \frac{w}{T}\int d\epsilon\,(\epsilon-\mu)^2\,(-f_0'(\epsilon))\,
                  \sigma^{N}_{xy}(\epsilon),\qquad
    \sigma^{N}_{xy}(\epsilon) = -\sum_n\int[dk]\,\Theta(\epsilon - e_n)\,\Omega^{xy}_n,

with ``sigma^N`` the particle-number (``q = 1``, ``s = 1``) Hall conductivity
of the states below ``epsilon`` and ``w`` the Nambu weight (1/2 for a doubled BdG
basis, :attr:`boltzspin.models.superconductivity.BdG.nambu_weight`; 1 otherwise).
``J^Q_x = kappa_xy (-d_y T)``; hbar = 1, k_B = 1.  With a gap at ``mu``,
``kappa_xy / T -> (pi^2/3) sigma^N_xy(mu) = C pi / 6`` for Chern number ``C``
(``sigma^N = C / (2 pi)``): the quantum of thermal conductance ``pi k_B^2 T / (6 hbar)``
per unit of ``C`` (Qin, Niu and Shi, PRL 107, 236601 (2011); for chiral d + id,
``C = 2``: Senthil, Marston and Fisher, PRB 60, 4245 (1999)).  The Fermi window is
sampled like :func:`boltzspin.responses.response.fermi_window`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..geometry.bands import berry_curvature
from ..errors import ModelError
from ..models.continuum import check_model
from ..progress import Stages, bar
from .response import ENERGY_STEP, check_temperature, fermi_window, sea_integral

__all__ = ["thermal_hall"]


def particle_hall(model, energy, n_points=128, k_max=None):
    """``sigma^N_xy(energy) = -sum_n int [dk] Theta(energy - e_n) Omega_n``; returns (value, error)."""
    def integrand(es):
        return berry_curvature(es)[..., 0, 1]

    value, error = sea_integral(model, energy, integrand, n_grid=n_points, n_angles=n_points, k_max=k_max)
    return -float(value), float(np.max(error))


def thermal_hall(model, mu, temperature, n_points=128, *, k_max=None, energy_step=ENERGY_STEP, progress=False):
    """Intrinsic ``kappa_xy`` of a 2D model at chemical potential ``mu`` (BdG: ``mu = 0``).

    Parameters
    ----------
    model : Model
        A 2D model; a :class:`~boltzspin.models.superconductivity.BdG` model
        contributes with its ``nambu_weight``.
    mu : float
        Chemical potential (energy); 0 for Bogoliubov quasiparticles.
    temperature : float
        k_B T > 0 (k_B = 1).
    n_points : int
        Rays (continuum) or k-grid points per axis (lattice) of the Fermi-sea integrals.
    k_max : float, optional
        Radial extent of the rays; default probed from the model.
    energy_step : float
        Step of the Fermi-window rule.
    progress : bool
        Draw a tqdm progress bar (one step per Fermi-window energy) on stderr; the
        stages are logged to the ``"boltzspin"`` logger either way.

    Returns
    -------
    xarray.Dataset
        ``kappa_xy`` (units k_B^2 T / hbar), ``kappa_xy_over_T`` and the quantum
        ``pi/6`` for comparison; ``attrs["kappa_error_estimate"]`` propagates the
        Fermi-sea error estimates through the window weights.

    Raises
    ------
    ModelError
        For a model that is not 2D or a temperature that is not positive.

    References
    ----------
    T. Qin, Q. Niu and J. Shi, PRL 107, 236601 (2011); T. Senthil, J. B. Marston
    and M. P. A. Fisher, PRB 60, 4245 (1999).
    """
    check_temperature(temperature, positive=True)
    check_model(model)
    if model.dim != 2:
        raise ModelError("thermal_hall is implemented for 2D models")
    weight = float(getattr(model, "nambu_weight", 1.0))
    energies, weights, x = fermi_window(float(mu), float(temperature), energy_step)
    values = []
    with Stages(f"thermal_hall mu={float(mu):g} T={float(temperature):g}",
                bar(len(energies), "thermal_hall", "energy", progress)) as stages:
        for e in energies:
            values.append(particle_hall(model, float(e), n_points, k_max))
            stages.done(f"energy {float(e):.6g}")
    sigma = np.array([v for v, _ in values])
    kappa = weight * float(temperature) * float(np.sum(weights * x**2 * sigma))
    ds = xr.Dataset({
        "kappa_xy": ((), kappa, {"long_name": "thermal Hall conductivity, J^Q_x = kappa_xy (-dT/dy)",
                                 "units": "k_B^2 T / hbar (hbar = k_B = 1)"}),
        "kappa_xy_over_T": ((), kappa / float(temperature), {"units": "k_B^2/hbar (hbar = k_B = 1)"}),
        "thermal_quantum": ((), np.pi / 6, {"long_name": "pi k_B^2 / (6 hbar): kappa/T per unit Chern number"}),
    })
    ds.attrs.update(model=repr(model), mu=float(mu), temperature=float(temperature), nambu_weight=weight,
                    kappa_error_estimate=weight * float(temperature) * float(
                        np.sum(weights * x**2 * np.array([e for _, e in values]))),
                    n_energies=len(energies))
    return ds
