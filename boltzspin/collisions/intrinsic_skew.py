r"""Fourth-order "intrinsic skew scattering" of Gaussian disorder: the antisymmetric rate.

For Gaussian disorder (every average of matrix elements taken pairwise, through the
second moments :meth:`~boltzspin.collisions.disorder.Disorder.channels`), the
golden-rule rate with the T-matrix to third order, ``T = V + V G_0 V + V G_0 V G_0 V``,
``G_0 = (e - H + i0)^-1``, has at fourth order in ``V`` and second order in the
impurity density an antisymmetric part (documentation: Theory, "Skew scattering";
our derivation).  Of the pairings of the four ``V`` only the non-crossing ones are
kept (the crossed ones are the pair skew scattering of close impurities).  With the
disorder-averaged self-energy split into its Hermitian (principal-value) and
anti-Hermitian parts, ``Sigma = Sigma^H - i Gamma``, the Hermitian part only
renormalizes the band states and gives a *symmetric* correction to the rate; the
antisymmetric rate for ``l -> l'`` is, per pair of channels ``(alpha, beta)`` with
prefactors ``c = 2 pi n_imp c_a`` (:class:`~boltzspin.collisions.disorder.Channel`),

.. math::

    w^{(4a)}_{l'l} &= 2 c_\alpha\,\mathrm{Im}\Big[U^\alpha_{ll'}\big(
        \langle u_{l'}|\Gamma\,Q_{l'}U^\alpha|u_l\rangle
        + \langle u_{l'}|U^\alpha Q_l\,\Gamma|u_l\rangle\big)\Big]\\
    &\quad - c_\alpha c_\beta \sum_{l''}\delta(e_{l''} - e)\sum_{m\neq n''}
        \frac{\mathrm{Im}\big[U^\alpha_{l'm}U^\beta_{ml}U^\beta_{ll''}U^\alpha_{l''l'}\big]}{e - e_m(k'')},

with ``Gamma(k) = sum_beta (c_beta/2) sum_l'' delta(e_l'' - e) U^beta(k - k'') |u_l''><u_l''|
U^beta(k'' - k)`` the anti-Hermitian part of the Born self-energy (``1/(2 tau)`` on the
diagonal), ``Q_l = sum_{m != n} |u_m(k)><u_m(k)| / (e - e_m(k))`` the reduced resolvent
at the state's own momentum, and ``m`` in the last term a band at the momentum ``k''``
of the on-shell state ``l''``.  The first line is the Born rate between the states
dressed by ``-i Gamma`` (the pairings that put a self-energy on an external leg), the
second the interference of the direct amplitude with double scattering through an
off-shell state of another band (the pairing that joins the first scattering of the
amplitude with that of its conjugate).  Momentum conservation of each pair fixes
every intermediate momentum to a Fermi momentum, so the off-shell states are the
*other bands at Fermi momenta*: no integral over the band structure remains, and
bands filled to infinity need no cutoff.  Both terms are antisymmetric in
``l <-> l'``.  The rate is of order ``n_imp^2 U^4``, so the distribution it drives is
independent of ``n_imp`` (the ``intrinsic_skew`` contribution of
:func:`boltzspin.transport`).

On the discretized Fermi surface ``sum_l'' delta(e_l'' - e) -> sum_p'' w_p''``.  The
operator is the antisymmetric collision integral

.. math:: S_p[x] = \sum_{p'} w_{p'}\big(W_{pp'} x_{p'} - W_{p'p} x_p\big)

(the out-scattering sum vanishes in the continuum limit; it is kept, so that the
dipole-change identity stays exact on every discretization).  Two forms:

``"lowrank"``
    q-independent channels ``U_a = M_a``: ``Gamma = sum_b (c_b/2) M_b R M_b`` with
    ``R = sum_p'' w_p'' |u_p''><u_p''|`` is one ``n x n`` matrix, and the second term
    needs only the ``n^4`` tensor ``T = sum_p'' w_p'' Q_p'' (x) |u_p''><u_p''|``; the
    operator is applied in O(N n^2 + n^4) per column without forming ``W``.
``"dense"``
    any ``U(q)``: with ``V^a[p, p'', m] = <u_p|U_a(k_p - k_p'')|u_m(k_p'')>`` for every band
    ``m`` at every Fermi momentum, the second term is one matrix product ``L R^T`` of
    ``N x (N n)`` matrices: O(N^3 n) time and O(N^2 n) memory.

Units: hbar = 1; ``W`` in energy x area (2D), as the first-Born kernel ``K``.
"""

from __future__ import annotations

import numpy as np

from .. import resources
from ..errors import DisorderError
from .skew import _profile

__all__ = ["IntrinsicSkewOperator", "LowRankIntrinsicSkew", "intrinsic_skew_scattering", "estimate",
           "INTRINSIC_SKEW_METHODS", "DEGENERACY_RTOL"]

INTRINSIC_SKEW_METHODS = ("auto", "lowrank", "dense")

#: Another band closer to the Fermi energy than this fraction of the band energies' scale at a
#: Fermi momentum makes ``1/(e - e_m)`` meaningless (a band touching the Fermi surface there).
DEGENERACY_RTOL = 1e-8


class IntrinsicSkewOperator:
    """The fourth-order antisymmetric rate ``W[p', p]`` (final, initial) on one Fermi surface.

    Parameters
    ----------
    weight : (N,) array
        Fermi-surface weights ``w_p``.
    rate : (N, N) array
        Antisymmetric rate ``W`` (energy x area in 2D).
    scale : float
        Bound on ``|W|`` from the magnitudes of its terms (sets its round-off).
    """

    method = "dense"

    def __init__(self, weight, rate, scale):
        self.weight, self.rate, self.scale = weight, rate, float(scale)
        self.out = weight @ rate  # sum_p' w_p' W[p', p]

    @property
    def shape(self):
        return self.rate.shape

    def matrix(self):
        """``W`` as an ``N x N`` array, rows final and columns initial states."""
        return self.rate

    def matvec(self, x):
        r""":math:`S_p[x] = \sum_{p'} w_{p'}(W_{pp'} x_{p'} - W_{p'p} x_p)` for ``x`` of shape ``(N,)`` or ``(N, m)``."""
        x = np.asarray(x, dtype=float)
        x2 = x.reshape(len(x), -1)
        y = self.rate @ (self.weight[:, None] * x2) - self.out[:, None] * x2
        return y.reshape(x.shape)

    def source_bound(self, x):
        """``2 scale * sum_p w_p * sum_p' w_p' |x_p'|`` per column: bounds ``|S_p[x]|`` (round-off)."""
        x2 = np.abs(np.asarray(x, dtype=float).reshape(len(self.weight), -1))
        return 2 * self.scale * self.weight.sum() * (self.weight @ x2)


class LowRankIntrinsicSkew:
    """The fourth-order antisymmetric rate of q-independent channels, applied without forming it.

    Parameters
    ----------
    weight : (N,) array
        Fermi-surface weights ``w_p``.
    u : (N, n) array
        Fermi-point eigenvectors ``u_p``.
    gamma_vectors : (N, n) array
        ``|gamma_p> = Q_p Gamma |u_p>``.
    matrices : list of (float, (n, n) array)
        ``(c_a, M_a)`` per channel.
    tensor : (n, n, n, n) array
        ``T[a, b, c, d] = sum_p'' w_p'' (Q_p'')_ab (|u_p''><u_p''|)_cd``.
    scale : float
        Bound on ``|W|`` (sets the round-off of :meth:`matvec`).
    """

    method = "lowrank"

    def __init__(self, weight, u, gamma_vectors, matrices, tensor, scale):
        self.weight, self.u, self.gv, self.matrices, self.tensor = weight, u, gamma_vectors, matrices, tensor
        self.scale = float(scale)
        self.out = -self._in(np.ones((len(weight), 1)))[:, 0]  # W antisymmetric: out = -in[1]

    @property
    def shape(self):
        return (len(self.weight), len(self.weight))

    def _in(self, x2):
        """``sum_p' w_p' W[p, p'] x_p'`` for ``x2`` of shape ``(N, m)``."""
        u, gv, w = self.u, self.gv, self.weight
        wx = w[:, None] * x2
        xm = np.einsum("pc,pa,pb->cab", wx, u, u.conj())  # X = sum w x |u><u|
        ym = np.einsum("pc,pa,pb->cab", wx, gv, u.conj())  # Y = sum w x |gamma><u|
        zm = sum(c * m @ xm @ m for c, m in self.matrices)  # Z = sum_b c_b M_b X M_b
        hm = np.einsum("abcd,jbc->jad", self.tensor, zm)
        out = np.zeros(x2.shape)
        for c, m in self.matrices:
            lu, mu_ = u.conj() @ m, u @ m.T  # <u_p|M, M|u_p>
            lg = gv.conj() @ m  # <gamma_p|M
            first = np.einsum("pa,jab,pb->pj", lg, xm, mu_, optimize=True) \
                + np.einsum("pa,jab,pb->pj", lu, ym, mu_, optimize=True)
            second = np.einsum("pa,jab,pb->pj", lu, hm, mu_, optimize=True)
            out += 2 * c * first.imag - c * second.imag
        return out

    def matvec(self, x):
        r""":math:`S_p[x] = \sum_{p'} w_{p'}(W_{pp'} x_{p'} - W_{p'p} x_p)` for ``x`` of shape ``(N,)`` or ``(N, m)``."""
        x = np.asarray(x, dtype=float)
        x2 = x.reshape(len(x), -1)
        return (self._in(x2) - self.out[:, None] * x2).reshape(x.shape)

    def matrix(self):
        """``W[p', p]`` (final, initial) as an ``N x N`` array, column by column (tests, small N)."""
        n = len(self.weight)
        eye = np.eye(n) / self.weight[None, :]
        return self._in(eye)

    def source_bound(self, x):
        """``2 scale * sum_p w_p * sum_p' w_p' |x_p'|`` per column: bounds ``|S_p[x]|`` (round-off)."""
        x2 = np.abs(np.asarray(x, dtype=float).reshape(len(self.weight), -1))
        return 2 * self.scale * self.weight.sum() * (self.weight @ x2)


def estimate(n_fermi, n_bands, n_channels):
    """Resource estimate of the operator on ``n_fermi`` points.

    Memory: the band-resolved pair tensors (``n_channels`` of ``N^2 n`` complex, and ``U(q)`` of
    every pair, ``16 n^2 N^2`` bytes) and the factors ``L, R``; time: one ``N x N n`` product.

    Parameters
    ----------
    n_fermi : float
        Number of Fermi points ``N``.
    n_bands : int
        Number of bands ``n``.
    n_channels : int
        Number of disorder channels (second-moment components).

    Returns
    -------
    boltzspin.resources.Estimate
        Bytes and seconds.
    """
    n = float(n_fermi)
    return resources.Estimate(
        "intrinsic skew scattering", n * n * (16 * n_bands * (n_channels + 4) + 16 * n_bands**2 + 48),
        n**3 * n_bands * 3e-9 + n * n * n_bands * n_bands * n_channels * 4e-9,
        f"{n_fermi:.4g} Fermi points, {n_bands} bands, {n_channels} disorder channel(s) "
        "(O(N^3 n) time, O(N^2 n) memory)")


def _band_pairs(channel, k, u, vectors):
    """``V[p, p'', m] = <u_p|U(k_p - k_p'')|u_m(k_p'')>`` for every band ``m``."""
    q = k[:, None, :] - k[None, :, :]
    if channel.function is not None:
        um = np.asarray(channel.function(q), dtype=complex)
        return np.einsum("pa,pqab,qbm->pqm", u.conj(), um, vectors, optimize=True)
    left = u.conj() @ np.asarray(channel.matrix, dtype=complex)  # <u_p| M
    v = np.einsum("pb,qbm->pqm", left, vectors, optimize=True)
    if channel.kind:
        v *= _profile(channel.kind, channel.parameter, q)[:, :, None]
    return v


def lowrank_applies(disorder, model):
    """True when every channel of ``disorder`` is q-independent (the low-rank form applies).

    Parameters
    ----------
    disorder : Disorder
        The disorder species or mixture.
    model : Model
        The band model.

    Returns
    -------
    bool
        Whether :func:`intrinsic_skew_scattering` can use ``method="lowrank"``.
    """
    return all(ch.function is None and not ch.kind for ch in disorder.channels(model))


def intrinsic_skew_scattering(fs, disorder, model, method="auto"):
    """Build the fourth-order antisymmetric rate operator of ``disorder`` on Fermi surface ``fs``.

    Parameters
    ----------
    fs : FermiSurface
        Discretized Fermi surface (points, weights, eigenvectors of every band).
    disorder : Disorder
        Its second moments (:meth:`~boltzspin.collisions.disorder.Disorder.channels`)
        define the Gaussian disorder.
    model : Model
        The band model.
    method : {"auto", "lowrank", "dense"}
        ``"auto"``: low rank when every channel is q-independent, dense otherwise;
        ``"lowrank"`` refuses q-dependent channels.

    Returns
    -------
    IntrinsicSkewOperator or LowRankIntrinsicSkew
        The antisymmetric fourth-order rate on the Fermi surface.

    Raises
    ------
    DisorderError
        If another band is degenerate with the Fermi energy at a Fermi momentum, for
        ``method="lowrank"`` with a q-dependent channel, or for an unknown method.
    ResourceError
        If the dense operator would exceed the memory or time budget.
    """
    if method not in INTRINSIC_SKEW_METHODS:
        raise DisorderError(f"intrinsic skew method={method!r} is not one of {INTRINSIC_SKEW_METHODS}")
    lowrank = lowrank_applies(disorder, model)
    if method == "lowrank" and not lowrank:
        raise DisorderError("a disorder channel depends on the momentum transfer, so the intrinsic skew rate has "
                            "no low-rank form; use method='dense' or 'auto'")
    es = fs.eigensystem
    vectors = np.ascontiguousarray(es.vectors)  # (N, n, n), column m = u_m(k_p)
    band = fs.band
    n_pts, n = len(band), vectors.shape[-1]
    u = np.take_along_axis(vectors, band[:, None, None], axis=2)[:, :, 0]
    w = np.ascontiguousarray(fs.weight)
    k = np.ascontiguousarray(fs.k)
    channels = disorder.channels(model)
    dense = method == "dense" or not lowrank
    if dense:
        resources.check(estimate(n_pts, n, len(channels)))
    gap = fs.mu - es.energies  # (N, n): e - e_m(k_p)
    own = np.zeros((n_pts, n), dtype=bool)
    own[np.arange(n_pts), band] = True
    energy_scale = max(float(np.abs(es.energies).max()), abs(fs.mu), 1e-300)
    close = (~own) & (np.abs(gap) <= DEGENERACY_RTOL * energy_scale)
    if np.any(close):
        p = int(np.argwhere(close)[0, 0])
        raise DisorderError(
            f"another band is degenerate with the Fermi energy mu={fs.mu:g} at the Fermi momentum "
            f"k={np.array2string(k[p], precision=6)} (two Fermi sheets touch there), so the off-shell "
            "interband propagator 1/(e - e_m) of intrinsic skew scattering diverges; move mu away from "
            "the touching point or use scattering=('skew_scattering',) without 'intrinsic_skew'"
        )
    inv = np.where(own, 0.0, 1.0 / np.where(own, 1.0, gap))  # 1/(e - e_m), 0 on the own band
    if not dense:
        return _lowrank(w, u, vectors, inv, channels)
    idx = np.arange(n_pts)
    gamma = np.zeros((n_pts, n), dtype=complex)  # Gamma[p, m] = <u_m(k_p)|Gamma(k_p)|u_p>
    left = np.zeros((n_pts, n_pts, n), dtype=complex)
    right = np.zeros((n_pts, n_pts, n), dtype=complex)
    pairs = []
    for ch in channels:
        v = _band_pairs(ch, k, u, vectors)
        on = v[:, idx, band]  # [p, p''] = <u_p|U|u_p''>
        gamma += 0.5 * ch.prefactor * np.einsum("q,qpm,qp->pm", w, v.conj(), on, optimize=True)
        left += ch.prefactor * v * (on.conj()[:, :, None] * (w[:, None] * inv)[None, :, :])
        right += ch.prefactor * v.conj() * on[:, :, None]
        pairs.append((ch.prefactor, v, on))
    # second line: -Im sum_{p'', m} L[p', (p'', m)] R[p, (p'', m)]
    rate = -(left.reshape(n_pts, -1) @ right.reshape(n_pts, -1).T).imag
    scale = float(np.abs(left).sum(axis=(1, 2)).max() * np.abs(right).sum(axis=(1, 2)).max())
    del left, right
    g = gamma * inv  # |gamma_p> = sum_m |u_m(k_p)> g[p, m]
    for pref, v, on in pairs:
        a = np.einsum("xym,ym->xy", v, g, optimize=True)  # <u_p'|U Q_p Gamma|u_p>
        b = np.einsum("yxm,xm->xy", v.conj(), g.conj(), optimize=True)  # <gamma_p'|U|u_p>
        term = 2 * pref * on.T * (a + b)
        rate += term.imag
        scale += float(np.abs(term).max())
    return IntrinsicSkewOperator(w, rate, scale)


def _lowrank(w, u, vectors, inv, channels):
    """:class:`LowRankIntrinsicSkew` of q-independent channels."""
    mats = [(ch.prefactor, np.asarray(ch.matrix, dtype=complex)) for ch in channels]
    r = np.einsum("p,pa,pb->ab", w, u, u.conj())
    gmat = sum(0.5 * c * m @ r @ m for c, m in mats)  # Gamma, the same at every k
    # |gamma_p> = Q_p Gamma |u_p> = sum_m |u_m(k_p)> <u_m(k_p)|Gamma|u_p> / (e - e_m(k_p))
    gam = np.einsum("pam,ab,pb->pm", vectors.conj(), gmat, u, optimize=True) * inv
    gv = np.einsum("pam,pm->pa", vectors, gam, optimize=True)
    # T[a, b, c, d] = sum_p'' w (Q_p'')_ab (|u_p''><u_p''|)_cd
    q = np.einsum("pam,pm,pbm->pab", vectors, inv, vectors.conj(), optimize=True)
    tensor = np.einsum("p,pab,pc,pd->abcd", w, q, u, u.conj(), optimize=True)
    qmax = float(np.abs(inv).max())
    m2 = sum(c * np.linalg.norm(m, 2) ** 2 for c, m in mats)
    scale = 2 * m2 * np.linalg.norm(gmat, 2) * qmax + m2 * m2 * float(w.sum()) * qmax
    return LowRankIntrinsicSkew(w, u, gv, mats, tensor, scale)
