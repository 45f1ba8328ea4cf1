r"""Disorder-averaged Kubo-Streda linear response of 2D continuum models: a quantum reference.

:func:`conductivity` evaluates the T = 0 Kubo-Bastin conductivity in the Streda
decomposition (documentation: Theory, "Kubo-Streda reference")

.. math::

    \sigma_{ij} = \sigma^{I}_{ij} + \sigma^{II}_{ij},\qquad
    \sigma^{I}_{ij} = \frac{1}{4\pi}\,\mathrm{Tr}\big[J_i (G^R - G^A)\,j_j\,G^A
                      - J_i\,G^R\,j_j\,(G^R - G^A)\big]_{\epsilon = \mu},

    \sigma^{II}_{ij} = \frac{1}{4\pi}\int d\epsilon\, f_0(\epsilon)\,
        \mathrm{Tr}\big[J_i G^R j_j \partial_\epsilon G^R - J_i \partial_\epsilon G^R j_j G^R
        - (R \to A)\big],

with ``hbar = 1``, ``Tr = sum over orbitals of int d^2k/(2 pi)^2``, the input
current ``j_j = q v_j`` (``q`` the carrier charge) and the output current ``J_i``:
``q v_i`` for ``observable="charge"`` or the conventional current ``{s, v_i}/2``.
``J_i = sigma_ij E_j``.  Disorder enters through the Born self-energy (its
anti-Hermitian part ``-i Gamma``; the Hermitian part renormalizes the band
parameters and is dropped) and the ladder (non-crossing) vertex corrections of
the ``G^R ... G^A`` product, a closed ``n^2 x n^2`` linear system for
momentum-independent disorder.

Momentum integrals use polar coordinates: the trapezoidal rule in the angle
(spectral for periodic integrands) and Gauss-Legendre panels in ``|k|`` graded
geometrically around each clean Fermi crossing on the scale of the Lorentzian
width ``Gamma / |v|``, up to a momentum cutoff.  The energy integral of the
Fermi-sea term is done in closed form from the eigenvalues of ``H - i Gamma``.

:func:`clean_limit` extrapolates to the weak-disorder limit (the ``1/n_imp``
and ``n_imp^0`` terms) from several impurity densities at fixed ratio.

References: P. Streda, J. Phys. C 15, L717 (1982); A. Crepieux and P. Bruno,
PRB 64, 014416 (2001); N. A. Sinitsyn, A. H. MacDonald, T. Jungwirth,
V. K. Dugaev and J. Sinova, PRB 75, 045315 (2007); J. Inoue, G. E. W. Bauer and
L. W. Molenkamp, PRB 70, 041303(R) (2004).
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
import xarray as xr

from ..collisions.disorder import PROFILE_CONSTANT, Disorder
from ..errors import BoltzspinError, DisorderError, FermiSurfaceError, ModelError, SolverError
from ..geometry.fermi import radial_extent, scan_rays
from ..models.continuum import check_model, resolve_observable
from ..models.tight_binding import TightBinding

__all__ = ["conductivity", "clean_limit", "compare", "CONTRIBUTIONS", "UNITS"]

#: Diagram classes of the ``contribution`` coordinate (``"ladder"`` only with ``diagrams="ladder"``).
CONTRIBUTIONS = ("bubble", "ladder", "fermi_sea", "total")

#: Units and sign conventions, recorded in ``attrs["units"]`` of every result.
UNITS = (
    "hbar = 1; k and energies in the model's units; J_i = sigma_ij E_j; "
    "sigma in units of q*[s]/hbar (2D); q is the carrier charge (electrons q = -1); "
    "spin operators in units of hbar"
)

#: Default momentum cutoff, in units of the model's radial extent (twice the outermost Fermi crossing
#: or the band structure's own momentum scale, :func:`boltzspin.geometry.fermi.radial_extent`).
CUTOFF_FACTOR = 1.0e4
#: Default impurity-density factors of :func:`clean_limit` (geometric, ratio 1/2).
DENSITY_FACTORS = tuple(2.0 ** -k for k in range(8))
#: Degree of the polynomial fit of ``f sigma(f n_imp)`` in :func:`clean_limit`.
FIT_DEGREE = 4
EPS = np.finfo(float).eps


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------

def _real(name, value, requirement):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ModelError(f"{name}={value!r} must be {requirement}")
    return float(value)


def _check(model, mu, disorder, observable, charge, current, diagrams, n_angles, order, cutoff):
    if isinstance(model, TightBinding) or getattr(model, "dim", None) != 2:
        raise ModelError(
            f"boltzspin.kubo handles 2D continuum (k.p) models (Rashba, MassiveDirac, KPModel with dim=2); "
            f"{model!r} is not one. Lattice models are not implemented in this version: use "
            "boltzspin.transport for them")
    check_model(model)
    mu = _real("mu", mu, "a finite real number (the chemical potential, an energy)")
    q = _real("charge", charge, "a finite nonzero real number (electrons: -1)")
    if q == 0:
        raise ModelError("charge=0 must be a finite nonzero real number (electrons: -1)")
    if not isinstance(disorder, Disorder):
        raise BoltzspinError(f"disorder must be a boltzspin disorder species (e.g. DeltaCorrelated), got {disorder!r}")
    if current == "conserved":
        raise ModelError(
            "current='conserved' (the Shi-Zhang-Xiao-Niu conserved current d(r s)/dt, whose torque-dipole part "
            "needs the response at small wave vector) is not implemented by this version of boltzspin.kubo; "
            "use current='conventional' for the conventional current {s, v}/2, or boltzspin.transport for the "
            "semiclassical conserved current")
    if current != "conventional":
        raise ModelError(f"current={current!r} must be 'conventional' (or 'conserved', not implemented yet)")
    if diagrams == "all":
        raise ModelError(
            "diagrams='all' (ladder plus the crossed X and Psi diagrams) is not implemented by this version of "
            "boltzspin.kubo; use diagrams='ladder' (non-crossing approximation) or 'bubble' (no vertex "
            "corrections)")
    if diagrams not in ("bubble", "ladder"):
        raise ModelError(f"diagrams={diagrams!r} must be 'bubble', 'ladder' or 'all' (not implemented yet)")
    if isinstance(n_angles, bool) or not isinstance(n_angles, numbers.Integral) or n_angles < 8 or n_angles % 2:
        raise ModelError(f"n_angles={n_angles!r} must be an even integer >= 8 (angles of the polar quadrature)")
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or not 6 <= order <= 64:
        raise ModelError(f"order={order!r} must be an integer in [6, 64] (Gauss-Legendre points per radial panel)")
    if cutoff is not None:
        cutoff = _real("cutoff", cutoff, "a positive momentum or None (default: 1e4 x the model's radial extent)")
        if cutoff <= 0:
            raise ModelError(f"cutoff={cutoff!r} must be a positive momentum or None")
    s, label = resolve_observable(model, observable, q)
    return mu, q, s, label, cutoff


def _channels(model, disorder):
    """``(gamma_a, U_a)``: disorder correlator ``<U U> = sum_a gamma_a U_a (x) U_a`` (gamma = n_imp c_a)."""
    out = []
    for ch in disorder.channels(model):
        if ch.function is not None or ch.kind != PROFILE_CONSTANT:
            raise DisorderError(
                f"boltzspin.kubo handles momentum-independent disorder only (DeltaCorrelated, MagneticImpurities, "
                f"StrengthDistribution, BinaryAlloy and their mixtures); {ch.label or disorder!r} depends on the "
                "momentum transfer. Use one of those species, or boltzspin.transport for q-dependent disorder")
        out.append((ch.prefactor / (2 * np.pi), np.asarray(ch.matrix, dtype=complex)))
    return out


# --------------------------------------------------------------------------------------------
# quadrature
# --------------------------------------------------------------------------------------------

def _eigh(model, k):
    h = model.hamiltonian(k)
    return np.linalg.eigh(h)


def _crossings(model, mu, theta, r_ext):
    """Clean Fermi crossings along the rays ``theta``: flat arrays ``(ray, r, band, v_r, projector)``.

    Radial scan (1600 geometric samples up to ``r_ext``), then bisection on the sorted band energy.
    """
    dirs = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    r = np.concatenate([[0.0], np.geomspace(r_ext * 1e-6, r_ext, 1600)])
    e = np.linalg.eigvalsh(model.hamiltonian(r[None, :, None] * dirs[:, None, :])) - mu  # (N, R, n)
    change = (e[:, 1:, :] > 0) != (e[:, :-1, :] > 0)
    ray, seg, band = np.nonzero(change)
    lo, hi = r[seg].copy(), r[seg + 1].copy()
    f_lo = e[ray, seg, band]
    d = dirs[ray]
    for _ in range(60):  # bisection on the sorted band energy
        mid = 0.5 * (lo + hi)
        f_mid = np.linalg.eigvalsh(model.hamiltonian(mid[:, None] * d))[np.arange(len(mid)), band] - mu
        left = (f_mid > 0) == (f_lo > 0)
        lo = np.where(left, mid, lo)
        f_lo = np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
    rc = 0.5 * (lo + hi)
    kc = rc[:, None] * d
    if len(rc):
        w, u = _eigh(model, kc)
        ub = u[np.arange(len(rc)), :, band]  # (C, n)
        v = model.velocity(kc)  # (C, 2, n, n)
        vr = np.real(np.einsum("ca,cab,cb->c", ub.conj(), np.einsum("ci,ciab->cab", d, v), ub))
        proj = ub[:, :, None] * ub.conj()[:, None, :]
    else:
        vr = np.zeros(0)
        proj = np.zeros((0, model.n_bands, model.n_bands), dtype=complex)
    return ray, rc, band, vr, proj


def _born_gamma(channels, theta, ray, rc, vr, proj, n):
    r"""``Gamma = pi sum_a gamma_a U_a rho U_a`` with ``rho = int [dk] delta(mu - H)`` on the clean Fermi crossings."""
    if np.any(np.abs(vr) < 1e-300):
        raise ModelError("a band crosses mu with zero radial velocity (a ray tangent to the Fermi line); "
                         "shift mu slightly")
    dtheta = 2 * np.pi / len(theta)
    rho = np.einsum("c,cab->ab", dtheta / (4 * np.pi**2) * rc / np.abs(vr), proj)
    return _dress(channels, np.pi * rho)


def _dress(channels, x):
    """``sum_a gamma_a U_a x U_a``."""
    return sum(g * u @ x @ u for g, u in channels)


def _gl(order):
    return np.polynomial.legendre.leggauss(order)


def _graded(c, w, b):
    """Panel edges from a crossing ``c`` towards ``b`` graded geometrically from the width ``w``."""
    span = abs(b - c)
    sign = 1.0 if b > c else -1.0
    d, out = 0.5 * w, []
    while d < 0.75 * span:
        out.append(c + sign * d)
        d *= 2.0
    out.append(b)
    return out


def _radial_edges(crossings, widths, r_ext, cutoff):
    """Panel edges ``[0, ..., cutoff]`` (with ``cutoff/4`` and ``cutoff/2`` among them) for one ray."""
    order = np.argsort(crossings)
    c, w = np.asarray(crossings)[order], np.asarray(widths)[order]
    if len(c) == 0:
        edges = [0.0] + list(r_ext * 2.0 ** np.arange(-24, np.ceil(np.log2(cutoff / r_ext)))) + [cutoff]
    else:
        edges = [0.0] + _graded(c[0], w[0], 0.0)
        for a in range(len(c)):
            edges.append(c[a])
            right = cutoff if a == len(c) - 1 else 0.5 * (c[a] + c[a + 1])
            edges += _graded(c[a], w[a], right)
            if a < len(c) - 1:
                edges += _graded(c[a + 1], w[a + 1], right)
    edges = np.unique(np.concatenate([np.asarray(edges, dtype=float), [0.25 * cutoff, 0.5 * cutoff]]))
    edges = edges[(edges >= 0) & (edges <= cutoff)]
    return edges


def _certified_crossings(model, mu, n_angles, r_ext):
    """Crossings per ray expected by boltzspin's certified Fermi-surface scan (:func:`scan_rays`).

    Raises :class:`FermiSurfaceError` for Fermi pockets that do not enclose ``k = 0`` (not supported by
    the polar quadrature about the origin) and whatever the certified scan refuses.
    """
    scan = scan_rays(model, mu, max(int(n_angles), 16), k_max=r_ext)
    if scan.pockets:
        raise FermiSurfaceError(
            f"mu={mu} has {len(scan.pockets)} Fermi pocket(s) that do not enclose k = 0; boltzspin.kubo integrates "
            "in polar coordinates about k = 0 and supports only Fermi lines that enclose it. Choose mu so that "
            "every Fermi line encloses k = 0, or use boltzspin.transport")
    return scan.roots.shape[1]


def _grid(model, mu, channels, n_angles, order, cutoff, r_ext, expected=None, crossings=None):
    """Polar quadrature: momenta ``(P, 2)``, weights ``(P,)`` including ``k dk dtheta / (2 pi)^2``, radii,
    the Born broadening and crossing data."""
    theta = 2 * np.pi * np.arange(n_angles) / n_angles
    ray, rc, band, vr, proj = _crossings(model, mu, theta, r_ext) if crossings is None else crossings
    if expected is not None:
        counts = np.bincount(ray, minlength=n_angles)
        if np.any(counts != expected):
            raise FermiSurfaceError(
                f"the radial scan found {counts.min()}..{counts.max()} crossings of mu={mu} per ray where the "
                f"certified Fermi-surface scan finds {expected}: a crossing closer to another than the scan's "
                "resolution, or a ray tangent to a Fermi line. Move mu slightly")
    n = model.n_bands
    gamma = _born_gamma(channels, theta, ray, rc, vr, proj, n) if len(rc) else np.zeros((n, n), dtype=complex)
    gnn = np.real(np.einsum("cab,ba->c", proj, gamma)) if len(rc) else np.zeros(0)
    widths = np.where(gnn > 0, gnn / np.maximum(np.abs(vr), 1e-300), 1e-6 * np.maximum(rc, 1e-300))
    widths = np.maximum(widths, 1e-12 * np.maximum(rc, 1e-300))
    x, wx = _gl(order)
    ks, ws, rs = [], [], []
    for j, th in enumerate(theta):
        sel = ray == j
        edges = _radial_edges(rc[sel], widths[sel], r_ext, cutoff)
        a, b = edges[:-1, None], edges[1:, None]
        r = (0.5 * (a + b) + 0.5 * (b - a) * x).ravel()
        wr = (0.5 * (b - a) * wx).ravel()
        ks.append(r[:, None] * np.array([np.cos(th), np.sin(th)]))
        ws.append(wr * r * (2 * np.pi / n_angles) / (4 * np.pi**2))
        rs.append(r)
    return np.concatenate(ks), np.concatenate(ws), np.concatenate(rs), gamma, len(rc) > 0


# --------------------------------------------------------------------------------------------
# the diagrams
# --------------------------------------------------------------------------------------------

def _green(h, mu, gamma):
    n = h.shape[-1]
    return np.linalg.inv((mu * np.eye(n) + 1j * gamma) - h)


def _self_consistent(channels, h, w, mu, gamma, tol=1e-13, maxiter=500):
    r"""Self-consistent Born: ``Gamma = sum_a gamma_a U_a [int [dk] G^R Gamma G^A] U_a``, ``G^R = (mu - H + i Gamma)^-1``."""
    if not np.any(gamma):
        return gamma, 0
    for it in range(1, maxiter + 1):
        gr = _green(h, mu, gamma)
        new = _dress(channels, np.einsum("p,pab,bc,pdc->ad", w, gr, gamma, gr.conj()))
        new = 0.5 * (new + new.conj().T)
        delta = np.abs(new - gamma).max()
        gamma = new
        if delta <= tol * np.abs(gamma).max():
            return gamma, it
    raise SolverError(f"the self-consistent Born self-energy did not converge in {maxiter} iterations "
                      f"(last change {delta:.3g}); use self_consistent=False (first Born)")


def _sea_phi(lam_n, lam_m, mu):
    r"""``int_{-inf}^{mu} de [1/((e-l_m)^2 (e-l_n)) - 1/((e-l_m)(e-l_n)^2)]`` for ``Im l < 0`` (closed form)."""
    a = mu - lam_n
    c = mu - lam_m
    a = a.real + 1j * np.abs(a.imag)  # Im >= +0: the retarded branch, also for Gamma = 0 (insulators)
    c = c.real + 1j * np.abs(c.imag)
    d = c - a
    out = np.empty(np.broadcast(a, c).shape, dtype=complex)
    a, c, d = (np.broadcast_to(x, out.shape) for x in (a, c, d))
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = d / a
        small = np.abs(eps) < 0.2
        big = ~small
        out[big] = (1 / d[big]) * (1 / a[big] + 1 / c[big]) + (2 / d[big] ** 2) * (np.log(a[big]) - np.log(c[big]))
        e = eps[small]
        series = np.zeros_like(e)
        term = np.ones_like(e)
        for p in range(1, 40):  # sum_p (-1)^(p+1) p/(p+2) eps^p, |eps| < 0.2: 0.2^40 ~ 1e-28
            term = term * e
            series += (-1.0) ** (p + 1) * p / (p + 2) * term
        out[small] = series / a[small] ** 2
    return out


def _evaluate(model, mu, channels, s, q, diagrams, self_consistent, n_angles, order, cutoff, r_ext, expected=None,
              crossings=None):
    """All diagram classes at one resolution: dict of ``(2, 2)`` arrays, with the cutoff/2 partial sums."""
    k, w, r, gamma, metal = _grid(model, mu, channels, n_angles, order, cutoff, r_ext, expected, crossings)
    h = model.hamiltonian(k)
    iterations = 0
    if self_consistent:
        gamma, iterations = _self_consistent(channels, h, w, mu, gamma)
    v = model.velocity(k)  # (P, 2, n, n)
    n = model.n_bands
    j_in = q * v
    j_out = 0.5 * (np.einsum("ab,pibc->piac", s, v) + np.einsum("piab,bc->piac", v, s))
    partial = (("", w), ("_half", np.where(r <= 0.5 * cutoff, w, 0.0)), ("_quarter", np.where(r <= 0.25 * cutoff, w, 0.0)))
    out = {}
    for tag, weights in partial:
        out["bubble" + tag] = np.zeros((2, 2))
        out["ladder" + tag] = np.zeros((2, 2))
    if metal:
        gr = _green(h, mu, gamma)
        ga = np.swapaxes(gr.conj(), -1, -2)
        x = gr - ga
        m1 = np.einsum("piab,pbc->piac", j_out, x)  # J_i (R - A)
        m2 = np.einsum("pjab,pbc->pjac", j_in, ga)  # j_j A
        m3 = np.einsum("piab,pbc->piac", j_out, gr)  # J_i R
        m4 = np.einsum("pjab,pbc->pjac", j_in, x)  # j_j (R - A)
        integrand = (np.einsum("piab,pjba->pij", m1, m2) - np.einsum("piab,pjba->pij", m3, m4)) / (4 * np.pi)
        if diagrams == "ladder":
            per_point = (
                np.einsum("pac,pdb->pabcd", gr, ga).reshape(len(w), n * n, n * n),  # X -> R X A per point
                _dress_matrix(channels, n),
                gr[:, None] @ j_in @ ga[:, None],  # R j_j A
                ga[:, None] @ j_out @ gr[:, None],  # A J_i R
            )
        for tag, weights in partial:
            out["bubble" + tag] = np.real(np.einsum("p,pij->ij", weights, integrand))
            if diagrams == "ladder":
                out["ladder" + tag] = _ladder(channels, per_point, weights, n)
    sea = _fermi_sea(h, gamma, mu, j_in, j_out)
    for tag, weights in partial:
        out["fermi_sea" + tag] = np.einsum("p,pij->ij", weights, sea)
    out["gamma"] = gamma
    out["iterations"] = iterations
    out["n_points"] = len(w)
    return out


def _wsum(w, x):
    """``sum_p w_p x_p`` over the first axis (real weights, complex values)."""
    flat = x.reshape(len(w), -1)
    return (w @ flat.real + 1j * (w @ flat.imag)).reshape(x.shape[1:])


def _dress_matrix(channels, n):
    """The superoperator ``X -> sum_a gamma_a U_a X U_a`` as an ``(n^2, n^2)`` matrix (row-major vec)."""
    return sum(g * np.einsum("ac,db->abcd", u, u) for g, u in channels).reshape(n * n, n * n)


def _ladder(channels, per_point, w, n):
    r"""Vertex-correction part ``(1/2pi) Tr[J_i G^R dV_j G^A]`` of the ladder-dressed ``G^R j_j G^A`` bubble."""
    kern_p, t, rja, ajr = per_point
    kern = _wsum(w, kern_p)  # X -> int R X A
    s_j = _wsum(w, rja)  # int R j_j A, (2, n, n)
    q_i = _wsum(w, ajr)  # int A J_i R
    lhs = np.eye(n * n) - t @ kern
    rhs = np.stack([t @ s_j[j].ravel() for j in range(2)], axis=-1)
    cond = np.linalg.cond(lhs)
    if np.isfinite(cond) and cond < 1e10:
        dv = np.linalg.solve(lhs, rhs)  # (n^2, 2)
    else:
        # Self-consistent Born makes 1 - T K exactly singular (Ward identity: the uniform density mode
        # Gamma is a null vector). The field vertex is orthogonal to that mode; take the minimum-norm
        # solution and insist that it solves the system.
        dv = np.linalg.lstsq(lhs, rhs, rcond=1e-10)[0]
        resid = np.abs(lhs @ dv - rhs).max() / max(np.abs(rhs).max(), 1e-300)
        if resid > 1e-8:
            raise SolverError(f"the ladder vertex equation is singular (condition number {cond:.3g}) and the "
                              f"field vertex is not in its range (relative residual {resid:.3g}): the disorder "
                              "conserves a quantity the vertex carries. Use diagrams='bubble'")
    dv = np.moveaxis(dv.reshape(n, n, 2), -1, 0)  # (j, n, n)
    return np.real(np.einsum("iab,jba->ij", q_i, dv)) / (2 * np.pi)


def _fermi_sea(h, gamma, mu, j_in, j_out):
    r"""Streda integrand ``(1/2pi) Re sum_{n != m} b_nm Phi(l_n, l_m)`` per momentum ``(P, 2, 2)``, from the
    eigenvalues ``l`` of ``H - i Gamma`` and ``b_nm = (L J_i R)_nm (L j_j R)_mn`` (right/left eigenvectors)."""
    lam, right = np.linalg.eig(h - 1j * gamma)
    left = np.linalg.inv(right)
    o1 = left[:, None] @ j_out @ right[:, None]
    o2 = left[:, None] @ j_in @ right[:, None]
    phi = _sea_phi(lam[:, :, None], lam[:, None, :], mu)  # (P, n, m)
    nn = lam.shape[-1]
    phi[:, np.arange(nn), np.arange(nn)] = 0.0
    total = np.einsum("pinm,pjmn,pnm->pij", o1, o2, phi, optimize=True)
    return np.real(total) / (2 * np.pi)


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------

def conductivity(model, mu, disorder, observable="charge", charge=-1.0, current="conventional",
                 diagrams="ladder", *, self_consistent=False, cutoff=None, n_angles=64, order=12):
    r"""Disorder-averaged Kubo-Streda conductivity of a 2D continuum model at one disorder strength.

    Evaluates :math:`\sigma_{ij} = \sigma^I_{ij} + \sigma^{II}_{ij}` (module docstring) at T = 0
    with the Born self-energy and, for ``diagrams="ladder"``, the ladder vertex corrections:

    .. math::

        \Sigma^R = -i\Gamma,\quad \Gamma = \pi\sum_a \gamma_a U_a\Big[\int[dk]\,\delta(\mu - H)\Big]U_a,
        \qquad
        \tilde j_j = j_j + \sum_a \gamma_a U_a\Big[\int[dk]\,G^R \tilde j_j G^A\Big]U_a,

    with the disorder correlator ``<U U> = sum_a gamma_a U_a (x) U_a`` (``gamma_a = n_imp c_a``,
    e.g. ``n_imp u0^2`` for :class:`DeltaCorrelated`).

    Parameters
    ----------
    model : Model
        A 2D continuum model (``Rashba``, ``MassiveDirac``, ``KPModel`` with ``dim=2``).
    mu : float
        Chemical potential (energy).
    disorder : Disorder
        Momentum-independent disorder: ``DeltaCorrelated``, ``MagneticImpurities`` (its
        orientation-averaged channels), ``StrengthDistribution``, ``BinaryAlloy`` or a mixture.
    observable : str or (n, n) array
        ``"charge"`` (output current ``q v``), a name in ``model.operators`` or a Hermitian matrix
        ``s`` (output current ``{s, v}/2``).
    charge : float
        Carrier charge ``q`` (electrons ``-1``); the field couples to ``j = q v``.
    current : str
        ``"conventional"`` (``{s, v}/2``).  ``"conserved"`` (Shi, Zhang, Xiao and Niu, PRL 96,
        076604 (2006)) is refused: not implemented in this version.
    diagrams : str
        ``"bubble"`` (no vertex corrections) or ``"ladder"`` (non-crossing approximation).
        ``"all"`` (crossed X and Psi diagrams) is refused: not implemented in this version.
    self_consistent : bool
        Iterate the Born self-energy to self-consistency (its anti-Hermitian part).
    cutoff : float, optional
        Momentum cutoff ``Lambda`` of every ``k`` integral; default ``1e4`` times the model's
        radial extent (twice the outermost Fermi crossing or the band scale).  Needed for bands
        filled to infinity (Dirac); the reported value is ``2 X(Lambda) - X(Lambda/2)`` (a ``1/Lambda`` tail removed).
    n_angles : int
        Angles of the polar quadrature (even, >= 8).
    order : int
        Gauss-Legendre points per radial panel.

    Returns
    -------
    xarray.Dataset
        ``sigma`` and ``sigma_error`` with dims ``("contribution", "i", "j")``, contributions
        ``"bubble"`` (the dressed-Green's-function Fermi-surface term), ``"ladder"`` (its vertex
        correction; only with ``diagrams="ladder"``), ``"fermi_sea"`` (Streda term) and
        ``"total"``; ``gamma`` (the broadening matrix ``Gamma``); attrs with units, charge,
        observable, current, diagrams, cutoff and the error-estimate method.

    Notes
    -----
    The exact orders are the ``1/n_imp`` and ``n_imp^0`` terms of the weak-disorder expansion
    (the ladder, non-crossing approximation); the ``O(n_imp)`` remainder depends on the
    approximation (the Hermitian part of the self-energy is dropped, the Fermi-sea term uses the
    broadening at ``mu``).  Use :func:`clean_limit` for the weak-disorder limit.
    ``sigma_error`` = ``|X - X(n_angles/2)| + |X - X(2 order/3)|`` + the change of the
    cutoff extrapolation ``|2 X(Lambda) - 3 X(Lambda/2) + X(Lambda/4)|`` plus round-off.

    References
    ----------
    A. Crepieux and P. Bruno, PRB 64, 014416 (2001); N. A. Sinitsyn et al., PRB 75, 045315 (2007).
    """
    mu, q, s, label, cutoff = _check(model, mu, disorder, observable, charge, current, diagrams, n_angles,
                                     order, cutoff)
    channels = _channels(model, disorder)
    r_ext = radial_extent(model, mu)
    lam = CUTOFF_FACTOR * r_ext if cutoff is None else cutoff
    expected = _certified_crossings(model, mu, n_angles, r_ext)
    args = (model, mu, channels, s, q, diagrams, self_consistent)
    cross = _crossings(model, mu, 2 * np.pi * np.arange(n_angles) / n_angles, r_ext)
    even = cross[0] % 2 == 0  # the n_angles/2 rays are the even ones
    cross_half = (cross[0][even] // 2,) + tuple(x[even] for x in cross[1:])
    full = _evaluate(*args, n_angles, order, lam, r_ext, expected, cross)
    coarse_a = _evaluate(*args, n_angles // 2, order, lam, r_ext, expected, cross_half)
    coarse_r = _evaluate(*args, n_angles, max(4, (2 * order) // 3), lam, r_ext, expected, cross)
    names = ["bubble"] + (["ladder"] if diagrams == "ladder" else []) + ["fermi_sea"]
    for run in (full, coarse_a, coarse_r):  # remove a 1/Lambda tail: X(inf) ~ 2 X(Lambda) - X(Lambda/2)
        for c in names:
            run[c + "_tail"] = np.abs(2 * run[c] - 3 * run[c + "_half"] + run[c + "_quarter"])
            run[c] = 2 * run[c] - run[c + "_half"]
    values = np.stack([full[c] for c in names])
    disc = np.stack([np.abs(full[c] - coarse_a[c]) + np.abs(full[c] - coarse_r[c])
                     + full[c + "_tail"] for c in names])
    scale = np.abs(values).max(initial=0.0) + abs(q) * float(np.abs(np.linalg.eigvalsh(s)).max()) / (8 * np.pi)
    rounding = 1e3 * EPS * scale  # sums of ~1e5 terms of mixed sign
    err = disc + rounding
    values = np.concatenate([values, values.sum(axis=0)[None]])
    err = np.concatenate([err, err.sum(axis=0)[None]])
    if not np.all(np.isfinite(values)):
        raise BoltzspinError("non-finite Kubo conductivity; please report this as a bug")
    contributions = names + ["total"]
    n = model.n_bands
    ds = xr.Dataset(
        {
            "sigma": (("contribution", "i", "j"), values,
                      {"long_name": "Kubo-Streda conductivity, J_i = sigma_ij E_j", "units": "q*[s]/hbar (hbar = 1)"}),
            "sigma_error": (("contribution", "i", "j"), err,
                            {"long_name": "error estimate of sigma (resolution, cutoff, round-off)",
                             "units": "q*[s]/hbar (hbar = 1)"}),
            "gamma": (("orbital", "orbital_"), full["gamma"],
                      {"long_name": "broadening Gamma = -Im Sigma^R at mu (Born)", "units": "energy"}),
        },
        coords={"contribution": contributions, "i": ["x", "y"], "j": ["x", "y"],
                "orbital": np.arange(n), "orbital_": np.arange(n)},
    )
    ds.attrs.update(
        units=UNITS,
        charge=q,
        observable=label,
        current=current,
        diagrams=diagrams,
        mu=mu,
        temperature=0.0,
        model=repr(model),
        disorder=repr(disorder),
        method="Kubo-Streda, Born self-energy (anti-Hermitian part)"
               + (", self-consistent" if self_consistent else "")
               + (", ladder vertex corrections" if diagrams == "ladder" else ", bare vertices"),
        self_consistent_iterations=int(full["iterations"]),
        cutoff=float(lam),
        n_angles=int(n_angles),
        order=int(order),
        n_points=int(full["n_points"]),
        state="metal" if np.any(full["gamma"]) else "insulator (no states at mu: Gamma = 0)",
        error_estimate_method=(
            "value = 2 X(cutoff) - X(cutoff/2) (1/cutoff tail removed); "
            "sigma_error = |X - X(n_angles/2)| + |X - X(2*order/3)| + |2 X(cutoff) - 3 X(cutoff/2) + X(cutoff/4)| "
            "+ 1e3 eps x scale (round-off)"),
    )
    return ds


def _scaled(disorder, factor):
    """A copy of ``disorder`` with every species' density multiplied by ``factor``."""
    species = [copy.copy(sp) for sp in disorder.species]
    for sp in species:
        sp.density = sp.density * factor
    if len(species) == 1:
        return species[0]
    out = species[0]
    for sp in species[1:]:
        out = out + sp
    return out


def clean_limit(model, mu, disorder, observable="charge", charge=-1.0, current="conventional",
                diagrams="ladder", *, factors=DENSITY_FACTORS, **options):
    r"""Weak-disorder limit of :func:`conductivity`: the ``1/n_imp`` and ``n_imp^0`` terms.

    Computes ``sigma(n)`` at densities ``n = f n_0`` (``f`` in ``factors``, every species scaled by the
    same ratio, strengths fixed) and fits, element by element and weighted by the error estimates,

    .. math:: f\,\sigma(f n_0) = A + B f + C f^2 + D f^3 + E f^4,

    returning ``A + B`` (the value of ``A/f + B`` at ``f = 1``: the ``1/n_imp`` term at the given
    density plus the constant term).

    Parameters
    ----------
    model : Model
        A 2D continuum model, as for :func:`conductivity`.
    mu : float
        Chemical potential (energy).
    disorder : Disorder
        Momentum-independent disorder; its density is ``n_0`` and its strengths stay fixed.
    observable : str or (n, n) array
        As for :func:`conductivity`.
    charge : float
        Carrier charge ``q`` (electrons ``-1``).
    current : str
        ``"conventional"`` (``"conserved"`` is refused, as by :func:`conductivity`).
    diagrams : str
        ``"bubble"`` or ``"ladder"`` (``"all"`` is refused).
    factors : sequence of float
        Density factors ``f`` (at least 5, distinct, in (0, 1]); default ``2^-k``, ``k = 0..7``.
    **options
        Passed to :func:`conductivity` (``self_consistent``, ``cutoff``, ``n_angles``, ``order``).

    Returns
    -------
    xarray.Dataset
        ``sigma`` and ``sigma_error`` with dims ``("i", "j")``; ``inverse_density_term`` (``A``)
        and ``constant_term`` (``B``) with their errors; ``samples`` (the conductivities at each
        density, dims ``("factor", "i", "j")``); attrs as :func:`conductivity` plus the fit.

    Notes
    -----
    The polynomial degree is 4 (less with fewer than 6 factors).  ``sigma_error`` = statistical
    error of the fit (from the points' ``sigma_error``, scaled by ``sqrt(chi^2/dof)`` when larger
    than one) + the change when the degree is lowered by one (truncation of the expansion in
    ``n_imp``).
    """
    f = np.asarray(factors, dtype=float)
    if f.ndim != 1 or len(f) < 5 or np.any(f <= 0) or np.any(f > 1) or len(np.unique(f)) != len(f):
        raise ModelError(f"factors={factors!r} must be at least 5 distinct density factors in (0, 1]")
    runs = [conductivity(model, mu, _scaled(disorder, x), observable, charge, current, diagrams, **options)
            for x in f]
    y = np.stack([x * r.sigma.sel(contribution="total").values for x, r in zip(f, runs)])  # (F, 2, 2)
    e = np.stack([x * r.sigma_error.sel(contribution="total").values for x, r in zip(f, runs)])
    e = np.maximum(e, 1e-300)
    out = {key: np.zeros((2, 2)) for key in ("value", "err", "a", "b", "a_err", "b_err")}
    degree = min(FIT_DEGREE, len(f) - 2)  # keep at least one degree of freedom
    for i in range(2):
        for j in range(2):
            fits = []
            for deg in (degree, degree - 1):
                basis = np.stack([f**p for p in range(deg + 1)], axis=-1)
                coef, *_ = np.linalg.lstsq(basis / e[:, i, j, None], y[:, i, j] / e[:, i, j], rcond=None)
                cov = np.linalg.pinv((basis / e[:, i, j, None]).T @ (basis / e[:, i, j, None]))
                resid = (y[:, i, j] - basis @ coef) / e[:, i, j]
                chi = float(np.sqrt(np.sum(resid**2) / max(len(f) - deg - 1, 1)))
                fits.append((coef, cov * max(chi, 1.0) ** 2))
            (c_hi, cov), (c_lo, _) = fits
            g = np.zeros(len(c_hi))
            g[:2] = 1.0
            out["value"][i, j] = c_hi[0] + c_hi[1]
            out["err"][i, j] = float(np.sqrt(max(g @ cov @ g, 0.0))) + abs(c_hi[0] + c_hi[1] - c_lo[0] - c_lo[1])
            out["a"][i, j], out["b"][i, j] = c_hi[0], c_hi[1]
            out["a_err"][i, j] = float(np.sqrt(max(cov[0, 0], 0.0))) + abs(c_hi[0] - c_lo[0])
            out["b_err"][i, j] = float(np.sqrt(max(cov[1, 1], 0.0))) + abs(c_hi[1] - c_lo[1])
    units = "q*[s]/hbar (hbar = 1)"
    ds = xr.Dataset(
        {
            "sigma": (("i", "j"), out["value"], {"long_name": "weak-disorder limit (1/n_imp and n_imp^0 terms)",
                                                 "units": units}),
            "sigma_error": (("i", "j"), out["err"], {"long_name": "fit uncertainty of sigma", "units": units}),
            "inverse_density_term": (("i", "j"), out["a"], {"long_name": "A: the 1/n_imp term at the given density",
                                                            "units": units}),
            "inverse_density_term_error": (("i", "j"), out["a_err"], {"units": units}),
            "constant_term": (("i", "j"), out["b"], {"long_name": "B: the n_imp^0 term", "units": units}),
            "constant_term_error": (("i", "j"), out["b_err"], {"units": units}),
            "samples": (("factor", "i", "j"), np.stack([r.sigma.sel(contribution="total").values for r in runs]),
                        {"long_name": "conductivity at density factor * n_imp", "units": units}),
            "samples_error": (("factor", "i", "j"),
                              np.stack([r.sigma_error.sel(contribution="total").values for r in runs]),
                              {"units": units}),
        },
        coords={"i": ["x", "y"], "j": ["x", "y"], "factor": f},
    )
    attrs = dict(runs[0].attrs)
    attrs.update(
        disorder=repr(disorder),
        fit=f"f sigma(f n_imp) = polynomial of degree {degree} in f (weighted least squares); sigma = A + B",
        fit_error=f"statistical (from sigma_error, scaled by sqrt(chi^2/dof) when > 1) + |degree {degree} - degree "
                  f"{degree - 1} fit|",
    )
    ds.attrs.update(attrs)
    return ds


def compare(ds_kubo, ds_boltzmann):
    """Kubo and Boltzmann conductivities side by side.

    Parameters
    ----------
    ds_kubo : xarray.Dataset
        From :func:`conductivity` (its ``total`` is used) or :func:`clean_limit`.
    ds_boltzmann : xarray.Dataset
        From :func:`boltzspin.transport` with the same model, mu, charge and disorder
        (its ``total`` is used; ``observable="charge"`` for a charge-current comparison).

    Returns
    -------
    xarray.Dataset
        ``kubo``, ``kubo_error``, ``boltzmann``, ``boltzmann_error``, ``difference`` (Kubo minus
        Boltzmann), ``difference_error`` (sum of the two errors) and ``agree``
        (``|difference| <= difference_error``), all with dims ``("i", "j")``, plus the
        Boltzmann contributions as ``boltzmann_parts`` (dims ``("contribution", "i", "j")``).
        For a :func:`clean_limit` dataset also ``kubo_inverse_density_term`` (``A``, the
        ``1/n_imp`` term) beside the Boltzmann ``boltzmann`` contribution:
        ``inverse_density_difference``, ``inverse_density_difference_error`` and
        ``inverse_density_agree``.

    Notes
    -----
    The ladder Kubo result contains, beyond the first-Born Boltzmann contributions, the
    fourth-order "intrinsic skew scattering" of Gaussian disorder (same order as the side jump):
    compute ``ds_boltzmann`` with ``scattering=("intrinsic_skew",)`` and Gaussian disorder
    (``BinaryAlloy``, or ``DeltaCorrelated`` without ``"skew_scattering"``) for the Hall parts to
    agree.  Only the totals correspond in general: the bubble equals the intrinsic term only
    where the Born broadening is spin independent.  The ``n_imp^0`` term of the
    longitudinal conductivity depends on the treatment of the self-energy; compare its
    ``1/n_imp`` term (``inverse_density_*``) with the Boltzmann contribution.
    """
    for key in ("charge", "observable"):
        if key in ds_kubo.attrs and key in ds_boltzmann.attrs and ds_kubo.attrs[key] != ds_boltzmann.attrs[key]:
            raise ModelError(f"the two datasets differ in {key}: {ds_kubo.attrs[key]!r} vs "
                             f"{ds_boltzmann.attrs[key]!r}; compute both with the same {key}")
    if "contribution" in ds_kubo.sigma.dims:
        k, ke = ds_kubo.sigma.sel(contribution="total"), ds_kubo.sigma_error.sel(contribution="total")
    else:
        k, ke = ds_kubo.sigma, ds_kubo.sigma_error
    b, be = ds_boltzmann.sigma.sel(contribution="total"), ds_boltzmann.sigma_error.sel(contribution="total")
    diff = k - b
    derr = ke + be
    ds = xr.Dataset({
        "kubo": k.drop_vars("contribution", errors="ignore"),
        "kubo_error": ke.drop_vars("contribution", errors="ignore"),
        "boltzmann": b.drop_vars("contribution"),
        "boltzmann_error": be.drop_vars("contribution"),
        "difference": diff.drop_vars("contribution", errors="ignore"),
        "difference_error": derr.drop_vars("contribution", errors="ignore"),
        "agree": (np.abs(diff) <= derr).drop_vars("contribution", errors="ignore"),
        "boltzmann_parts": ds_boltzmann.sigma,
    })
    if "inverse_density_term" in ds_kubo:
        a, a_err = ds_kubo.inverse_density_term, ds_kubo.inverse_density_term_error
        bz = ds_boltzmann.sigma.sel(contribution="boltzmann").drop_vars("contribution")
        bz_err = ds_boltzmann.sigma_error.sel(contribution="boltzmann").drop_vars("contribution")
        ds["kubo_inverse_density_term"] = a
        ds["kubo_inverse_density_term_error"] = a_err
        ds["inverse_density_difference"] = a - bz
        ds["inverse_density_difference_error"] = a_err + bz_err
        ds["inverse_density_agree"] = np.abs(a - bz) <= a_err + bz_err
    ds.attrs.update(units=UNITS, charge=ds_boltzmann.attrs.get("charge"), observable=ds_boltzmann.attrs.get("observable"),
                    kubo=ds_kubo.attrs.get("method", ""), boltzmann_scattering=ds_boltzmann.attrs.get("scattering", ""))
    return ds
