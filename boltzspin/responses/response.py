r"""Every contribution to the conserved s-current, as an xarray Dataset.

:func:`transport` evaluates the conserved current (documentation: Theory) at T = 0 for a uniform field
``E`` and returns ``sigma[contribution, i, j]`` with ``J^s_i = sigma_ij E_j``:

==========================  =====================================================
``intrinsic_berry``         :math:`-q\sum_n\int[dk] f_0\,\Omega^{ij}_n s_n` (Fermi sea)
``intrinsic_dipole``        :math:`q\sum_p w_p\, d^{s,i}_p v^j_p`
``boltzmann``               :math:`\sum_p w_p\,\phi^{(j)}_p v^i_p s_p`
``side_jump``               :math:`\sum_p w_p\,\phi^{(j)}_p Y^{s,i}_p`
``dipole_change``           :math:`\sum_p w_p\,\phi^{(j)}_p\sum_{p'}w_{p'}K_{pp'}(d^{s,i}_{p'}-d^{s,i}_p)`
``anomalous_distribution``  :math:`\sum_p w_p\,\phi^{a(j)}_p v^i_p s_p`
``total``                   the sum of the above
==========================  =====================================================

where :math:`\phi^{(j)}` solves the Boltzmann equation with source
:math:`q v^j_p` and :math:`\phi^{a(j)}` with source :math:`-q\,v^{sj,j}_p`.
``sigma_conventional_intrinsic`` is :math:`-q\sum_n\int[dk] f_0\Omega^{s,ij}_n`
of the conventional current ``{s, v}/2``, for comparison.

Units and signs: hbar = 1; ``q`` is the carrier charge (electrons ``q = -1``);
``s`` in its own units (spin in units of hbar).  In 2D ``sigma`` has units of
``q [s] / hbar`` (e.g. the Rashba dipole value ``-q/(8 pi)``).

Reference: C. Xiao and Q. Niu, arXiv:2009.12058, Eqs. (10)-(15);
N. A. Sinitsyn et al., PRB 75, 045315 (2007) for the anomalous distribution.
"""

from __future__ import annotations

import numbers

import numpy as np
import xarray as xr

from ..geometry.bands import berry_curvature, conventional_berry_curvature, expectation
from ..geometry.brillouin import cell, grid_fermi_surfaces, grid_sea_integral, uses_grid
from ..collisions.boltzmann import RESIDUAL_TOL, solve_boltzmann
from ..collisions.disorder import Disorder
from .. import resources
from ..progress import LOGGER, Stages, bar
from ..errors import BoltzspinError, FermiSurfaceError, ModelError
from ..geometry.fermi import RADIAL_SAMPLES, fermi_sea_integral, fermi_surface, radial_extent, scan_rays, sea_angles
from ..models.continuum import MassiveDirac, Rashba, check_model, resolve_observable
from ..models.tight_binding import TightBinding
from ..collisions.scattering import METHODS, SPARSE_TOL, check_disorder, scattering
from ..collisions.skew import skew_scattering
from ..collisions.intrinsic_skew import intrinsic_skew_scattering
from .error_estimates import EPS, check_roundoff, discretization, roundoff, window_error

__all__ = ["transport", "transport_zero_temperature", "fermi_window", "sea_integral", "check_temperature",
           "check_scattering", "CONTRIBUTIONS", "SKEW_CONTRIBUTIONS", "UNITS"]

#: Names of the contributions to the conserved current, in the order of the
#: ``contribution`` coordinate of ``sigma`` and ``alpha``; ``"total"`` is their sum.
CONTRIBUTIONS = (
    "intrinsic_berry",
    "intrinsic_dipole",
    "boltzmann",
    "side_jump",
    "dipole_change",
    "anomalous_distribution",
    "total",
)

#: Contributions beyond first Born, added before ``"total"`` when ``scattering`` asks for them
#: (documentation: Theory, "Skew scattering").
SKEW_CONTRIBUTIONS = ("skew_scattering", "intrinsic_skew", "pair_skew")
#: The mechanisms this version computes.
IMPLEMENTED_SKEW = ("skew_scattering", "intrinsic_skew")


def check_scattering(scattering):
    """The beyond-Born mechanisms named by ``scattering``, as a tuple (empty for ``"born"``).

    ``"born"``: first Born only.  A sequence of names from :data:`SKEW_CONTRIBUTIONS`
    selects mechanisms.  ``"skew"`` asks for all three; pair skew scattering is
    not computed by this version, so it is refused rather than returning a total
    that silently lacks terms of the order of the side jump.

    Parameters
    ----------
    scattering : "born", "skew" or sequence of str
        The requested mechanisms.

    Returns
    -------
    tuple of str
        The mechanisms, in the order of :data:`SKEW_CONTRIBUTIONS`.
    """
    missing = [m for m in SKEW_CONTRIBUTIONS if m not in IMPLEMENTED_SKEW]
    remedy = (f"use scattering={IMPLEMENTED_SKEW!r} for the mechanisms this version computes (the total then "
              f"lacks {' and '.join(missing)}, of the order of the side jump), or scattering='born'")
    if isinstance(scattering, str):
        if scattering == "born":
            return ()
        if scattering == "skew":
            raise ModelError(f"scattering='skew' includes {' and '.join(missing)}, which this version of "
                             f"boltzspin does not compute; {remedy}")
        raise ModelError(f"scattering={scattering!r} is not 'born', 'skew' or a sequence of mechanisms from "
                         f"{SKEW_CONTRIBUTIONS}; {remedy}")
    try:
        names = tuple(scattering)
    except TypeError:
        raise ModelError(f"scattering={scattering!r} is not 'born', 'skew' or a sequence of mechanisms; "
                         f"{remedy}") from None
    for name in names:
        if name not in SKEW_CONTRIBUTIONS:
            raise ModelError(f"scattering mechanism {name!r} is not one of {SKEW_CONTRIBUTIONS}; {remedy}")
        if name not in IMPLEMENTED_SKEW:
            raise ModelError(f"scattering mechanism {name!r} is not computed by this version of boltzspin; "
                             f"{remedy}")
    if len(set(names)) != len(names):
        raise ModelError(f"scattering={scattering!r} names a mechanism twice")
    return tuple(m for m in SKEW_CONTRIBUTIONS if m in names)


def contribution_names(mechanisms=()):
    """The ``contribution`` coordinate: :data:`CONTRIBUTIONS` with ``mechanisms`` before ``"total"``."""
    return CONTRIBUTIONS[:-1] + tuple(mechanisms) + ("total",)


#: Step of the Fermi-window quadrature (:func:`fermi_window`).
ENERGY_STEP = 0.25

ALPHA_ATTRS = {
    "long_name": "thermal coefficient, J = sigma (E - grad mu / q) - alpha grad T",
    "units": "[s]/(hbar temperature) (k_B = 1, hbar = 1)",
}

ALPHA_ERROR_ATTRS = {
    "long_name": "error estimate of alpha (discretization + round-off + Fermi-window rule)",
    "units": ALPHA_ATTRS["units"],
}

UNITS = (
    "hbar = 1; k and energies in the model's units; J^s_i = sigma_ij E_j; "
    "sigma in units of q*[s]/hbar (2D); q is the carrier charge (electrons q = -1); "
    "spin operators in units of hbar"
)


def _scalar(value):
    """A 0-d NumPy array becomes its element; everything else is returned unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def _real(name, value, requirement="a finite real number", remedy=""):
    """``value`` as a Python float (Python or NumPy real, or a 0-d array); else :class:`ModelError`."""
    v = _scalar(value)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) or not np.isfinite(v):
        raise ModelError(f"{name}={value!r} must be {requirement}{remedy}")
    return float(v)


def _integer(name, value, minimum, meaning):
    """``value`` as a Python int >= ``minimum`` (Python or NumPy integer, or a 0-d array)."""
    v = _scalar(value)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < minimum:
        raise ModelError(f"{name}={value!r} must be an integer >= {minimum} ({meaning})")
    return int(v)


def _check_inputs(mu, charge, n_points, disorder):
    """Validated ``(mu, charge, n_points)`` as Python numbers; NumPy scalars and 0-d arrays accepted."""
    mu = _real("mu", mu, "a finite real number (the chemical potential, an energy)")
    charge = _real("charge", charge, "a finite nonzero real number (electrons: -1)")
    if charge == 0:
        raise ModelError("charge=0 must be a finite nonzero real number (electrons: -1)")
    n_points = _integer("n_points", n_points, 8, "angles per sheet, or k-grid points per axis")
    if not isinstance(disorder, Disorder):
        raise BoltzspinError(
            f"disorder must be a boltzspin.collisions.disorder species (e.g. DeltaCorrelated), got {disorder!r}"
        )
    return mu, charge, n_points


#: Smallest accepted ``radial_samples`` and Boltzmann ``solver_tol``; largest ``energy_step``.
MIN_RADIAL_SAMPLES = 16
MIN_SOLVER_TOL = 1e-15
MAX_ENERGY_STEP = 1.0


def _check_options(model, origin, k_max, method, sparse_tol, solver_tol, gauge_seed, sea_order, radial_samples):
    """Validate the numerical options of :func:`transport`; returns them normalized (a dict)."""
    o = np.asarray(origin) if not isinstance(origin, str) else np.asarray([])
    if o.dtype.kind not in "iuf" or o.ndim != 1 or len(o) not in (2, model.dim) or not np.all(np.isfinite(o)):
        raise ModelError(
            f"origin={origin!r} must be a pair of finite momenta (kx, ky): the centre of the rays of a "
            "2D continuum model, e.g. origin=(0.0, 0.0) (the default) or the centre of an off-centre pocket"
        )
    if k_max is not None:
        k_max = _real("k_max", k_max, "a positive finite momentum",
                      " (the radial extent of the rays, or the half-width of the k box of a 3D continuum "
                      "model); omit it (k_max=None) to probe it from the model")
        if k_max <= 0:
            raise ModelError(f"k_max={k_max!r} must be a positive finite momentum; omit it (k_max=None) to "
                             "probe it from the model")
    if method not in METHODS:
        raise ModelError(f"method={method!r} is not one of {METHODS}; 'auto' picks per disorder channel")
    sparse_tol = _real("sparse_tol", sparse_tol, "a number in (0, 1)", f" (default {SPARSE_TOL:g})")
    if not 0 < sparse_tol < 1:
        raise ModelError(f"sparse_tol={sparse_tol!r} must be a number in (0, 1) (default {SPARSE_TOL:g})")
    raw_tol = solver_tol
    solver_tol = _real("solver_tol", solver_tol, f"a relative residual in [{MIN_SOLVER_TOL:g}, 1)",
                       f" (default {RESIDUAL_TOL:g})")
    if not MIN_SOLVER_TOL <= solver_tol < 1:
        raise ModelError(
            f"solver_tol={raw_tol!r} must be a relative residual in [{MIN_SOLVER_TOL:g}, 1) (default "
            f"{RESIDUAL_TOL:g}): a residual computed in double precision carries round-off of about 1e-16, "
            "so a smaller target can never be verified"
        )
    if gauge_seed is not None:
        gauge_seed = _integer("gauge_seed", gauge_seed, 0, "a seed of random eigenvector phases, or None")
    sea_order = _integer("sea_order", sea_order, 2, "Gauss-Legendre order of the radial panels; default 16")
    radial_samples = _integer("radial_samples", radial_samples, MIN_RADIAL_SAMPLES,
                              f"radial samples per ray that bracket the Fermi crossings; default {RADIAL_SAMPLES}")
    return dict(origin=tuple(float(x) for x in o), k_max=k_max, method=method, sparse_tol=sparse_tol,
                solver_tol=solver_tol, gauge_seed=gauge_seed, sea_order=sea_order, radial_samples=radial_samples)


def _check_energy_step(energy_step):
    step = _real("energy_step", energy_step, f"a positive number <= {MAX_ENERGY_STEP:g}",
                 f" (step of the Fermi-window rule; default {ENERGY_STEP:g})")
    if not 0 < step <= MAX_ENERGY_STEP:
        raise ModelError(
            f"energy_step={energy_step!r} must be a positive number <= {MAX_ENERGY_STEP:g}: the step of the "
            f"double-exponential Fermi-window rule (default {ENERGY_STEP:g}: 29 energies, exact to ~1e-13 "
            "for an analytic sigma(epsilon))"
        )
    return step


def _n_energies(step):
    """Number of nodes of :func:`fermi_window` at ``step``, without building them."""
    return 2 * int(np.ceil(3.3 / step)) + 1


def _check_resources_window(model, n_points, temperature, energy_step, options):
    """Refuse a T > 0 calculation whose Fermi window times its T = 0 cost exceeds the budget."""
    per_energy = resources.estimate_geometry(model, n_points, options["radial_samples"], options["sea_order"])
    est = resources.estimate_fermi_window(_n_energies(energy_step), per_energy)

    def step_remedy(fits):
        for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, MAX_ENERGY_STEP):
            if step > energy_step and fits(resources.estimate_fermi_window(_n_energies(step), per_energy)):
                return f"energy_step >= {step:g} ({_n_energies(step)} energies; the default {ENERGY_STEP:g} is " \
                       "exact to ~1e-13 for an analytic sigma(epsilon))"
        return None

    est.remedies = [step_remedy]
    return resources.check(est)


def _check_resources_collisions(fs, disorder, model, method, sparse_tol, n_points, mechanisms=()):
    """Refuse a collision operator or Boltzmann solve that would exceed the budget (exact N, operator kinds).

    With ``skew_scattering`` the dense (q-dependent) third-moment terms count too, with
    ``intrinsic_skew`` its O(N^2 n) band-resolved pair tensors where the dense form is needed.
    """
    from ..collisions.scattering import _choose, _kept_fraction, _sparse_cutoff
    from ..collisions.skew import dense_terms, estimate as skew_estimate
    from ..collisions.intrinsic_skew import estimate as isk_estimate, lowrank_applies

    channels = disorder.channels(model)
    kinds = [_choose(method, ch, fs.k, sparse_tol) for ch in channels]
    kept = max([_kept_fraction(fs.k, _sparse_cutoff(ch.parameter, sparse_tol))
                for ch, kind in zip(channels, kinds) if kind == "sparse"] or [1.0])
    n, dim, n_fermi = model.n_bands, model.dim, fs.n_points
    power = dim - 1 if uses_grid(model) else 1  # Fermi points per sheet grow as n_points^(D-1) on grids

    n_dense_skew = dense_terms(disorder, model, method) if "skew_scattering" in mechanisms else 0
    dense_isk = "intrinsic_skew" in mechanisms and (method == "dense" or not lowrank_applies(disorder, model))

    def build(v, kinds=kinds):
        n_v = n_fermi * (v / n_points) ** power
        est = resources.estimate_collisions(n_v, n, dim, kinds, kept)
        if dense_isk:
            est = est + isk_estimate(n_v, n, len(channels))
        return est + skew_estimate(n_v, n, n_dense_skew) if n_dense_skew else est

    est = build(n_points)
    est.remedies.append(resources.integer_remedy("n_points", n_points, build))
    if "dense" in kinds:
        others = ["onthefly" if k == "dense" else k for k in kinds]
        est.remedies.append(lambda fits: "method='onthefly' (O(N) memory)" if fits(build(n_points, others)) else None)
    return resources.check(est)


#: Fermi points whose group velocity is below this fraction of the median are van Hove points.
VAN_HOVE_RTOL = 1e-6


def _check_fermi_velocity(fs, mu):
    """Refuse a Fermi surface through a point of vanishing group velocity (a van Hove saddle).

    There the measure ``dS/|v|`` diverges, the Boltzmann conductivity has no finite value and
    the solver could only fail with a misleading residual, so this is checked first.
    """
    if not fs.n_points:
        return
    speed = np.linalg.norm(fs.velocity, axis=-1)
    typical = float(np.median(speed))
    p = int(np.argmin(speed))
    if speed[p] < VAN_HOVE_RTOL * typical:
        raise FermiSurfaceError(
            f"mu={mu!r} is at a van Hove singularity: the group velocity of band {int(fs.band[p])} "
            f"vanishes on the Fermi surface at k={np.array2string(fs.k[p], precision=6)} (|v| = "
            f"{speed[p]:.3g}, typical {typical:.3g}), a saddle point of the band at energy mu. The density "
            "of states diverges there and the Boltzmann conductivity has no finite value. Move mu off "
            "the saddle energy (by 1e-5 of the band width or more)."
        )


#: The most recent Fermi surface and Fermi-sea integrals of a built-in model, reused by
#: the next call with the same model object (held here, so its id cannot be recycled),
#: repr, mu, observable and resolution: a disorder sweep at fixed mu pays for them once.
#: User models (KPModel) are never cached: their callables may read mutable state.

#: Largest accepted Fermi-sea error estimate, relative to max(|value|, |s|/(8 pi)).  The
#: estimate is the error of the half-resolution rule (N/2 rays, order p), so for the
#: spectrally convergent full rule it is very conservative; beyond 1 % the quadrature
#: is unresolved and an error is raised.
SEA_RTOL = 1e-2
_GEOMETRY_CACHE = {}


def coarse_surface_error(value, coarse, evaluate, fallback, grid):
    """Discretization estimate of a Fermi-surface quantity from the coarse surfaces of ``_geometry``.

    The one rule for every Fermi-surface sum (the parts of :func:`transport` and of
    :func:`boltzspin.spin_density`, the density of states): ``value`` is re-evaluated on each
    coarser surface and :func:`boltzspin.responses.error_estimates.discretization` turns the
    differences into an estimate (rays: ``|X(N) - X(N/2)|``; k-grids:
    ``3 max_c |X(G) - X(G_c)| / ((G/G_c)^2 - 1)`` over ``G/2, 2G/3, 3G/4``).  Without a
    coarser surface (``n_points < 16`` on rays, ``G < 6``) the estimate is ``fallback``,
    the natural magnitude of the whole sum.

    Parameters
    ----------
    value : array
        The quantity on the full-resolution surface.
    coarse : list of (FermiSurface, float)
        The coarse surfaces and their resolution ratios, as ``_geometry`` returns them.
    evaluate : callable
        ``evaluate(fs_c)``: the same quantity (same shape) on a coarse surface.
    fallback : array
        The estimate when ``coarse`` is empty.
    grid : bool
        True for k-grids (second order), False for rays (spectral).

    Returns
    -------
    array
        Elementwise error estimate of ``value``.
    """
    if not coarse:
        return np.asarray(fallback, dtype=float)
    return discretization(value, [(evaluate(c), r) for c, r in coarse], grid)


def _geometry(model, mu, s_matrix, n_points, origin, k_max, gauge_seed, sea_order, radial_samples,
              sea_integrand=None, sea_label=None, sea_scale=None):
    """Fermi surface, Fermi-sea integrals and their diagnostics (cached for the last arguments).

    ``sea_integrand(es)`` (per band, ``(..., n, *extra)``; labelled ``sea_label`` in the
    cache key, with natural scale ``sea_scale`` for the convergence check) replaces the
    default pair of Berry integrands of :func:`transport` (used by
    :func:`boltzspin.spin_density`).

    Returns ``(fs, coarse, sea_value, sea_error, diagnostics)``: the Fermi surface at
    ``n_points``, the list ``coarse`` of ``(surface, ratio)`` at lower resolutions (rays:
    ``N/2``; k-grids: ``G/2, 2G/3, 3G/4``; empty when there is no lower resolution) for the
    error estimate of the Fermi-surface parts (:func:`coarse_surface_error`),
    the Fermi-sea integrals ``(2, D, D)`` and their elementwise error estimates.  2D
    continuum models use rays (:mod:`boltzspin.geometry.fermi`), lattice and 3D models
    k-grids (:mod:`boltzspin.geometry.brillouin`).
    """
    key = (model, repr(model), float(mu), s_matrix.tobytes(), int(n_points),
           tuple(np.asarray(origin, dtype=float)), k_max, gauge_seed, sea_order, radial_samples, sea_label)
    cacheable = isinstance(model, (Rashba, MassiveDirac, TightBinding))  # user callables may read mutable state
    if cacheable and key in _GEOMETRY_CACHE:
        return _GEOMETRY_CACHE[key]

    def sea(es):
        if gauge_seed is not None:
            es = es.with_random_gauge(gauge_seed)
        if sea_integrand is not None:
            return sea_integrand(es)
        return np.stack(
            [berry_curvature(es) * expectation(es, s_matrix)[..., None, None],
             conventional_berry_curvature(es, s_matrix)],
            axis=-3,
        )

    if uses_grid(model):
        box = cell(model, mu, k_max)  # once, for both (a continuum 3D box is probed)
        fs, fs_error, coarse = grid_fermi_surfaces(model, mu, n_points, box=box)  # coarse: [(fs, ratio)]
        value, error = grid_sea_integral(model, mu, sea, n_points, box=box, elementwise=True)
        info = dict(
            fermi_surface_method=f"k-grid {int(n_points)}^{model.dim} of the "
            + ("Brillouin zone" if getattr(model, "periodic", False) else "box |k_i| <= k_max")
            + ", marching " + ("squares" if model.dim == 2 else "cubes") + " + Newton projection (second order)",
            fermi_surface_error_estimate=float(fs_error),
            fermi_sea_method="midpoint k-grid with adaptive refinement near mu and small gaps",
            fermi_sea_tail="none",
        )
    else:
        if k_max is None:
            k_max = radial_extent(model, mu, origin)  # once, for both scans
        fs = fermi_surface(model, mu, n_points, origin=origin, k_max=k_max, radial_samples=radial_samples)
        fs_half, ratio = _half_surface(lambda n: fermi_surface(model, mu, n, origin=origin, k_max=k_max,
                                                               radial_samples=radial_samples), n_points, 8)
        coarse = [] if fs_half is None else [(fs_half, ratio)]
        sea_scan = scan_rays(model, mu, sea_angles(n_points), origin, k_max, radial_samples, plane=fs.scan.plane)
        value, error = fermi_sea_integral(model, mu, sea, scan=sea_scan, order=sea_order, elementwise=True)
        info = dict(
            fermi_surface_method="rays, uniform angles (spectral for smooth star-shaped sheets)",
            fermi_sea_method="rays, graded Gauss-Legendre panels",
            fermi_sea_tail="bands filled to infinity integrated with k = R/t"
            if np.any(sea_scan.occupied_far) else "none",
        )
    info.update(fs.sheet_attrs())  # the sheets found and how they were certified
    if gauge_seed is not None:
        fs = fs.with_random_gauge(gauge_seed)
        coarse = [(c.with_random_gauge(gauge_seed), r) for c, r in coarse]
    info["fermi_surface_parts_coarse_ratios"] = [float(r) for _, r in coarse] or 0.0
    scale = float(np.abs(np.linalg.eigvalsh(s_matrix)).max()) / (8 * np.pi) if sea_scale is None \
        else float(sea_scale(fs) if callable(sea_scale) else sea_scale)  # natural unit |s|/(8 pi)
    error_elements = np.asarray(error, dtype=float)
    error = float(error_elements.max(initial=0.0))
    if error > SEA_RTOL * max(np.abs(value).max(), scale):
        if uses_grid(model):
            remedy = f"Raise n_points (a finer k-grid), e.g. to n_points={2 * int(n_points)}."
        else:
            rays = sea_angles(n_points)
            more = next((m for m in (int(n_points) << j for j in range(1, 12)) if sea_angles(m) >= 2 * rays), None)
            remedy = (f"The Fermi sea uses {rays} rays at n_points={int(n_points)}: raise n_points to {more} "
                      f"or more ({sea_angles(more)} rays); if the error persists, raise sea_order (radial "
                      "panels) or pass k_max." if more is not None else
                      f"The Fermi sea already uses the most rays ({rays}): raise sea_order (radial panels), "
                      "pass k_max, or move origin= to the centre of the sharp structure.")
        raise FermiSurfaceError(
            f"the Fermi-sea integrals are not converged at mu={mu}: error estimate {error:.3g} "
            f"against values up to {np.abs(value).max():.3g} (sharp angular structure or an "
            "unresolved band-edge region). " + remedy
        )
    info["fermi_sea_error_estimate"] = error
    result = (fs, coarse, value, error_elements, info)  # coarse: [(surface at n_points / ratio, ratio)]
    if cacheable:
        _GEOMETRY_CACHE.clear()
        _GEOMETRY_CACHE[key] = result
    return result


def _half_surface(surface, n_points, minimum, fallback=False):
    """A Fermi surface at lower resolution, for the error estimate: ``(fs, ratio)``.

    ``n_points // 2`` if it resolves the surface, else ``3 n_points // 4`` (a pocket
    that the coarser grid resolves by too few vertices); ``ratio`` is the ratio of
    the resolutions.  ``(None, None)`` when ``n_points`` has no coarser resolution of
    at least ``minimum``, or (``fallback``) when neither resolves the surface; without
    ``fallback`` the full resolution is then marginal, and :class:`FermiSurfaceError`
    names a resolution that works.
    """
    n_points = int(n_points)
    tried = []
    for coarse in (n_points // 2, (3 * n_points) // 4):
        if coarse < minimum or coarse >= n_points:
            continue
        try:
            return surface(coarse), n_points / coarse
        except FermiSurfaceError as exc:
            tried.append((coarse, exc))
    if not tried or fallback:
        return None, None
    coarse, exc = tried[-1]
    raise FermiSurfaceError(
        f"the error estimate of the Fermi-surface parts compares n_points={n_points} with "
        f"n_points={coarse}, which does not resolve the Fermi surface ({exc}). Raise n_points "
        f"(to {2 * n_points} or more)."
    ) from exc


def check_temperature(temperature, positive=False):
    """Raise :class:`ModelError` unless ``temperature`` is a finite number >= 0 (> 0 if ``positive``)."""
    bound = "> 0" if positive else ">= 0"
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not np.isfinite(temperature) or temperature < 0 or (positive and temperature == 0):
        raise ModelError(f"temperature={temperature!r} must be a finite number {bound} (k_B = 1)")


def sea_integral(model, mu, integrand, *, n_grid=128, n_angles=128, origin=(0.0, 0.0), k_max=None, order=16,
                 bounded=False):
    """T = 0 Fermi-sea integral of any 2D/3D model, elementwise ``(value, error)``.

    Lattice and 3D models use the k-grid (``n_grid`` per axis, :mod:`boltzspin.geometry.brillouin`),
    2D continuum models ``n_angles`` rays (:mod:`boltzspin.geometry.fermi`).  ``bounded=True``
    refuses a band filled to infinity (integrands that do not decay).  Raises
    :class:`~boltzspin.errors.ResourceError` before allocating if the resolution cannot fit.
    """
    resources.check(resources.estimate_sea(model, n_grid, n_angles, order))
    if uses_grid(model):
        return grid_sea_integral(model, mu, integrand, n_grid, k_max=k_max, elementwise=True)
    scan = scan_rays(model, mu, n_angles, origin, k_max)
    if bounded and np.any(scan.occupied_far):
        raise FermiSurfaceError(
            f"a band of {model!r} is filled to infinity at mu={mu:g}: this Fermi-sea quantity "
            "depends on the momentum cutoff. Use a model with bounded bands (e.g. a lattice model)."
        )
    return fermi_sea_integral(model, mu, integrand, scan=scan, order=order, elementwise=True)


def fermi_window(mu, temperature, step=ENERGY_STEP):
    r"""Nodes and weights for :math:`\int d\epsilon\,(-\partial f_0/\partial\epsilon)\,F(\epsilon)`.

    With :math:`\epsilon = \mu + \pi T\sinh t` the Fermi window becomes
    :math:`\tfrac{\pi}{4}\cosh t\,\mathrm{sech}^2(\tfrac{\pi}{2}\sinh t)\,dt`,
    a double-exponentially decaying weight, integrated by the trapezoidal
    rule in ``t`` with step ``step`` (k_B = 1).  Exact to ~1e-13 for analytic
    ``F`` at the default step (29 nodes), to machine precision at 0.2; a band
    edge inside the window (a kink of ``F``) lowers the order to ~step^2.
    Returns ``(energies, weights, x)`` with ``x = (energies - mu) / T``.
    """
    half = int(np.ceil(3.3 / step))
    t = np.arange(-half, half + 1) * step
    x = np.pi * np.sinh(t)
    weights = step * (np.pi / 4) * np.cosh(t) / np.cosh(0.5 * np.pi * np.sinh(t)) ** 2
    return mu + temperature * x, weights, x


def transport(model, mu, disorder, observable="sz", charge=-1.0, n_points=256, *, temperature=0.0,
              energy_step=ENERGY_STEP, origin=(0.0, 0.0), k_max=None, method="auto", sparse_tol=SPARSE_TOL,
              solver_tol=RESIDUAL_TOL, gauge_seed=None, sea_order=16, radial_samples=RADIAL_SAMPLES,
              scattering="born", progress=False):
    r"""Every contribution to the conserved s-current driven by E, grad mu and grad T.

    Solves the linearized first-Born Boltzmann equation of ``model`` with
    ``disorder`` at chemical potential ``mu`` and returns the response
    coefficients of ``J = sigma (E - grad mu / q) - alpha grad T`` (k_B = 1),
    split into the contributions of :data:`CONTRIBUTIONS`.  Works for 2D and 3D
    models, continuum (``Rashba``, ``MassiveDirac``, ``KPModel``) and lattice
    (``TightBinding`` and its subclasses, ``BdG``).

    Parameters
    ----------
    model : Model
        Any object with ``dim``, ``n_bands``, ``hamiltonian(k)``, ``velocity(k)``
        and ``operators`` (see :mod:`boltzspin.models.continuum`); energies and
        momenta in its own units.
    mu : float
        Chemical potential (energy).  In a gap or below every band the system is
        an insulator: the Fermi-surface parts are zero and only the Berry part
        remains (``attrs["state"] == "insulator"``).
    disorder : Disorder
        Impurity species, e.g. ``DeltaCorrelated(density, strength)``; species
        add with ``+``.
    observable : str or (n, n) array
        The transported quantity ``s``: ``"charge"`` (``s = q``, the ordinary
        charge current), a name in ``model.operators`` (``"sx"``, ``"sy"``,
        ``"sz"``: spin in units of hbar) or a Hermitian matrix.
    charge : float
        Carrier charge ``q`` (electrons: ``-1``).  Never hidden in a constant.
    n_points : int
        Resolution, at least 8.  2D continuum models: angles per Fermi sheet
        (rays; the Fermi-sea integrals use ``n_points // 8`` rays, between 64
        and 1024).  Lattice and 3D models: k-grid points per reciprocal-lattice
        axis (or per axis of the box ``|k_i| <= k_max``).
    temperature : float
        k_B T (k_B = 1), >= 0.  ``0`` gives the T = 0 response and ``alpha = 0``.
    energy_step : float
        Step of the double-exponential Fermi-window rule (:func:`fermi_window`;
        0.25 gives 29 energies).  Used only for ``temperature > 0``.
    origin : 2-sequence of float
        Centre of the rays of 2D continuum models; every Fermi sheet must be
        star-shaped about it.
    k_max : float, optional
        Radial extent of the rays (2D continuum) or half-width of the k box
        (3D continuum).  Default: probed from the model.
    method : {"auto", "dense", "lowrank", "onthefly", "sparse", "compressed"}
        Collision-operator kind (:mod:`boltzspin.collisions.scattering`);
        ``"auto"`` picks per disorder channel.  ``attrs["collision_operator"]``
        records the choice.
    sparse_tol : float
        Drop tolerance of the sparse operator (pairs with Gaussian factor below
        it are dropped), and the kernel-interpolation tolerance of the compressed
        one; ``attrs["sparse_rate_error_bound"]`` bounds the resulting relative
        error of every rate.
    solver_tol : float
        Relative residual required of the Boltzmann solves.
    gauge_seed : int, optional
        Multiply every eigenvector by random phases (a gauge-invariance check:
        no result may change).
    sea_order : int
        Gauss-Legendre order of the radial panels of the ray Fermi-sea rule.
    radial_samples : int
        Radial samples per ray used to bracket Fermi crossings (at least 16).
    scattering : "born" or sequence of str
        ``"born"`` (default): first-Born rates, the contributions of
        :data:`CONTRIBUTIONS`.  ``("skew_scattering",)``: also the third-order
        skew scattering from the disorder's third moment, a contribution
        ``skew_scattering`` (``~ n_imp <u^3> / (n_imp <u^2>)^2``) included in ``total``.
        ``"intrinsic_skew"`` in the sequence: the fourth-order antisymmetric rate of the
        Gaussian (second-moment) disorder, non-crossing diagrams, a contribution
        ``intrinsic_skew`` independent of ``n_imp`` (low rank, O(N n^2), for q-independent
        disorder; dense, O(N^3 n) time and O(N^2 n) memory, otherwise or with ``method="dense"``).
        ``"skew"`` (all of :data:`SKEW_CONTRIBUTIONS`) is refused: pair skew
        scattering (crossed diagrams) is not computed yet.
    progress : bool
        Draw a tqdm progress bar on stderr: one step per Fermi-window energy at
        ``T > 0``, one per stage (Fermi surface and sea, collision operator,
        Boltzmann solve) at ``T = 0``.  Off by default; independently, the stages
        are logged to ``logging.getLogger("boltzspin")`` (INFO: start and end of
        the call, DEBUG: each stage and its duration; see :mod:`boltzspin.progress`).

    Returns
    -------
    xarray.Dataset
        ``sigma`` (contribution, i, j): ``J^s_i = sigma_ij E_j`` in units of
        ``q [s] / hbar`` (2D) for each contribution and their ``total``;
        ``alpha`` (contribution, i, j): the temperature-gradient coefficient;
        ``sigma_conventional_intrinsic`` (i, j): the intrinsic conductivity of
        the conventional current ``{s, v}/2``, for comparison;
        ``density_of_states`` (thermally averaged at ``T > 0``).  ``attrs`` record
        units, charge, observable, model and disorder ``repr``, point counts,
        the solver residual and the error estimates
        (``fermi_sea_error_estimate``, ``fermi_surface_error_estimate`` on
        k-grids); :func:`boltzspin.converge` reads them.

    Raises
    ------
    ModelError
        Invalid ``mu``, ``charge``, ``n_points``, ``temperature``, a numerical
        option out of range, or a malformed model (e.g. a ``velocity`` that is
        not ``dH/dk``, or NaN in ``H(k)``).
    ResourceError
        The estimated memory or CPU time exceeds the budget of
        :mod:`boltzspin.resources`; raised before anything large is allocated,
        with inputs that fit.
    DegenerateBandsError
        Two bands are degenerate on the Fermi surface (e.g. a Kramers-degenerate model).
    FermiSurfaceError
        The Fermi surface or the Fermi-sea integrals are not resolved; the message
        says which resolution to raise.
    DisorderError
        The disorder does not fit the model (e.g. a q-dependent ``U`` on a lattice).
    SolverError
        The Boltzmann equation was not solved to ``solver_tol``.

    See Also
    --------
    converge : Raise ``n_points`` until every error estimate is within tolerance.

    Notes
    -----
    At ``T = 0`` the contributions are (``p`` runs over Fermi-surface points
    with weights ``w_p``, ``phi`` solves the Boltzmann equation with source
    ``q v^j``, ``phi^a`` with the side-jump source):

    .. math::

        \sigma^{\rm intrinsic\_berry}_{ij} &= -q\sum_n\int[dk]\,f_0\,\Omega^{ij}_n s_n,\qquad
        \sigma^{\rm intrinsic\_dipole}_{ij} = q\sum_p w_p\, d^{s,i}_p v^j_p,\\
        \sigma^{\rm boltzmann}_{ij} &= \sum_p w_p\,\phi^{(j)}_p v^i_p s_p,\qquad
        \sigma^{\rm anomalous\_distribution}_{ij} = \sum_p w_p\,\phi^{a(j)}_p v^i_p s_p,

    and the side-jump and dipole-change parts carry the s-coordinate shift and
    the change of the s-dipole in each collision (see the theory pages of the
    documentation).  At ``T > 0`` every contribution is the Fermi-window average
    of its T = 0 value at chemical potential ``epsilon`` (elastic scattering
    keeps the Boltzmann equation energy-local, and ``int f Omega s``
    integrates by parts):

    .. math::

        \sigma(\mu, T) = \int d\epsilon\,(-f_0')\,\sigma_0(\epsilon),\qquad
        \alpha(\mu, T) = \frac{1}{qT}\int d\epsilon\,(-f_0')\,(\epsilon-\mu)\,\sigma_0(\epsilon),

    the entropy-density weighting of the letter's Eq. (11); at low T this is
    Mott's rule ``alpha = (pi^2/3) (T/q) d sigma/d mu``.  The grad-mu response
    is ``-sigma/q`` by construction (Einstein relation).  The Fermi surface and
    Fermi-sea integrals of the most recent call are reused when only the
    disorder changes.

    References
    ----------
    C. Xiao and Q. Niu, "Conserved current of nonconserved quantities",
    arXiv:2009.12058, Eqs. (10)-(15); N. A. Sinitsyn, A. H. MacDonald,
    T. Jungwirth, V. K. Dugaev and J. Sinova, PRB 75, 045315 (2007) for the
    side-jump and anomalous-distribution terms.

    Examples
    --------
    >>> import boltzspin as bs
    >>> ds = bs.transport(bs.Rashba(mass=1.0, alpha=0.5), 0.6, bs.DeltaCorrelated(0.01, 1.0),
    ...                   observable="sz", charge=-1.0, n_points=64)
    >>> abs(float(ds.sigma.sel(contribution="total", i="x", j="y"))) < 1e-12   # the Rashba null result
    True
    """
    mu, charge, n_points = _check_inputs(mu, charge, n_points, disorder)
    check_scattering(scattering)
    temperature = _scalar(temperature)
    check_temperature(temperature)
    temperature = float(temperature)
    energy_step = _check_energy_step(energy_step)
    check_model(model)
    options = _check_options(model, origin, k_max, method, sparse_tol, solver_tol, gauge_seed, sea_order,
                             radial_samples)
    window_estimate = _check_resources_window(model, n_points, temperature, energy_step, options) \
        if temperature > 0 else None
    q = charge
    if temperature == 0:
        ds = transport_zero_temperature(model, mu, disorder, observable, charge, n_points, progress=progress,
                                        scattering=scattering, **options)
        ds["alpha"] = xr.zeros_like(ds.sigma).assign_attrs(ALPHA_ATTRS)
        ds["alpha_error"] = xr.zeros_like(ds.sigma).assign_attrs(ALPHA_ERROR_ATTRS)
        return ds
    energies, weights, x = fermi_window(mu, temperature, energy_step)
    LOGGER.info("transport at mu=%g, T=%g: %d Fermi-window energies", mu, temperature, len(energies))
    parts = []
    with Stages(f"transport mu={mu:g} T={temperature:g}", bar(len(energies), "transport", "energy", progress)) \
            as stages:
        for e in energies:
            parts.append(transport_zero_temperature(model, float(e), disorder, observable, charge, n_points,
                                                    scattering=scattering, **options))
            stages.done(f"energy {float(e):.6g}")
    w = xr.DataArray(weights, dims="energy")
    stack = xr.concat(parts, dim="energy")
    ds = (stack * w).sum("energy")[["sigma", "sigma_conventional_intrinsic", "density_of_states"]]
    xs = xr.DataArray(x, dims="energy")
    ds["alpha"] = (stack.sigma * w * xs).sum("energy") / q
    ds["alpha"].attrs.update(ALPHA_ATTRS)
    # errors of a Fermi-window average: the window-weighted errors of each energy plus the
    # error of the window rule itself (against the rule of twice the step)
    for name in ("sigma", "sigma_conventional_intrinsic", "density_of_states"):
        ds[name].attrs.update(parts[0][name].attrs)
        window = window_error(stack[name].values, weights)
        ds[name + "_error"] = (stack[name + "_error"] * w).sum("energy") + window
        ds[name + "_error"].attrs.update(parts[0][name + "_error"].attrs)
    ds["alpha_error"] = ((stack.sigma_error * w * abs(xs)).sum("energy")
                         + window_error((stack.sigma * xs).values, weights)) / abs(q)
    ds["alpha_error"].attrs.update(ALPHA_ERROR_ATTRS)
    ds["density_of_states"].attrs["long_name"] = "thermal density of states -int f0' D"
    ds.attrs.update(parts[len(parts) // 2].attrs)
    ds.attrs.update(
        mu=float(mu),
        temperature=float(temperature),
        n_energies=len(energies),
        energy_step=float(energy_step),
        state="finite temperature: " + ", ".join(sorted({p.attrs["state"] for p in parts})),
        solver_residual=max(p.attrs["solver_residual"] for p in parts),
        source_projection=max(p.attrs["source_projection"] for p in parts),
        # the errors of a Fermi-window average add with the window weights
        fermi_sea_error_estimate=float(np.dot(weights, [p.attrs["fermi_sea_error_estimate"] for p in parts])),
        **({"fermi_surface_error_estimate": max(p.attrs["fermi_surface_error_estimate"] for p in parts)}
           if "fermi_surface_error_estimate" in parts[0].attrs else {}),
        max_fermi_surface_parts_error=max(p.attrs["max_fermi_surface_parts_error"] for p in parts),
        max_roundoff_error=max(p.attrs["max_roundoff_error"] for p in parts),
        max_fermi_window_error=float(window_error(stack.sigma.values, weights).max()),
        n_fermi_points=max(p.attrs["n_fermi_points"] for p in parts),
    )
    ds.attrs.pop("note", None)
    ds.attrs.update(window_estimate.as_attrs())  # the whole window (boltzspin.resources)
    return ds


def _surface_contributions(fs, disorder, model, s_matrix, q, method, sparse_tol, solver_tol, mechanisms=()):
    """The Fermi-surface contributions on one discretized surface.

    Returns ``(parts, roundoff, magnitude, diagnostics)``: ``{contribution: (D, D)}``
    for every contribution but ``intrinsic_berry`` (and ``total``), their round-off
    estimates and the sums of the terms' magnitudes
    (:func:`boltzspin.responses.error_estimates.roundoff`), and the solver diagnostics.
    """
    dim = model.dim
    zero = np.zeros((dim, dim))
    names = contribution_names(mechanisms)[1:-1]
    parts, rounding, magnitude = dict.fromkeys(names, zero), dict.fromkeys(names, zero), dict.fromkeys(names, zero)
    diag = dict(residual=0.0, iterations=0, n_sets=0, asym=0.0, bound=0.0, methods=[], projection=0.0,
                skew_methods=[], skew_projection=0.0, intrinsic_skew_projection=0.0)
    if not fs.n_points:
        return parts, rounding, magnitude, diag
    scat = scattering(fs, disorder, model, s_matrix, method=method, sparse_tol=sparse_tol)
    w, v, s = fs.weight, fs.velocity, scat.s
    sol = solve_boltzmann(scat, np.concatenate([q * v, -q * scat.side_jump_velocity], axis=1),
                          fs.sheet, tol=solver_tol)
    phi, phi_a = sol.phi[:, :dim], sol.phi[:, dim:]  # field along j; anomalous source
    # q sum_p w_p d_p v_p with the source the Boltzmann solve used (w q v projected on
    # the range): identical for exact quadrature, and it keeps J_dp = -J_d exact on any
    # discretized surface (the projection is reported in attrs["source_projection"])
    parts["intrinsic_dipole"] = np.einsum("pi,pj->ij", scat.s_dipole, sol.weighted_source[:, :dim])
    parts["boltzmann"] = np.einsum("p,pj,pi->ij", w * s, phi, v)
    parts["side_jump"] = np.einsum("p,pj,pi->ij", w, phi, scat.side_jump_velocity_s)
    dipole_velocity = scat.dipole_change_velocity()
    parts["dipole_change"] = np.einsum("p,pj,pi->ij", w, phi, dipole_velocity)
    parts["anomalous_distribution"] = np.einsum("p,pj,pi->ij", w * s, phi_a, v)
    skew_sol = skew_bound = None
    if "skew_scattering" in mechanisms:
        # phi = phi0 + phi_sk with K phi_sk = S[phi0] (the in-scattering of the antisymmetric
        # rate): first order in W^a, the weak-disorder expansion (theory page "Skew scattering")
        skew = skew_scattering(fs, disorder, model, method=method if method in ("lowrank", "dense") else "auto")
        source = skew.matvec(phi)
        skew_sol = solve_boltzmann(scat, source, fs.sheet, tol=solver_tol)
        phi_sk = skew_sol.phi
        parts["skew_scattering"] = np.einsum("p,pj,pi->ij", w * s, phi_sk, v)
        # the dipole change with the same (full) rates: phi_sk with K, phi0 with W^a; the two
        # cancel, which keeps J_dp = -J_d exact (theory page "The conserved current")
        parts["dipole_change"] = parts["dipole_change"] + np.einsum("p,pj,pi->ij", w, phi_sk, dipole_velocity) \
            + np.einsum("pi,pj->ij", w[:, None] * scat.s_dipole, source)
        skew_bound = skew.source_bound(phi)
        diag.update(skew_methods=skew.methods, skew_projection=float(skew_sol.source_projection.max()))
    isk_sol = isk_bound = None
    if "intrinsic_skew" in mechanisms:
        # the same expansion with the fourth-order antisymmetric rate of the Gaussian disorder:
        # K phi_isk = S4[phi0], phi_isk independent of n_imp (theory page "Skew scattering")
        isk = intrinsic_skew_scattering(fs, disorder, model,
                                        method=method if method in ("lowrank", "dense") else "auto")
        source = isk.matvec(phi)
        isk_sol = solve_boltzmann(scat, source, fs.sheet, tol=solver_tol)
        parts["intrinsic_skew"] = np.einsum("p,pj,pi->ij", w * s, isk_sol.phi, v)
        parts["dipole_change"] = parts["dipole_change"] \
            + np.einsum("p,pj,pi->ij", w, isk_sol.phi, dipole_velocity) \
            + np.einsum("pi,pj->ij", w[:, None] * scat.s_dipole, source)
        isk_bound = isk.source_bound(phi)
        diag.update(intrinsic_skew_projection=float(isk_sol.source_projection.max()), intrinsic_skew_method=isk.method)
    extra = [x for x in (skew_sol, isk_sol) if x is not None]
    diag.update(residual=float(max([sol.residual.max()] + [x.residual.max() for x in extra])),
                iterations=int(sol.iterations + sum(x.iterations for x in extra)),
                projection=float(sol.source_projection[:dim].max()), n_sets=sol.n_sets,
                asym=scat.kernel_asymmetry, bound=scat.error_bound, methods=scat.methods)
    rounding, magnitude = roundoff(scat, sol, fs, s_matrix, dim, skew_sol, skew_bound)
    if isk_sol is not None:
        # the round-off of the intrinsic-skew sums has the form of the skew-scattering ones: take it
        # from the same estimate, applied to phi_isk and its source bound
        base = roundoff(scat, sol, fs, s_matrix, dim)
        with_isk = roundoff(scat, sol, fs, s_matrix, dim, isk_sol, isk_bound)
        for out, i in ((rounding, 0), (magnitude, 1)):
            out["intrinsic_skew"] = with_isk[i]["skew_scattering"]
            out["dipole_change"] = out["dipole_change"] + with_isk[i]["dipole_change"] - base[i]["dipole_change"]
    return parts, rounding, magnitude, diag


def transport_zero_temperature(model, mu, disorder, observable="sz", charge=-1.0, n_points=256, *,
                               origin=(0.0, 0.0), k_max=None, gauge_seed=None, solver_tol=RESIDUAL_TOL,
                               sea_order=16, method="auto", sparse_tol=SPARSE_TOL,
                               radial_samples=RADIAL_SAMPLES, scattering="born", progress=False):
    """Conserved s-current response to a uniform electric field at T = 0 (2D or 3D model).

    The T = 0 kernel of :func:`transport`; use :func:`transport` (exported as
    ``boltzspin.transport``), which documents every parameter.

    Parameters
    ----------
    model, mu, disorder, observable, charge, n_points : see :func:`transport`
        The system, the transported quantity and the resolution.
    origin, k_max, gauge_seed, solver_tol, sea_order, method, sparse_tol, radial_samples : see :func:`transport`
        Numerical options.
    scattering : "born" or sequence of str
        Mechanisms beyond first Born (see :func:`transport`).
    progress : bool
        A tqdm bar of the stages on stderr (see :func:`transport`).

    Returns
    -------
    xarray.Dataset
        ``sigma`` (contribution, i, j), ``sigma_conventional_intrinsic`` (i, j),
        ``density_of_states``; units, conventions and diagnostics in attrs.

    Raises
    ------
    BoltzspinError
        As :func:`transport`.
    """
    with Stages(f"transport mu={float(mu):g}" if isinstance(mu, numbers.Real) else "transport",
                bar(3, "transport", "stage", progress)) as stages:
        return _zero_temperature(model, mu, disorder, observable, charge, n_points, origin=origin, k_max=k_max,
                                 gauge_seed=gauge_seed, solver_tol=solver_tol, sea_order=sea_order, method=method,
                                 sparse_tol=sparse_tol, radial_samples=radial_samples, scattering=scattering,
                                 stages=stages)


def _zero_temperature(model, mu, disorder, observable, charge, n_points, *, origin, k_max, gauge_seed, solver_tol,
                      sea_order, method, sparse_tol, radial_samples, scattering, stages):
    """:func:`transport_zero_temperature`, reporting its stages to ``stages`` (a :class:`Stages`)."""
    mu, charge, n_points = _check_inputs(mu, charge, n_points, disorder)
    mechanisms = check_scattering(scattering)
    contributions = contribution_names(mechanisms)
    options = _check_options(model, origin, k_max, method, sparse_tol, solver_tol, gauge_seed, sea_order,
                             radial_samples)
    origin, k_max, solver_tol, gauge_seed = options["origin"], options["k_max"], options["solver_tol"], \
        options["gauge_seed"]
    sea_order, method, sparse_tol, radial_samples = options["sea_order"], options["method"], \
        options["sparse_tol"], options["radial_samples"]
    check_model(model)
    q = float(charge)
    s_matrix, s_label = resolve_observable(model, observable, q)
    dim = model.dim
    check_disorder(model, disorder, s_matrix)
    if mechanisms:
        disorder.third_moments(model)  # a species that cannot state its third moment fails before any work
    estimate = resources.check(resources.estimate_geometry(model, n_points, radial_samples, sea_order))
    LOGGER.debug("transport at mu=%g, T=0: %r, n_points=%d (estimated %.3g GiB, %.3g s)", mu, model, n_points,
                estimate.bytes / resources.GIB, estimate.seconds)
    fs, coarse, sea_value, sea_error, geometry_info = _geometry(model, mu, s_matrix, n_points, origin, k_max,
                                                                 gauge_seed, sea_order, radial_samples)
    stages.done("Fermi surface and Fermi sea", f"{fs.n_points} Fermi points, {fs.n_sheets} sheets")
    _check_fermi_velocity(fs, mu)
    if fs.n_points:
        estimate = _check_resources_collisions(fs, disorder, model, method, sparse_tol, n_points,
                                               mechanisms) + estimate
    options = dict(method=method, sparse_tol=sparse_tol, solver_tol=solver_tol, mechanisms=mechanisms)
    parts, rounding, magnitude, diag = _surface_contributions(fs, disorder, model, s_matrix, q, **options)
    stages.done("collision operator and Boltzmann solve",
                f"{','.join(diag['methods']) or 'none'}, {diag['iterations']} CG iterations")
    names = contributions[:-1]
    surface = np.stack([parts[c] for c in names[1:]])
    def on_coarse(surface_c):  # the same parts on a coarser surface (rays: N/2; k-grids: G/2, 2G/3, 3G/4)
        parts_c = _surface_contributions(surface_c, disorder, model, s_matrix, q, **options)[0]
        return np.stack([parts_c[c] for c in names[1:]])

    surface_error = coarse_surface_error(surface, coarse, on_coarse, np.stack([magnitude[c] for c in names[1:]]),
                                         uses_grid(model))
    stages.done("error estimate (coarser resolutions)")
    values = np.concatenate([-q * sea_value[0][None], surface])
    values = np.concatenate([values, values.sum(axis=0)[None]])
    roundoff_parts = np.stack([np.zeros((dim, dim))] + [rounding[c] for c in names[1:]])
    roundoff_parts = np.concatenate([roundoff_parts, roundoff_parts.sum(axis=0)[None]
                                     + EPS * np.abs(values[:-1]).sum(axis=0)[None]])
    discretization_parts = np.concatenate([abs(q) * sea_error[0][None], surface_error])
    discretization_parts = np.concatenate([discretization_parts, discretization_parts.sum(axis=0)[None]])
    check_roundoff(values, roundoff_parts, contributions,
                   abs(q) * float(np.abs(np.linalg.eigvalsh(s_matrix)).max()) / (8 * np.pi), mu)
    errors = discretization_parts + roundoff_parts
    conventional = -q * sea_value[1]
    dos_error = float(coarse_surface_error(fs.density_of_states, coarse, lambda c: c.density_of_states,
                                           fs.density_of_states, uses_grid(model)))
    axes = ["x", "y", "z"][:dim]
    ds = xr.Dataset(
        {
            "sigma": (("contribution", "i", "j"), values,
                      {"long_name": "conserved s-current conductivity, J_i = sigma_ij E_j",
                       "units": "q*[s]/hbar (hbar = 1)"}),
            "sigma_conventional_intrinsic": (("i", "j"), conventional,
                                             {"long_name": "intrinsic conductivity of the conventional current {s, v}/2",
                                              "units": "q*[s]/hbar (hbar = 1)"}),
            "density_of_states": ((), fs.density_of_states,
                                  {"long_name": "density of states at mu", "units": "1/(energy*length^D)"}),
            "sigma_error": (("contribution", "i", "j"), errors,
                            {"long_name": "error estimate of sigma (discretization + round-off)",
                             "units": "q*[s]/hbar (hbar = 1)"}),
            "sigma_conventional_intrinsic_error": (("i", "j"), abs(q) * sea_error[1],
                                                   {"long_name": "error estimate of sigma_conventional_intrinsic",
                                                    "units": "q*[s]/hbar (hbar = 1)"}),
            "density_of_states_error": ((), float(dos_error),
                                        {"long_name": "error estimate of density_of_states (n_points vs n_points/2)",
                                         "units": "1/(energy*length^D)"}),
        },
        coords={"contribution": ("contribution", list(contributions),
                                 {"long_name": "contribution to the conserved current"}),
                "i": ("i", axes, {"long_name": "current direction (J_i)"}),
                "j": ("j", axes, {"long_name": "field direction (E_j, grad T_j)"})},
    )
    ds.attrs.update(
        units=UNITS,
        charge=q,
        observable=s_label,
        mu=float(mu),
        temperature=0.0,
        model=repr(model),
        disorder=repr(disorder),
        n_points=int(n_points),
        n_fermi_points=int(fs.n_points),
        n_sheets=int(fs.n_sheets),
        state="metal" if fs.n_points else "insulator",
        solver="conjugate gradient, diagonal (relaxation-time) preconditioner, deflated null space",
        collision_operator=",".join(diag["methods"]) or "none",
        sparse_tolerance=float(sparse_tol),
        sparse_rate_error_bound=diag["bound"],
        solver_residual=diag["residual"],
        source_projection=diag["projection"],
        solver_iterations=diag["iterations"],
        n_coupled_sets=diag["n_sets"],
        kernel_asymmetry=diag["asym"],
        scattering="born" if not mechanisms else "born+" + "+".join(mechanisms),
        **({"skew_operator": ",".join(diag["skew_methods"]) or "none (no third moment)",
            "skew_source_projection": diag["skew_projection"]} if "skew_scattering" in mechanisms else {}),
        **({"intrinsic_skew_operator": (
                ("lowrank (O(N n^2 + n^4))" if diag.get("intrinsic_skew_method") == "lowrank"
                 else "dense band-resolved (O(N^3 n))" if fs.n_points else "none (insulator)")
                + ", non-crossing fourth order of the Gaussian (second-moment) disorder"),
            "intrinsic_skew_source_projection": diag["intrinsic_skew_projection"]}
           if "intrinsic_skew" in mechanisms else {}),
        **({"skew_expansion": (
                "first order in the antisymmetric rates W^a (third order) and W^4a (fourth order): phi = phi0 + "
                "phi_sk + phi_isk, K phi_sk = W^a phi0, K phi_isk = W^4a phi0; kept: skew_scattering ~ 1/n_imp, "
                "intrinsic_skew ~ n_imp^0 and the full-rate dipole change (cancels exactly); dropped: "
                "side jump, anomalous distribution and Boltzmann terms of phi_sk, phi_isk x (w dr) and (W^a)^2, "
                "O(n_imp^0 u) and O(n_imp) relative to the side jump's O(n_imp^0 u^0)")} if mechanisms else {}),
        **geometry_info,
        gauge_seed=-1 if gauge_seed is None else int(gauge_seed),
        max_fermi_surface_parts_error=float(discretization_parts[1:-1].max(initial=0.0)),
        max_roundoff_error=float(roundoff_parts.max(initial=0.0)),
        error_estimate_method=(
            "sigma_error = discretization + round-off. Discretization: Fermi sea as "
            "fermi_sea_error_estimate (elementwise); Fermi-surface parts "
            + ("3 max_c |X(G) - X(G_c)| / ((G/G_c)^2 - 1) over G_c = G/2, 2G/3, 3G/4 (k-grid, second order)"
               if uses_grid(model) else "|X(N) - X(N/2)| (rays, spectral)")
            + "; round-off: (eps (2 + 4 n_bands / sqrt N) + solver residual) x the sum of the terms' "
            "natural magnitudes"),
    )
    ds.attrs.update(estimate.as_attrs())  # resource estimate (boltzspin.resources), before allocating
    if not fs.n_points:
        ds.attrs["note"] = "mu lies in a gap or below every band: insulator, only the Berry part (letter Eq. 12) remains"
    if not np.all(np.isfinite(values)):
        raise BoltzspinError("non-finite conductivity; please report this as a bug")
    return ds
