r"""The linearized Boltzmann equation on the Fermi surface (THEORY.md section 5).

With :math:`g_p = (-\partial f_0/\partial e)\,\phi_p` the equation

.. math:: \sum_{p'} w_{p'} K_{pp'}(\phi_p - \phi_{p'}) = S_p

is multiplied by ``w_p`` to give the symmetric positive semidefinite system
:math:`A\phi = b` with :math:`A = \mathrm{diag}(w\odot Kw) - W K W`, ``b = w S``.
Its null space is spanned by the indicator vectors ``e_C`` of the sets ``C``
of mutually coupled sheets (particle conservation).  We project ``b`` onto
the range, solve the deflated SPD system ``(A + alpha sum_C e_C e_C^T/|e_C|^2) phi = b``
with MINRES and a diagonal (relaxation-time) preconditioner, and fix the
gauge by ``sum_{p in C} w_p phi_p = 0``.  The relative residual
``|A phi - b| / |b|`` is reported; :class:`SolverError` is raised above
``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as sla
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .errors import SolverError

__all__ = ["BoltzmannSolution", "solve_boltzmann", "coupled_sets"]

#: Relative residual accepted by :func:`solve_boltzmann`.
RESIDUAL_TOL = 1e-10
#: Sheets whose mutual coupling is below this fraction of the largest count as decoupled.
COUPLING_RTOL = 1e-12
#: Rounds of iterative refinement around MINRES.
REFINEMENTS = 4


@dataclass
class BoltzmannSolution:
    """Solutions ``phi`` (``(N, m)``), relative residuals and iteration counts."""

    phi: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray
    n_sets: int


def coupled_sets(scat, sheet):
    """Label each point with its set of mutually coupled sheets.

    Returns ``(labels, n_sets)``; ``labels`` has shape ``(N,)``.
    """
    n_sheets = int(sheet.max()) + 1
    w = scat.weight
    onehot = np.zeros((len(w), n_sheets))
    onehot[np.arange(len(w)), sheet] = w
    coupling = onehot.T @ scat.matvec(onehot)  # (S, S): sum w_p w_p' K_pp'
    graph = csr_matrix(coupling > COUPLING_RTOL * coupling.max())
    n_sets, sheet_label = connected_components(graph, directed=False)
    return sheet_label[sheet], int(n_sets)


def solve_boltzmann(scat, source, sheet, tol=RESIDUAL_TOL, maxiter=None):
    """Solve :math:`\\sum_{p'} w_{p'}K_{pp'}(\\phi_p-\\phi_{p'}) = S_p` per column of ``source``.

    Parameters
    ----------
    scat : :class:`~boltzspin.scattering.Scattering`
    source : (N, m) array of right-hand sides ``S_p`` (e.g. ``q E . v_p``).
    sheet : (N,) sheet label of each point.

    Raises
    ------
    SolverError
        If some point has no scattering at all, or MINRES does not reach ``tol``.
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
    diag = w * rate - w * w * np.diag(scat.kernel)
    alpha = float(np.mean(diag))

    def apply(x):
        x = np.asarray(x).reshape(n)
        return w * rate * x - w * scat.matvec(w * x) + alpha * indicators @ (indicators.T @ x)

    op = sla.LinearOperator((n, n), matvec=apply, dtype=float)
    precond = sla.LinearOperator((n, n), matvec=lambda x: np.asarray(x).reshape(n) / diag, dtype=float)
    source = np.asarray(source, dtype=float).reshape(n, -1)
    phi = np.zeros_like(source)
    residuals = np.zeros(source.shape[1])
    iterations = np.zeros(source.shape[1], dtype=int)
    maxiter = maxiter or 20 * n + 1000
    for c in range(source.shape[1]):
        b = w * source[:, c]
        b = b - indicators @ (indicators.T @ b)
        bnorm = np.linalg.norm(b)
        if bnorm == 0:
            continue
        count = [0]

        def callback(_x):
            count[0] += 1

        # MINRES stops on its own residual estimate; iterative refinement on the
        # true residual makes the reported residual the one that is achieved.
        x = np.zeros(n)
        info = 0
        for _ in range(REFINEMENTS):
            r = b - apply(x)
            res = np.linalg.norm(r) / bnorm
            if res <= tol * 1e-2:
                break
            dx, info = sla.minres(op, r, M=precond, rtol=1e-3 * tol, maxiter=maxiter, callback=callback)
            x = x + dx
            x = x - indicators @ (indicators.T @ x)
        res = np.linalg.norm(apply(x) - b) / bnorm
        if not np.isfinite(res) or res > tol:
            raise SolverError(
                f"MINRES did not converge: relative residual {res:.3g} > {tol:g} after "
                f"{count[0]} iterations (info={info}). The collision kernel may be "
                "ill-conditioned; increase n_points or check the disorder."
            )
        # gauge: sum_{p in C} w_p phi_p = 0 on every coupled set
        mean = np.bincount(labels, weights=w * x, minlength=n_sets) / np.bincount(
            labels, weights=w, minlength=n_sets
        )
        phi[:, c] = x - mean[labels]
        residuals[c] = res
        iterations[c] = count[0]
    return BoltzmannSolution(phi, residuals, iterations, n_sets)
