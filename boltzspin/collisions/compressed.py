r"""Compressed pair sums for Gaussian-correlated disorder: Chebyshev-separable kernel.

For a channel ``U(q) = f(q) M`` with a real profile ``f``, every first-Born
pair quantity (rate, coordinate shifts, dipole change) is the squared profile
``g(q) = f(q)^2`` times a bilinear form in the Fermi-point spinors, so all of
them are sums

.. math:: T_p = \sum_{p'} g(k_{p'} - k_p)\, Z_{p'}

with ``Z_{p'}`` small matrices (``x_{p'} |u_{p'}><u_{p'}|`` for the mat-vec,
``w s |u><\chi^i|`` and ``w |u><u|`` for the side-jump sums).  On the bounding
box ``B = prod_d [c_d - R_d, c_d + R_d]`` of the Fermi points, ``g`` is
replaced by its tensor Chebyshev interpolant in *both* arguments,

.. math:: g(k' - k) \approx \sum_{I,J} \ell_I(k)\, g(\xi_J - \xi_I)\, \ell_J(k'),

with ``m`` Chebyshev points of the second kind per axis (``r = m^D`` nodes
``xi_I``, Lagrange polynomials ``ell_I``).  A sum then costs
``O(N r n^2 + r^2 n^2)`` instead of ``O(N^2 n^2)``: ``R_J = sum_p' ell_J Z_p'``,
``S = G R``, ``T_p = sum_I ell_I(k_p) S_I``.  The interpolated kernel is
symmetric (``G`` is, since ``g`` is even), so conjugate gradients still apply.

Error bound (Gaussian ``g = exp(-q^2 L^2/2)``, which factorizes over axes).  Per
axis, ``h(t, t') = exp(-a (t - t')^2)`` with ``a = L^2 R_d^2/2`` on
``t, t' in [-1, 1]``.  On the Bernstein ellipse ``E_rho`` (foci ``+-1``, semi-axis
sum ``rho``), ``|h| <= exp(a b^2)`` with ``b = (rho - 1/rho)/2`` for every real
``t'``, so the degree-``(m-1)`` Chebyshev interpolant in ``t`` errs by at most
``4 exp(a b^2) rho^{1-m}/(rho - 1)`` (Trefethen, *Approximation Theory and
Approximation Practice*, SIAM 2013, Thm. 8.2).  Interpolating next in ``t'``
multiplies the analytic bound by the Lebesgue constant
``Lambda_m <= 1 + (2/pi) log m`` (ibid., Thm. 15.2), so per axis
``|h - I h| <= E_d = (1 + Lambda_m) min_rho 4 exp(a b^2) rho^{1-m}/(rho - 1)``,
and for the product of the axes (each factor in ``[0, 1]``)
``|g - I g| <= prod_d (1 + E_d) - 1``.  Floating-point evaluation adds at most
``2 r eps (max_p sum_I |ell_I(k_p)|)^2`` (``max |G| = 1``).  The sum of both,
``delta``, bounds every kernel element's error relative to the largest
possible element, as ``sparse_tol`` does for the sparse operator; ``m`` is the
smallest with ``delta <= tol``.  ``K_{pp'}`` then errs by at most
``pref ||M||_2^2 delta``, and each total rate ``1/tau_p`` by
``pref ||M||_2^2 delta sum_p' w_p'``.

The screened Coulomb profile ``2 pi/(|q| + q_TF)`` is not compressed: its
``|q|`` cusp at ``q = 0`` lies on the diagonal ``k' = k``, inside every block, so
any separable expansion on the Fermi surface converges only algebraically in
the rank (Chebyshev error ~ 1/m; see ``benchmarks/run.py``).  No rank gives a
bounded error of 1e-8 at an acceptable cost, so it stays dense or on the fly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ChebyshevKernel", "gaussian_degree", "gaussian_interpolation_error", "MAX_NODES"]

#: Largest number of interpolation nodes ``m^D`` (the ``r x r`` node matrix is ``8 r^2`` bytes).
MAX_NODES = 2500
#: Largest ``m`` per axis tried.
MAX_PER_AXIS = 200
_RHO = np.exp(np.linspace(np.log(1.0005), np.log(1e4), 4000))


def lebesgue_bound(m):
    """Upper bound on the Lebesgue constant of ``m`` Chebyshev points of the second kind.

    Parameters
    ----------
    m : int
        Number of points (degree ``m - 1``).

    Returns
    -------
    float
        ``1 + (2/pi) log m`` (Trefethen 2013, Thm. 15.2; exact 1 for ``m = 1``).
    """
    return 1.0 + 2.0 / np.pi * np.log(max(m, 1))


def _axis_error(a, m):
    """``(1 + Lambda_m) min_rho 4 exp(a b^2) rho^(1-m)/(rho - 1)`` for ``exp(-a (t - t')^2)``."""
    if m < 2:
        return np.inf
    b = (_RHO - 1 / _RHO) / 2
    log_e = np.log(4.0) + a * b * b - (m - 1) * np.log(_RHO) - np.log(_RHO - 1)
    return float((1 + lebesgue_bound(m)) * np.exp(min(log_e.min(), 700.0)))


def gaussian_interpolation_error(length, half_widths, m):
    """Bound on ``|g - I g|`` for ``g(q) = exp(-q^2 L^2/2)`` interpolated with ``m`` points per axis.

    Parameters
    ----------
    length : float
        Correlation length ``L`` of ``f(q) = exp(-q^2 L^2/4)``.
    half_widths : (D,) array
        Half widths ``R_d`` of the bounding box of the Fermi points.
    m : int
        Chebyshev points per axis.

    Returns
    -------
    float
        ``prod_d (1 + E_d) - 1`` (module docstring); inf when the bound overflows.
    """
    errs = [_axis_error(length**2 * r**2 / 2, m) for r in np.asarray(half_widths, dtype=float)]
    if any(not np.isfinite(e) for e in errs):
        return np.inf
    return float(np.prod([1 + e for e in errs]) - 1)


def gaussian_degree(length, half_widths, tol):
    """Smallest ``m`` per axis whose interpolation bound is below ``tol``, or None above ``MAX_PER_AXIS``.

    Parameters
    ----------
    length : float
        Correlation length ``L``.
    half_widths : (D,) array
        Half widths ``R_d`` of the bounding box.
    tol : float
        Target bound on ``|g - I g|``.

    Returns
    -------
    int or None
        ``m``, or None when no ``m <= MAX_PER_AXIS`` reaches ``tol``.
    """
    for m in range(2, MAX_PER_AXIS + 1):
        if gaussian_interpolation_error(length, half_widths, m) <= tol:
            return m
    return None


def _chebyshev_points(m):
    t = np.cos(np.pi * np.arange(m) / (m - 1))
    wts = (-1.0) ** np.arange(m)
    wts[0] *= 0.5
    wts[-1] *= 0.5
    return t, wts


def _lagrange(x, t, wts):
    """Barycentric Lagrange basis ``ell_j(x)``, shape ``(len(x), m)``, exact at the nodes."""
    diff = x[:, None] - t[None, :]
    hit = diff == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        c = wts[None, :] / diff
        out = c / c.sum(axis=1, keepdims=True)
    rows = hit.any(axis=1)
    out[rows] = hit[rows].astype(float)
    return out


class ChebyshevKernel:
    r"""Separable approximation ``g(k' - k) ~ sum_IJ ell_I(k) G_IJ ell_J(k')`` on the Fermi points.

    Parameters
    ----------
    k : (N, D) array
        Fermi-point momenta.
    g : callable
        ``g(q)`` for ``q`` of shape ``(..., D)``, real and even.
    m : int
        Chebyshev points per axis (rank ``r = m^D``).
    """

    def __init__(self, k, g, m):
        k = np.asarray(k, dtype=float)
        self.n_points, self.dim = k.shape
        lo, hi = k.min(axis=0), k.max(axis=0)
        self.center = (lo + hi) / 2
        self.half_widths = np.maximum((hi - lo) / 2, 1e-300)
        self.m = int(m)
        self.rank = self.m**self.dim
        t, wts = _chebyshev_points(self.m)
        self._axes = [_lagrange((k[:, d] - self.center[d]) / self.half_widths[d], t, wts) for d in range(self.dim)]
        grids = np.meshgrid(*[self.center[d] + self.half_widths[d] * t for d in range(self.dim)], indexing="ij")
        self.nodes = np.stack([g_.ravel() for g_ in grids], axis=-1)  # (r, D), C order over axes
        self.matrix = np.asarray(g(self.nodes[None, :, :] - self.nodes[:, None, :]), dtype=float)
        self.matrix = (self.matrix + self.matrix.T) / 2  # exactly symmetric (g even)
        # sum_I |ell_I(k)| factorizes over the axes
        self.lebesgue_sum = float(np.prod([np.abs(ax).sum(axis=1) for ax in self._axes], axis=0).max())

    def _rest(self, rows):
        """Product basis of axes 2..D, shape ``(rows, m^(D-1))`` (ones for D = 1)."""
        out = np.ones((rows.stop - rows.start, 1))
        for ax in self._axes[1:]:
            out = (out[:, :, None] * ax[rows][:, None, :]).reshape(out.shape[0], -1)
        return out

    def roundoff(self):
        """Bound on the floating-point error of one interpolated element (``max |G| = 1``).

        Returns
        -------
        float
                ``2 r eps (max_p sum_I |ell_I(k_p)|)^2``.
        """
        return 2 * self.rank * np.finfo(float).eps * self.lebesgue_sum**2

    def apply(self, z):
        """``T_p ~ sum_p' g(k_p' - k_p) z_p'`` for complex ``z`` of shape ``(N, ...)``.

        Parameters
        ----------
        z : (N, ...) complex array
            Values at the Fermi points.

        Returns
        -------
        (N, ...) complex array
            The interpolated pair sum.
        """
        z = np.ascontiguousarray(z, dtype=complex)
        return self.apply_real(z.reshape(len(z), -1).view(float)).view(complex).reshape(z.shape)

    def apply_real(self, z):
        """:meth:`apply` for real ``z`` of shape ``(N, ...)``.

        Parameters
        ----------
        z : (N, ...) float array
            Values at the Fermi points.

        Returns
        -------
        (N, ...) float array
            The interpolated pair sum.
        """
        shape = z.shape
        zr = np.ascontiguousarray(z, dtype=float).reshape(shape[0], -1)
        n_c = zr.shape[1]
        m, rest = self.m, self.rank // self.m
        chunk = max(1, int(2**22 // (rest * n_c)))
        moments = np.zeros((m, rest * n_c))
        for start in range(0, self.n_points, chunk):
            rows = slice(start, min(start + chunk, self.n_points))
            outer = (self._rest(rows)[:, :, None] * zr[rows, None, :]).reshape(-1, rest * n_c)
            moments += self._axes[0][rows].T @ outer
        s = (self.matrix @ moments.reshape(self.rank, n_c)).reshape(m, rest * n_c)
        out = np.empty_like(zr)
        for start in range(0, self.n_points, chunk):
            rows = slice(start, min(start + chunk, self.n_points))
            first = (self._axes[0][rows] @ s).reshape(-1, rest, n_c)
            out[rows] = np.einsum("pj,pjc->pc", self._rest(rows), first)
        return out.reshape(shape)
