r"""Fermi surfaces and Fermi-sea integrals on k-grids: lattice (periodic) and 3D models.

The ray method of :mod:`boltzspin.geometry.fermi` needs 2D sheets that are star-shaped
about an origin.  Lattice models (``model.periodic``) and every 3D model use a
grid instead:

* the **cell** is the Brillouin zone spanned by ``model.reciprocal_vectors``
  (periodic), or for a continuum 3D model the cube ``[-k_max, k_max]^3``
  (which must contain the whole Fermi surface);
* band energies on a ``G^D`` grid of the cell are contoured at ``mu``: marching
  squares in 2D (:mod:`contourpy`), marching cubes in 3D
  (:func:`skimage.measure.marching_cubes`);
* every vertex is projected onto the exact surface ``e_n(k) = mu`` with Newton
  steps along the group velocity, ``k <- k - (e_n - mu) v_n / |v_n|^2``;
* a vertex carries the Fermi-surface measure (documentation: Theory),
  :math:`w_p = dS_p / ((2\pi)^D |v_p|)`, with ``dS_p`` half of its two polyline
  segments (2D) or a third of its triangles' areas (3D).

Pieces cut by the zone boundary need no stitching: the pieces inside one cell
tile the surface exactly once (open orbits included).  The rule is
second-order accurate in the grid spacing, but its error is not smooth in
``1/G``: how the grid cuts a sheet changes from one ``G`` to the next, so
``G^2`` times the error scatters about its mean (by as much as the mean for
some sums).  Error estimates therefore compare ``G`` with three coarser grids,
``G/2``, ``2G/3`` and ``3G/4`` (:data:`COARSE_RATIOS`), and take the largest
implied Richardson estimate times :data:`GRID_SAFETY` (:func:`grid_error`);
:func:`grid_fermi_surface` reports that estimate of the density of states,
relative.

Fermi-sea integrals :math:`\sum_n\int[dk]\,f_0(e_n)F_n` (T = 0) use the
midpoint grid with the occupied fraction of each cell from the linearized band
(:func:`occupied_fraction`) in place of the step function (spectrally accurate for smooth periodic integrands, e.g. an
insulator's Berry curvature: the Chern number is quantized to round-off), with
adaptive refinement of the cells that the Fermi surface may cross or where two
bands come closer than the cell's energy spread (small gaps, where Berry
curvature peaks).  The error estimate is :func:`grid_error` of the sums on the
coarser grids ``G/2`` and ``3G/4`` (:data:`SEA_COARSE_RATIOS`: the sea's error
constant scatters less than the surface's; ``2G/3`` changed no measured estimate).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .bands import Eigensystem, eigensystem
from ..errors import DegenerateBandsError, FermiSurfaceError
from ..progress import note
from .fermi import FermiSurface, band_energies, band_extremum, radial_extent

__all__ = ["Cell", "cell", "coarse_grids", "grid_error", "grid_fermi_surface", "grid_fermi_surfaces",
           "grid_sea_integral", "uses_grid"]

#: Newton projection: maximum steps and relative energy tolerance.
NEWTON_STEPS = 12
NEWTON_RTOL = 1e-12
#: Points evaluated per block (bounds the memory of eigen-data).
BLOCK = 1 << 15
#: Refinement of Fermi-sea cells per dimension: (subdivisions per axis, levels).
#: 3D halves (8 sub-cells per level): 4 per axis would multiply the marked cells by 64.
REFINE = {2: (4, 2), 3: (2, 2)}
#: Resolution ratios ``G / G_c`` of the coarser grids of the error estimates: Fermi-surface
#: sums (whose error constant scatters most with the grid) and Fermi-sea integrals.
COARSE_RATIOS = (2.0, 1.5, 4.0 / 3.0)
SEA_COARSE_RATIOS = (2.0, 4.0 / 3.0)
#: Safety factor on the largest Richardson estimate (documentation: Theory, "Numerics").
GRID_SAFETY = 3.0


def coarse_grids(n_points, minimum=4, ratios=COARSE_RATIOS):
    """The coarser grids of the error estimate: ``[(G_c, G / G_c)]`` for ``G_c = floor(G / r)``,
    ``r`` in :data:`COARSE_RATIOS`, distinct, ``minimum <= G_c < G``.

    Parameters
    ----------
    n_points : int
        The grid ``G``.
    minimum : int
        Smallest coarse grid.
    ratios : sequence of float
        :data:`COARSE_RATIOS` (Fermi surfaces) or :data:`SEA_COARSE_RATIOS`.

    Returns
    -------
    list of (int, float)
        Coarse grids and their resolution ratios.
    """
    n_points = int(n_points)
    out = []
    for r in ratios:
        g = int(np.floor(n_points / r + 1e-9))
        if minimum <= g < n_points and g not in [c for c, _ in out]:
            out.append((g, n_points / g))
    return out


def grid_error(fine, coarse):
    r"""Discretization error of a second-order k-grid value from coarser grids.

    .. math:: E = S\,\max_c \frac{|X(G) - X(G_c)|}{(G/G_c)^2 - 1}

    with :math:`S` = :data:`GRID_SAFETY` (for a tensor, elementwise, and no element below
    ``|X_ij|`` times the tensor's relative estimate ``max E / max |X|``): each term is the Richardson estimate of
    :math:`X(G) - X(\infty)` for an error :math:`C h^2`.  On k-grids ``C`` is not a
    constant but scatters with ``G`` (how the grid cuts the Fermi surface), so a
    single coarse grid can happen to match the fine one; the largest of three
    estimates, times three, bounded the error against a ``G = 512`` (2D) or
    extrapolated (3D) reference on every measured lattice example (documentation:
    Theory, "Numerics").

    Parameters
    ----------
    fine : array
        Value at the grid ``G``.
    coarse : sequence of (array, float)
        Values at coarser grids and their ratios ``G / G_c > 1``.

    Returns
    -------
    array
        Elementwise error estimate (the whole ``|fine|`` if ``coarse`` is empty).
    """
    fine = np.asarray(fine, dtype=float)
    if not len(coarse):
        return np.abs(fine)
    est = GRID_SAFETY * np.max([np.abs(fine - np.asarray(v, dtype=float)) / (r * r - 1.0) for v, r in coarse], axis=0)
    if fine.ndim >= 2:
        # tensors (..., D, D): one quadrature serves every element, so no element's relative error
        # is taken below the tensor's (an element whose coarse values happen to agree is not exact)
        scale = np.abs(fine).max(axis=(-2, -1), keepdims=True)
        rel = est.max(axis=(-2, -1), keepdims=True) / np.where(scale > 0, scale, 1.0)
        est = np.maximum(est, rel * np.abs(fine))
    return est


def uses_grid(model):
    """True for models handled here: lattice models and every model with D = 3."""
    return bool(getattr(model, "periodic", False)) or model.dim == 3


class Cell:
    """The integration cell: ``k = corner + f @ basis`` for fractional ``f`` in ``[0, 1)^D``."""

    def __init__(self, basis, corner, periodic):
        self.basis = np.asarray(basis, dtype=float)
        self.corner = np.asarray(corner, dtype=float)
        self.periodic = bool(periodic)
        self.volume = abs(float(np.linalg.det(self.basis)))

    @property
    def dim(self):
        return len(self.corner)

    def to_k(self, f):
        return self.corner + np.asarray(f) @ self.basis


def cell(model, mu, k_max=None):
    """The Brillouin zone of a lattice model, or a cube for a continuum 3D model."""
    d = model.dim
    if getattr(model, "periodic", False):
        b = np.asarray(model.reciprocal_vectors, dtype=float)
        return Cell(b, -0.5 * b.sum(axis=0), True)  # centred on Gamma
    if k_max is None:
        rng = np.random.default_rng(7)
        dirs = rng.normal(size=(64, d))
        k_max = 1.05 * radial_extent(model, mu, np.zeros(d), directions=dirs / np.linalg.norm(dirs, axis=1)[:, None])
    return Cell(2.0 * k_max * np.eye(d), -k_max * np.ones(d), False)


def _check_kramers(e, mu):
    """Bands degenerate on (almost) the whole grid: a Kramers-degenerate model."""
    n = e.shape[-1]
    scale = max(np.abs(e).max(), 1e-300)
    for b in range(n - 1):
        split = e[..., b + 1] - e[..., b]
        if np.mean(split < 1e-9 * scale) > 0.5 and e[..., b].min() < mu < e[..., b].max():
            raise DegenerateBandsError(
                f"bands {b} and {b + 1} are degenerate at most k: the model is Kramers "
                "degenerate (PT-symmetric: inversion times time reversal). The Boltzmann "
                "theory here needs nondegenerate bands; break PT (an exchange field, or an "
                "inversion-breaking term such as Rashba coupling) or use a non-Abelian treatment."
            )


def _contour(grid_e, mu, g, dim):
    """Pieces of the level set in fractional coordinates: list of (vertices, segments-or-faces)."""
    if dim == 2:
        import contourpy

        f = np.linspace(0.0, 1.0, g + 1)
        gen = contourpy.contour_generator(f, f, grid_e.T, line_type=contourpy.LineType.Separate)
        pieces = []
        for line in gen.lines(mu):
            line = np.asarray(line, dtype=float)
            closed = len(line) > 2 and np.allclose(line[0], line[-1], atol=1e-14)
            if closed:
                line = line[:-1]
            m = len(line)
            if m < 2:
                continue
            seg = np.stack([np.arange(m - 1), np.arange(1, m)], axis=1)
            if closed:
                seg = np.concatenate([seg, [[m - 1, 0]]])
            pieces.append((line, seg))
        return pieces
    from skimage.measure import marching_cubes

    if not grid_e.min() < mu < grid_e.max():
        return []
    verts, faces, _, _ = marching_cubes(grid_e, level=mu, spacing=(1.0 / g,) * 3, allow_degenerate=False)
    # connected components of the mesh are the sheets
    m = len(verts)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    adj = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(m, m))
    n_comp, label = connected_components(adj, directed=False)
    pieces = []
    for c in range(n_comp):
        keep = np.flatnonzero(label == c)
        remap = -np.ones(m, dtype=int)
        remap[keep] = np.arange(len(keep))
        fc = faces[label[faces[:, 0]] == c]
        pieces.append((verts[keep], remap[fc]))
    return pieces


def _project(model, mu, k, band, spacing):
    """Newton steps onto ``e_band(k) = mu``; returns the projected points' eigensystem.

    Marching-squares/cubes vertices lie within O(spacing^2) of the surface; a point
    that moves by more than ``spacing`` jumped to another sheet and raises.
    """
    scale = max(abs(mu), 1.0)
    start = k
    for _ in range(NEWTON_STEPS):
        es = eigensystem(model, k, check=False)
        e = np.take_along_axis(es.energies, band[:, None], axis=1)[:, 0]
        v = np.take_along_axis(es.band_velocity, band[:, None, None], axis=1)[:, 0, :]
        v2 = np.sum(v * v, axis=1)
        err = e - mu
        if np.all(np.abs(err) <= NEWTON_RTOL * scale):
            moved = np.linalg.norm(k - start, axis=1)
            if np.any(moved > spacing):
                p = int(np.argmax(moved))
                raise FermiSurfaceError(
                    f"a Fermi point moved by {moved[p]:.3g} > grid spacing {spacing:.3g} while "
                    f"projecting onto the surface near k={start[p]}: the grid does not resolve "
                    "the Fermi surface there (tiny pocket or near-degenerate bands). Raise n_points."
                )
            return k, es
        if np.any(v2 == 0):
            raise FermiSurfaceError(f"zero group velocity on the Fermi surface at mu={mu} (van Hove point)")
        k = k - (err / v2)[:, None] * v
    p = int(np.argmax(np.abs(err)))
    raise FermiSurfaceError(
        f"Newton projection onto the Fermi surface did not converge at k={k[p]} (|e - mu| = "
        f"{abs(err[p]):.3g}): a van Hove point or a band crossing near mu. Move mu or raise n_points."
    )


def _measure(points, cells, dim):
    """dS per vertex: half of each polyline segment (2D), a third of each triangle (3D)."""
    ds = np.zeros(len(points))
    if dim == 2:
        length = np.linalg.norm(points[cells[:, 1]] - points[cells[:, 0]], axis=1)
        np.add.at(ds, cells[:, 0], 0.5 * length)
        np.add.at(ds, cells[:, 1], 0.5 * length)
    else:
        a, b, c = (points[cells[:, i]] for i in range(3))
        area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
        for i in range(3):
            np.add.at(ds, cells[:, i], area / 3.0)
    return ds


def _check_box_edge(model, mu, box, grid_f, e):
    """The Fermi surface of a continuum 3D model must lie inside its box.

    A band that crosses mu on the box faces, or lies below mu on them but rises
    above it on a shell twice as far out, has Fermi-surface points outside the
    box.  (A band below mu on both is filled to infinity: no Fermi surface there.)
    """
    dim = box.dim
    face = np.zeros(grid_f.shape[:-1], dtype=bool)
    for a in range(dim):
        index = [slice(None)] * dim
        for i in (0, -1):
            index[a] = i
            face[tuple(index)] = True
    edge = e[face]  # (M, n)
    outer = band_energies(model, 2.0 * box.to_k(grid_f[face]))
    crossing = np.any(edge < mu, axis=0) & np.any(edge > mu, axis=0)
    beyond = np.any(edge < mu, axis=0) & np.any(outer > mu, axis=0)
    if np.any(crossing | beyond):
        raise FermiSurfaceError(
            f"the Fermi surface at mu={mu} reaches beyond the box |k_i| <= {-box.corner[0]:g}; "
            "pass a larger k_max"
        )


def _check_missed_pockets(model, mu, box, grid_f, e):
    """A pocket smaller than the grid spacing leaves no sign change on the grid: refuse it.

    For each band entirely above (below) mu on the grid, its lowest (highest) grid
    point is polished by Nelder-Mead; an extremum beyond mu is a pocket the grid missed.
    """
    flat_f = grid_f.reshape(-1, box.dim)
    for b in range(e.shape[-1]):
        eb = e[..., b].reshape(-1)
        for sign in (1.0, -1.0):  # minimum of a band above mu, maximum of a band below mu
            if not np.all(sign * (eb - mu) > 0):
                continue
            energy, k = band_extremum(model, b, box.to_k(flat_f[int(np.argmin(sign * eb))]), sign,
                                      step=float(np.linalg.norm(box.basis, axis=1).max()) / grid_f.shape[0])
            outside = not box.periodic and np.any(np.abs(k) > -box.corner[0])
            if not outside and sign * (energy - mu) < -1e-10 * max(1.0, abs(mu)):
                raise FermiSurfaceError(
                    f"band {b} has a {'minimum' if sign > 0 else 'maximum'} {energy:.6g} at "
                    f"k={k} beyond mu={mu}: a Fermi pocket smaller than the k-grid spacing. "
                    "Raise n_points (or move mu away from the band edge)."
                )


#: Fewest vertices of a sheet that does not touch the cell boundary (2D loop, 3D mesh).
MIN_SHEET_VERTICES = {2: 12, 3: 40}


def _check_resolved(verts, mu, band, dim):
    """A closed sheet with a handful of vertices is a pocket the grid barely sees: refuse it.

    (Its G and G/2 discretizations can coincide, so the error estimate would not show it.)
    Pieces cut by the cell boundary may be short; they belong to larger sheets.
    """
    inside = np.all((verts > 1e-12) & (verts < 1 - 1e-12))
    if inside and len(verts) < MIN_SHEET_VERTICES[dim]:
        raise FermiSurfaceError(
            f"a Fermi pocket of band {band} at mu={mu} is resolved by only {len(verts)} grid "
            f"vertices (need {MIN_SHEET_VERTICES[dim]}): raise n_points, or move mu away from the band edge."
        )


def _surface(model, mu, g, box):
    dim = box.dim
    f = np.linspace(0.0, 1.0, g + 1)
    grid_f = np.stack(np.meshgrid(*([f] * dim), indexing="ij"), axis=-1)
    e = band_energies(model, box.to_k(grid_f))
    _check_kramers(e, mu)
    if not box.periodic:
        _check_box_edge(model, mu, box, grid_f, e)
    _check_missed_pockets(model, mu, box, grid_f, e)
    ks, bands, sheets, cell_lists = [], [], [], []
    n_sheet = 0
    for b in range(model.n_bands):
        for verts, cells in _contour(e[..., b], mu, g, dim):
            _check_resolved(verts, mu, b, dim)
            k = box.to_k(verts)
            ks.append(k)
            bands.append(np.full(len(k), b))
            sheets.append(np.full(len(k), n_sheet))
            cell_lists.append(cells)
            n_sheet += 1
    if not ks:
        return None
    band = np.concatenate(bands)
    spacing = np.linalg.norm(box.basis, axis=1).max() / g
    k, es = _project(model, mu, np.concatenate(ks), band, spacing)
    offset = np.cumsum([0] + [len(x) for x in ks[:-1]])
    measure = np.concatenate([_measure(k[o : o + len(x)], c, dim) for o, x, c in zip(offset, ks, cell_lists)])
    es.check_nondegenerate(band, where=f"the Fermi surface at mu={mu}")
    v = np.take_along_axis(es.band_velocity, band[:, None, None], axis=1)[:, 0, :]
    weight = measure / np.linalg.norm(v, axis=1) / (2 * np.pi) ** dim
    keep = weight > 0  # vertices of degenerate (zero-area) pieces only
    es = Eigensystem(es.k[keep], es.energies[keep], es.vectors[keep], es.velocity[keep])
    sheet = np.unique(np.concatenate(sheets)[keep], return_inverse=True)[1]
    return FermiSurface(float(mu), k[keep], band[keep], sheet, weight[keep], es, None)


def grid_fermi_surface(model, mu, n_points=128, k_max=None, box=None):
    """Fermi surface of a lattice or 3D model from a ``n_points^D`` grid of the cell.

    Parameters
    ----------
    n_points : int
        Grid points per reciprocal-lattice axis (the accuracy knob: the error of
        every Fermi-surface sum is O(n_points^-2)).  Fermi points are spaced about
        ``|b| / n_points`` along the sheets.
    k_max : float, optional
        Half-width of the box of a continuum 3D model (probed if omitted).
    box : :class:`Cell`, optional
        The cell from :func:`cell`, when the caller already has it.

    Returns
    -------
    fs : :class:`~boltzspin.geometry.fermi.FermiSurface` (``scan`` is ``None``; empty in a gap)
    error_estimate : float
        Relative error estimate of the density of states, :func:`grid_error` of the
        densities of states on the coarser grids of :func:`coarse_grids`.
    """
    fs, error, _ = grid_fermi_surfaces(model, mu, n_points, k_max, box)
    return fs, error


def grid_fermi_surfaces(model, mu, n_points=128, k_max=None, box=None):
    """:func:`grid_fermi_surface` and its coarser surfaces, for error estimates.

    Parameters
    ----------
    n_points : int
        Grid points per reciprocal-lattice axis.
    k_max : float, optional
        Half-width of the box of a continuum 3D model (probed if omitted).
    box : :class:`Cell`, optional
        The cell from :func:`cell`.

    Returns
    -------
    fs : :class:`~boltzspin.geometry.fermi.FermiSurface`
    error_estimate : float
        Relative error estimate of the density of states.
    coarse : list of (FermiSurface, float)
        The surfaces on the coarser grids of :func:`coarse_grids` that resolve the
        Fermi surface, with their ratios ``G / G_c`` (empty in a gap).  If ``G/2`` does
        not resolve it, its :class:`~boltzspin.errors.FermiSurfaceError` is raised (the
        grid ``G`` is marginal); ``2G/3`` or ``3G/4`` that do not are skipped.  Empty if a
        coarse grid sees no Fermi surface at all (callers then count the whole value as
        error).
    """
    box = box or cell(model, mu, k_max)
    fs = _surface(model, mu, int(n_points), box)
    if fs is None:
        empty = np.zeros(0, dtype=int)
        es = eigensystem(model, np.zeros((0, model.dim)), check=False)
        return FermiSurface(float(mu), np.zeros((0, model.dim)), empty, empty, np.zeros(0), es, None,
                            (), _search(n_points, model.dim)), 0.0, []
    coarse = []
    for g, ratio in coarse_grids(n_points):
        try:
            surface = _surface(model, mu, g, box)
        except FermiSurfaceError:
            if ratio >= 2.0:  # G/2 must resolve the surface (else G is marginal: refuse)
                raise
            continue  # 2G/3 or 3G/4 hit a pocket badly (e.g. a grid point at its centre): skip it
        coarse.append((surface, ratio))  # None: the coarse grid sees no Fermi surface
    dos = fs.density_of_states
    error = float(grid_error(dos, [(0.0 if c is None else c.density_of_states, r) for c, r in coarse])) / dos \
        if coarse else 1.0
    fs.sheets_info = tuple(
        dict(band=int(fs.band[fs.sheet == s][0]), centre=[float(x) for x in fs.k[fs.sheet == s].mean(axis=0)],
             n_points=int(np.sum(fs.sheet == s)), parametrization="k-grid contour + Newton projection",
             found_by="k-grid contour") for s in range(fs.n_sheets))
    fs.search = _search(n_points, model.dim)
    if any(c is None for c, _ in coarse):  # a coarse grid misses the whole surface: no estimate from them
        return fs, error, []
    return fs, error, coarse


def _search(n_points, dim):
    return (f"{int(n_points)}^{dim} k-grid contoured at mu; bands on one side of mu everywhere on the grid "
            "have their extrema polished (pockets smaller than the grid spacing refuse)")


def occupied_fraction(x, widths):
    r"""Occupied fraction of a cell where the band is linear: ``P(sum_j U_j < x)``.

    Across a cell ``e = e_mid + sum_j U_j`` with ``U_j`` uniform on
    ``[-w_j/2, w_j/2]`` (``w_j = |de/df_j| h``), so the fraction below mu is the
    CDF of a sum of uniforms (a box spline),

    .. math:: F(x) = \frac{1}{D!\prod_j w_j}\sum_{S}(-1)^{|S|}
              \Big(x + \sum_j \tfrac{w_j}{2} - \sum_{j\in S} w_j\Big)_+^D.

    It replaces the step ``Theta(mu - e_mid)`` of the midpoint rule (exact for
    linear bands), so the error of a T = 0 Fermi-sea integral comes from band
    curvature only.  ``x = mu - e_mid`` has shape ``(..., n)``, ``widths``
    ``(..., n, D)``; widths below 1e-3 of the largest are raised to it (a
    relative error below 1e-3 of a fraction that matters only in one cell layer).
    """
    d = widths.shape[-1]
    w = np.maximum(widths, 1e-3 * widths.max(axis=-1, keepdims=True) + 1e-300)
    total = np.zeros_like(x)
    shift = x + 0.5 * w.sum(axis=-1)
    for subset in range(1 << d):
        picked = [(subset >> j) & 1 for j in range(d)]
        sign = -1.0 if sum(picked) % 2 else 1.0
        arg = shift - np.sum(w * np.array(picked, dtype=float), axis=-1)
        total += sign * np.maximum(arg, 0.0) ** d
    frac = total / (np.prod(w, axis=-1) * float(np.prod(np.arange(1, d + 1))))
    half = 0.5 * w.sum(axis=-1)
    return np.where(x >= half, 1.0, np.where(x <= -half, 0.0, np.clip(frac, 0.0, 1.0)))


def _sea_sum(model, mu, integrand, box, g, extra_shape, refine=True):
    """Midpoint rule on a ``g^D`` grid with adaptive refinement near mu and small gaps."""
    dim = box.dim
    h = 1.0 / g
    centres = (np.stack(np.meshgrid(*([np.arange(g)] * dim), indexing="ij"), axis=-1).reshape(-1, dim) + 0.5) * h
    total = np.zeros(extra_shape)
    level_h = h
    r, levels = REFINE[dim] if refine else (1, 0)
    for level in range(levels + 1):
        refine_mask = np.zeros(len(centres), dtype=bool)
        for s in range(0, len(centres), BLOCK):
            f = centres[s : s + BLOCK]
            es = eigensystem(model, box.to_k(f), check=False)
            vals = np.asarray(integrand(es))
            # |de/df_j| h per cell axis; the energy spread over the cell is twice the
            # linear estimate sum_j |de/df_j| h / 2
            widths = level_h * np.abs(np.einsum("knd,jd->knj", es.band_velocity, box.basis))
            spread = widths.sum(-1)
            near = np.any(np.abs(es.energies - mu) < spread, axis=1)
            small_gap = np.any(es.min_gap() < 2 * spread, axis=1)
            ref = (near | small_gap) if level < levels else np.zeros(len(f), dtype=bool)
            refine_mask[s : s + BLOCK] = ref
            occ = occupied_fraction(mu - es.energies, widths)
            occ = occ.reshape(occ.shape + (1,) * (vals.ndim - 2))
            vals = (np.where(occ > 0, vals, 0.0) * occ).sum(axis=1)
            if not np.all(np.isfinite(vals)):
                raise FermiSurfaceError(
                    "the Fermi-sea integrand is not finite on the k-grid (NaN from the model, or "
                    "a band degeneracy hit a grid point); change n_points"
                )
            total += np.tensordot(~ref * level_h**dim, vals, axes=(0, 0))
        note(f"k-grid Fermi sea: level {level}, {len(centres)} cells, {int(refine_mask.sum())} to refine")
        if not np.any(refine_mask):
            break
        sub = (np.stack(np.meshgrid(*([np.arange(r)] * dim), indexing="ij"), axis=-1).reshape(-1, dim) + 0.5) / r - 0.5
        centres = (centres[refine_mask][:, None, :] + level_h * sub[None]).reshape(-1, dim)
        level_h /= r
    return total * box.volume / (2 * np.pi) ** dim


def grid_sea_integral(model, mu, integrand, n_points=64, k_max=None, elementwise=False, refine=True, box=None):
    r"""T = 0 Fermi-sea integral :math:`\sum_n\int[dk]\,f_0(e_n)F_n` on a k-grid of the cell.

    ``integrand(es)`` returns per-band values ``(M, n, *extra)``.  Returns
    ``(value, error)``, the error being :func:`grid_error` of the sums on the
    coarser grids ``G/2`` and ``3G/4`` (second-order Richardson estimates for
    metals; insulators converge spectrally, so it is conservative there);
    elementwise if requested.
    ``refine=False`` switches the adaptive refinement off (a plain midpoint grid,
    spectrally accurate for smooth integrands).  For a continuum 3D model every
    occupied state must lie in the box.
    """
    box = box or cell(model, mu, k_max)
    probe = eigensystem(model, box.to_k(np.full((1, box.dim), 0.37)), check=False)
    extra = np.asarray(integrand(probe)).shape[2:]
    if not box.periodic:
        corners = box.to_k(np.stack(np.meshgrid(*([[0.0, 1.0]] * box.dim), indexing="ij"), -1).reshape(-1, box.dim))
        if np.any(band_energies(model, corners) < mu):
            raise FermiSurfaceError(
                "a band is occupied at the edge of the k box (filled to infinity): the grid "
                "Fermi-sea integral of a continuum 3D model needs a bounded Fermi sea"
            )
    fine = _sea_sum(model, mu, integrand, box, int(n_points), extra, refine)
    coarse = [(_sea_sum(model, mu, integrand, box, g, extra, refine), r) for g, r in coarse_grids(n_points, 2, SEA_COARSE_RATIOS)]
    err = grid_error(fine, coarse)
    return fine, (err if elementwise else float(err.max(initial=0.0)))
