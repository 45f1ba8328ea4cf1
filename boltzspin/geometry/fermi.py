r"""Fermi surfaces and Fermi-sea integrals of 2D continuum models.

Both are built on rays from an origin ``k0``: along each direction
``theta_j = 2 pi j / N`` the band energies are sampled on a radial grid, every
crossing of ``mu`` is bracketed and refined by Illinois (regula falsi) steps to
machine precision.

Fermi-surface measure (documentation: Theory, "Fermi-surface measure").  In polar coordinates about
``k0``, :math:`d^2k = r\,dr\,d\theta` and
:math:`\delta(e_n - \mu) = \sum_c \delta(r - r_c)/|\partial_r e_n|`, so

.. math:: \sum_l \delta(e_l-\mu) F_l \to \sum_p w_p F_p,\qquad
          w_p = \frac{1}{(2\pi)^2}\,\frac{2\pi}{N}\,
                \frac{r_p}{|\mathbf v_p\cdot\hat r_p|},

which equals :math:`dS_p/((2\pi)^2|v_p|)`.  The uniform angle grid is the
trapezoidal rule of a smooth periodic integrand: spectral accuracy for
smooth closed sheets that are star-shaped about ``k0``.  A ray may cross one
band several times (annular Fermi seas); each (band, crossing number) is one
sheet.  Sheets that a ray grazes (``|v . r_hat| / |v| < GRAZING_TOL``) or whose
crossing count changes with angle raise :class:`FermiSurfaceError`.

Fermi-sea integrals :math:`\sum_n\int[dk]\,f_0\,F_n` are done ray by ray with
composite Gauss-Legendre panels between consecutive crossings, graded
geometrically towards ``k0`` (band touchings at the origin).  A band still
occupied at the end of the radial scan (unbounded below, e.g. the lower Dirac
cone) is integrated to infinity with the substitution :math:`r = R/t`, which
is exact in the limit for integrands decaying faster than :math:`1/r^2`
(Berry curvature of a Dirac cone decays as :math:`1/r^3`).  The difference
between panel orders ``p`` and ``2p`` is returned as an error estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline

from .bands import Eigensystem, eigensystem
from ..errors import FermiSurfaceError

__all__ = ["FermiSurface", "RayScan", "scan_rays", "fermi_surface", "fermi_sea_integral"]

#: Smallest allowed |v . r_hat| / |v| at a Fermi point.
GRAZING_TOL = 0.02
#: Radial samples per ray used to bracket crossings.
RADIAL_SAMPLES = 512  # uniform samples; as many again geometric towards k0
#: Rays scanned directly; more rays are interpolated from these and Newton-polished.
COARSE_RAYS = 128


#: k-points per ``eigvalsh`` call of :func:`band_energies` (bounds the memory of large grids).
ENERGY_BLOCK = 1 << 15


def band_energies(model, k):
    """Sorted band energies ``(..., n)`` at momenta ``k`` of shape ``(..., D)``, in blocks."""
    k = np.asarray(k, dtype=float)
    flat = k.reshape(-1, k.shape[-1])
    out = np.empty((len(flat), model.n_bands))
    for s in range(0, len(flat), ENERGY_BLOCK):
        out[s : s + ENERGY_BLOCK] = np.linalg.eigvalsh(
            np.asarray(model.hamiltonian(flat[s : s + ENERGY_BLOCK]), dtype=complex))
    return out.reshape(k.shape[:-1] + (model.n_bands,))


def band_extremum(model, band, start, sign, step=None):
    """Polish of the minimum (``sign = 1``) or maximum (``-1``) of one band from ``start``.

    Nelder-Mead with an initial simplex of edge ``step`` (default: 5 % of
    ``max(|start|, 1e-3)``) along every axis, so a start coordinate of 1e-16
    is no obstacle.  Returns ``(energy, k)``; used to find pockets that a sampling of the bands missed.
    """
    from .sheets import polish_extremum

    start = np.asarray(start, dtype=float)
    if step is None:
        step = 0.05 * max(float(np.abs(start).max(initial=0.0)), 1e-3)
    return polish_extremum(model, band, start, sign, float(step))


def _directions(n_angles):
    theta = 2 * np.pi * np.arange(n_angles) / n_angles
    return theta, np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def radial_extent(model, mu, origin=(0.0, 0.0), n_probe=32, samples=4096, span=(1e-7, 1e7), directions=None):
    """Radial extent of the rays: beyond every crossing and the bands' own scale.

    The bands are sampled along ``n_probe`` directions on a logarithmic grid
    over ``span`` (model momentum units).  Returns the larger of twice the
    outermost crossing of ``mu``, twice the outermost band extremum (where a
    pocket may open) and the radius where the bands have moved by
    ``max(|e_n(0)|, |mu|)`` from their values at the origin (the momentum
    scale of the band structure, e.g. ``gap / v`` for a Dirac cone, which is
    where the Fermi-sea tail ``r = R/t`` starts).
    Crossings beyond ``span[1]`` or closer together than the grid spacing
    (0.8 % in radius) are not seen: pass ``k_max`` to override.
    ``directions`` (unit vectors ``(M, D)``) replaces the 2D probe directions (3D models).
    """
    origin = np.asarray(origin, dtype=float)
    dirs = _directions(n_probe)[1] if directions is None else np.asarray(directions, dtype=float)
    r = np.geomspace(span[0], span[1], samples)
    e = band_energies(model, origin + r[None, :, None] * dirs[:, None, :])  # (probe, R, n)
    neg = e < mu
    change = np.any(neg[:, 1:, :] != neg[:, :-1, :], axis=(0, 2))
    e0 = band_energies(model, origin)
    scale = max(np.abs(e0).max(), abs(mu), 1e-300)
    moved = np.any(np.abs(e - e0) >= scale, axis=(0, 2))
    if not np.any(moved) and not np.any(change):
        raise FermiSurfaceError(
            f"the bands of {model!r} hardly depend on k within |k| < {span[1]:g}; "
            "pass k_max explicitly"
        )
    r_moved = float(r[np.argmax(moved)]) if np.any(moved) else 0.0
    r_cross = 2.0 * float(r[1:][change].max()) if np.any(change) else 0.0
    slope = np.diff(e, axis=1)
    turning = np.any(slope[:, 1:, :] * slope[:, :-1, :] < 0, axis=(0, 2))  # band extrema
    r_turn = 2.0 * float(r[1:-1][turning].max()) if np.any(turning) else 0.0
    return max(r_cross, r_moved, r_turn)


@dataclass
class RayScan:
    """Crossings of ``mu`` along rays.

    Attributes
    ----------
    theta : (N,) angles; directions : (N, 2)
    roots : (N, K) radii of all crossings (any band) sorted per band then r.
    root_band : (K,) band of each crossing column; root_index : (K,) its
        crossing number along the ray for that band.
    r_max : end of the radial scan.
    occupied_far : (n,) bands below ``mu`` at ``r_max`` (filled to infinity).
    pockets : sheets not enclosing the origin, each with rays of its own
        (:class:`~boltzspin.geometry.sheets.Pocket`).
    plane : the :class:`~boltzspin.geometry.sheets.PlaneScan` that located and
        certified the sheets (``None`` if ``locate=False``).
    """

    mu: float
    origin: np.ndarray
    theta: np.ndarray
    directions: np.ndarray
    roots: np.ndarray
    root_band: np.ndarray
    root_index: np.ndarray
    r_max: float
    occupied_far: np.ndarray
    pockets: list = field(default_factory=list)
    plane: object = None


def _pocket_mask(origin, dirs, r, pockets, n_bands):
    """``(M, R-1, n)``: radial segments that meet the exclusion disc of a pocket of that band."""
    hit = np.zeros((len(dirs), len(r) - 1, n_bands), dtype=bool)
    for p in pockets:
        rel = p.centre - origin
        t = np.clip((dirs @ rel)[:, None], r[None, :-1], r[None, 1:])  # closest point of each segment
        near = origin + t[..., None] * dirs[:, None, :]
        hit[..., p.band] |= np.linalg.norm(near - p.centre, axis=-1) <= p.exclusion
    return hit


def _collapse_noise(change, quiet):
    """Crossings in the round-off of a band extremum at ``mu`` count once (or not at all).

    A run of sign changes whose samples all lie within round-off of ``mu`` is
    replaced by its outermost change if the run has an odd count, else removed:
    noise at a band bottom must not create concentric fake sheets.
    """
    noisy = change & quiet[:, 1:, :] & quiet[:, :-1, :]
    for j, b in {(int(j), int(b)) for j, _, b in np.argwhere(noisy)}:
        idx = np.nonzero(change[j, :, b])[0]
        q = quiet[j, :, b]
        runs, run = [], [idx[0]]
        for i in idx[1:]:
            if np.all(q[run[-1] : i + 2]):
                run.append(i)
            else:
                runs.append(run)
                run = [i]
        runs.append(run)
        change[j, :, b] = False
        for run in runs:
            if len(run) % 2:
                change[j, run[-1], b] = True
    return change


def _bracket_and_refine(model, mu, origin, dirs, r_max, radial_samples, pockets=()):
    """Crossings along ``dirs``: radial sign scan, then Illinois iteration to machine precision.

    Sign changes inside the exclusion disc of a ``pocket`` of the same band are
    ignored (the pocket has rays of its own).
    Returns ``(roots (M, K), bands (K,), index (K,), occupied_at_r_max (M, n))``.
    """
    from .sheets import noise_level

    n_dirs = len(dirs)
    r = np.unique(np.concatenate([
        np.linspace(0.0, r_max, radial_samples + 1),
        np.geomspace(r_max * 1e-9, r_max, radial_samples),
    ]))
    e = band_energies(model, origin + r[None, :, None] * dirs[:, None, :])  # (M, R, n)
    f = e - mu
    neg = f < 0
    quiet = np.abs(f) <= noise_level(e, mu)
    masked = _pocket_mask(origin, dirs, r, pockets, f.shape[-1])
    change = (neg[:, 1:, :] != neg[:, :-1, :]) & ~masked  # (M, R-1, n)
    change = _collapse_noise(change, quiet)
    _check_hidden_extrema(f, r, mu, origin, dirs, quiet[:, 1:-1, :] | masked[:, 1:, :] | masked[:, :-1, :])
    counts = change.sum(axis=1)  # (M, n)
    if np.any(counts != counts[:1]):
        band = int(np.argwhere(np.any(counts != counts[:1], axis=0))[0, 0])
        raise FermiSurfaceError(
            f"band {band} crosses mu={mu} a different number of times along different "
            f"rays from origin {tuple(origin)}: its Fermi sheets are not star-shaped about "
            "that origin (or a pocket is smaller than the radial grid). Pass origin= "
            "inside the sheet, increase radial_samples, or use a lattice Fermi surface."
        )
    cols_band, cols_index, lo_idx = [], [], []
    for b in range(f.shape[-1]):
        idx = [np.nonzero(change[j, :, b])[0] for j in range(n_dirs)]
        for c in range(int(counts[0, b])):
            cols_band.append(b)
            cols_index.append(c)
            lo_idx.append([i[c] for i in idx])
    band = np.array(cols_band, dtype=int)
    if not cols_band:
        return np.zeros((n_dirs, 0)), band, np.array(cols_index, dtype=int), neg[:, -1, :]
    lo_idx = np.array(lo_idx).T  # (M, K)
    rows = np.arange(n_dirs)[:, None]
    lo, hi = r[lo_idx], r[lo_idx + 1]
    f_lo, f_hi = f[rows, lo_idx, band[None, :]], f[rows, lo_idx + 1, band[None, :]]
    cols = np.arange(len(band))[None, :]

    def residual(x):
        return band_energies(model, origin + x[..., None] * dirs[:, None, :])[rows, cols, band[None, :]] - mu

    roots = _illinois(residual, lo, hi, f_lo, f_hi)
    return roots, band, np.array(cols_index, dtype=int), neg[:, -1, :]


def _check_hidden_extrema(f, r, mu, origin, dirs, skip=None):
    """Raise if a band extremum between radial samples crosses ``mu`` unseen.

    At every discrete extremum of ``e_n - mu`` along a ray (no sign change),
    the parabola through the three samples estimates the extremum; a sign
    opposite to the samples' means two crossings inside one grid cell: a
    pocket or annulus thinner than the radial grid.  ``skip`` (``(M, R-2, n)``)
    marks middle samples not to test (within round-off of ``mu``, or in a pocket's disc).
    """
    d1 = np.diff(f, axis=1)
    ext = (d1[:, :-1, :] * d1[:, 1:, :] < 0) & (np.sign(f[:, :-2, :]) == np.sign(f[:, 1:-1, :])) \
        & (np.sign(f[:, 2:, :]) == np.sign(f[:, 1:-1, :]))
    if skip is not None:
        ext &= ~skip
    if not np.any(ext):
        return
    ray, i, band = np.nonzero(ext)
    r0, r1, r2 = r[i], r[i + 1], r[i + 2]
    f0, f1, f2 = f[ray, i, band], f[ray, i + 1, band], f[ray, i + 2, band]
    # parabola through the three samples: f = a (x - r1)^2 + b (x - r1) + f1
    h0, h2 = r0 - r1, r2 - r1
    a = ((f0 - f1) / h0 - (f2 - f1) / h2) / (h0 - h2)
    b = (f0 - f1) / h0 - a * h0
    vertex = f1 - b * b / (4 * a)
    hidden = np.sign(vertex) != np.sign(f1)
    if np.any(hidden):
        j = int(np.argmax(hidden))
        k = origin + (r1[j] - b[j] / (2 * a[j])) * dirs[ray[j]]
        raise FermiSurfaceError(
            f"band {band[j]} has an extremum within {abs(f1[j]):.2g} of mu={mu} near k={k}: a "
            "Fermi pocket or annulus thinner than the radial grid would be missed. Increase "
            "radial_samples (a transport option) or move mu away from the band edge."
        )


def _illinois(func, lo, hi, f_lo, f_hi, maxiter=100):
    """Vectorized Illinois (modified regula falsi) root finding in brackets ``[lo, hi]``.

    Superlinear, never leaves the bracket; stops when every bracket is below
    4 ulp or ``f = 0`` exactly.  Raises if it has not converged after ``maxiter``.
    """
    side = np.zeros(lo.shape, dtype=int)
    x = lo
    for _ in range(maxiter):
        denom = f_hi - f_lo
        x = np.where(denom != 0, hi - f_hi * (hi - lo) / np.where(denom != 0, denom, 1.0), 0.5 * (lo + hi))
        x = np.clip(x, lo, hi)
        fx = func(x)
        left = np.sign(fx) == np.sign(f_lo)  # root lies in [x, hi]
        exact = fx == 0
        lo, f_lo, hi, f_hi = (np.where(left, x, lo), np.where(left, fx, f_lo),
                              np.where(left, hi, x), np.where(left, f_hi, fx))
        f_hi = np.where(left & (side == 1), 0.5 * f_hi, f_hi)  # Illinois: halve the stale end
        f_lo = np.where(~left & (side == -1), 0.5 * f_lo, f_lo)
        side = np.where(left, 1, -1)
        width = hi - lo
        done = exact | (width <= 4 * np.finfo(float).eps * np.maximum(np.abs(hi), 1e-300))
        if np.all(done):
            return np.where(exact, x, 0.5 * (lo + hi))
        lo = np.where(exact, x, lo)
        hi = np.where(exact, x, hi)
    raise FermiSurfaceError("root finding along the rays did not converge; please report this model")


def _newton_polish(model, mu, origin, dirs, guess, band, steps=4):
    """Newton steps on ``e_b(r) = mu`` along each ray; returns (roots, converged)."""
    r = guess.copy()
    failed = np.zeros(r.shape, dtype=bool)
    cols = np.arange(len(band))[None, :]
    for _ in range(steps):
        es = eigensystem(model, origin + r[..., None] * dirs[:, None, :], check=False)
        e = es.energies[:, cols[0], band] - mu  # (M, K)
        v = es.band_velocity[:, cols[0], band, :]  # (M, K, D)
        slope = np.sum(v * dirs[:, None, :], axis=-1)
        step = np.divide(e, slope, out=np.full_like(e, np.inf), where=slope != 0)
        r = r - step
        bad = ~np.isfinite(r) | (r < 0)
        r[bad] = guess[bad]  # reported as not converged below (|e - mu| too large or moved)
        failed |= bad
    e = band_energies(model, origin + r[..., None] * dirs[:, None, :])[:, cols[0], band] - mu
    scale = max(abs(mu), np.abs(band_energies(model, origin)).max(), 1e-300)
    ok = ~failed & (np.abs(e) <= 1e-12 * scale) & (np.abs(r - guess) <= 1e-3 * np.maximum(guess, 1e-300))
    return r, np.all(ok, axis=1)


def interpolated_crossings(model, mu, centre, theta, dirs, c_theta, c_roots, band, rescan):
    """Crossings ``(N, K)`` on the rays ``dirs`` (angles ``theta``) from those on coarse angles.

    ``c_roots`` ``(M, K)`` at the angles ``c_theta`` are interpolated with a periodic
    cubic spline in angle and polished by :func:`_newton_polish`; ``rescan(failed)``
    (a boolean mask of the rays) returns the crossings of the rays where that fails.
    """
    spline = CubicSpline(np.append(c_theta, 2 * np.pi), np.vstack([c_roots, c_roots[:1]]),
                         bc_type="periodic", axis=0)
    roots, ok = _newton_polish(model, mu, centre, dirs, spline(theta), band)
    if not np.all(ok):
        roots[~ok] = rescan(~ok)
    return roots


def scan_rays(model, mu, n_angles, origin=(0.0, 0.0), k_max=None, radial_samples=RADIAL_SAMPLES,
              plane=None, locate=True):
    """Find every Fermi sheet and its crossings along ``n_angles`` rays.

    The sheets are first located by a 2D scan of the bands over the square
    ``|k_i - origin_i| <= k_max`` (:func:`boltzspin.geometry.sheets.scan_plane`,
    grid :func:`~boltzspin.geometry.sheets.plane_grid` ``(n_angles)``, certified
    search for sub-grid pockets).  Sheets enclosing ``origin`` are crossed by
    the rays from it; every other sheet becomes a
    :class:`~boltzspin.geometry.sheets.Pocket` with rays from its own centre.
    Every sign change of the scan must lie on a sheet found, else
    :class:`FermiSurfaceError`.  ``plane`` reuses an earlier plane scan of the
    same ``(model, mu, origin, k_max)``; ``locate=False`` skips the scan (rays only).

    Up to :data:`COARSE_RAYS` rays are scanned and refined directly.  Beyond,
    the crossings found on ``COARSE_RAYS`` rays are interpolated in angle with
    a periodic cubic spline and polished by Newton steps
    (``dr = -(e - mu)/(v . r_hat)``) to ``|e - mu| < 1e-12`` of the energy
    scale; rays where that fails (or moves a root by more than 0.1 %) are
    scanned and refined individually.  Cost O(n_angles) plus the plane scan.
    """
    from . import sheets as _sheets

    if model.dim != 2:
        raise FermiSurfaceError(
            f"ray-based Fermi surfaces are for 2D continuum models; {model!r} has dim={model.dim}"
        )
    if not np.isfinite(mu):
        raise FermiSurfaceError(f"mu={mu!r} is not finite; pass a finite chemical potential")
    n_angles = int(n_angles)
    if n_angles < 8:
        raise FermiSurfaceError(f"n_points={n_angles} is too small; use at least 8 angles")
    origin = np.asarray(origin, dtype=float)
    r_max = float(k_max) if k_max is not None else radial_extent(model, mu, origin)
    pockets = []
    if locate:
        if plane is None:
            plane = _sheets.scan_plane(model, mu, origin, r_max, _sheets.plane_grid(n_angles))
        pockets = _sheets.parametrize_pockets(model, mu, plane, n_angles, origin)
    theta, dirs = _directions(n_angles)
    if n_angles <= COARSE_RAYS:
        roots, band, index, occ = _bracket_and_refine(model, mu, origin, dirs, r_max, radial_samples, pockets)
    else:
        c_theta, c_dirs = _directions(COARSE_RAYS)
        c_roots, band, index, occ = _bracket_and_refine(model, mu, origin, c_dirs, r_max, radial_samples, pockets)
        occ = np.broadcast_to(occ[:1], (n_angles, occ.shape[1]))
        if len(band):
            def rescan(failed):
                redo, redo_band, _, _ = _bracket_and_refine(model, mu, origin, dirs[failed], r_max, radial_samples,
                                                            pockets)
                if not np.array_equal(redo_band, band):
                    raise FermiSurfaceError(
                        f"the crossings of mu={mu} change between rays; increase radial_samples"
                    )
                return redo

            roots = interpolated_crossings(model, mu, origin, theta, dirs, c_theta, c_roots, band, rescan)
        else:
            roots = np.zeros((n_angles, 0))
    far = band_energies(model, origin + 1e6 * max(r_max, 1.0) * dirs) - mu  # (N, n)
    if np.any((far < 0) != occ):
        raise FermiSurfaceError(
            f"a band crosses mu={mu} beyond k_max={r_max:g} on some ray; pass a larger k_max"
        )
    scan = RayScan(
        mu=float(mu),
        origin=origin,
        theta=theta,
        directions=dirs,
        roots=roots,
        root_band=band,
        root_index=index,
        r_max=r_max,
        occupied_far=np.any(occ, axis=0),
        pockets=pockets,
        plane=plane,
    )
    if locate:
        _certify(scan)
    return scan


def _degenerate_here(scan, k, band):
    """Raise :class:`DegenerateBandsError` if ``band`` touches another band at ``k`` (a Fermi point there)."""
    es = eigensystem(scan.plane.model, k, check=False)
    es.check_nondegenerate(np.full(len(k), band), where=f"the Fermi surface at mu={scan.mu}")


def _certify(scan):
    """Every place where the plane scan saw a band cross ``mu`` must lie on a sheet found.

    A site (contour vertex or refined cell of band ``b``) counts as covered when
    a Fermi point of band ``b`` lies within the site's tolerance plus the
    largest spacing of that band's Fermi points.  Pockets must not overlap a
    sheet of their band that the origin's rays cross.
    """
    from scipy.spatial import cKDTree

    plane = scan.plane
    for b, (pts, tol) in plane.sites.items():
        sheet_pts = [scan.origin + scan.roots[:, c, None] * scan.directions
                     for c in np.flatnonzero(scan.root_band == b)]
        sheet_pts += [p.points() for p in scan.pockets if p.band == b]
        for p in scan.pockets:
            if p.band == b and len(sheet_pts) and any(
                    np.any(np.linalg.norm(x - p.centre, axis=1) <= p.exclusion) for x in sheet_pts[:np.sum(scan.root_band == b)]):
                raise FermiSurfaceError(
                    f"a Fermi pocket of band {b} at k={p.centre} lies too close to another sheet of the "
                    f"same band (within {p.exclusion:.3g}); pass origin= at the pocket centre, or use "
                    "a lattice Fermi surface"
                )
        if len(pts) == 0:
            continue
        if not sheet_pts:
            _degenerate_here(scan, pts[:1], b)
            raise FermiSurfaceError(
                f"the k-grid scan sees band {b} cross mu={scan.mu} near k={pts[0]}, but no Fermi sheet was "
                f"found there from origin {tuple(scan.origin)}. Pass origin= inside that sheet, or raise n_points."
            )
        # each Fermi point's spacing to its neighbours on its own sheet
        gaps = [np.linalg.norm(np.diff(x, axis=0, append=x[:1]), axis=1) for x in sheet_pts]
        spacing_of = np.concatenate([np.maximum(g, np.roll(g, 1)) for g in gaps])
        dist, nearest = cKDTree(np.concatenate(sheet_pts)).query(pts)
        spacing = spacing_of[nearest]
        bad = dist > tol + spacing
        if np.any(bad):
            p = int(np.argmax(dist - tol - spacing))  # noqa: the worst site
            _degenerate_here(scan, pts[p : p + 1], b)
            raise FermiSurfaceError(
                f"the k-grid scan sees band {b} cross mu={scan.mu} near k={pts[p]}, {dist[p]:.3g} away from "
                f"every Fermi sheet found (rays from origin {tuple(scan.origin)} and "
                f"{len(scan.pockets)} pocket(s)). Pass origin= inside that sheet, or raise n_points."
            )


@dataclass
class FermiSurface:
    """Discretized Fermi surface: points, bands, sheets and weights.

    Attributes
    ----------
    mu : float
    k : (N, D) momenta of the points.
    band : (N,) band index of each point.
    sheet : (N,) sheet index of each point.
    weight : (N,) measure ``w_p = dS_p / ((2 pi)^D |v_p|)``.
    eigensystem : :class:`~boltzspin.geometry.bands.Eigensystem` at the points.
    scan : the :class:`RayScan` it came from (``None`` for k-grids).
    sheets_info : tuple of dict, one per sheet: ``band``, ``centre`` (the ray
        origin of the sheet, or its mean point on a k-grid), ``n_points``,
        ``parametrization`` and ``found_by`` (how it was located and certified).
    search : str
        How the sheets were searched for (the certification of completeness).
    """

    mu: float
    k: np.ndarray
    band: np.ndarray
    sheet: np.ndarray
    weight: np.ndarray
    eigensystem: Eigensystem
    scan: RayScan
    sheets_info: tuple = ()
    search: str = ""

    def sheet_attrs(self):
        """Dataset attrs listing the sheets: ``fermi_sheets`` (JSON) and ``fermi_sheet_search``."""
        import json

        return {"fermi_sheets": json.dumps(list(self.sheets_info)), "fermi_sheet_search": self.search}

    @property
    def n_points(self):
        return len(self.weight)

    @property
    def n_sheets(self):
        return int(self.sheet.max()) + 1 if self.n_points else 0

    @property
    def density_of_states(self):
        """``sum_p w_p``: states per unit energy and area (hbar = 1)."""
        return float(self.weight.sum())

    @property
    def velocity(self):
        """Band velocities ``v_p``, shape ``(N, D)``."""
        v = self.eigensystem.band_velocity  # (N, n, D)
        return np.take_along_axis(v, self.band[:, None, None], axis=1)[:, 0, :]

    def with_random_gauge(self, seed):
        """Copy with random eigenvector phases (gauge-invariance checks)."""
        return FermiSurface(
            self.mu, self.k, self.band, self.sheet, self.weight,
            self.eigensystem.with_random_gauge(seed), self.scan, self.sheets_info, self.search,
        )


def fermi_surface(model, mu, n_points=256, origin=(0.0, 0.0), k_max=None, scan=None,
                  radial_samples=RADIAL_SAMPLES):
    """Discretize the Fermi surface at ``mu`` with ``n_points`` angles per sheet.

    Sheets are located by :func:`scan_rays` (2D scan plus certified pocket
    search); sheets enclosing ``origin`` use the rays from it, every other
    sheet the rays from its own centre (a band extremum inside it).  Returns an
    empty :class:`FermiSurface` (no points) when ``mu`` lies in a gap or below
    every band.  Raises :class:`DegenerateBandsError` if a band is degenerate
    at a Fermi point and :class:`FermiSurfaceError` if a sheet is not
    star-shaped about its ray origin.
    """
    if scan is None:
        scan = scan_rays(model, mu, n_points, origin, k_max, radial_samples)
    n_angles, n_cols = scan.roots.shape
    r_parts = [scan.roots.T.reshape(-1)]  # sheet-major
    dir_parts = [np.tile(scan.directions, (n_cols, 1))]
    k_parts = [scan.origin + r_parts[0][:, None] * dir_parts[0]]
    band_parts = [np.repeat(scan.root_band, n_angles)]
    count = [n_angles] * n_cols
    info = [dict(band=int(b), centre=[float(x) for x in scan.origin], n_points=int(n_angles),
                 parametrization="rays from the origin", found_by="k-grid scan" if scan.plane else "rays")
            for b in scan.root_band]
    for p in scan.pockets:
        r_parts.append(p.roots)
        dir_parts.append(p.directions)
        k_parts.append(p.points())
        band_parts.append(np.full(len(p.roots), p.band))
        count.append(len(p.roots))
        info.append(dict(band=int(p.band), centre=[float(x) for x in p.centre], n_points=len(p.roots),
                         parametrization="rays from its own centre (band extremum)", found_by=p.found_by))
    r, dirs, k = np.concatenate(r_parts), np.concatenate(dir_parts), np.concatenate(k_parts)
    band = np.concatenate(band_parts).astype(int)
    sheet = np.repeat(np.arange(len(count)), count).astype(int)
    n_sheets = len(count)
    es = eigensystem(model, k.reshape(-1, 2))
    if n_sheets:
        es.check_nondegenerate(band, where=f"the Fermi surface at mu={mu}")
    v = np.take_along_axis(es.band_velocity, band[:, None, None], axis=1)[:, 0, :]
    vr = np.abs(np.sum(v * dirs, axis=-1))
    vnorm = np.linalg.norm(v, axis=-1)
    if n_sheets and np.any(vr < GRAZING_TOL * vnorm):
        p = int(np.argmin(vr / vnorm))
        centre = scan.origin if sheet[p] < n_cols else scan.pockets[sheet[p] - n_cols].centre
        raise FermiSurfaceError(
            f"a ray from {tuple(centre)} grazes the Fermi sheet at k={k[p]} "
            f"(|v.r|/|v| = {vr[p] / vnorm[p]:.3g}); the sheet is not star-shaped about "
            "that point. Pass origin= at the centre of the sheet."
        )
    if n_sheets and np.any(vnorm == 0):
        raise FermiSurfaceError("zero group velocity on the Fermi surface (van Hove point)")
    n_rays = np.repeat(np.asarray(count, dtype=float), count)
    weight = (1.0 / n_rays) / (2 * np.pi) * r / np.where(vr > 0, vr, 1.0)
    search = scan.plane.summary() if scan.plane is not None else "rays from the origin only"
    if scan.plane is not None and scan.plane.round_off_extrema:
        search += "; band extrema within round-off of mu (no sheet of their own): " + ", ".join(
            f"band {b} at k=({x[0]:.6g}, {x[1]:.6g})" for b, x, _ in scan.plane.round_off_extrema)
    return FermiSurface(float(mu), k, band, sheet, weight, es, scan, tuple(info), search)


def _gauss_panels(edges, order):
    """Nodes and weights of composite Gauss-Legendre over panels ``edges[..., P+1]``."""
    x, w = np.polynomial.legendre.leggauss(order)
    a, b = edges[..., :-1, None], edges[..., 1:, None]
    nodes = 0.5 * (b - a) * x + 0.5 * (b + a)
    weights = 0.5 * (b - a) * w
    return nodes.reshape(*edges.shape[:-1], -1), weights.reshape(*edges.shape[:-1], -1)


def _radial_rule(scan, order, grading=16, panels=2):
    """Radial nodes and weights (including the ``r dr`` Jacobian) for every ray."""
    n_angles = len(scan.theta)
    breaks = np.sort(np.concatenate([scan.roots, np.full((n_angles, 1), scan.r_max)], axis=1), axis=1)
    first = breaks[:, :1]
    graded = first * np.concatenate([[0.0], 2.0 ** -np.arange(grading, -1, -1)])[None, :]
    node_list, weight_list = [], []
    nd, wt = _gauss_panels(graded, order)
    node_list.append(nd)
    weight_list.append(wt * nd)
    for c in range(breaks.shape[1] - 1):
        a, b = breaks[:, c : c + 1], breaks[:, c + 1 : c + 2]
        edges = a + (b - a) * np.linspace(0, 1, panels + 1)[None, :]
        nd, wt = _gauss_panels(edges, order)
        node_list.append(nd)
        weight_list.append(wt * nd)
    nodes = np.concatenate(node_list, axis=1)
    weights = np.concatenate(weight_list, axis=1)
    if np.any(scan.occupied_far):
        # r = R / t on t in (0, 1]:  r dr = R^2 / t^3 dt
        big_r = scan.r_max
        t_edges = np.broadcast_to(np.linspace(0, 1, 2 * panels + 1) ** 2, (n_angles, 2 * panels + 1))
        tn, tw = _gauss_panels(np.ascontiguousarray(t_edges), order)
        nodes = np.concatenate([nodes, big_r / tn], axis=1)
        weights = np.concatenate([weights, tw * big_r**2 / tn**3], axis=1)
    return nodes, weights


def sea_angles(n_points):
    """Rays of the Fermi-sea integrals for ``n_points`` Fermi-surface angles.

    ``64 sqrt(n_points / 128)`` rounded to a multiple of 8, in [64, 2048]: it grows
    with ``n_points`` from 128 on (256 -> 88 rays, 1024 -> 184), so raising
    ``n_points`` refines the Fermi sea too, at a cost growing like ``sqrt(n_points)``.
    """
    return int(min(2048, max(64, 8 * round(8 * np.sqrt(int(n_points) / 128)))))


def fermi_sea_integral(model, mu, integrand, n_angles=64, origin=(0.0, 0.0), k_max=None,
                       order=16, scan=None, elementwise=False):
    r"""T = 0 Fermi-sea integral :math:`\sum_n \int \frac{d^2k}{(2\pi)^2} f_0(e_n) F_n(k)`.

    Sheets enclosing the origin bound the radial panels of the origin's rays.
    A pocket (:class:`~boltzspin.geometry.sheets.Pocket`, a sheet with rays of
    its own) is integrated on its own rays, :math:`\pm\int_P F_b` (+ for an
    electron pocket, - for a hole pocket), while the origin's rays see band
    ``b`` with its background occupation inside the pocket's exclusion disc,
    so no integrand jumps inside a panel.

    Parameters
    ----------
    integrand : callable
        ``integrand(es)`` -> array ``(..., n, *extra)`` of per-band values.
    n_angles : int
        Number of rays (trapezoidal rule in angle).
    order : int
        Gauss-Legendre order per radial panel.

    Returns
    -------
    value : array of shape ``extra`` (computed with order ``2 * order``)
    error : float
        ``radial + angular + round-off``: the mean over rays (every fourth) of
        the difference between orders ``order`` and ``2 order``, plus
        ``|I(N rays) - I(N/2 rays)|``, plus ``100 eps`` times the largest ray
        integral, summed over the origin's rays and every pocket.  Each term
        bounds its part of the quadrature error when the coarser rule's error
        dominates (checked against high-resolution references on random
        models in ``tests/test_fermi_certainty.py``); it does not grow with
        ``n_angles``.  An array like ``value`` if ``elementwise``.

    The model is assumed validated (:func:`boltzspin.models.continuum.check_model`);
    the Hermiticity check is skipped at the many quadrature nodes, but
    non-finite values still raise.
    """
    if scan is None:
        scan = scan_rays(model, mu, n_angles, origin, k_max)

    def finite(vals):
        if not np.all(np.isfinite(vals)):
            raise FermiSurfaceError(
                "the Fermi-sea integrand is not finite at some k (NaN from the model, or a "
                "band degeneracy inside the Fermi sea hit a quadrature node; shift origin)"
            )
        return vals

    def ray_integrals(rays, p):
        nodes, weights = _radial_rule(scan, p)
        nodes, weights = nodes[rays], weights[rays]
        k = scan.origin + nodes[..., None] * scan.directions[rays, None, :]
        es = eigensystem(model, k, check=False)
        vals = np.asarray(integrand(es))
        occ = es.energies < mu
        for pocket in scan.pockets:  # background occupation inside a pocket's disc
            inside = np.linalg.norm(k - pocket.centre, axis=-1) <= pocket.exclusion
            occ[..., pocket.band] = np.where(inside, pocket.sign < 0, occ[..., pocket.band])
        vals = finite(np.where(occ.reshape(occ.shape + (1,) * (vals.ndim - occ.ndim)), vals, 0.0))
        summed = vals.sum(axis=2)  # sum bands -> (rays, R, *extra)
        w = weights.reshape(weights.shape + (1,) * (summed.ndim - 2))
        return (summed * w).sum(axis=1) / (2 * np.pi)

    def pocket_integrals(pocket, rays, p):
        edges = pocket.roots[rays, None] * np.linspace(0.0, 1.0, 3)[None, :]
        nodes, weights = _gauss_panels(edges, p)
        k = pocket.centre + nodes[..., None] * pocket.directions[rays, None, :]
        vals = finite(np.asarray(integrand(eigensystem(model, k, check=False)))[:, :, pocket.band])
        w = (weights * nodes).reshape(weights.shape + (1,) * (vals.ndim - 2))
        return pocket.sign * (vals * w).sum(axis=1) / (2 * np.pi)

    def parts(per_ray, n):
        every = np.arange(n)
        fine_rays = per_ray(every, 2 * order)
        fine = fine_rays.mean(axis=0)
        radial = np.abs(per_ray(every[::4], order) - fine_rays[::4]).mean(axis=0)
        angular = np.abs(fine - fine_rays[::2].mean(axis=0))
        roundoff = 100 * np.finfo(float).eps * np.abs(fine_rays).max(axis=0, initial=0.0)
        return fine, radial + angular + roundoff

    fine, err = parts(ray_integrals, len(scan.theta))
    for pocket in scan.pockets:
        value, e = parts(lambda rays, p: pocket_integrals(pocket, rays, p), len(pocket.theta))
        fine, err = fine + value, err + e
    if elementwise:
        return fine, err
    return fine, float(np.max(err, initial=0.0))
