r"""Locating every Fermi sheet of a 2D continuum model (documentation: Theory, "Fermi-surface measure").

The rays of :mod:`boltzspin.geometry.fermi` parametrize sheets; this module
finds them first, from a 2D scan of the bands over the square
``|k_i - origin_i| <= R`` (``R`` is the radial extent of the rays):

1. **Grid contour.**  The bands are sampled on a ``(G+1)^2`` grid and each is
   contoured at ``mu`` (marching squares, :func:`boltzspin.geometry.brillouin._contour`).
   Every closed contour is a sheet.
2. **Certified exclusion of sub-grid pockets.**  On a cell of side ``h`` whose
   four corners lie on one side of ``mu``, the band differs from its bilinear
   interpolant by at most :math:`(h^2/8)(M_{xx} + M_{yy})`, where ``M`` bounds
   the second derivatives in the cell.  ``M`` is taken as :data:`CURVATURE_SAFETY`
   times the largest second difference of the samples in a 5x5 neighbourhood.
   A cell whose corners are all farther from ``mu`` than that bound cannot hold
   a crossing; the others are split ``4 x 4`` and tested again (up to
   :data:`REFINE_LEVELS` times).  Cells still not excluded are grouped and the
   band extremum inside each group is polished (Nelder-Mead with a simplex of
   the cell size, so no coordinate is ever stuck at zero): an extremum beyond
   ``mu`` is a pocket.
3. **Classification.**  A sheet enclosing the origin is left to the origin's
   rays; every other sheet (an off-centre or satellite pocket) gets its own
   centre, the band extremum inside it, and its own rays
   (:func:`pocket_rays`).
4. **Certification.**  Every sign change seen by the scan (contour vertices,
   refined cells, polished extrema) must lie on a sheet that was parametrized;
   otherwise :class:`~boltzspin.errors.FermiSurfaceError` is raised.

The exclusion rests on one assumption, stated in the attrs: the band's second
derivatives inside a cell are within :data:`CURVATURE_SAFETY` times the largest
second difference seen around it.  The grid grows with ``n_points``
(:func:`plane_grid`), so raising ``n_points`` is the remedy when it fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import maximum_filter
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import FermiSurfaceError

__all__ = ["plane_grid", "Pocket", "PlaneScan", "scan_plane", "parametrize_pockets", "pocket_rays",
           "polish_extremum", "noise_level"]

#: Factor on the observed second differences that bounds the band curvature in a cell.
CURVATURE_SAFETY = 4.0
#: Levels of 4 x 4 refinement of cells that cannot be excluded.
REFINE_LEVELS = 3
#: Most cells refined per level before the scan refuses (a band flat at mu).
MAX_REFINED = 20000
#: Round-off of band energies, in units of eps * max(|e|, |mu|).
NOISE_ULPS = 64.0


def plane_grid(n_angles):
    """Grid cells per axis of the plane scan for ``n_angles`` rays: ``n_angles/2`` in [64, 1024]."""
    return int(min(1024, max(64, int(n_angles) // 2)))


def noise_level(e, mu):
    """Round-off of ``e - mu``: ``NOISE_ULPS * eps * max(|e|, |mu|)`` (same shape as ``e``)."""
    return NOISE_ULPS * np.finfo(float).eps * np.maximum(np.abs(e), abs(mu))


@dataclass
class Pocket:
    """A closed sheet not enclosing the ray origin, parametrized by rays from its own centre.

    ``roots`` are the crossing radii from ``centre`` along ``directions``;
    ``sign`` is +1 for an electron pocket (band below ``mu`` inside), -1 for a hole pocket.
    ``exclusion`` is the radius about ``centre`` inside which the origin's rays ignore this
    band (it holds no other sheet of the band).
    """

    band: int
    centre: np.ndarray
    theta: np.ndarray
    directions: np.ndarray
    roots: np.ndarray
    sign: int
    exclusion: float
    found_by: str

    def points(self):
        return self.centre + self.roots[:, None] * self.directions


@dataclass
class PlaneScan:
    """Result of :func:`scan_plane`.

    ``sites[b] = (points, tolerances)``: where band ``b`` was seen to cross ``mu``;
    ``pockets``: candidate sheets not enclosing the origin, tuples
    ``(band, points, start, sign, cell size, found_by)`` for :func:`parametrize_pockets`;
    ``round_off_extrema``: band extrema found within round-off of ``mu`` (no sheet).
    """

    mu: float
    origin: np.ndarray
    half_width: float
    grid: int
    sites: dict  # band -> (M, 2) points where the band crosses mu, (M,) tolerances
    pockets: list = field(default_factory=list)
    refined_cells: int = 0
    polished: int = 0
    round_off_extrema: list = field(default_factory=list)

    def summary(self):
        return (f"{self.grid}^2 k-grid over |k_i - origin_i| <= {self.half_width:.6g}, marching squares; "
                f"cells not excluded by the curvature bound ({CURVATURE_SAFETY:g} x observed second "
                f"differences) refined 4x4 up to {REFINE_LEVELS} levels ({self.refined_cells} cells), "
                f"{self.polished} extrema polished")


def polish_extremum(model, band, start, sign, step, fatol=0.0, bounds=None):
    """Nelder-Mead polish of the minimum (``sign = 1``) or maximum (``-1``) of one band.

    The initial simplex has edges ``step`` along each axis, so a start with a
    coordinate of 1e-16 moves as freely as any other; ``bounds = (lo, hi)``
    confines the search to a box.  Returns ``(energy, k)``.
    """
    from scipy.optimize import minimize

    from .fermi import band_energies

    x0 = np.asarray(start, dtype=float)
    if bounds is not None:
        bounds = list(zip(*bounds))
    simplex = np.vstack([x0, x0 + step * np.eye(len(x0))])
    best = minimize(lambda k: sign * band_energies(model, k)[band], x0, method="Nelder-Mead", bounds=bounds,
                    options={"initial_simplex": simplex, "xatol": 1e-13 * max(step, np.abs(x0).max()),
                             "fatol": fatol, "maxiter": 2000, "maxfev": 4000})
    return sign * float(best.fun), best.x


def _cell_bound(f):
    """Upper bound on |band - bilinear interpolant| per cell of a sampled grid ``f (A+1, B+1)``."""
    dxx = np.zeros_like(f)
    dyy = np.zeros_like(f)
    dxx[1:-1, :] = np.abs(f[2:, :] - 2 * f[1:-1, :] + f[:-2, :])
    dyy[:, 1:-1] = np.abs(f[:, 2:] - 2 * f[:, 1:-1] + f[:, :-2])
    curv = maximum_filter(dxx + dyy, size=5, mode="nearest")  # h^2 (|f_xx| + |f_yy|)
    cell = np.maximum.reduce([curv[:-1, :-1], curv[1:, :-1], curv[:-1, 1:], curv[1:, 1:]])
    return CURVATURE_SAFETY * cell / 8.0


def _corners(f):
    return np.stack([f[:-1, :-1], f[1:, :-1], f[:-1, 1:], f[1:, 1:]], axis=-1)


def _classify_cells(f, mu_noise, parent_bound=None):
    """Per cell: (mixed sign, not excluded) for samples ``f = e - mu`` on a grid."""
    c = _corners(f)
    neg = c < 0
    mixed = np.any(neg, axis=-1) & ~np.all(neg, axis=-1)
    bound = _cell_bound(f)
    if parent_bound is not None:
        bound = np.maximum(bound, parent_bound)
    near = np.min(np.abs(c), axis=-1) <= bound + np.max(_corners(mu_noise), axis=-1)
    return mixed, near & ~mixed, bound


def _components(points, radius):
    """Connected components of points closer than ``radius``; returns labels."""
    from scipy.spatial import cKDTree

    if len(points) == 0:
        return np.zeros(0, dtype=int)
    pairs = cKDTree(points).query_pairs(radius, output_type="ndarray")
    adj = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(points),) * 2)
    return connected_components(adj, directed=False)[1]


def scan_plane(model, mu, origin, half_width, grid):
    """Scan the bands on the square ``|k_i - origin_i| <= half_width`` and find every sheet.

    Returns a :class:`PlaneScan` whose ``sites[b]`` hold every point where band
    ``b`` was seen to cross ``mu`` (with a distance tolerance each), and whose
    ``pockets`` are not-yet-parametrized candidates ``(band, points, start, sign, cell)``
    that do not enclose ``origin``.  Raises :class:`FermiSurfaceError` if a sheet
    reaches the edge of the square or a band is flat at ``mu`` over many cells.
    """
    from .brillouin import Cell, _contour
    from .fermi import band_energies

    origin = np.asarray(origin, dtype=float)
    g = int(grid)
    box = Cell(2.0 * half_width * np.eye(2), origin - half_width, False)
    h = 2.0 * half_width / g
    frac = np.linspace(0.0, 1.0, g + 1)
    grid_k = box.to_k(np.stack(np.meshgrid(frac, frac, indexing="ij"), axis=-1))
    e = band_energies(model, grid_k)  # (g+1, g+1, n)
    n = e.shape[-1]
    plane = PlaneScan(float(mu), origin, float(half_width), g, {})
    plane.model = model
    site_pts = {b: [] for b in range(n)}
    site_tol = {b: [] for b in range(n)}
    candidates = []  # (band, points, start, sign, cell size, found_by)

    noise = noise_level(e, mu)
    for b in range(n):
        for verts, seg in _contour(e[..., b], mu, g, 2):
            k = box.to_k(verts)
            if len(seg) != len(verts):
                raise FermiSurfaceError(
                    f"a Fermi sheet of band {b} at mu={mu} reaches the edge of the scanned square "
                    f"|k_i - origin_i| <= {half_width:.6g} (near k={k[0]}); pass a larger k_max"
                )
            i0, j0 = np.clip(np.floor(verts.min(axis=0) * g).astype(int) - 1, 0, g)
            i1, j1 = np.clip(np.ceil(verts.max(axis=0) * g).astype(int) + 2, 0, g + 1)
            local = slice(i0, i1), slice(j0, j1)
            if np.all(np.abs(e[local + (b,)] - mu) <= noise[local + (b,)]) or np.ptp(verts, axis=0).max() < 1e-9:
                plane.round_off_extrema.append((b, k.mean(axis=0), mu))  # a loop drawn in round-off, or a point
                continue
            site_pts[b].append(k)
            site_tol[b].append(np.full(len(k), h))

    # certified search for sheets the grid does not resolve
    unresolved = {b: [] for b in range(n)}
    for b in range(n):
        f = e[..., b] - mu
        mixed, near, bound = _classify_cells(f, noise[..., b])
        cells = np.argwhere(near)  # (C, 2) integer cell indices
        lo = box.to_k(cells / g)  # lower-left corners
        parent = bound[near]
        size = h
        for level in range(REFINE_LEVELS):
            if len(lo) == 0:
                break
            if len(lo) > MAX_REFINED:
                raise FermiSurfaceError(
                    f"band {b} stays within the curvature bound of mu={mu} on {len(lo)} cells: "
                    "the band is nearly flat at mu and its sheets cannot be certified. Move mu or "
                    "raise n_points."
                )
            plane.refined_cells += len(lo)
            sub = size / 4
            s = np.arange(5) * sub
            pts = lo[:, None, None, :] + np.stack(np.meshgrid(s, s, indexing="ij"), axis=-1)[None]
            eb = band_energies(model, pts)  # (C, 5, 5, n)
            fb = eb[..., b] - mu
            nb = noise_level(eb[..., b], mu)
            new_lo, new_parent, found = [], [], []
            for c in range(len(lo)):
                m_c, n_c, bd = _classify_cells(fb[c], nb[c], parent[c] / 16.0)
                m_c &= ~np.all(np.abs(_corners(fb[c])) <= _corners(nb[c]), axis=-1)  # sign changes in round-off
                found.extend(lo[c] + (np.argwhere(m_c) + 0.5) * sub)
                new_lo.extend(lo[c] + np.argwhere(n_c) * sub)
                new_parent.extend(bd[n_c])
            if found:
                site_pts[b].append(np.array(found))
                site_tol[b].append(np.full(len(found), 2.0 * sub))
            lo = np.array(new_lo).reshape(-1, 2)
            parent = np.array(new_parent)
            size = sub
        unresolved[b] = (lo + 0.5 * size, size)

    from scipy.spatial import cKDTree

    for b in range(n):
        pts = np.concatenate(site_pts[b]) if site_pts[b] else np.zeros((0, 2))
        centres, size = unresolved[b]
        if len(centres) and len(pts):  # cells next to a sheet already seen belong to it
            centres = centres[cKDTree(pts).query(centres)[0] > 2.0 * h]
        for lab in np.unique(_components(centres, 2.0 * h)):
            cl = centres[_components(centres, 2.0 * h) == lab]
            fc = band_energies(model, cl)[:, b] - mu
            sign = 1 if np.median(fc) > 0 else -1  # minimum of a band above mu, maximum below
            start = cl[np.argmin(sign * fc)]
            lo_b, hi_b = cl.min(axis=0) - size, cl.max(axis=0) + size
            plane.polished += 1
            energy, k = polish_extremum(model, b, start, sign, size, bounds=(lo_b, hi_b))
            dist = sign * (energy - mu)
            tol = float(noise_level(np.array(energy), mu))
            if dist < -tol:
                candidates.append((b, k[None, :], k, sign, size, "extremum search"))
            elif dist <= tol:
                plane.round_off_extrema.append((b, k, energy))
        # connected groups of sign changes: a ring about the origin is the origin's, the rest pockets
        if len(pts) == 0:
            continue
        label = _components(pts, 2.0 * h)
        n_grid_pts = sum(len(x) for x, t in zip(site_pts[b], site_tol[b]) if np.all(t == h))
        for lab in np.unique(label):
            sel = label == lab
            cl = pts[sel]
            ang = np.sort(np.arctan2(cl[:, 1] - origin[1], cl[:, 0] - origin[0]))
            gaps = np.diff(np.concatenate([ang, [ang[0] + 2 * np.pi]]))
            if gaps.max() < np.pi / 2:
                continue  # encloses the origin: the origin's rays cross it
            found_by = "k-grid contour" if np.any(np.flatnonzero(sel) < n_grid_pts) else "refined cells"
            candidates.append((b, cl, None, 0, h, found_by))
    plane.sites = {b: (np.concatenate(site_pts[b]) if site_pts[b] else np.zeros((0, 2)),
                       np.concatenate(site_tol[b]) if site_tol[b] else np.zeros(0)) for b in range(n)}
    plane.pockets = candidates
    return plane


def pocket_rays(model, mu, band, centre, sign, n_angles, rho, samples=256):
    """Crossing radii of one pocket along ``n_angles`` rays from its own ``centre``.

    ``sign = +1``: the band is below ``mu`` inside (electron pocket), ``-1`` above.
    Along each ray the crossing is the last change of sign before the band is
    beyond ``mu`` by more than round-off (crossings in the noise of a band
    extremum at ``mu`` count once).  Up to 64 rays are scanned on ``2 samples``
    radii in ``[0, rho]``; more rays are interpolated and Newton-polished.
    Returns ``(theta, directions, roots)`` or raises :class:`FermiSurfaceError`
    if some ray does not leave the pocket within ``rho``.
    """
    from .fermi import _directions, _illinois, band_energies, interpolated_crossings

    centre = np.asarray(centre, dtype=float)
    r = np.unique(np.concatenate([np.linspace(0.0, rho, samples + 1), np.geomspace(rho * 1e-9, rho, samples)]))

    def direct(dirs):
        f = band_energies(model, centre + r[None, :, None] * dirs[:, None, :])[..., band] - mu
        noise = noise_level(f + mu, mu)
        inside_sign = -sign
        out = (np.sign(f) == sign) & (np.abs(f) > noise)
        if not np.all(np.any(out, axis=1)):
            raise FermiSurfaceError(
                f"a Fermi pocket of band {band} at mu={mu} around k={centre} does not close within "
                f"{rho:.3g} of its centre; pass origin= inside it or raise n_points"
            )
        first_out = np.argmax(out, axis=1)
        idx = np.arange(len(r))[None, :]
        ins = (np.sign(f) == inside_sign) & (idx < first_out[:, None])
        if not np.all(np.any(ins, axis=1)):
            raise FermiSurfaceError(f"the centre k={centre} found for a pocket of band {band} lies outside it")
        last_in = len(r) - 1 - np.argmax(ins[:, ::-1], axis=1)
        rows = np.arange(len(dirs))
        lo, hi = r[last_in], r[last_in + 1]
        f_lo, f_hi = f[rows, last_in], f[rows, last_in + 1]

        def residual(x):
            return band_energies(model, centre + x[:, None] * dirs)[:, band] - mu

        return _illinois(residual, lo, hi, f_lo, f_hi)

    theta, dirs = _directions(n_angles)
    if n_angles <= 64:
        return theta, dirs, direct(dirs)
    c_theta, c_dirs = _directions(64)
    roots = interpolated_crossings(model, mu, centre, theta, dirs, c_theta, direct(c_dirs)[:, None],
                                   np.array([band]), lambda failed: direct(dirs[failed])[:, None])
    return theta, dirs, roots[:, 0]


def parametrize_pockets(model, mu, plane, n_angles, origin):
    """Turn the candidates of :func:`scan_plane` into :class:`Pocket` objects.

    A candidate whose own rays enclose ``origin`` belongs to the origin's rays
    and is dropped; a candidate inside an earlier pocket of the same band is the
    same pocket.  Returns the list of pockets.
    """
    from .fermi import band_energies

    origin = np.asarray(origin, dtype=float)
    pockets = []
    for band, pts, start, sign, size, found_by in plane.pockets:
        lo_b, hi_b = pts.min(axis=0) - 2 * size, pts.max(axis=0) + 2 * size
        if start is None:  # inside sign and deepest point from a local sampling of the group's box
            t = np.linspace(0.0, 1.0, 33)
            local = lo_b + (hi_b - lo_b) * np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)
            fl = band_energies(model, local)[:, band] - mu
            edge = np.any((local <= lo_b) | (local >= hi_b), axis=1)
            sign = 1 if np.mean(fl[edge] > 0) >= 0.5 else -1  # background above mu: electron pocket
            start = local[np.argmin(sign * fl)]
            size = float((hi_b - lo_b).max() / 32)
        if any(p.band == band and np.linalg.norm(start - p.centre) < p.exclusion for p in pockets):
            continue
        energy, centre = polish_extremum(model, band, start, sign, size, bounds=(lo_b, hi_b))
        plane.polished += 1
        if sign * (energy - mu) >= 0:
            continue  # no pocket after all (a saddle of the contour grid)
        extent = np.linalg.norm(pts - centre, axis=1).max() if len(pts) > 1 else 0.0
        rho = 2.0 * extent + 4.0 * size
        theta, dirs, roots = pocket_rays(model, mu, band, centre, sign, n_angles, rho)
        rel = origin - centre
        dist = np.linalg.norm(rel)
        if dist == 0 or dist < np.interp(np.arctan2(rel[1], rel[0]) % (2 * np.pi), np.append(theta, 2 * np.pi),
                                         np.append(roots, roots[0])):
            continue  # it encloses the origin: a sheet of the origin's rays
        if any(p.band == band and np.linalg.norm(centre - p.centre) < p.exclusion for p in pockets):
            continue
        pockets.append(Pocket(int(band), centre, theta, dirs, roots, int(sign), 1.25 * float(roots.max()), found_by))
    return pockets
