r"""Error estimates of the Fermi-surface contributions: discretization and round-off.

Every contribution of :func:`boltzspin.transport` carries an error estimate
(documentation: Theory, "Numerics"), the Dataset variable ``sigma_error`` (and
``alpha_error``), the sum of

* a **discretization** estimate from two resolutions: on rays (spectral in the
  number of Fermi points ``N``) :math:`|X(N) - X(N/2)|`, which bounds the error of
  :math:`X(N)` generously; on k-grids (second order in the spacing, with an error
  constant that scatters from one grid to the next) three times the largest
  Richardson estimate :math:`|X(G) - X(G_c)|/((G/G_c)^2 - 1)` over the coarser
  grids :math:`G_c = G/2, 2G/3, 3G/4` that resolve the surface;
* a **round-off** estimate of each Fermi-surface sum
  :math:`X = \sum_p w_p\,a_p\,b_p`:

  .. math:: R_X = \big(\epsilon\,(2 + 4n/\sqrt N) + r\big)\sum_p w_p\,\bar a_p\,\bar b_p,

  (independent rounding errors of the factors add like a random walk over the
  ``N`` Fermi points), with :math:`\epsilon` the machine epsilon, ``n`` the number of bands, ``r`` the
  relative residual of the Boltzmann solve and :math:`\bar a, \bar b` the natural
  scales of the factors: a factor that vanishes in exact arithmetic (``s_p = 0`` on
  every Rashba state) is still computed with an error of order
  :math:`\epsilon\,\lVert s\rVert`, and a huge distribution function
  (:math:`\phi\propto 1/n_\mathrm{imp}`) multiplies it.

:func:`check_roundoff` refuses a result whose round-off estimate exceeds both its
value and the natural scale :math:`|q|\,\lVert s\rVert/(8\pi)`.
"""

from __future__ import annotations

import numpy as np

from ..errors import BoltzspinError
from ..geometry.brillouin import GRID_SAFETY, grid_error  # noqa: F401 (GRID_SAFETY re-exported)

__all__ = ["roundoff", "discretization", "window_error", "check_roundoff"]

EPS = np.finfo(float).eps


def roundoff(scat, sol, fs, s_matrix, dim, skew_sol=None, skew_bound=None):
    """Round-off estimates ``{contribution: (D, D)}`` of the Fermi-surface sums, and the
    sums of the terms' natural magnitudes they are proportional to.

    ``scat`` is the :class:`~boltzspin.collisions.scattering.CollisionOperator`,
    ``sol`` the :class:`~boltzspin.collisions.boltzmann.BoltzmannSolution` with the
    field (first ``dim`` columns) and anomalous (last ``dim``) solutions.

    Parameters
    ----------
    scat : CollisionOperator
        Collision operator of the Fermi surface.
    sol : BoltzmannSolution
        Field and anomalous solutions of the Boltzmann equation.
    fs : FermiSurface
        The discretized Fermi surface.
    s_matrix : (n, n) array
        The observable ``s``.
    dim : int
        Spatial dimension D.
    skew_sol : BoltzmannSolution, optional
        The skew correction ``phi_sk`` of the distribution (``skew_scattering`` entry).
    skew_bound : (m,) array, optional
        :meth:`~boltzspin.collisions.skew.SkewOperator.source_bound` of the skew source.

    Returns
    -------
    rounding, magnitude : dict
        ``{contribution: (D, D) array}``: round-off estimates and natural magnitudes.
    """
    n_bands = fs.eigensystem.energies.shape[-1]
    # factor errors of size eps |scale| at each point add like a random walk:
    # eps |scale| sqrt(sum_p t_p^2) ~ eps sum_p |t_p| / sqrt(N); 4 n_bands of them, twice the
    # machine epsilon for the sums, and the Boltzmann solve's relative residual
    residual = float(np.max(sol.residual)) if skew_sol is None else float(max(np.max(sol.residual),
                                                                              np.max(skew_sol.residual)))
    factor = EPS * (2.0 + 4.0 * n_bands / np.sqrt(fs.n_points)) + residual
    s_norm = float(np.abs(np.linalg.eigvalsh(s_matrix)).max())
    w = fs.weight
    phi, phi_a = np.abs(sol.phi[:, :dim]), np.abs(sol.phi[:, dim:])
    v = np.abs(fs.velocity)
    # d^s = Re sum_m A_nm s_mn: its round-off is relative to |A| |s|, not to |d^s| (zero
    # for s proportional to 1)
    es = fs.eigensystem
    rows = fs.band[:, None, None, None]
    v_row = np.take_along_axis(np.abs(es.velocity), rows, axis=-2)[..., 0, :]  # (N, D, m): |v^i_{bm}|
    g_row = np.take_along_axis(np.abs(es.inverse_gaps()), fs.band[:, None, None], axis=-2)[:, 0, :]
    d = np.abs(scat.s_dipole) + s_norm * np.einsum("pim,pm->pi", v_row, g_row)
    s_scale = np.abs(scat.s) + s_norm  # s_p itself carries an error eps |s|
    # the side-jump velocity sum_p' W_pp' dr^s_pp' cancels (to zero without magnetization): its
    # round-off is relative to the terms' scale, out-rate x |A| |s|, like the dipole change's
    sj_scale = np.abs(scat.side_jump_velocity_s) + s_norm * np.abs(scat.side_jump_velocity) \
        + 2 * np.abs(scat.out_rate)[:, None] * d
    dc_scale = np.abs(scat.dipole_change_velocity()) + 2 * np.abs(scat.out_rate)[:, None] * d
    # phi_a solves K phi_a = q E . sum_p' W dr: that source cancels like the side-jump velocity,
    # so phi_a carries round-off eps |q| x (its terms' scale ~ |A||s| once divided by the out-rate)
    ws = np.abs(sol.weighted_source[:, :dim]).sum()
    q_abs = ws / max(float(np.sum(w[:, None] * v)), 1e-300)
    phi_a = phi_a + 2 * q_abs * d
    out = {
        "intrinsic_dipole": np.einsum("pi,pj->ij", d, np.abs(sol.weighted_source[:, :dim])),
        "boltzmann": np.einsum("p,pj,pi->ij", w * s_scale, phi, v),
        "side_jump": np.einsum("p,pj,pi->ij", w, phi, sj_scale),
        "dipole_change": np.einsum("p,pj,pi->ij", w, phi, dc_scale),
        "anomalous_distribution": np.einsum("p,pj,pi->ij", w * s_scale, phi_a, v),
    }
    rounding = {k: factor * x for k, x in out.items()}
    if skew_sol is not None:
        # phi_sk solves K phi_sk = S[phi]: the source carries round-off eps x its bound
        # (SkewOperator.source_bound), which can exceed |S| by cancellation; relative to |phi_sk|
        # that is eps * bound / max|S| per column (documentation: Theory, "Numerics")
        phi_sk = np.abs(skew_sol.phi)
        source = np.abs(skew_sol.weighted_source) / w[:, None]
        cancellation = skew_bound / np.maximum(source.max(axis=0), 1e-300)
        skew_factor = factor + 8 * EPS * cancellation[None, :]
        out["skew_scattering"] = np.einsum("p,pj,pi->ij", w * s_scale, phi_sk, v)
        rounding["skew_scattering"] = skew_factor * out["skew_scattering"]
        extra = np.einsum("p,pj,pi->ij", w, phi_sk, dc_scale) + np.einsum("pi,pj->ij", w[:, None] * d, source)
        out["dipole_change"] = out["dipole_change"] + extra
        rounding["dipole_change"] = rounding["dipole_change"] + skew_factor * extra
    return rounding, out


def discretization(fine, coarse, grid):
    r"""Discretization error of ``fine`` from values at lower resolutions.

    Rays (spectral): :math:`|X(N) - X(N/2)|` (``coarse`` holds the one value at
    ``N/2``), which bounds the error of :math:`X(N)` once the coarse rule converges.
    k-grids (second order, but with an error constant that scatters with the grid):
    :func:`boltzspin.geometry.brillouin.grid_error`,
    :math:`3\max_c |X(G) - X(G_c)|/((G/G_c)^2 - 1)` over the coarser grids
    ``G/2, 2G/3, 3G/4``.

    Parameters
    ----------
    fine : array
        Value at full resolution.
    coarse : sequence of (array, float)
        Values at lower resolutions and the ratios of full to lower resolution.
    grid : bool
        True for k-grids (second order), False for rays (spectral).

    Returns
    -------
    array
        Error estimate of ``fine``, elementwise.
    """
    if grid:
        return grid_error(fine, coarse)
    fine = np.asarray(fine, dtype=float)
    return np.max([np.abs(fine - np.asarray(v, dtype=float)) for v, _ in coarse], axis=0)


def window_error(values, weights):
    """Error of the Fermi-window rule from the rule of twice the step (every other node).

    ``values`` has the energy as its first axis, ``weights`` those of
    :func:`boltzspin.responses.response.fermi_window` (symmetric about the middle
    node, which is kept).  The coarse rule's error bounds that of the fine rule
    (double-exponential rules converge faster than geometrically in the step).

    Parameters
    ----------
    values : array
        Per-energy values, energy first.
    weights : (E,) array
        Weights of the Fermi-window rule.

    Returns
    -------
    array
        Error estimate of the weighted sum.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    mid = len(weights) // 2
    even = (np.arange(len(weights)) - mid) % 2 == 0
    fine = np.tensordot(weights, values, axes=(0, 0))
    coarse = np.tensordot(2 * weights * even, values, axes=(0, 0))
    return np.abs(fine - coarse)


def check_roundoff(values, errors, contributions, scale, mu):
    """Refuse where the round-off estimate exceeds both the value and the natural scale.

    ``values`` and ``errors`` are ``(contribution, D, D)``; ``scale`` is
    ``|q| |s| / (8 pi)``.

    Parameters
    ----------
    values, errors : (contribution, D, D) array
        Values and their round-off estimates.
    contributions : sequence of str
        Names of the contributions.
    scale : float
        Natural scale ``|q| |s| / (8 pi)``.
    mu : float
        Chemical potential (for the message).

    Raises
    ------
    BoltzspinError
        Where round-off swamps a contribution.
    """
    swamped = errors > np.maximum(np.abs(values), scale)
    if not np.any(swamped):
        return
    c, i, j = np.argwhere(swamped)[0]
    raise BoltzspinError(
        f"round-off swamps the {contributions[c]} contribution at mu={mu}: its round-off "
        f"estimate {errors[c, i, j]:.3g} exceeds both its value {values[c, i, j]:.3g} and the "
        f"natural scale |q s|/(8 pi) = {scale:.3g} (element {i}{j}). The Fermi-surface sums "
        "cancel to machine precision: a factor that vanishes in theory (e.g. s_p) is "
        "multiplied by a huge distribution function. Remedies that work: in first Born "
        "approximation the Boltzmann part scales exactly as 1/n_imp and the other parts do "
        "not depend on n_imp, so compute at a larger impurity density and rescale; or move "
        "to parameters where the spin-orbit splitting is not a tiny fraction of mu."
    )
