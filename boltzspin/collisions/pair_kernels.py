r"""Numba kernels for first-Born pair sums over Fermi points.

All kernels handle one channel ``U(q) = f(q) M`` with a real profile
``f = 1`` (``kind = 0``), ``f = exp(-q^2 L^2/4)`` (``kind = 1``) or
``f = 2 pi/(|q| + q_TF)`` (``kind = 2``, screened Coulomb; the float
parameter ``length`` then holds ``q_TF``) and inputs

* ``u`` -- ``(N, n)`` eigenvectors ``u_p``; ``mu`` -- ``(N, n)`` vectors ``M u_p``;
* ``chi`` -- ``(N, D, n)`` interband derivatives; ``mchi`` -- ``M chi_p``;
* ``w`` -- weights, ``s`` -- ``s_p``.

For each pair (initial ``p``, final ``p'``) with ``V = f <u_p'|M u_p>``:
``K = pref |V|^2``, ``pref |V|^2 a^i = -pref Im[conj(V) f <chi^i_p'|M u_p>]``,
``pref |V|^2 b^i = -pref Im[conj(V) f <u_p'|M chi^i_p>]`` (documentation: Theory, "The conserved current"),
accumulated into ``ys[p] += w_p' (s_p' a + s_p b)`` and ``ysj[p] += w_p' (a + b)``.
Loops run in parallel over ``p`` (``numba.prange``); thread count is
``numba.get_num_threads()``, by default the number of cores, overridable
with the environment variable ``NUMBA_NUM_THREADS``.  ``fastmath`` lets
the compiler reorder the pair sums (round-off only; no inf/NaN occurs here).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(inline="always")
def _profile(kind, length, k, p, pp):
    if kind == 0:
        return 1.0
    q2 = 0.0
    for i in range(k.shape[1]):
        dq = k[pp, i] - k[p, i]
        q2 += dq * dq
    if kind == 2:
        return 2.0 * np.pi / (np.sqrt(q2) + length)
    return np.exp(-q2 * length * length / 4.0)


@numba.njit(inline="always")
def _pair(k, u, chi, w, s, mu, mchi, kind, length, pref, p, pp, ys, ysj):
    """Accumulate one (p <- p') pair into ys[p], ysj[p]; return K_{pp'}."""
    n = u.shape[1]
    f = _profile(kind, length, k, p, pp)
    v = 0j
    for a in range(n):
        v += np.conj(u[pp, a]) * mu[p, a]
    v *= f
    cvf = np.conj(v) * f
    for i in range(k.shape[1]):
        ta = 0j
        tb = 0j
        for a in range(n):
            ta += np.conj(chi[pp, i, a]) * mu[p, a]
            tb += np.conj(u[pp, a]) * mchi[p, i, a]
        ra = -pref * (cvf * ta).imag
        rb = -pref * (cvf * tb).imag
        ys[p, i] += w[pp] * (s[pp] * ra + s[p] * rb)
        ysj[p, i] += w[pp] * (ra + rb)
    return pref * (v.real * v.real + v.imag * v.imag)


@numba.njit(parallel=True, cache=True, fastmath=True)
def all_pairs(k, u, chi, w, s, mu, mchi, kind, length, pref, kmat, store, ys, ysj):
    """Every pair: side-jump sums, and the dense kernel into ``kmat`` if ``store``."""
    n_pts = u.shape[0]
    for p in numba.prange(n_pts):
        for pp in range(n_pts):
            kval = _pair(k, u, chi, w, s, mu, mchi, kind, length, pref, p, pp, ys, ysj)
            if store:
                kmat[p, pp] += kval


@numba.njit(parallel=True, cache=True, fastmath=True)
def listed_pairs(k, u, chi, w, s, mu, mchi, kind, length, pref, indptr, indices, data, ys, ysj):
    """Pairs of a CSR neighbour list: kernel values into ``data`` and side-jump sums."""
    n_pts = u.shape[0]
    for p in numba.prange(n_pts):
        for e in range(indptr[p], indptr[p + 1]):
            data[e] = _pair(k, u, chi, w, s, mu, mchi, kind, length, pref, p, indices[e], ys, ysj)


@numba.njit(parallel=True, cache=True, fastmath=True)
def kernel_matvec(k, u, mu, kind, length, pref, x, y):
    """``y += K x`` with ``K_{pp'} = pref f^2 |<u_p'|M u_p>|^2`` formed on the fly."""
    n_pts, n = u.shape
    m = x.shape[1]
    for p in numba.prange(n_pts):
        for pp in range(n_pts):
            f = _profile(kind, length, k, p, pp)
            v = 0j
            for a in range(n):
                v += np.conj(u[pp, a]) * mu[p, a]
            kval = pref * f * f * (v.real * v.real + v.imag * v.imag)
            for c in range(m):
                y[p, c] += kval * x[pp, c]
