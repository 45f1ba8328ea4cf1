r"""Third-order skew scattering: the antisymmetric rate on the Fermi surface.

The golden-rule rate with the T-matrix to second order, ``T = U + U G_0 U``,
``G_0 = (e - H + i0)^-1``, averaged over the positions of identical impurities,
has at third order in ``U`` the antisymmetric part (documentation: Theory,
"Skew scattering")

.. math::

    w^{(3a)}_{l'l} = (2\pi)^2 n_\mathrm{imp} \sum_{l''} \delta(e_{l''} - e_l)\,
        \mathrm{Im}\,\langle U_{ll'} U_{l'l''} U_{l''l}\rangle\;\delta(e_{l'} - e_l),

for the transition ``l -> l'`` (the principal part of ``G_0`` gives a symmetric
correction to the Born rate, which is dropped: it renormalizes ``1/tau`` at
relative order ``U``).  On the discretized Fermi surface
``sum_{l''} delta(e'' - e) -> sum_p'' w_p''`` and, per :class:`ThirdMoment` term
``prefactor * A B C``,

.. math::

    W^a_{p'p} = \mathrm{prefactor}\,\sum_{p''} w_{p''}\,
        \mathrm{Im}\big(A_{pp'} B_{p'p''} C_{p''p}\big).

Exact identities (tested): ``W^a`` is antisymmetric for identical matrices
``A = B = C``, and ``sum_p' w_p' W^a_{p'p} = 0`` for every ``p`` (the
out-scattering rate has no third-order antisymmetric part: the double sum over
``p', p''`` is real).  So the antisymmetric rate enters the collision integral
only through in-scattering, and the operator applied here is

.. math:: S_p[x] = \sum_{p'} w_{p'} W^a_{pp'} x_{p'}

(the rate *into* ``p``).  Two forms:

``"lowrank"``
    q-independent terms: ``sum_p'' w |u_p''><u_p''| = R`` is one ``n x n`` matrix, and
    ``S_p[x] = prefactor Im <u_p| B R C X A |u_p>`` with ``X = sum_p' w_p' x_p' |u_p'><u_p'|``:
    O(N n^2) time and memory, exact.
``"dense"``
    any ``U(q)``: the ``N x N`` matrices ``V^X_{pp'} = <u_p|X(k_p - k_p')|u_p'>`` and
    ``W^a = prefactor Im(V^A^T o (V^B diag(w) V^C))``, O(N^3) time (one matrix product)
    and O(N^2) memory; the intermediate-state sum does not factor when ``U`` depends on
    the momentum transfer.

Units: hbar = 1; ``W^a`` in energy x area (2D), as the first-Born kernel ``K``.
"""

from __future__ import annotations

import numpy as np

from .. import resources
from ..errors import DisorderError
from .disorder import PROFILE_CONSTANT, PROFILE_GAUSSIAN, PROFILE_SCREENED_COULOMB

__all__ = ["SkewOperator", "skew_scattering", "SKEW_METHODS"]

SKEW_METHODS = ("auto", "lowrank", "dense")


class _LowRankSkew:
    """One q-independent term: ``S_p[x] = pref Im <u_p| N X A |u_p>``, ``N = B R C``."""

    def __init__(self, pref, a, b, c, u, w):
        self.pref, self.a, self.u, self.w = pref, a, u, w
        r = np.einsum("p,pa,pb->ab", w, u, u.conj())
        self.n_mat = b @ r @ c
        self.left = u.conj() @ self.n_mat  # rows <u_p| N
        self.au = u @ a.T  # A |u_p>

    def matvec(self, x):
        x2 = x.reshape(len(x), -1)
        xm = np.einsum("pc,pa,pb->cab", self.w[:, None] * x2, self.u, self.u.conj())
        y = self.pref * np.einsum("pa,cab,pb->pc", self.left, xm, self.au).imag
        return y.reshape(x.shape)

    def matrix(self):
        """``W^a[p', p]`` (final, initial)."""
        amat = self.u.conj() @ self.a @ self.u.T  # <u_p|A|u_p'>  [p, p']
        nmat = self.u.conj() @ self.n_mat @ self.u.T  # <u_p'|N|u_p>  [p', p]
        return self.pref * (amat.T * nmat).imag


class _DenseSkew:
    def __init__(self, wa, w):
        self.wa, self.w = wa, w

    def matvec(self, x):
        x2 = x.reshape(len(x), -1)
        return (self.wa @ (self.w[:, None] * x2)).reshape(x.shape)

    def matrix(self):
        return self.wa


def _profile(kind, parameter, q):
    q2 = np.sum(q * q, axis=-1)
    if kind == PROFILE_CONSTANT:
        return np.ones(q.shape[:-1])
    if kind == PROFILE_GAUSSIAN:
        return np.exp(-q2 * parameter**2 / 4)
    if kind == PROFILE_SCREENED_COULOMB:
        return 2 * np.pi / (np.sqrt(q2) + parameter)
    raise DisorderError(f"unknown profile kind {kind!r}")


def _pair_matrices(term, k, u):
    """``V^A, V^B, V^C`` with ``V^X[p, p'] = <u_p|X(k_p - k_p')|u_p'>``."""
    q = k[:, None, :] - k[None, :, :]
    if term.function is not None:
        um = np.asarray(term.function(q), dtype=complex)
        v = np.einsum("pa,pqab,qb->pq", u.conj(), um, u)
        return v, v, v
    f = _profile(term.kind, term.parameter, q)
    out = [f * (u.conj() @ np.asarray(m, dtype=complex) @ u.T) for m in term.matrices]
    return tuple(out)


class SkewOperator:
    """The third-order antisymmetric rate on one Fermi surface.

    Attributes
    ----------
    weight : (N,) Fermi-surface weights ``w_p``.
    methods : the form (``"lowrank"`` or ``"dense"``) of each :class:`ThirdMoment` term.
    scale : ``sum_t |prefactor_t| max|V^A| max|V^B| max|V^C|``, the bound on ``|W^a|`` that
        sets the round-off of :meth:`matvec` (:meth:`source_bound`).
    """

    def __init__(self, weight, parts, methods, scale=0.0):
        self.weight, self.parts, self.methods, self.scale = weight, parts, methods, scale

    def source_bound(self, x):
        """``scale * sum_p w_p * sum_p' w_p' |x_p'|`` per column: bounds ``|S_p[x]|`` and sets its round-off."""
        x2 = np.abs(np.asarray(x, dtype=float).reshape(len(self.weight), -1))
        return self.scale * self.weight.sum() * (self.weight @ x2)

    @property
    def shape(self):
        return (len(self.weight), len(self.weight))

    def matvec(self, x):
        r""":math:`S_p[x] = \sum_{p'} w_{p'} W^a_{pp'} x_{p'}` for ``x`` of shape ``(N,)`` or ``(N, m)``."""
        x = np.asarray(x, dtype=float)
        if not self.parts:
            return np.zeros_like(x)
        return sum(part.matvec(x) for part in self.parts)

    def matrix(self):
        """``W^a`` as an ``N x N`` array, rows final and columns initial states (tests, small N)."""
        n = len(self.weight)
        return sum((part.matrix() for part in self.parts), np.zeros((n, n)))


def estimate(n_fermi, n_bands, n_dense):
    """Resource estimate of ``n_dense`` dense (q-dependent) skew terms on ``n_fermi`` points.

    Memory: the momentum transfers and ``U(q)`` of every pair (``8 D N^2 + 16 n^2 N^2`` bytes),
    three complex pair matrices, the product and the summed real ``W^a`` (``88 N^2``); time: one
    complex ``N x N`` matrix product per term.
    """
    n = float(n_fermi)
    pairs = n * n if n_dense else 0.0
    return resources.Estimate(
        "skew scattering", pairs * (88 + 24 + 16 * n_bands * n_bands),
        n_dense * (n**3 * 8e-10 + n * n * n_bands * n_bands * 2e-9),
        f"{n_fermi:.4g} Fermi points, {n_dense} q-dependent third-moment term(s) (dense, O(N^3) time, "
        "O(N^2) memory)")


def dense_terms(disorder, model, method="auto"):
    """Number of third-moment terms of ``disorder`` that need the dense O(N^3) form."""
    if method == "dense":
        return len(disorder.third_moments(model))
    return sum(1 for t in disorder.third_moments(model) if t.function is not None or t.kind != PROFILE_CONSTANT)


def skew_scattering(fs, disorder, model, method="auto"):
    """Build the :class:`SkewOperator` of ``disorder`` on Fermi surface ``fs``.

    Parameters
    ----------
    fs : FermiSurface
        Discretized Fermi surface (points, weights, eigenvectors).
    disorder : Disorder
        Its :meth:`~boltzspin.collisions.disorder.Disorder.third_moments` give the terms.
    model : Model
        The band model (orbital count).
    method : {"auto", "lowrank", "dense"}
        ``"auto"``: low-rank for q-independent terms, dense otherwise.  ``"lowrank"``
        refuses a q-dependent term; ``"dense"`` forms every term as a matrix.

    Raises
    ------
    DisorderError
        For ``method="lowrank"`` with a q-dependent third moment, or an unknown method.
    ResourceError
        If the dense terms would exceed the memory or time budget.
    """
    if method not in SKEW_METHODS:
        raise DisorderError(f"skew method={method!r} is not one of {SKEW_METHODS}")
    es = fs.eigensystem
    u = np.ascontiguousarray(np.take_along_axis(es.vectors, fs.band[:, None, None], axis=2)[:, :, 0])
    w = np.ascontiguousarray(fs.weight)
    k = np.ascontiguousarray(fs.k)
    terms = disorder.third_moments(model)
    constant = [t.function is None and t.kind == PROFILE_CONSTANT for t in terms]
    if method == "lowrank" and not all(constant):
        bad = terms[constant.index(False)]
        raise DisorderError(
            f"the third moment of {bad.label} depends on the momentum transfer, so its skew rate has no "
            "low-rank form; use method='dense' or 'auto' for the skew-scattering operator"
        )
    kinds = ["lowrank" if c and method != "dense" else "dense" for c in constant]
    resources.check(estimate(len(w), model.n_bands, kinds.count("dense")))
    parts, dense, scale = [], None, 0.0
    for term, kind in zip(terms, kinds):
        if kind == "lowrank":
            a, b, c = (np.asarray(m, dtype=complex) for m in term.matrices)
            parts.append(_LowRankSkew(term.prefactor, a, b, c, u, w))
            scale += abs(term.prefactor) * np.prod([np.linalg.norm(m, 2) for m in (a, b, c)])
            continue
        va, vb, vc = _pair_matrices(term, k, u)
        wa = term.prefactor * (va.T * (vb @ (w[:, None] * vc))).imag
        dense = wa if dense is None else dense + wa
        scale += abs(term.prefactor) * np.prod([np.abs(m).max() for m in (va, vb, vc)])
    if dense is not None:
        parts.append(_DenseSkew(dense, w))
    return SkewOperator(w, parts, kinds, float(scale))
