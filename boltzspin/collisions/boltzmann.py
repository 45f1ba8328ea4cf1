r"""The linearized Boltzmann equation on the Fermi surface (documentation: Theory, "The linearized Boltzmann equation").

With :math:`g_p = (-\partial f_0/\partial e)\,\phi_p` the equation

.. math:: \sum_{p'} w_{p'} K_{pp'}(\phi_p - \phi_{p'}) = S_p

is multiplied by ``w_p`` to give the symmetric positive semidefinite system
:math:`A\phi = b` with :math:`A = \mathrm{diag}(w\odot Kw) - W K W`, ``b = w S``.
Its null space is spanned by the indicator vectors ``e_C`` of the sets ``C``
of mutually coupled sheets (particle conservation).  We project ``b`` onto
the range and solve the deflated SPD system
``(A + alpha sum_C e_C e_C^T/|e_C|) phi = b`` by the conjugate-gradient method
with the diagonal (relaxation-time) preconditioner ``diag(A)``, all
right-hand sides together so that they share every kernel mat-vec.  Because
``diag(A)^-1 A`` is a discretized identity-minus-compact integral operator,
the iteration count is essentially independent of the number of points.
The gauge is fixed by ``sum_{p in C} w_p phi_p = 0``.  The relative residual
``|A phi - b| / |b|`` is computed afresh and reported; :class:`SolverError`
is raised above ``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import SolverError

__all__ = ["BoltzmannSolution", "solve_boltzmann", "coupled_sets"]

#: Relative residual accepted by :func:`solve_boltzmann`.
RESIDUAL_TOL = 1e-10
#: Sheets whose mutual coupling is below this fraction of the largest count as decoupled.
COUPLING_RTOL = 1e-12
#: A ratio of the largest to the median Fermi-surface weight beyond which a failed solve is
#: blamed on a vanishing group velocity (van Hove point) rather than on the kernel.
WEIGHT_SPREAD_LIMIT = 1e4
#: Relative residual at which CG stops (well below RESIDUAL_TOL).
CG_RTOL = 1e-13


@dataclass
class BoltzmannSolution:
    """Solutions ``phi`` (``(N, m)``), relative residuals and the iteration count.

    ``weighted_source`` is the right-hand side actually solved, ``w_p S_p`` projected
    onto the range (zero sum on each coupled set); ``source_projection`` is the
    relative size of the removed part per column -- zero for an exact Fermi-surface
    quadrature (``sum_p w_p v_p = 0`` on a closed surface), O(h^2) on k-grid surfaces.
    """

    phi: np.ndarray
    residual: np.ndarray
    iterations: int
    n_sets: int
    weighted_source: np.ndarray
    source_projection: np.ndarray


def coupled_sets(scat, sheet):
    """Label each point with its set of mutually coupled points.

    With a stored kernel the graph of pairs with ``K_pp' > COUPLING_RTOL max K``
    is used point by point, which separates decoupled subsystems even where
    their contours cross (and so share band-index sheets).  For implicit
    (low-rank, on-the-fly) operators the coupling is aggregated per sheet.
    Returns ``(labels, n_sets)``; ``labels`` has shape ``(N,)``.
    """
    stored = scat.stored_kernel()
    if stored is not None:
        threshold = COUPLING_RTOL * stored.max()  # K >= 0
        if hasattr(stored, "tocsr"):
            n_sets, labels = connected_components((stored > threshold).tocsr(), directed=False)
            return labels, int(n_sets)
        return _dense_components(stored, threshold)
    n_sheets = int(sheet.max()) + 1
    w = scat.weight
    onehot = np.zeros((len(w), n_sheets))
    onehot[np.arange(len(w)), sheet] = w
    coupling = onehot.T @ scat.matvec(onehot)  # (S, S): sum w_p w_p' K_pp'
    graph = csr_matrix(coupling > COUPLING_RTOL * coupling.max())
    n_sets, sheet_label = connected_components(graph, directed=False)
    return sheet_label[sheet], int(n_sets)


def _dense_components(kmat, threshold):
    """Connected components of ``kmat > threshold`` by breadth-first search on columns.

    O(N^2) reads and no edge list (a dense kernel has ~N^2 edges).
    """
    n = kmat.shape[0]
    labels = np.full(n, -1)
    n_sets = 0
    while np.any(labels < 0):
        seed = int(np.argmax(labels < 0))
        reached = np.zeros(n, dtype=bool)
        reached[seed] = True
        frontier = reached.copy()
        while np.any(frontier):
            new = np.any(kmat[:, frontier] > threshold, axis=1) & ~reached
            reached |= new
            frontier = new
        labels[reached] = n_sets
        n_sets += 1
    return labels, n_sets


def _pcg(apply, b, inv_diag, rtol, maxiter):
    """Preconditioned CG for all columns of ``b`` at once; returns (x, iterations)."""
    x = np.zeros_like(b)
    r = b.copy()
    z = inv_diag[:, None] * r
    p = z.copy()
    rz = np.sum(r * z, axis=0)
    bnorm = np.linalg.norm(b, axis=0)
    bnorm[bnorm == 0] = 1.0
    for it in range(1, maxiter + 1):
        ap = apply(p)
        pap = np.sum(p * ap, axis=0)
        alpha = np.divide(rz, pap, out=np.zeros_like(rz), where=pap > 0)
        x += alpha * p
        r -= alpha * ap
        if np.all(np.linalg.norm(r, axis=0) <= rtol * bnorm):
            return x, it
        z = inv_diag[:, None] * r
        rz_new = np.sum(r * z, axis=0)
        beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
        p = z + beta * p
        rz = rz_new
    return x, maxiter


def solve_boltzmann(scat, source, sheet, tol=RESIDUAL_TOL, maxiter=None):
    """Solve :math:`\\sum_{p'} w_{p'}K_{pp'}(\\phi_p-\\phi_{p'}) = S_p` per column of ``source``.

    Parameters
    ----------
    scat : :class:`~boltzspin.collisions.scattering.CollisionOperator`
    source : (N, m) array of right-hand sides ``S_p`` (e.g. ``q E . v_p``).
    sheet : (N,) sheet label of each point.
    tol : float
        Relative residual required.
    maxiter : int, optional
        CG iteration cap per refinement round (default ``2 N + 200``).

    Raises
    ------
    SolverError
        If some point has no scattering at all, or CG does not reach ``tol``.
    """
    w = scat.weight
    n = len(w)
    rate = scat.out_rate
    if np.any(rate <= 0) or not np.all(np.isfinite(rate)):
        p = int(np.argmin(rate))
        raise SolverError(
            f"Fermi point {p} has total scattering rate {rate[p]:.3g}: the disorder does not "
            "relax it, so the Boltzmann conductivity is infinite. Add a disorder species that "
            "scatters this band (e.g. a scalar DeltaCorrelated)."
        )
    labels, n_sets = coupled_sets(scat, sheet)
    indicators = np.zeros((n, n_sets))
    indicators[np.arange(n), labels] = 1.0
    indicators /= np.sqrt(indicators.sum(axis=0))
    diag = w * rate - w * w * scat.diagonal()
    alpha = float(np.mean(diag))
    inv_diag = 1.0 / (diag + alpha * np.sum(indicators**2, axis=1))

    def apply(x):
        return (w * rate)[:, None] * x - w[:, None] * scat.matvec(w[:, None] * x) \
            + alpha * indicators @ (indicators.T @ x)

    source = np.asarray(source, dtype=float).reshape(n, -1)
    b_full = w[:, None] * source
    b = b_full - indicators @ (indicators.T @ b_full)
    removed = np.linalg.norm(b_full - b, axis=0) / np.maximum(np.linalg.norm(b_full, axis=0), 1e-300)
    bnorm = np.linalg.norm(b, axis=0)
    bnorm[bnorm == 0] = 1.0
    maxiter = maxiter or 2 * n + 200
    x = np.zeros_like(b)
    iterations = 0
    for _ in range(3):  # CG plus up to two rounds of iterative refinement
        r = b - apply(x)
        res = np.linalg.norm(r, axis=0) / bnorm
        if np.all(res <= 1e-2 * tol):
            break
        dx, its = _pcg(apply, r, inv_diag, CG_RTOL, maxiter)
        iterations += its
        x = x + dx
        x = x - indicators @ (indicators.T @ x)
    res = np.linalg.norm(apply(x) - b, axis=0) / bnorm
    if not np.all(np.isfinite(res)) or np.any(res > tol):
        spread = float(w.max() / np.median(w))
        cause = (
            f"The Fermi-surface weights dS/|v| span a factor {spread:.3g}: the group velocity nearly "
            "vanishes somewhere on the Fermi surface (mu close to a van Hove saddle point); move mu "
            "away from the saddle energy."
            if spread > WEIGHT_SPREAD_LIMIT else
            "The collision kernel is ill-conditioned: some sheets are nearly decoupled from the rest "
            "(their mutual rates are tiny but above the decoupling threshold); add a disorder species "
            "that couples them, or increase n_points."
        )
        raise SolverError(
            f"the Boltzmann solve did not converge: relative residual {res.max():.3g} > {tol:g} "
            f"after {iterations} conjugate-gradient iterations. " + cause
        )
    # gauge: sum_{p in C} w_p phi_p = 0 on every coupled set
    total_w = np.bincount(labels, weights=w, minlength=n_sets)
    for c in range(x.shape[1]):
        mean = np.bincount(labels, weights=w * x[:, c], minlength=n_sets) / total_w
        x[:, c] -= mean[labels]
    return BoltzmannSolution(x, res, iterations, n_sets, b, removed)
