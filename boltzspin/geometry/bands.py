r"""Eigen-data and band geometry (documentation: Theory, "Band geometry"), vectorized over k.

Every quantity is built from interband matrix elements only,

.. math::

    v^i_{mn} = \langle u_m|\partial_i H|u_n\rangle, \qquad
    A^i_{nm} = i v^i_{nm}/(e_m - e_n)\quad (m\neq n),

so no smooth gauge is needed and a random phase on any eigenvector leaves
every output unchanged.  hbar = 1.  Bands must be non-degenerate where these
quantities are evaluated; :meth:`Eigensystem.check_nondegenerate` says so
clearly when they are not.

Reference: C. Xiao and Q. Niu, arXiv:2009.12058 (the letter), Eqs. (1)-(6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..errors import DegenerateBandsError, ModelError
from ..models.continuum import check_hermitian

__all__ = [
    "Eigensystem",
    "eigensystem",
    "berry_curvature",
    "expectation",
    "s_dipole",
    "conventional_berry_curvature",
    "s_orbital_moment",
    "interband_derivative",
    "expectation_gradient",
    "torque_dipole",
    "conventional_current",
    "s_orbital_moment_parts",
]

#: Relative band splitting below which two bands count as degenerate.
DEGENERACY_RTOL = 1e-7


@dataclass
class Eigensystem:
    """Bloch eigen-data at a set of momenta.

    Attributes
    ----------
    k : (..., D) array
    energies : (..., n) array, ascending.
    vectors : (..., n, n) array, column ``m`` is ``u_m(k)``.
    velocity : (..., D, n, n) array, ``<u_m| dH/dk_i |u_n>``.
    """

    k: np.ndarray
    energies: np.ndarray
    vectors: np.ndarray
    velocity: np.ndarray

    @property
    def band_velocity(self):
        """Group velocities ``v_n = de_n/dk``, shape ``(..., n, D)``."""
        return np.real(np.swapaxes(np.diagonal(self.velocity, axis1=-2, axis2=-1), -1, -2))

    def operator(self, op):
        """Matrix elements ``<u_m|op|u_n>`` of a fixed ``(n, n)`` operator."""
        u = self.vectors
        return np.swapaxes(u.conj(), -1, -2) @ op @ u

    def inverse_gaps(self):
        """``1/(e_n - e_m)`` for ``m != n`` and 0 on the diagonal, ``(..., n, n)``.

        Element ``[..., n, m]`` is ``1/(e_n - e_m)``.
        """
        e = self.energies
        de = e[..., :, None] - e[..., None, :]
        n = e.shape[-1]
        off = ~np.eye(n, dtype=bool)
        out = np.zeros_like(de)
        np.divide(1.0, de, out=out, where=off & (de != 0))
        return out

    def min_gap(self):
        """Smallest splitting of each band to any other band, ``(..., n)``."""
        e = self.energies
        de = np.abs(e[..., :, None] - e[..., None, :])
        n = e.shape[-1]
        de = de + np.where(np.eye(n, dtype=bool), np.inf, 0.0)
        return de.min(axis=-1)

    def check_nondegenerate(self, bands=None, where="the requested points", rtol=DEGENERACY_RTOL):
        """Raise :class:`DegenerateBandsError` if a band is degenerate.

        ``bands`` (same leading shape as ``k`` without the last axis) selects
        one band per point; by default every band is checked.
        """
        gap = self.min_gap()
        if gap.shape[-1] < 2:
            return
        scale = max(np.abs(self.energies).max(initial=0.0), 1e-300)
        if bands is not None:
            gap = np.take_along_axis(gap, np.asarray(bands)[..., None], axis=-1)[..., 0]
        bad = gap < rtol * scale
        if np.any(bad):
            idx = np.argwhere(bad)[0]
            kbad = self.k[tuple(idx[: self.k.ndim - 1])]
            raise DegenerateBandsError(
                f"bands are degenerate (splitting {gap[tuple(idx)]:.3g}) at k = {kbad} on "
                f"{where}. Band geometry (Berry curvature, dipoles, coordinate shifts) is "
                "undefined for degenerate bands. If the model is Kramers degenerate "
                "(PT-symmetric, e.g. inversion plus time reversal), every band is doubly "
                "degenerate and a non-Abelian (degenerate-subspace) treatment is needed, "
                "which boltzspin does not provide; otherwise move mu away from the "
                "crossing or add a small splitting term (e.g. an exchange field)."
            )

    def with_random_gauge(self, seed):
        """A copy with every eigenvector multiplied by a random phase.

        Used to check gauge invariance: no output may change.
        """
        rng = np.random.default_rng(seed)
        phase = np.exp(2j * np.pi * rng.random(self.energies.shape))
        u = self.vectors * phase[..., None, :]
        vel = self.velocity * phase.conj()[..., None, :, None] * phase[..., None, None, :]
        return Eigensystem(self.k, self.energies, u, vel)


def eigensystem(model, k, check=True):
    """Diagonalize ``model`` at momenta ``k`` (shape ``(..., D)``).

    Raises :class:`~boltzspin.errors.ModelError` for wrong shapes, NaN or a
    non-Hermitian Hamiltonian.
    """
    k = np.asarray(k, dtype=float)
    h = np.asarray(model.hamiltonian(k), dtype=complex)
    n = model.n_bands
    if h.shape != k.shape[:-1] + (n, n):
        raise ModelError(
            f"hamiltonian(k) returned shape {h.shape} for k of shape {k.shape}; expected "
            f"{k.shape[:-1] + (n, n)}"
        )
    dh = np.asarray(model.velocity(k), dtype=complex)
    if dh.shape != k.shape[:-1] + (model.dim, n, n):
        raise ModelError(
            f"velocity(k) returned shape {dh.shape} for k of shape {k.shape}; expected "
            f"{k.shape[:-1] + (model.dim, n, n)}"
        )
    if check:
        if not (np.all(np.isfinite(h)) and np.all(np.isfinite(dh))):
            raise ModelError("the model returned NaN or inf; check its parameters")
        check_hermitian(h, "hamiltonian(k)")
        check_hermitian(dh, "velocity(k)")
    # The eigenvectors do not change under H -> H - c 1; removing the trace part first
    # makes their round-off eps |H - tr(H)/n| / gap instead of eps |H| / gap (a large
    # scalar kinetic energy, e.g. k^2/2m at mu = 1e12, would otherwise swamp the spin
    # texture).  The energies are shifted back.
    shift = np.real(np.trace(h, axis1=-2, axis2=-1)) / n
    e, u = np.linalg.eigh(h - shift[..., None, None] * np.eye(n))
    e = e + shift[..., None]
    lead = k.shape[:-1]
    n_k = int(np.prod(lead))
    vel = np.empty((n_k, model.dim, n, n), dtype=complex)
    _project(np.ascontiguousarray(u.reshape(n_k, n, n)), np.ascontiguousarray(dh.reshape(n_k, model.dim, n, n)), vel)
    return Eigensystem(k, e, u, vel.reshape(lead + (model.dim, n, n)))


@numba.njit(parallel=True, cache=True)
def _project(u, dh, out):
    """``out[k, i] = u[k]^dagger dh[k, i] u[k]`` for a batch of small matrices."""
    n_k, dim, n, _ = dh.shape
    for q in numba.prange(n_k):
        for i in range(dim):
            for a in range(n):
                for b in range(n):
                    acc = 0j
                    for c in range(n):
                        t = 0j
                        for d in range(n):
                            t += dh[q, i, c, d] * u[q, d, b]
                        acc += np.conj(u[q, c, a]) * t
                    out[q, i, a, b] = acc


def berry_curvature(es):
    r"""Berry curvature tensor, shape ``(..., n, D, D)``.

    .. math:: \Omega^{ij}_n = -2\,\mathrm{Im}\sum_{m\neq n}
              \frac{v^i_{nm} v^j_{mn}}{(e_n - e_m)^2}

    Units: length^2.  In 2D, ``Omega_z = Omega[..., 0, 1]``.

    The tensor is antisymmetric by definition (``v`` is Hermitian, so
    ``v^j_{nm} v^i_{mn}`` is the complex conjugate of ``v^i_{nm} v^j_{mn}``); it
    is evaluated as :math:`-\mathrm{Im}\,(t_{ij} - t_{ji})` with
    :math:`t_{ij} = \sum_m v^i_{nm} v^j_{mn}/(e_n - e_m)^2`, which is exactly
    antisymmetric in floating point.  The symmetric part of ``-2 Im t``, zero in
    theory, is round-off divided by the gap squared near a band touching and
    would depend on the gauge and the basis.
    """
    g2 = es.inverse_gaps() ** 2  # [n, m]
    v = es.velocity  # (..., D, n, m)
    # sum_m v^i_{nm} v^j_{mn} g2_{nm}
    t = np.einsum("...inm,...jmn,...nm->...nij", v, v, g2).imag
    return -(t - np.swapaxes(t, -1, -2))


def expectation(es, op):
    """``s_n = <u_n|s|u_n>``, shape ``(..., n)`` (real)."""
    return np.real(np.diagonal(es.operator(op), axis1=-2, axis2=-1))


def s_dipole(es, op):
    r"""s-dipole moment ``d^s_n``, shape ``(..., n, D)``.

    .. math:: d^{s,i}_n = \mathrm{Re}\sum_{m\neq n} A^i_{nm} s_{mn},\qquad
              A^i_{nm} = \frac{i\,v^i_{nm}}{e_m - e_n}

    Units: [s] x length.  Zero for ``s`` proportional to the identity.
    """
    s = es.operator(op)
    g = es.inverse_gaps()  # [n, m] = 1/(e_n - e_m)
    a = -1j * es.velocity * g[..., None, :, :]  # A^i_{nm} = i v/(e_m - e_n)
    d = np.einsum("...inm,...mn->...ni", a, s)
    return d.real


def expectation_gradient(es, op):
    r"""Momentum derivative of the expectation, ``d s_n / dk_i``, shape ``(..., n, D)``.

    .. math:: \partial_i s_n = 2\,\mathrm{Re}\sum_{m\neq n}
              \frac{s_{nm} v^i_{mn}}{e_n - e_m}

    This is the tau-Berry curvature ``Omega^{i tau}_n`` of the letter (after its Eq. 4).
    Units: [s] x length.
    """
    s = es.operator(op)
    g = es.inverse_gaps()  # [n, m] = 1/(e_n - e_m)
    return 2 * np.einsum("...nm,...imn,...nm->...ni", s, es.velocity, g).real


def torque_dipole(es, op):
    r"""Dipole of the torque ``tau = i[H, s]`` (the letter's ``d^tau``), ``(..., n, D)``.

    .. math:: d^{\tau,i}_n = \mathrm{Re}\sum_{m\neq n} A^i_{nm}\tau_{mn}
              = -\mathrm{Re}\sum_{m\neq n} v^i_{nm} s_{mn}

    (with ``tau_mn = i (e_m - e_n) s_mn``), which equals ``-(J^{s,i})_{nn} + v^i_n s_n``.
    Units: [s] x velocity.
    """
    s = es.operator(op)
    off = 1.0 - np.eye(s.shape[-1])
    return -np.einsum("...inm,...mn,nm->...ni", es.velocity, s, off).real


def conventional_current(es, op):
    """Matrix of the conventional s-current ``{s, v^i}/2``, ``(..., D, n, n)``."""
    s = es.operator(op)[..., None, :, :]
    v = es.velocity
    return 0.5 * (s @ v + v @ s)


def conventional_berry_curvature(es, op):
    r"""Conventional s-Berry ("spin Berry") curvature, ``(..., n, D, D)``.

    .. math:: \Omega^{s,ij}_n = -2\,\mathrm{Im}\sum_{m\neq n}
              \frac{(J^{s,i})_{nm} v^j_{mn}}{(e_n - e_m)^2},\quad
              J^{s} = \{s, v\}/2

    Reference: the letter, Eq. (1) and Sinova et al., PRL 92, 126603 (2004).
    """
    js = conventional_current(es, op)
    g2 = es.inverse_gaps() ** 2
    t = np.einsum("...inm,...jmn,...nm->...nij", js, es.velocity, g2)
    return -2 * t.imag


def s_orbital_moment_parts(es, op):
    r"""The two parts of the s orbital moment (letter Eq. 6 / Eq. 8).

    ``self_rotation`` :math:`\tfrac12\mathrm{Re}\sum_{m\neq n} A_{nm}\times(J^s)_{mn}`
    (circulation of the conventional current about the wave-packet centre) and
    ``moving_dipole`` :math:`\tfrac12 d^s_n\times v_n` (a travelling s-dipole).
    Each is the z component ``(..., n)`` in 2D and a vector ``(..., n, 3)`` in 3D.
    """
    g = es.inverse_gaps()
    a = -1j * es.velocity * g[..., None, :, :]
    js = conventional_current(es, op)
    # c_{n, i, j} = Re sum_m A^i_{nm} J^j_{mn}
    c = np.einsum("...inm,...jmn->...nij", a, js).real
    d = s_dipole(es, op)
    v = es.band_velocity
    return _cross(0.5 * c, es.k.shape[-1]), _cross(0.5 * d[..., :, None] * v[..., None, :], es.k.shape[-1])


def _cross(t, dim):
    """Antisymmetric part ``t_ij - t_ji`` as the z component (2D) or the axial vector (3D)."""
    if dim == 2:
        return t[..., 0, 1] - t[..., 1, 0]
    return np.stack(
        [t[..., 1, 2] - t[..., 2, 1], t[..., 2, 0] - t[..., 0, 2], t[..., 0, 1] - t[..., 1, 0]],
        axis=-1,
    )


def s_orbital_moment(es, op):
    r"""s orbital moment ``m^s_n`` of the letter's Eq. (6).

    .. math:: m^s_n = \tfrac12\mathrm{Re}\sum_{m\neq n} A_{nm}\times(J^s)_{mn}
                      + \tfrac12 d^s_n\times v_n

    Returns the z component, shape ``(..., n)``, in 2D and the vector,
    ``(..., n, 3)``, in 3D.  Units: [s] x length x velocity.  The two terms are
    :func:`s_orbital_moment_parts`.
    """
    self_rotation, moving_dipole = s_orbital_moment_parts(es, op)
    return self_rotation + moving_dipole


def interband_derivative(es, bands):
    r"""Interband part of ``d u_l/dk`` for one band per point.

    .. math:: |\chi^i_l\rangle = \sum_{m\neq n} |u_m\rangle\,
              \frac{v^i_{mn}}{e_n - e_m}

    ``bands`` has the leading shape of ``k``.  Returns ``(..., D, n)``
    orbital-space vectors; gauge covariant (same phase as ``u_l``).
    """
    bands = np.asarray(bands)
    g = es.inverse_gaps()  # [n, m] = 1/(e_n - e_m)
    gl = np.take_along_axis(g, bands[..., None, None], axis=-2)[..., 0, :]  # (..., m)
    vl = np.take_along_axis(es.velocity, bands[..., None, None, None], axis=-1)[..., 0]  # (..., D, m)
    x = vl * gl[..., None, :]  # X_m = v_{m l}/(e_l - e_m)
    return np.einsum("...am,...im->...ia", es.vectors, x)
