r"""First-Born scattering on the Fermi surface: rates and coordinate shifts.

For Fermi points ``p`` (initial ``l``) and ``p'`` (final ``l'``), with
:math:`V_{p'p} = \langle u_{p'}|U(k_{p'}-k_p)|u_p\rangle` summed over the
disorder's channels (THEORY.md sections 4 and 6):

* kernel :math:`K_{pp'} = \sum_a 2\pi n_\mathrm{imp} c_a |V^a_{p'p}|^2` (symmetric);
* coordinate shift, multiplied out so that no ``1/V`` appears,

  .. math::

      |V|^2 (A_{l'} - \partial_{k'}\arg V) &= -\mathrm{Im}\,\bar V\,
          \big(\langle\chi_{l'}|U|u_l\rangle + \langle u_{l'}|\nabla U|u_l\rangle\big)\\
      |V|^2 (-A_{l} - \partial_{k}\arg V) &= -\mathrm{Im}\,\bar V\,
          \big(\langle u_{l'}|U|\chi_l\rangle - \langle u_{l'}|\nabla U|u_l\rangle\big)

  with :math:`|\chi^i_l\rangle = \sum_{m\ne n}|u_m\rangle v^i_{mn}/(e_n-e_m)`
  (:func:`boltzspin.bands.interband_derivative`);
* the s side-jump velocity
  :math:`Y^s_p = \sum_{p'} w_{p'}\,[K\,dr^s]_{p'p}`, with
  :math:`dr^s_{l'l} = s_{l'}(A_{l'}-\partial_{k'}\arg V) + s_l(-A_l-\partial_k\arg V)`,
  and the charge one :math:`v^{sj}_p` (``s = 1``).

Pair sums are contracted as they are formed: only the ``N x N`` kernel and
``N x D`` vectors are stored, never ``N x N x D``.  Profile x matrix channels
use a parallel numba kernel (threads: ``NUMBA_NUM_THREADS``, which defaults to
the number of cores); general ``U(q)`` callables are evaluated in row blocks.

Units: hbar = 1; ``K`` in energy x area (2D), ``Y`` in [s] x velocity x ...
such that ``sum_p w_p phi_p Y_p`` is a current.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .bands import expectation, interband_derivative, s_dipole
from .disorder import PROFILE_GAUSSIAN

__all__ = ["Scattering", "scattering"]


@numba.njit(parallel=True, cache=True)
def _profile_pairs(k, u, chi, w, s, mu, mchi, kind, length, pref, kmat, ys, ysj):
    n_pts, n = u.shape
    dim = k.shape[1]
    for p in numba.prange(n_pts):
        for pp in range(n_pts):
            f = 1.0
            if kind == 1:
                q2 = 0.0
                for i in range(dim):
                    dq = k[pp, i] - k[p, i]
                    q2 += dq * dq
                f = np.exp(-q2 * length * length / 4.0)
            v = 0j
            for a in range(n):
                v += np.conj(u[pp, a]) * mu[p, a]
            v *= f
            kmat[p, pp] += pref * (v.real * v.real + v.imag * v.imag)
            cvf = np.conj(v) * f
            for i in range(dim):
                ta = 0j
                tb = 0j
                for a in range(n):
                    ta += np.conj(chi[pp, i, a]) * mu[p, a]
                    tb += np.conj(u[pp, a]) * mchi[p, i, a]
                ra = -pref * (cvf * ta).imag
                rb = -pref * (cvf * tb).imag
                ys[p, i] += w[pp] * (s[pp] * ra + s[p] * rb)
                ysj[p, i] += w[pp] * (ra + rb)


def _fd_gradient(func, q, h):
    """Fourth-order central difference of ``func`` at ``q``: ``(..., D, n, n)``."""
    out = []
    for i in range(q.shape[-1]):
        e = np.zeros(q.shape[-1])
        e[i] = h
        out.append((-func(q + 2 * e) + 8 * func(q + e) - 8 * func(q - e) + func(q - 2 * e)) / (12 * h))
    return np.stack(out, axis=-3)


def _callable_pairs(channel, k, u, chi, w, s, kmat, ys, ysj, block=64):
    """Blocked NumPy evaluation for a general matrix-valued ``U(q)``."""
    n_pts = len(w)
    uc = u.conj()
    for start in range(0, n_pts, block):
        rows = slice(start, min(start + block, n_pts))
        q = k[None, :, :] - k[rows, None, :]  # k_{p'} - k_p, (B, N, D)
        um = channel.function(q)  # (B, N, n, n)
        if channel.gradient is not None:
            gm = np.asarray(channel.gradient(q), dtype=complex)
        else:
            gm = _fd_gradient(channel.function, q, channel.fd_step)  # (B, N, D, n, n)
        mu_ = np.einsum("pqab,pb->pqa", um, u[rows])  # U(k_p' - k_p) u_p
        v = np.einsum("qa,pqa->pq", uc, mu_)
        kmat[rows] += channel.prefactor * np.abs(v) ** 2
        t_a = np.einsum("qia,pqa->pqi", chi.conj(), mu_)
        t_b = np.einsum("qa,pqab,pib->pqi", uc, um, chi[rows])
        t_g = np.einsum("qa,pqiab,pb->pqi", uc, gm, u[rows])
        cv = v.conj()[..., None]
        ra = -channel.prefactor * np.imag(cv * (t_a + t_g))
        rb = -channel.prefactor * np.imag(cv * (t_b - t_g))
        ys[rows] += np.einsum("q,pqi->pi", w * s, ra) + s[rows, None] * np.einsum("q,pqi->pi", w, rb)
        ysj[rows] += np.einsum("q,pqi->pi", w, ra + rb)


@dataclass
class Scattering:
    """Collision data on one Fermi surface for one disorder and observable.

    Attributes
    ----------
    weight : (N,) Fermi-surface weights ``w_p``.
    kernel : (N, N) symmetric ``K_{pp'}``.
    s : (N,) ``s_p = <u_p|s|u_p>``.
    s_dipole : (N, D) ``d^s_p``.
    side_jump_velocity_s : (N, D) ``Y^s_p``.
    side_jump_velocity : (N, D) ``v^sj_p`` (charge coordinate shift, s = 1).
    kernel_asymmetry : ``max|K - K^T| / max|K|`` before symmetrization
        (round-off for Hermitian potentials).
    """

    weight: np.ndarray
    kernel: np.ndarray
    s: np.ndarray
    s_dipole: np.ndarray
    side_jump_velocity_s: np.ndarray
    side_jump_velocity: np.ndarray
    kernel_asymmetry: float = 0.0

    def matvec(self, x):
        """``K @ x`` for ``x`` of shape ``(N,)`` or ``(N, m)``."""
        return self.kernel @ x

    @property
    def out_rate(self):
        """``1/tau_p = sum_p' w_p' K_pp'`` (total out-scattering rate)."""
        return self.matvec(self.weight)

    def dipole_change_velocity(self):
        r""":math:`\sum_{p'} w_{p'} K_{pp'} (d^s_{p'} - d^s_p)`, shape ``(N, D)``."""
        return self.matvec(self.weight[:, None] * self.s_dipole) - self.out_rate[:, None] * self.s_dipole


def scattering(fs, disorder, model, s_matrix):
    """Build :class:`Scattering` for Fermi surface ``fs``.

    ``s_matrix`` is the observable's ``(n, n)`` matrix.
    """
    es = fs.eigensystem
    band = fs.band
    n_pts, dim = fs.k.shape
    u = np.ascontiguousarray(np.take_along_axis(es.vectors, band[:, None, None], axis=2)[:, :, 0])
    chi = np.ascontiguousarray(interband_derivative(es, band))  # (N, D, n)
    sdiag = np.take_along_axis(expectation(es, s_matrix), band[:, None], axis=1)[:, 0]
    dip = np.take_along_axis(s_dipole(es, s_matrix), band[:, None, None], axis=1)[:, 0, :]
    w = np.ascontiguousarray(fs.weight)
    k = np.ascontiguousarray(fs.k)
    kmat = np.zeros((n_pts, n_pts))
    ys = np.zeros((n_pts, dim))
    ysj = np.zeros((n_pts, dim))
    for ch in disorder.channels(model):
        if ch.function is None:
            m = np.asarray(ch.matrix, dtype=complex)
            mu = np.ascontiguousarray(u @ m.T)
            mchi = np.ascontiguousarray(chi @ m.T)
            kind = 1 if ch.kind == PROFILE_GAUSSIAN else 0
            _profile_pairs(k, u, chi, w, sdiag, mu, mchi, kind, ch.parameter, ch.prefactor, kmat, ys, ysj)
        else:
            _callable_pairs(ch, k, u, chi, w, sdiag, kmat, ys, ysj)
    scale = max(np.abs(kmat).max(initial=0.0), 1e-300)
    asym = float(np.abs(kmat - kmat.T).max(initial=0.0) / scale)
    kmat = 0.5 * (kmat + kmat.T)  # exact symmetry; the asymmetry removed is reported
    return Scattering(w, kmat, sdiag, dip, ys, ysj, asym)
