r"""Current-induced spin density (Edelstein effect), every contribution, as an xarray Dataset.

:func:`spin_density` returns ``chi[contribution, component, j]`` with
``delta<s_a> = chi_aj E_j`` per unit area (2D) or volume (3D), at first order in a
uniform field ``E`` and to order ``n_imp^0`` in the impurity density (documentation:
Theory, "Current-induced spin density"):

==========================  =====================================================
``intrinsic``               :math:`q\sum_n\int[dk]\,f_0\,2\,\mathrm{Im}\sum_{m\ne n}
                            s_{nm}v^j_{mn}/(e_n-e_m)^2` (field-induced interband coherence)
``boltzmann``               :math:`\sum_p w_p\,\phi^{(j)}_p s_p` (``~ 1/n_imp``)
``extrinsic_coherence``     :math:`\sum_p w_p\,\phi^{(j)}_p Y^s_p` (disorder-induced interband coherence)
``anomalous_distribution``  :math:`\sum_p w_p\,\phi^{a(j)}_p s_p`
``skew_scattering``         :math:`\sum_p w_p\,\phi^{sk(j)}_p s_p` (third order, ``~ 1/n_imp``;
                            with ``scattering=("skew_scattering", ...)``)
``intrinsic_skew``          :math:`\sum_p w_p\,\phi^{isk(j)}_p s_p` (fourth order of the Gaussian
                            disorder, ``~ n_imp^0``; with ``scattering=(..., "intrinsic_skew")``)
``total``                   the sum of the above
==========================  =====================================================

``phi`` and ``phi^a`` are the solutions of the Boltzmann equation that
:func:`boltzspin.transport` uses (sources ``q v^j`` and ``-q v^{sj,j}``), and
:math:`Y^s_l = \sum_{l'} w_{l'l}(\sigma^s_{l'l} - \sigma^s_{ll'})`, with
:math:`\sigma^s_{l'l} = -\mathrm{Im}\sum_{m\ne n} V_{l'm} S^{(l)}_m / V_{l'l}` and
:math:`S^{(l)}_m = s_{mn}/(e_n - e_m)`, is the side-jump velocity with the velocity
matrix replaced by ``s``: for ``s = q dH/dk_i`` it is exactly ``q v^{sj,i}``.

Units: hbar = 1; ``q`` is the carrier charge (electrons ``q = -1``); ``chi`` in units of
``q [s] / (energy x length)`` in 2D.

References: V. M. Edelstein, Solid State Commun. 73, 233 (1990); D. Culcer, A. Sekine and
A. H. MacDonald, PRB 96, 035106 (2017) (interband coherence from disorder);
N. A. Sinitsyn et al., PRB 75, 045315 (2007) (side jump and anomalous distribution);
I. A. Ado, O. A. Tretiakov and M. Titov, PRB 95, 094401 (2017), arXiv:1603.07994.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import xarray as xr

from .. import resources
from ..collisions import pair_kernels
from ..collisions.boltzmann import RESIDUAL_TOL, solve_boltzmann
from ..collisions.scattering import (SPARSE_TOL, _choose, _callable_pairs, _lowrank_shifts, _Points,
                                     _sparse_cutoff, _sparse_neighbours, check_disorder, scattering)
from ..collisions.intrinsic_skew import intrinsic_skew_scattering
from ..collisions.skew import skew_scattering
from ..errors import BoltzspinError, ModelError
from ..geometry.bands import expectation
from ..geometry.brillouin import uses_grid
from ..geometry.fermi import RADIAL_SAMPLES
from ..models.continuum import check_model, resolve_observable
from ..progress import Stages, bar
from .error_estimates import EPS, check_roundoff, window_error
from .response import (ENERGY_STEP, _check_energy_step, _check_fermi_velocity, _check_inputs, _check_options,
                       _check_resources_collisions, _check_resources_window, _geometry, _scalar,
                       check_scattering, check_temperature, coarse_surface_error, fermi_window)

__all__ = ["spin_density", "SPIN_DENSITY_CONTRIBUTIONS", "intrinsic_integrand", "coherence_velocity"]

#: The contributions of :func:`spin_density`, in the order of its ``contribution`` coordinate.
SPIN_DENSITY_CONTRIBUTIONS = ("intrinsic", "boltzmann", "extrinsic_coherence", "anomalous_distribution", "total")

UNITS = ("hbar = 1; k and energies in the model's units; delta<s_a> = chi_aj E_j per unit area (2D) or "
         "volume (3D); chi in units of q*[s]/(energy*length) (2D), q*[s]/(energy*length^2) (3D); q is the "
         "carrier charge (electrons q = -1); spin operators in units of hbar")


def _names(mechanisms):
    return SPIN_DENSITY_CONTRIBUTIONS[:-1] + tuple(mechanisms) + ("total",)


def _observables(model, observables, q):
    """``(matrices (A, n, n), labels)`` of the observables; Hermiticity checked."""
    if isinstance(observables, str):
        observables = (observables,)
    elif isinstance(observables, np.ndarray) and observables.ndim == 2:
        observables = (observables,)
    try:
        items = list(observables)
    except TypeError:
        raise ModelError(f"observables={observables!r} must be a sequence of operator names (e.g. "
                         "('sx', 'sy', 'sz')) or Hermitian (n, n) matrices") from None
    if not items:
        raise ModelError("observables is empty; pass e.g. ('sx', 'sy', 'sz')")
    mats, labels = [], []
    for i, obs in enumerate(items):
        mat, label = resolve_observable(model, obs, q)
        mats.append(np.asarray(mat, dtype=complex))
        labels.append(obs if isinstance(obs, str) else f"s{i}")
    if len(set(labels)) != len(labels):
        raise ModelError(f"observables {labels} name an operator twice")
    return np.stack(mats), labels


def intrinsic_integrand(es, mats):
    r"""Per-band integrand of the intrinsic spin density, ``(..., n, A, D)``, without the factor ``q``.

    .. math:: 2\,\mathrm{Im}\sum_{m\ne n}\frac{s^a_{nm} v^j_{mn}}{(e_n - e_m)^2}

    the field-induced interband admixture :math:`\delta|u_n\rangle = \sum_m |u_m\rangle
    (-q E\cdot A_{mn})/(e_n - e_m)` weighted with ``s``.  Gauge invariant.

    Parameters
    ----------
    es : Eigensystem
        Eigen-data at the quadrature nodes.
    mats : (A, n, n) array
        The observables.

    Returns
    -------
    array
        ``(..., n, A, D)``; units [s] x length / energy.
    """
    g2 = es.inverse_gaps() ** 2  # [n, m] = 1/(e_n - e_m)^2
    s = np.stack([es.operator(m) for m in mats], axis=-3)  # (..., A, n, m)
    return 2 * np.einsum("...anm,...jmn,...nm->...naj", s, es.velocity, g2).imag


def _coherence_vectors(es, band, mats):
    """``xi^a_l = sum_{m != n} |u_m> s^a_{mn} / (e_n - e_m)`` for one band per point, ``(N, A, n)``."""
    g = es.inverse_gaps()  # [n, m] = 1/(e_n - e_m)
    gl = np.take_along_axis(g, band[:, None, None], axis=-2)[:, 0, :]  # (N, m)
    out = []
    for mat in mats:
        s = es.operator(mat)  # (N, m, n)
        sl = np.take_along_axis(s, band[:, None, None], axis=-1)[..., 0]  # s_{m l}, (N, m)
        out.append(np.einsum("pam,pm->pa", es.vectors, sl * gl))
    return np.stack(out, axis=1)


def coherence_velocity(fs, disorder, model, mats, method="auto", sparse_tol=SPARSE_TOL):
    r"""The disorder-induced interband coherence :math:`Y^a_p` of each observable, ``(N, A)``.

    .. math:: Y^a_l = \sum_{l'} w_{l'l}\,(\sigma^a_{l'l} - \sigma^a_{ll'}),\qquad
              \sigma^a_{l'l} = -\mathrm{Im}\sum_{m\ne n}\frac{V_{l'm}\,s^a_{mn}}{(e_n - e_m)\,V_{l'l}}

    (``m`` at the momentum of ``l``); :math:`\sum_p w_p \phi_p Y^a_p` is the spin density
    of the off-diagonal density matrix that the collision integral of the field-driven
    distribution induces.  Computed, like the side-jump velocity, with the ``1/V``
    multiplied out, by the pair kernels of :mod:`boltzspin.collisions.scattering` with the
    interband derivative ``chi`` replaced by :math:`\xi^a_l = \sum_m |u_m\rangle S^{(l)}_m`
    (no ``dU/dq`` term: no momentum derivative enters).

    Parameters
    ----------
    fs : FermiSurface
        Discretized Fermi surface.
    disorder : Disorder
        Impurity species.
    model : Model
        The band model.
    mats : (A, n, n) array
        The observables.
    method : str
        Operator kind, as :func:`boltzspin.collisions.scattering.scattering` (the same kinds).
    sparse_tol : float
        Drop tolerance of sparse parts.

    Returns
    -------
    (N, A) array
        ``Y^a_p``, units [s] x energy (a rate times ``s``).
    """
    es = fs.eigensystem
    band = fs.band
    n_pts, dim = fs.k.shape
    n_obs = len(mats)
    xi = _coherence_vectors(es, band, mats)
    u = np.ascontiguousarray(np.take_along_axis(es.vectors, band[:, None, None], axis=2)[:, :, 0])
    k = np.ascontiguousarray(fs.k)
    w = np.ascontiguousarray(fs.weight)
    zero_s = np.zeros(n_pts)
    out = np.zeros((n_pts, n_obs))
    for ch in disorder.channels(model):
        kind = _choose(method, ch, k, sparse_tol)
        if ch.function is not None:
            n = model.n_bands
            flat = dataclasses.replace(ch, gradient=lambda q, n=n: np.zeros(q.shape[:-1] + (n_obs, n, n)))
            pts = _Points(k=k, u=u, chi=xi, w=w, s=zero_s)
            _callable_pairs(flat, pts, None, np.zeros((n_pts, n_obs)), out)
            continue
        m = np.asarray(ch.matrix, dtype=complex)
        mu = np.ascontiguousarray(u @ m.T)
        if kind == "lowrank":
            pts = _Points(k=k, u=u, chi=xi, w=w, s=zero_s)
            _lowrank_shifts(pts, ch.prefactor, m, mu, np.zeros((n_pts, n_obs)), out)
            continue
        # the numba pair kernels loop over D components: observables in groups of D
        neighbours = _sparse_neighbours(k, _sparse_cutoff(ch.parameter, sparse_tol)) if kind == "sparse" else None
        for start in range(0, n_obs, dim):
            stop = min(start + dim, n_obs)
            chunk = np.zeros((n_pts, dim, xi.shape[-1]), dtype=complex)
            chunk[:, : stop - start] = xi[:, start:stop]
            mchi = np.ascontiguousarray(chunk @ m.T)
            acc = np.zeros((n_pts, dim))
            args = (k, u, np.ascontiguousarray(chunk), w, zero_s, mu, mchi, int(ch.kind), ch.parameter,
                    ch.prefactor)
            if neighbours is None:
                pair_kernels.all_pairs(*args, np.zeros((1, 1)), False, np.zeros((n_pts, dim)), acc)
            else:
                indptr, indices = neighbours
                pair_kernels.listed_pairs(*args, indptr, indices, np.zeros(len(indices)),
                                          np.zeros((n_pts, dim)), acc)
            out[:, start:stop] += acc[:, : stop - start]
    return out


def _surface(fs, disorder, model, mats, q, method, sparse_tol, solver_tol, mechanisms=()):
    """Fermi-surface contributions ``{name: (A, D)}``, their round-off and natural magnitudes, diagnostics."""
    dim, n_obs = model.dim, len(mats)
    names = _names(mechanisms)[1:-1]
    zero = np.zeros((n_obs, dim))
    parts, rounding, magnitude = (dict.fromkeys(names, zero) for _ in range(3))
    diag = dict(residual=0.0, iterations=0, n_sets=0, methods=[], projection=0.0)
    if not fs.n_points:
        return parts, rounding, magnitude, diag
    scat = scattering(fs, disorder, model, mats[0], method=method, sparse_tol=sparse_tol)
    w, v = fs.weight, fs.velocity
    sol = solve_boltzmann(scat, np.concatenate([q * v, -q * scat.side_jump_velocity], axis=1),
                          fs.sheet, tol=solver_tol)
    phi, phi_a = sol.phi[:, :dim], sol.phi[:, dim:]
    es = fs.eigensystem
    s = np.stack([np.take_along_axis(expectation(es, m), fs.band[:, None], axis=1)[:, 0] for m in mats], axis=1)
    y = coherence_velocity(fs, disorder, model, mats, method=method, sparse_tol=sparse_tol)
    parts = dict(parts)
    parts["boltzmann"] = np.einsum("p,pa,pj->aj", w, s, phi)
    parts["extrinsic_coherence"] = np.einsum("p,pa,pj->aj", w, y, phi)
    parts["anomalous_distribution"] = np.einsum("p,pa,pj->aj", w, s, phi_a)
    residual = float(sol.residual.max())
    iterations = int(sol.iterations)
    phi_sk = None
    cancellation = {}
    if "skew_scattering" in mechanisms:
        skew = skew_scattering(fs, disorder, model, method=method if method in ("lowrank", "dense") else "auto")
        skew_sol = solve_boltzmann(scat, skew.matvec(phi), fs.sheet, tol=solver_tol)
        phi_sk = skew_sol.phi
        parts["skew_scattering"] = np.einsum("p,pa,pj->aj", w, s, phi_sk)
        cancellation["skew_scattering"] = _cancellation(skew, phi, skew_sol, w)
        residual = max(residual, float(skew_sol.residual.max()))
        iterations += int(skew_sol.iterations)
    phi_isk = None
    if "intrinsic_skew" in mechanisms:
        # the fourth-order antisymmetric rate of the Gaussian disorder, the same operator and the
        # same expansion as transport: K phi_isk = S4[phi0], phi_isk ~ n_imp^0
        isk = intrinsic_skew_scattering(fs, disorder, model,
                                        method=method if method in ("lowrank", "dense") else "auto")
        isk_sol = solve_boltzmann(scat, isk.matvec(phi), fs.sheet, tol=solver_tol)
        phi_isk = isk_sol.phi
        parts["intrinsic_skew"] = np.einsum("p,pa,pj->aj", w, s, phi_isk)
        cancellation["intrinsic_skew"] = _cancellation(isk, phi, isk_sol, w)
        residual = max(residual, float(isk_sol.residual.max()))
        iterations += int(isk_sol.iterations)
    # round-off: (eps (2 + 4 n / sqrt N) + residual) x the sums of the terms' natural magnitudes
    # (a factor that vanishes in exact arithmetic still carries eps |s|; Y^a is bounded by the
    # out-scattering rate times |s| / (smallest gap))
    n_bands = es.energies.shape[-1]
    factor = EPS * (2.0 + 4.0 * n_bands / np.sqrt(fs.n_points)) + residual
    s_norm = np.array([float(np.abs(np.linalg.eigvalsh(m)).max()) for m in mats])
    gap = np.take_along_axis(es.min_gap(), fs.band[:, None], axis=1)[:, 0]
    y_scale = np.abs(y) + np.abs(scat.out_rate)[:, None] * s_norm[None, :] / gap[:, None]
    s_scale = np.abs(s) + s_norm[None, :]
    # phi_a solves K phi_a = -q v^sj, a source that cancels between its terms (to zero without
    # magnetization): it carries round-off eps |q| x the scale of the coordinate shift, |A| (as transport)
    v_row = np.take_along_axis(np.abs(es.velocity), fs.band[:, None, None, None], axis=-2)[..., 0, :]
    g_row = np.take_along_axis(np.abs(es.inverse_gaps()), fs.band[:, None, None], axis=-2)[:, 0, :]
    shift = np.einsum("pim,pm->pi", v_row, g_row)  # |A^i| of the Fermi-surface state
    magnitude = {
        "boltzmann": np.einsum("p,pa,pj->aj", w, s_scale, np.abs(phi)),
        "extrinsic_coherence": np.einsum("p,pa,pj->aj", w, y_scale, np.abs(phi)),
        "anomalous_distribution": np.einsum("p,pa,pj->aj", w, s_scale, np.abs(phi_a) + 2 * abs(q) * shift),
    }
    if phi_sk is not None:
        magnitude["skew_scattering"] = np.einsum("p,pa,pj->aj", w, s_scale, np.abs(phi_sk))
    if phi_isk is not None:
        magnitude["intrinsic_skew"] = np.einsum("p,pa,pj->aj", w, s_scale, np.abs(phi_isk))
    # the skew sources carry round-off eps x their bound (source_bound), which can exceed |S| by
    # cancellation: relative to |phi_sk| that is eps * bound / max|S| per column (as transport)
    rounding = {name: (factor + 8 * EPS * cancellation.get(name, 0.0)) * x for name, x in magnitude.items()}
    diag.update(residual=residual, iterations=iterations, n_sets=sol.n_sets, methods=scat.methods,
                projection=float(sol.source_projection[:dim].max()))
    return parts, rounding, magnitude, diag


def _cancellation(operator, phi, solution, w):
    """``source_bound / max |S|`` per field direction ``(1, D)``: the cancellation in a skew source."""
    source = np.abs(solution.weighted_source) / w[:, None]
    return (operator.source_bound(phi) / np.maximum(source.max(axis=0), 1e-300))[None, :]


def _natural_scale(fs, s_norm):
    """``|s| N_F / k_F`` (the Edelstein scale, units of chi / q), or ``|s| / (8 pi)`` without a Fermi surface."""
    if not fs.n_points:
        return s_norm / (8 * np.pi)
    k_typ = float(np.median(np.linalg.norm(fs.k, axis=-1)))
    if k_typ <= 0:
        return s_norm / (8 * np.pi)
    return s_norm * float(fs.density_of_states) / k_typ


def _zero_temperature(model, mu, disorder, observables, charge, n_points, *, origin, k_max, gauge_seed, solver_tol,
                      sea_order, method, sparse_tol, radial_samples, scattering, stages):
    mu, charge, n_points = _check_inputs(mu, charge, n_points, disorder)
    mechanisms = check_scattering(scattering)
    names = _names(mechanisms)
    options = _check_options(model, origin, k_max, method, sparse_tol, solver_tol, gauge_seed, sea_order,
                             radial_samples)
    check_model(model)
    q = float(charge)
    mats, labels = _observables(model, observables, q)
    for mat in mats:
        check_disorder(model, disorder, mat)
    if mechanisms:
        disorder.third_moments(model)
    estimate = resources.check(resources.estimate_geometry(model, n_points, options["radial_samples"],
                                                           options["sea_order"]))
    s_norm = float(max(np.abs(np.linalg.eigvalsh(m)).max() for m in mats))
    label = "spin_density:" + hashlib.sha1(np.ascontiguousarray(mats).tobytes()).hexdigest()
    fs, coarse, sea_value, sea_error, info = _geometry(
        model, mu, mats[0], n_points, options["origin"], options["k_max"], options["gauge_seed"],
        options["sea_order"], options["radial_samples"], sea_integrand=lambda es: intrinsic_integrand(es, mats),
        sea_label=label, sea_scale=lambda f: _natural_scale(f, s_norm))
    stages.done("Fermi surface and Fermi sea", f"{fs.n_points} Fermi points")
    _check_fermi_velocity(fs, mu)
    if fs.n_points:
        estimate = _check_resources_collisions(fs, disorder, model, options["method"], options["sparse_tol"],
                                               n_points, mechanisms) + estimate
    kw = dict(method=options["method"], sparse_tol=options["sparse_tol"], solver_tol=options["solver_tol"],
              mechanisms=mechanisms)
    parts, rounding, magnitude, diag = _surface(fs, disorder, model, mats, q, **kw)
    stages.done("collision operator and Boltzmann solve", f"{','.join(diag['methods']) or 'none'}")
    surface_names = names[1:-1]
    surface = np.stack([parts[c] for c in surface_names])
    mag = np.stack([magnitude[c] for c in surface_names])
    def on_coarse(surface_c):  # the same parts on a coarser surface (rays: N/2; k-grids: G/2, 2G/3, 3G/4)
        parts_c = _surface(surface_c, disorder, model, mats, q, **kw)[0]
        return np.stack([parts_c[c] for c in surface_names])

    surface_error = coarse_surface_error(surface, coarse, on_coarse, mag, uses_grid(model))
    stages.done("error estimate (coarser resolutions)")
    values = np.concatenate([q * sea_value[None], surface])
    values = np.concatenate([values, values.sum(axis=0)[None]])
    roundoff_parts = np.stack([np.zeros_like(values[0])] + [rounding[c] for c in surface_names])
    roundoff_parts = np.concatenate([roundoff_parts, roundoff_parts.sum(axis=0)[None]
                                     + EPS * np.abs(values[:-1]).sum(axis=0)[None]])
    disc = np.concatenate([abs(q) * np.asarray(sea_error)[None], surface_error])
    disc = np.concatenate([disc, disc.sum(axis=0)[None]])
    scale = abs(q) * _natural_scale(fs, s_norm)
    check_roundoff(values, roundoff_parts, names, scale, mu)
    errors = disc + roundoff_parts
    if not np.all(np.isfinite(values)):
        raise BoltzspinError("non-finite spin density; please report this as a bug")
    axes = ["x", "y", "z"][: model.dim]
    units = "q*[s]/(energy*length^%d) (hbar = 1)" % (model.dim - 1)
    dos_error = coarse_surface_error(fs.density_of_states, coarse, lambda c: c.density_of_states,
                                     fs.density_of_states, uses_grid(model))
    ds = xr.Dataset(
        {
            "chi": (("contribution", "component", "j"), values,
                    {"long_name": "current-induced density, delta<s_a> = chi_aj E_j", "units": units}),
            "chi_error": (("contribution", "component", "j"), errors,
                          {"long_name": "error estimate of chi (discretization + round-off)", "units": units}),
            "density_of_states": ((), fs.density_of_states,
                                  {"long_name": "density of states at mu", "units": "1/(energy*length^D)"}),
            "density_of_states_error": ((), float(dos_error),
                                        {"long_name": "error estimate of density_of_states",
                                         "units": "1/(energy*length^D)"}),
        },
        coords={"contribution": list(names), "component": labels, "j": axes},
    )
    ds.attrs.update(
        units=UNITS, charge=q, observables=", ".join(
            f"{lab} = {np.array2string(m, precision=4, separator=',')}".replace("\n", "")
            for lab, m in zip(labels, mats)),
        mu=float(mu), temperature=0.0, model=repr(model), disorder=repr(disorder), n_points=int(n_points),
        n_fermi_points=int(fs.n_points), state="metal" if fs.n_points else "insulator",
        collision_operator=",".join(diag["methods"]) or "none", solver_residual=diag["residual"],
        source_projection=diag["projection"], solver_iterations=diag["iterations"],
        scattering="born" if not mechanisms else "born+" + "+".join(mechanisms),
        gauge_seed=-1 if options["gauge_seed"] is None else int(options["gauge_seed"]),
        fermi_sea_error_estimate=info["fermi_sea_error_estimate"],
        fermi_surface_parts_coarse_ratios=info["fermi_surface_parts_coarse_ratios"],
        **({"fermi_surface_error_estimate": info["fermi_surface_error_estimate"]}
           if "fermi_surface_error_estimate" in info else {}),
        max_roundoff_error=float(roundoff_parts.max(initial=0.0)),
        error_estimate_method=(
            "chi_error = discretization + round-off. Discretization: intrinsic part as the Fermi-sea rule's "
            "estimate; Fermi-surface parts |X(N) - X(N/2)| (rays) or 3 max_c |X(G) - X(G_c)| / ((G/G_c)^2 - 1) "
            "over G_c = G/2, 2G/3, 3G/4 (k-grids); "
            "round-off: (eps (2 + 4 n_bands / sqrt N) + solver residual) x the terms' natural magnitudes"),
        power_counting="boltzmann ~ 1/n_imp; intrinsic, extrinsic_coherence, anomalous_distribution ~ n_imp^0"
        + ("; skew_scattering ~ n_imp <u^3>/(n_imp <u^2>)^2" if "skew_scattering" in mechanisms else "")
        + ("; intrinsic_skew ~ n_imp^0" if "intrinsic_skew" in mechanisms else ""),
    )
    ds.attrs.update(estimate.as_attrs())
    return ds


def spin_density(model, mu, disorder, observables=("sx", "sy", "sz"), charge=-1.0, n_points=256, *,
                 temperature=0.0, energy_step=ENERGY_STEP, origin=(0.0, 0.0), k_max=None, method="auto",
                 sparse_tol=SPARSE_TOL, solver_tol=RESIDUAL_TOL, gauge_seed=None, sea_order=16,
                 radial_samples=RADIAL_SAMPLES, scattering="born", progress=False):
    r"""Current-induced density of Hermitian observables (Edelstein effect), every contribution.

    Solves the first-Born Boltzmann equation of ``model`` with ``disorder`` (as
    :func:`boltzspin.transport`) and returns the linear response
    :math:`\delta\langle s_a\rangle = \chi_{aj} E_j` per unit area (2D) or volume (3D),
    split into the contributions of :data:`SPIN_DENSITY_CONTRIBUTIONS`, to order
    :math:`n_\mathrm{imp}^0`.

    Parameters
    ----------
    model : Model
        A 2D or 3D band model (continuum or lattice), as for :func:`boltzspin.transport`.
    mu : float
        Chemical potential (energy).
    disorder : Disorder
        Impurity species (e.g. ``DeltaCorrelated(density, strength)``).
    observables : sequence of str or (n, n) arrays
        The densities to compute: names in ``model.operators`` (spin ``"sx"``,
        ``"sy"``, ``"sz"`` in units of hbar), ``"charge"``, or Hermitian matrices
        (labelled ``"s0"``, ``"s1"``, ... by position).  A non-Hermitian matrix is refused.
    charge : float
        Carrier charge ``q`` (electrons ``-1``).
    n_points : int
        Resolution, as for :func:`boltzspin.transport`.
    temperature : float
        k_B T >= 0; ``T > 0`` averages the T = 0 response over the Fermi window.
    energy_step : float
        Step of the Fermi-window rule (``T > 0`` only).
    origin, k_max, method, sparse_tol, solver_tol, gauge_seed, sea_order, radial_samples : see :func:`boltzspin.transport`
        Numerical options, as for :func:`boltzspin.transport`.
    scattering : "born" or sequence of str
        Mechanisms beyond first Born, as for :func:`boltzspin.transport` and with the same
        collision operators.  ``"skew_scattering"`` adds the third-order skew-scattering
        density :math:`\sum_p w_p \phi^{sk}_p s_p` (``~ n_imp <u^3> / (n_imp <u^2>)^2``) as
        a contribution ``skew_scattering``; ``"intrinsic_skew"`` adds the density
        :math:`\sum_p w_p \phi^{isk}_p s_p` of the fourth-order (non-crossing) antisymmetric
        rate of the Gaussian disorder, ``K phi^isk = S4[phi]``, independent of ``n_imp``, as a
        contribution ``intrinsic_skew``.  Both are included in ``total``.
    progress : bool
        A tqdm bar of the stages on stderr.

    Returns
    -------
    xarray.Dataset
        ``chi`` (contribution, component, j) and ``chi_error`` (discretization +
        round-off estimate) in units of ``q [s] / (energy length)`` (2D);
        ``density_of_states``; units, charge, observables and diagnostics in attrs.

    Raises
    ------
    ModelError
        Invalid input, e.g. a non-Hermitian observable or an unknown operator name.
    BoltzspinError
        As :func:`boltzspin.transport` (resources, degenerate bands, unresolved Fermi
        surface, solver failure).

    Notes
    -----
    With :math:`\phi^{(j)}` the Boltzmann solution for a unit field along ``j``:

    .. math::

        \chi^{\rm intrinsic}_{aj} &= q\sum_n\int[dk]\,f_0\,2\,\mathrm{Im}\sum_{m\neq n}
            \frac{s^a_{nm}v^j_{mn}}{(e_n-e_m)^2},\qquad
        \chi^{\rm boltzmann}_{aj} = \sum_p w_p\,\phi^{(j)}_p s^a_p,\\
        \chi^{\rm extrinsic\_coherence}_{aj} &= \sum_p w_p\,\phi^{(j)}_p Y^a_p,\qquad
        \chi^{\rm anomalous\_distribution}_{aj} = \sum_p w_p\,\phi^{a(j)}_p s^a_p.

    For the 2D Rashba gas with delta-correlated disorder (``n_imp u0^2``) above the band
    crossing, :math:`\chi_{yx} = q\alpha/(2\pi n_\mathrm{imp}u_0^2)` for ``s_y = sigma_y/2``
    (Edelstein 1990).  For ``s = q dH/dk_i`` (constant velocity matrices, e.g. the massive
    Dirac model) the four parts reduce to the charge-current parts of
    :func:`boltzspin.transport`.

    References
    ----------
    V. M. Edelstein, Solid State Commun. 73, 233 (1990); D. Culcer, A. Sekine and
    A. H. MacDonald, PRB 96, 035106 (2017); N. A. Sinitsyn et al., PRB 75, 045315 (2007);
    I. A. Ado, O. A. Tretiakov and M. Titov, PRB 95, 094401 (2017).

    Examples
    --------
    >>> import boltzspin as bs
    >>> ds = bs.spin_density(bs.Rashba(mass=1.0, alpha=0.5), 0.6, bs.DeltaCorrelated(0.01, 1.0),
    ...                      n_points=64)
    >>> round(float(ds.chi.sel(contribution="total", component="sy", j="x")), 4)  # -alpha/(2 pi n u0^2)
    -7.9577
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
    common = dict(origin=options["origin"], k_max=options["k_max"], gauge_seed=options["gauge_seed"],
                  solver_tol=options["solver_tol"], sea_order=options["sea_order"], method=options["method"],
                  sparse_tol=options["sparse_tol"], radial_samples=options["radial_samples"],
                  scattering=scattering)
    if temperature == 0:
        with Stages(f"spin_density mu={mu:g}", bar(3, "spin_density", "stage", progress)) as stages:
            return _zero_temperature(model, mu, disorder, observables, charge, n_points, stages=stages, **common)
    _check_resources_window(model, n_points, temperature, energy_step, options)
    energies, weights, _ = fermi_window(mu, temperature, energy_step)
    parts = []
    with Stages(f"spin_density mu={mu:g} T={temperature:g}", bar(len(energies), "spin_density", "energy",
                                                                  progress)) as stages:
        for e in energies:
            with Stages(f"energy {float(e):.6g}", bar(3, "spin_density", "stage", False)) as inner:
                parts.append(_zero_temperature(model, float(e), disorder, observables, charge, n_points,
                                               stages=inner, **common))
            stages.done(f"energy {float(e):.6g}")
    stack = xr.concat(parts, dim="energy")
    w = xr.DataArray(weights, dims="energy")
    ds = (stack * w).sum("energy")[["chi", "density_of_states"]]
    for name in ("chi", "density_of_states"):
        ds[name].attrs.update(parts[0][name].attrs)
        ds[name + "_error"] = (stack[name + "_error"] * w).sum("energy") + window_error(stack[name].values, weights)
        ds[name + "_error"].attrs.update(parts[0][name + "_error"].attrs)
    ds.attrs.update(parts[len(parts) // 2].attrs)
    ds.attrs.update(mu=float(mu), temperature=temperature, n_energies=len(energies), energy_step=energy_step,
                    solver_residual=max(p.attrs["solver_residual"] for p in parts),
                    max_roundoff_error=max(p.attrs["max_roundoff_error"] for p in parts))
    return ds
