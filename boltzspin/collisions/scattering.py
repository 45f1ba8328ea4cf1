r"""First-Born collision operators on the Fermi surface: rates and coordinate shifts.

For Fermi points ``p`` (initial ``l``) and ``p'`` (final ``l'``), with
:math:`V_{p'p} = \langle u_{p'}|U(k_{p'}-k_p)|u_p\rangle` per disorder channel
(documentation: Theory, "First-Born scattering" and "The conserved current"):

* kernel :math:`K_{pp'} = \sum_a 2\pi n_\mathrm{imp} c_a |V^a_{p'p}|^2` (symmetric);
* coordinate shift, multiplied out so that no ``1/V`` appears,

  .. math::

      |V|^2 (A_{l'} - \partial_{k'}\arg V) &= -\mathrm{Im}\,\bar V\,
          \big(\langle\chi_{l'}|U|u_l\rangle + \langle u_{l'}|\nabla U|u_l\rangle\big)\\
      |V|^2 (-A_{l} - \partial_{k}\arg V) &= -\mathrm{Im}\,\bar V\,
          \big(\langle u_{l'}|U|\chi_l\rangle - \langle u_{l'}|\nabla U|u_l\rangle\big)

  with :math:`|\chi^i_l\rangle = \sum_{m\ne n}|u_m\rangle v^i_{mn}/(e_n-e_m)`;
* the s side-jump velocity :math:`Y^s_p = \sum_{p'} w_{p'}[K\,dr^s]_{p'p}`,
  :math:`dr^s_{l'l} = s_{l'}(A_{l'}-\partial_{k'}\arg V) + s_l(-A_l-\partial_k\arg V)`,
  and the charge one :math:`v^{sj}_p` (``s = 1``).

The kernel is never needed as a matrix: the Boltzmann solver and the
currents use :class:`CollisionOperator`, a ``scipy.sparse.linalg``-style
operator with ``matvec``.  Each channel becomes one *part*:

``"lowrank"``
    ``U`` independent of q: ``|<u'|M|u>|^2 = <Mu|R|Mu>`` with
    ``R = sum_p' x_p' |u_p'><u_p'|``, so mat-vec, rates, side-jump sums and the
    dipole change cost O(N n^2) -- exact.
``"onthefly"``
    any U(q): pairs recomputed in each mat-vec, O(N^2) time, O(N) memory --
    by a parallel numba kernel for built-in profiles (constant, Gaussian,
    screened Coulomb), in row blocks of NumPy for user callables.
``"sparse"``
    Gaussian profile: pairs with ``exp(-q^2 L^2/2) < sparse_tol`` are dropped
    (found with a k-d tree), the rest stored in ``scipy.sparse``.  Each dropped
    element is below ``sparse_tol`` times the largest possible element, and
    :attr:`CollisionOperator.error_bound` bounds the relative error of every
    total rate.
``"dense"``
    the ``N x N`` kernel formed once (fastest for small N).
``"compressed"``
    Gaussian profile: ``g(q) = f(q)^2 = exp(-q^2 L^2/2)`` replaced by its tensor
    Chebyshev interpolant in both momenta on the bounding box of the Fermi
    points, ``g(k'-k) ~ sum_IJ ell_I(k) g(xi_J - xi_I) ell_J(k')`` with ``r = m^D``
    nodes (:mod:`boltzspin.collisions.compressed`).  The rates, the side-jump
    sums (with ``g`` inside the low-rank sums of ``"lowrank"``; the ``dU/dq``
    term vanishes for a real scalar profile) and the dipole change then cost
    O(N r n^2).  ``m`` is the smallest whose a-priori Bernstein-ellipse bound
    (plus round-off) on ``|g - I g|`` is below ``sparse_tol``, and
    :attr:`CollisionOperator.error_bound` bounds the relative error of every
    total rate.  Refused when more than ``compressed.MAX_NODES`` nodes are
    needed (long ``L`` against the inverse Fermi-surface size: use sparse).

``method="auto"`` picks lowrank for q-independent channels; for Gaussian
channels compressed when ``COMPRESSED_FACTOR * r`` is below the pairs per
point the best alternative evaluates (``N``, or ``N`` times the sparse kept
fraction; measured crossover ``N ~ 5 r``), else sparse when the cutoff keeps
under :data:`SPARSE_FRACTION` of the pairs; else dense up to
:data:`DENSE_LIMIT` points and onthefly beyond.  Screened Coulomb is never
sparse, lowrank or compressed: its ``1/q`` tail gives no cutoff with a bounded
error, and the ``|q|`` cusp at ``q = 0`` lies on the diagonal ``k' = k`` of
every block, so a separable expansion converges only algebraically (Chebyshev
error ~ 1/m, measured in ``benchmarks/run.py``); it is always dense or
onthefly.  User ``Potential`` channels are dense or onthefly too (no
analyticity bound is known for a callable).  Units: hbar = 1; ``K`` in
energy x area (2D); ``sum_p w_p phi_p Y_p`` is a current.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from . import compressed, pair_kernels
from ..geometry.bands import expectation, interband_derivative, s_dipole
from .disorder import PROFILE_CONSTANT, PROFILE_GAUSSIAN, PROFILE_SCREENED_COULOMB
from ..errors import DisorderError
from ..models.continuum import fourth_order_derivative

__all__ = ["CollisionOperator", "scattering", "METHODS", "DENSE_LIMIT", "SPARSE_FRACTION", "COMPRESSED_FACTOR"]

METHODS = ("auto", "dense", "lowrank", "onthefly", "sparse", "compressed")
#: Largest point count for which ``auto`` stores a dense kernel.
DENSE_LIMIT = 6000
#: ``auto`` uses the sparse operator when it keeps less than this fraction of pairs.
SPARSE_FRACTION = 0.2
#: Largest relative asymmetry of a stored kernel accepted as round-off.
ASYMMETRY_TOL = 1e-10
#: Default relative drop tolerance of the sparse operator.
SPARSE_TOL = 1e-14
#: ``auto`` compresses when ``COMPRESSED_FACTOR * r`` (``r`` interpolation nodes) is below
#: the pairs per point the alternative evaluates (``N``, or ``N`` times the sparse kept fraction);
#: measured crossover (benchmarks/run.py, compressed section).
COMPRESSED_FACTOR = 5.0


@dataclass
class _Points:
    k: np.ndarray
    u: np.ndarray
    chi: np.ndarray
    w: np.ndarray
    s: np.ndarray


class _DensePart:
    def __init__(self, kmat):
        self.kmat = kmat

    def matvec(self, x):
        return self.kmat @ x

    def diagonal(self):
        return np.diag(self.kmat).copy()


class _LowRankPart:
    """``K_pp' = pref |<u_p'|M|u_p>|^2`` through ``R = sum_p' x_p' |u_p'><u_p'|``."""

    def __init__(self, pref, mu, u):
        self.pref, self.mu, self.u = pref, mu, u

    def matvec(self, x):
        x2 = x.reshape(len(x), -1)
        r = np.einsum("pa,pb,pm->mab", self.u, self.u.conj(), x2)
        y = self.pref * np.einsum("pa,mab,pb->pm", self.mu.conj(), r, self.mu).real
        return y.reshape(x.shape)

    def diagonal(self):
        return self.pref * np.abs(np.sum(self.u.conj() * self.mu, axis=1)) ** 2


class _OnTheFlyPart:
    def __init__(self, pts, pref, mu, kind, length):
        self.pts, self.pref, self.mu, self.kind, self.length = pts, pref, mu, kind, length

    def matvec(self, x):
        x2 = np.ascontiguousarray(x.reshape(len(x), -1), dtype=float)
        y = np.zeros_like(x2)
        pair_kernels.kernel_matvec(self.pts.k, self.pts.u, self.mu, self.kind, self.length, self.pref, x2, y)
        return y.reshape(x.shape)

    def diagonal(self):
        return self.pref * np.abs(np.sum(self.pts.u.conj() * self.mu, axis=1)) ** 2


class _CallableOnTheFlyPart:
    """General ``U(q)``: the kernel re-evaluated in row blocks at every mat-vec."""

    def __init__(self, pts, channel, block=64):
        self.pts, self.channel, self.block = pts, channel, block

    def _rows(self):
        k, u = self.pts.k, self.pts.u
        for start in range(0, len(k), self.block):
            rows = slice(start, min(start + self.block, len(k)))
            um = self.channel.function(k[None, :, :] - k[rows, None, :])
            v = np.einsum("qa,pqab,pb->pq", u.conj(), um, u[rows])
            yield rows, self.channel.prefactor * np.abs(v) ** 2

    def matvec(self, x):
        x2 = x.reshape(len(x), -1)
        y = np.zeros_like(x2)
        for rows, kblock in self._rows():
            y[rows] = kblock @ x2
        return y.reshape(x.shape)

    def diagonal(self):
        u = self.pts.u
        um = self.channel.function(np.zeros_like(self.pts.k))
        return self.channel.prefactor * np.abs(np.einsum("pa,pab,pb->p", u.conj(), um, u)) ** 2


def _pack_hermitian(h):
    """Hermitian ``(..., n, n)`` -> its ``n^2`` real parameters (upper real parts, strict upper imaginary)."""
    n = h.shape[-1]
    iu, ju = np.triu_indices(n)
    su, sv = np.triu_indices(n, 1)
    return np.concatenate([h[..., iu, ju].real, h[..., su, sv].imag], axis=-1)


def _unpack_hermitian(t, n):
    """Inverse of :func:`_pack_hermitian`."""
    iu, ju = np.triu_indices(n)
    su, sv = np.triu_indices(n, 1)
    h = np.zeros(t.shape[:-1] + (n, n), dtype=complex)
    h[..., iu, ju] = t[..., : len(iu)]
    h[..., su, sv] += 1j * t[..., len(iu):]
    h[..., sv, su] = h[..., su, sv].conj()
    return h


class _CompressedPart:
    """``K_pp' = pref g(k_p' - k_p) |<u_p'|M u_p>|^2`` with ``g`` Chebyshev-separable (compressed.py).

    ``y_p = pref <M u_p| sum_p' g x_p' |u_p'><u_p'| |M u_p>``; the Hermitian
    ``|u><u|`` travels as its ``n^2`` real parameters.
    """

    def __init__(self, pref, mu, u, kern, g0):
        self.pref, self.mu, self.u, self.kern, self.g0 = pref, mu, u, kern, g0
        self._proj = _pack_hermitian(u[:, :, None] * u.conj()[:, None, :])  # (N, n^2)

    def matvec(self, x):
        x2 = x.reshape(len(x), -1)
        t = self.kern.apply_real(x2[:, :, None] * self._proj[:, None, :])  # (N, c, n^2)
        herm = _unpack_hermitian(t, self.u.shape[1])
        y = self.pref * np.einsum("pa,pcab,pb->pc", self.mu.conj(), herm, self.mu).real
        return y.reshape(x.shape)

    def diagonal(self):
        return self.pref * self.g0 * np.abs(np.sum(self.u.conj() * self.mu, axis=1)) ** 2


def _compressed_shifts(pts, pref, m, mu, kern, ys, ysj):
    """Side-jump sums of a compressed channel: :func:`_lowrank_shifts` with ``g`` inside the sums.

    Only imaginary parts enter: ``Im <Mu|B|Mu> = <Mu|(B - B^dagger)/2i|Mu>`` and
    ``Im <Mu|P|Mchi>`` with ``P`` Hermitian, so every carried matrix is Hermitian.
    """
    u, chi, w, s = pts.u, pts.chi, pts.w, pts.s
    n, dim = u.shape[1], chi.shape[1]
    mchi = chi @ m.T
    outer_chi = u[:, None, :, None] * chi.conj()[:, :, None, :]  # (N, D, n, n): |u><chi^i|
    anti = (outer_chi - np.swapaxes(outer_chi, -1, -2).conj()) / 2j
    z = np.concatenate([(w * s)[:, None, None] * _pack_hermitian(anti), w[:, None, None] * _pack_hermitian(anti),
                        w[:, None, None] * _pack_hermitian(u[:, None, :, None] * u.conj()[:, None, None, :])],
                       axis=1)  # (N, 2D + 1, n^2)
    t = _unpack_hermitian(kern.apply_real(z), n)
    ta_s = np.einsum("pa,piab,pb->pi", mu.conj(), t[:, :dim], mu).real
    ta_1 = np.einsum("pa,piab,pb->pi", mu.conj(), t[:, dim:2 * dim], mu).real
    tb = np.einsum("pa,pab,pib->pi", mu.conj(), t[:, 2 * dim], mchi).imag
    ys += -pref * ta_s - pref * s[:, None] * tb
    ysj += -pref * ta_1 - pref * tb


class _SparsePart(_DensePart):
    def diagonal(self):
        return self.kmat.diagonal().copy()


@dataclass
class CollisionOperator:
    """Collision data on one Fermi surface, for one disorder and observable.

    Attributes
    ----------
    weight : (N,) Fermi-surface weights ``w_p``.
    s : (N,) ``s_p = <u_p|s|u_p>``;  s_dipole : (N, D) ``d^s_p``.
    side_jump_velocity_s : (N, D) ``Y^s_p``.
    side_jump_velocity : (N, D) ``v^sj_p`` (charge coordinate shift, s = 1).
    methods : the operator kind of each channel.
    kernel_asymmetry : ``max|K - K^T|/max|K|`` of stored kernels (round-off; over a
        fixed sample of 256 rows for large N; above ``ASYMMETRY_TOL`` is an error).
    error_bound : bound on the relative error of every total rate from
        dropped pairs (sparse parts) and kernel interpolation (compressed parts; both
        bounds add); 0 otherwise.
    compressed_ranks : interpolation nodes ``r`` of each compressed part.
    """

    weight: np.ndarray
    s: np.ndarray
    s_dipole: np.ndarray
    side_jump_velocity_s: np.ndarray
    side_jump_velocity: np.ndarray
    parts: list = field(repr=False)
    methods: list
    kernel_asymmetry: float = 0.0
    error_bound: float = 0.0
    compressed_ranks: list = field(default_factory=list)

    def __post_init__(self):
        self._out_rate = None

    @property
    def shape(self):
        return (len(self.weight), len(self.weight))

    def matvec(self, x):
        """``K @ x`` for ``x`` of shape ``(N,)`` or ``(N, m)``."""
        x = np.asarray(x, dtype=float)
        return sum(part.matvec(x) for part in self.parts)

    def diagonal(self):
        """``K_pp`` (for the relaxation-time preconditioner)."""
        return sum(part.diagonal() for part in self.parts)

    @property
    def out_rate(self):
        """``1/tau_p = sum_p' w_p' K_pp'`` (total out-scattering rate)."""
        if self._out_rate is None:
            self._out_rate = self.matvec(self.weight)
        return self._out_rate

    def dipole_change_velocity(self):
        r""":math:`\sum_{p'} w_{p'} K_{pp'} (d^s_{p'} - d^s_p)`, shape ``(N, D)``."""
        return self.matvec(self.weight[:, None] * self.s_dipole) - self.out_rate[:, None] * self.s_dipole

    def stored_kernel(self):
        """The kernel as a stored (dense or sparse) matrix, or None if any part is implicit."""
        if not all(isinstance(p, _DensePart) for p in self.parts):
            return None
        total = self.parts[0].kmat
        for p in self.parts[1:]:
            total = total + p.kmat
        return total

    def dense(self):
        """The kernel as an ``N x N`` array (tests and small problems only)."""
        return self.matvec(np.eye(len(self.weight)))


def _callable_pairs(channel, pts, kmat, ys, ysj, block=64):
    """Blocked NumPy evaluation of a general matrix-valued ``U(q)``.

    Adds the side-jump sums to ``ys``, ``ysj`` and, unless ``kmat`` is None,
    the kernel to ``kmat``.  Memory O(block N n^2).
    """
    k, u, chi, w, s = pts.k, pts.u, pts.chi, pts.w, pts.s
    uc = u.conj()
    for start in range(0, len(w), block):
        rows = slice(start, min(start + block, len(w)))
        q = k[None, :, :] - k[rows, None, :]  # k_{p'} - k_p, (B, N, D)
        um = channel.function(q)  # (B, N, n, n)
        if channel.gradient is not None:
            gm = np.asarray(channel.gradient(q), dtype=complex)
        else:
            gm = fourth_order_derivative(channel.function, q, channel.fd_step)  # (B, N, D, n, n)
        mu_ = np.einsum("pqab,pb->pqa", um, u[rows])  # U(k_p' - k_p) u_p
        v = np.einsum("qa,pqa->pq", uc, mu_)
        if kmat is not None:
            kmat[rows] += channel.prefactor * np.abs(v) ** 2
        t_a = np.einsum("qia,pqa->pqi", chi.conj(), mu_)
        t_b = np.einsum("qa,pqab,pib->pqi", uc, um, chi[rows])
        t_g = np.einsum("qa,pqiab,pb->pqi", uc, gm, u[rows])
        cv = v.conj()[..., None]
        ra = -channel.prefactor * np.imag(cv * (t_a + t_g))
        rb = -channel.prefactor * np.imag(cv * (t_b - t_g))
        ys[rows] += np.einsum("q,pqi->pi", w * s, ra) + s[rows, None] * np.einsum("q,pqi->pi", w, rb)
        ysj[rows] += np.einsum("q,pqi->pi", w, ra + rb)


def _lowrank_shifts(pts, pref, m, mu, ys, ysj):
    """Side-jump sums of a q-independent channel in O(N n^2).

    ``sum_p' w s' conj(V) <chi_p'|M u_p> = <Mu_p| B |Mu_p>`` with
    ``B = sum_p' w_p' s_p' |u_p'><chi_p'|``, and
    ``sum_p' w conj(V) <u_p'|M chi_p> = <Mu_p| P |M chi_p>``, ``P = sum w |u><u|``.
    """
    u, chi, w, s = pts.u, pts.chi, pts.w, pts.s
    mchi = chi @ m.T
    b_s = np.einsum("p,pa,pib->iab", w * s, u, chi.conj())
    b_1 = np.einsum("p,pa,pib->iab", w, u, chi.conj())
    proj = np.einsum("p,pa,pb->ab", w, u, u.conj())
    ta_s = np.einsum("pa,iab,pb->pi", mu.conj(), b_s, mu)
    ta_1 = np.einsum("pa,iab,pb->pi", mu.conj(), b_1, mu)
    tb = np.einsum("pa,ab,pib->pi", mu.conj(), proj, mchi)
    ys += -pref * ta_s.imag - pref * s[:, None] * tb.imag
    ysj += -pref * ta_1.imag - pref * tb.imag


def _sparse_neighbours(k, cutoff):
    """CSR neighbour lists (including self) of all points within ``cutoff``."""
    n = len(k)
    pairs = cKDTree(k).query_pairs(cutoff, output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, np.ascontiguousarray(cols, dtype=np.int64)


def _sparse_cutoff(length, tol):
    """``|q|`` beyond which ``f(q)^2 = exp(-q^2 L^2/2) < tol``."""
    return np.sqrt(2 * np.log(1 / tol)) / length


def _kept_fraction(k, cutoff, samples=200):
    idx = np.random.default_rng(0).choice(len(k), size=min(samples, len(k)), replace=False)
    counts = cKDTree(k).query_ball_point(k[idx], cutoff, return_length=True)
    return float(np.mean(counts)) / len(k)


#: Profile kinds the numba kernels evaluate (``pair_kernels._profile``).
_NUMBA_PROFILES = (PROFILE_CONSTANT, PROFILE_GAUSSIAN, PROFILE_SCREENED_COULOMB)


def _compressed_degree(channel, k, tol):
    """Chebyshev points per axis for a compressed Gaussian channel, or None if over the node limit."""
    half = (k.max(axis=0) - k.min(axis=0)) / 2
    m = compressed.gaussian_degree(channel.parameter, half, tol)
    if m is None or m ** k.shape[1] > compressed.MAX_NODES:
        return None
    return m


def _choose(method, channel, k, sparse_tol):
    if channel.function is None and channel.kind not in _NUMBA_PROFILES:
        raise DisorderError(f"unknown profile kind {channel.kind!r} of {channel.label}")
    constant = channel.function is None and channel.kind == PROFILE_CONSTANT
    gaussian = channel.function is None and channel.kind == PROFILE_GAUSSIAN
    if method == "lowrank" and not constant:
        raise DisorderError(
            f"method='lowrank' needs q-independent disorder, but {channel.label} depends "
            "on q; use 'dense', 'onthefly', 'compressed' or 'sparse' (Gaussian only) or 'auto'"
        )
    if method == "sparse" and not gaussian:
        if constant:
            return "lowrank"  # exact and cheaper than any sparse matrix
        raise DisorderError(
            f"method='sparse' supports Gaussian-correlated disorder only, not {channel.label}; "
            "use 'dense', 'onthefly' or 'auto'"
        )
    if method == "compressed":
        if constant:
            return "lowrank"  # exact, rank n^2
        if not gaussian:
            raise DisorderError(
                f"method='compressed' supports Gaussian-correlated disorder only, not {channel.label}: "
                "a screened Coulomb profile has a |q| cusp at q = 0 on the diagonal k' = k, so no "
                "separable expansion on the Fermi surface converges faster than algebraically, and a "
                "user Potential carries no analyticity bound; use 'onthefly' (O(N) memory), 'dense' "
                "or 'auto'"
            )
        if _compressed_degree(channel, k, sparse_tol) is None:
            raise DisorderError(
                f"method='compressed': {channel.label} needs more than {compressed.MAX_NODES} "
                f"interpolation nodes for error {sparse_tol:g} on this Fermi surface (correlation "
                "length long against the inverse Fermi-surface size); use 'sparse', 'onthefly' or "
                "'auto', or a larger sparse_tol"
            )
        return "compressed"
    if method != "auto":
        return method
    if constant:
        return "lowrank"
    kept = 1.0
    if gaussian:
        kept = _kept_fraction(k, _sparse_cutoff(channel.parameter, sparse_tol))
        m = _compressed_degree(channel, k, sparse_tol)
        if m is not None and COMPRESSED_FACTOR * m ** k.shape[1] < len(k) * kept:
            return "compressed"
    if gaussian and kept < SPARSE_FRACTION:
        return "sparse"
    return "dense" if len(k) <= DENSE_LIMIT else "onthefly"


def _check_positions(model, s_matrix, disorder):
    r"""Impurity matrices and the observable must act within one orbital position.

    boltzspin uses the impurity-centred ``U(q)`` of the theory page "First-Born scattering" with
    lattice eigenvectors in the convention-I Bloch sum (orbital positions in the
    phases).  An impurity acting on orbitals at one position ``tau`` is then
    centred on that position, and the coordinate shifts measure the electron's
    position from it.  (Putting the impurity at the cell origin instead would
    multiply ``V`` by ``exp(-i q.tau)`` and shift ``dr^s_{l'l}`` by
    ``(s_l' - s_l) tau``: the s-weighted shift depends on the impurity's
    reference point whenever scattering changes ``s``.)  An impurity spread over
    orbitals at several positions has no unique centre, so it is refused: give
    one species per site.  Site impurities of on-site energy ``eps`` in a cell
    of area ``A_c`` have ``strength = eps * A_c``.
    """
    tau = getattr(model, "positions", None)
    if tau is None:
        return
    tau_cart = np.asarray(tau, dtype=float) @ np.asarray(model.lattice_vectors, dtype=float)  # (n, D)
    apart = np.any(np.abs(tau_cart[:, None, :] - tau_cart[None, :, :]) > 1e-12, axis=-1)
    if not np.any(apart):
        return
    if np.any(apart & (np.abs(s_matrix) > 0)):
        raise DisorderError(
            "the observable couples orbitals at different positions; with orbital positions "
            "its current is not defined here. Use an observable acting within each site."
        )
    for ch in disorder.channels(model):
        if ch.function is not None:
            continue  # a user U(q) is taken as given (centred where the user centred it)
        nonzero = np.abs(np.asarray(ch.matrix)) > 0
        active = np.any(nonzero, axis=0) | np.any(nonzero, axis=1)
        if np.any(apart[np.ix_(active, active)]):
            raise DisorderError(
                f"{ch.label} acts on orbitals at different positions of {model!r}, so the impurity "
                "has no unique centre. Give one species per site, e.g. DeltaCorrelated(density, "
                "strength, matrix=P_site) with P_site the projector on that site's orbitals."
            )


def check_disorder(model, disorder, s_matrix):
    """Refuse disorder the model's geometry cannot take, before any expensive work."""
    _check_positions(model, s_matrix, disorder)
    for ch in disorder.channels(model):
        _check_geometry(ch, model)


def _check_geometry(channel, model):
    """Profiles that the model's geometry cannot take raise before any work."""
    builtin_q = channel.function is None and channel.kind != PROFILE_CONSTANT
    if getattr(model, "periodic", False) and builtin_q:
        raise DisorderError(
            f"{channel.label} depends on q, but {model!r} is a lattice model: its U(q) must "
            "be periodic in the reciprocal lattice, which the continuum profiles are not. "
            "Use q-independent disorder (DeltaCorrelated, MagneticImpurities, a constant "
            "matrix) or Potential(density, U) with a U(q) periodic in the reciprocal lattice."
        )
    if channel.function is None and channel.kind == PROFILE_SCREENED_COULOMB and model.dim != 2:
        raise DisorderError(
            f"{channel.label} is the 2D screened Coulomb potential 2 pi/(q + q_TF); "
            f"{model!r} has D = {model.dim}. Use Potential(...) with the 3D form."
        )


def scattering(fs, disorder, model, s_matrix, method="auto", sparse_tol=SPARSE_TOL):
    """Build the :class:`CollisionOperator` of ``disorder`` on Fermi surface ``fs``.

    Parameters
    ----------
    fs : FermiSurface
        Fermi points, weights and eigensystem.
    disorder : Disorder
        The disorder; each of its channels becomes one operator part.
    model : Model
        The band model (orbital positions, dimension).
    s_matrix : (n, n) array
        The observable ``s``.
    method : {"auto", "dense", "lowrank", "onthefly", "sparse", "compressed"}
        Operator kind (see module docstring); "auto" chooses per channel.
    sparse_tol : float
        Relative drop tolerance of sparse parts, and bound on the kernel-element error
        (relative to the largest possible element) of compressed parts.

    Returns
    -------
    CollisionOperator
        Rates, coordinate shifts and dipole data of the Fermi surface.
    """
    if method not in METHODS:
        raise DisorderError(f"method={method!r} is not one of {METHODS}")
    if not 0 < sparse_tol < 1:
        raise DisorderError(f"sparse_tol={sparse_tol!r} must lie in (0, 1)")
    es = fs.eigensystem
    band = fs.band
    n_pts, dim = fs.k.shape
    pts = _Points(
        k=np.ascontiguousarray(fs.k),
        u=np.ascontiguousarray(np.take_along_axis(es.vectors, band[:, None, None], axis=2)[:, :, 0]),
        chi=np.ascontiguousarray(interband_derivative(es, band)),
        w=np.ascontiguousarray(fs.weight),
        s=np.ascontiguousarray(np.take_along_axis(expectation(es, s_matrix), band[:, None], axis=1)[:, 0]),
    )
    _check_positions(model, s_matrix, disorder)
    dip = np.take_along_axis(s_dipole(es, s_matrix), band[:, None, None], axis=1)[:, 0, :]
    ys = np.zeros((n_pts, dim))
    ysj = np.zeros((n_pts, dim))
    parts, methods, asym, bound, ranks = [], [], 0.0, 0.0, []
    dense = None
    for ch in disorder.channels(model):
        _check_geometry(ch, model)
        kind = _choose(method, ch, pts.k, sparse_tol)
        methods.append(kind)
        if ch.function is not None:
            if kind == "dense":
                dense = np.zeros((n_pts, n_pts)) if dense is None else dense
                _callable_pairs(ch, pts, dense, ys, ysj)
            else:
                parts.append(_CallableOnTheFlyPart(pts, ch))
                _callable_pairs(ch, pts, None, ys, ysj)
            continue
        m = np.asarray(ch.matrix, dtype=complex)
        mu = np.ascontiguousarray(pts.u @ m.T)
        mchi = np.ascontiguousarray(pts.chi @ m.T)
        profile = int(ch.kind)  # 0 constant, 1 Gaussian, 2 screened Coulomb (checked in _choose)
        args = (pts.k, pts.u, pts.chi, pts.w, pts.s, mu, mchi, profile, ch.parameter, ch.prefactor)
        if kind == "lowrank":
            parts.append(_LowRankPart(ch.prefactor, mu, pts.u))
            _lowrank_shifts(pts, ch.prefactor, m, mu, ys, ysj)
        elif kind == "dense":
            dense = np.zeros((n_pts, n_pts)) if dense is None else dense
            pair_kernels.all_pairs(*args, dense, True, ys, ysj)
        elif kind == "compressed":
            m_nodes = _compressed_degree(ch, pts.k, sparse_tol)
            length = ch.parameter
            kern = compressed.ChebyshevKernel(
                pts.k, lambda q, length=length: np.exp(-np.sum(q**2, axis=-1) * length**2 / 2), m_nodes)
            parts.append(_CompressedPart(ch.prefactor, mu, pts.u, kern, 1.0))
            _compressed_shifts(pts, ch.prefactor, m, mu, kern, ys, ysj)
            delta = compressed.gaussian_interpolation_error(length, kern.half_widths, m_nodes) + kern.roundoff()
            bound += delta * ch.prefactor * np.linalg.norm(m, 2) ** 2 * pts.w.sum()
            ranks.append(kern.rank)
        elif kind == "onthefly":
            parts.append(_OnTheFlyPart(pts, ch.prefactor, mu, profile, ch.parameter))
            pair_kernels.all_pairs(*args, np.zeros((1, 1)), False, ys, ysj)
        else:  # sparse
            indptr, indices = _sparse_neighbours(pts.k, _sparse_cutoff(ch.parameter, sparse_tol))
            data = np.zeros(len(indices))
            pair_kernels.listed_pairs(*args, indptr, indices, data, ys, ysj)
            kmat = sp.csr_matrix((data, indices, indptr), shape=(n_pts, n_pts))
            asym = max(asym, _asymmetry(kmat))
            parts.append(_SparsePart(kmat))
            m_norm2 = np.linalg.norm(m, 2) ** 2
            bound += sparse_tol * ch.prefactor * m_norm2 * pts.w.sum()
    if dense is not None:
        asym = max(asym, _asymmetry(dense))
        parts.insert(0, _DensePart(dense))
    if asym > ASYMMETRY_TOL:
        raise DisorderError(
            f"the first-Born kernel is not symmetric (relative asymmetry {asym:.3g}): the "
            "impurity potential is not Hermitian in real space (U(-q) != U(q)^dagger); fix U"
        )
    op = CollisionOperator(pts.w, pts.s, dip, ys, ysj, parts, methods, asym, compressed_ranks=ranks)
    if bound:
        op.error_bound = float(bound / op.out_rate.min())
    return op


def _asymmetry(kmat, rows=256):
    """``max|K - K^T| / max|K|`` over a fixed sample of ``rows`` rows (all if fewer)."""
    n = kmat.shape[0]
    idx = np.arange(n) if n <= rows else np.random.default_rng(0).choice(n, rows, replace=False)
    sub = kmat[idx]
    sub_t = kmat[:, idx].T
    if sp.issparse(sub):
        sub, sub_t = sub.toarray(), sub_t.toarray()
    scale = np.abs(sub).max()
    return float(np.abs(sub - sub_t).max() / scale) if scale > 0 else 0.0
