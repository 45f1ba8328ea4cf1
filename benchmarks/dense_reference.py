r"""Dense NumPy reference for the Fermi-surface part of :func:`boltzspin.transport`.

A deliberately plain implementation of the first-Born theory (documentation: Theory) that stores every
pair quantity as a full ``N x N`` (or ``N x N x D``) array and solves the
Boltzmann equation with a dense least-squares solve.  It is **a reference, not
for production**: memory grows as ``N^2`` and time as ``N^3``.  It serves as

* the independent baseline for speed comparisons in ``benchmarks/``;
* a cross-check of ``boltzspin.collisions.scattering``, ``boltzspin.collisions.boltzmann`` and
  ``boltzspin.responses.response`` in the tests, none of which it imports.

It uses only the upstream stages: :func:`boltzspin.geometry.fermi.fermi_surface`,
:mod:`boltzspin.geometry.bands` (``expectation``, ``s_dipole``, ``interband_derivative``),
:func:`boltzspin.models.continuum.resolve_observable` and ``disorder.channels(model)``.

Units and conventions: hbar = 1; momenta and energies in the model's units;
the carrier charge ``q`` is explicit (electrons ``q = -1``); ``s`` in its own
units (spin in units of hbar).  ``sigma[i, j]`` is defined by
``J^s_i = sigma_ij E_j``; in 2D it has units of ``q [s] / hbar``.

Disorder channels: ``prefactor * matrix`` with a constant, Gaussian
``exp(-q^2 L^2/4)`` or screened-Coulomb ``2 pi/(|q| + q_TF)`` real profile
(a real profile adds no phase, hence no ``dU/dq`` term), and
general callables ``function(q)``, whose ``dU/dq`` term is included using
``channel.gradient`` if given, else a fourth-order central difference with
step ``channel.fd_step`` (the same rule as the package, so the two agree to
round-off rather than to ``O(fd_step^2)``).
"""

from __future__ import annotations

import numpy as np

from boltzspin.geometry.bands import expectation, interband_derivative, s_dipole
from boltzspin.geometry.fermi import fermi_surface
from boltzspin.models.continuum import fourth_order_derivative, resolve_observable

__all__ = ["DENSE_CONTRIBUTIONS", "dense_transport", "dense_memory_estimate"]

DENSE_CONTRIBUTIONS = (
    "intrinsic_dipole", "boltzmann", "side_jump", "dipole_change", "anomalous_distribution",
)


def _profile(kind, parameter, dq):
    """Real profile ``f(k_p' - k_p)``, shape ``(N, N)``: 0 constant, 1 Gaussian
    ``exp(-q^2 L^2/4)`` (``parameter = L``), 2 screened Coulomb
    ``2 pi/(|q| + q_TF)`` (``parameter = q_TF``)."""
    if kind == 0:
        return np.ones(dq.shape[:2])
    q2 = np.sum(dq**2, -1)
    if kind == 1:
        return np.exp(-q2 * parameter**2 / 4)
    if kind == 2:
        return 2 * np.pi / (np.sqrt(q2) + parameter)
    raise ValueError(f"unknown profile kind {kind!r} (0 constant, 1 Gaussian, 2 screened Coulomb)")


def _channel_pairs(ch, k, u, chi):
    r"""Dense pair arrays of one channel, first index ``p'`` (final), second ``p``.

    Returns ``V[p', p] = <u_p'|U(k_p' - k_p)|u_p>`` (N, N) and the multiplied-out
    shifts (N, N, D) ``|V|^2 a^i = -Im[conj(V) (<chi^i_p'|U|u_p> + <u_p'|dU/dq_i|u_p>)]``,
    ``|V|^2 b^i = -Im[conj(V) (<u_p'|U|chi^i_p> - <u_p'|dU/dq_i|u_p>)]``.
    """
    dq = k[:, None, :] - k[None, :, :]  # k_p' - k_p
    if ch.function is None:
        prof = _profile(ch.kind, ch.parameter, dq)
        m = np.asarray(ch.matrix, dtype=complex)
        mu, mchi = u @ m.T, chi @ m.T  # U|u_p>, U|chi_p>
        v = prof * (u.conj() @ mu.T)
        ta = prof[..., None] * np.einsum("qia,pa->qpi", chi.conj(), mu)
        tb = prof[..., None] * np.einsum("qa,pia->qpi", u.conj(), mchi)
    else:
        um = np.asarray(ch.function(dq), dtype=complex)  # (N, N, n, n)
        if ch.gradient is not None:
            gm = np.asarray(ch.gradient(dq), dtype=complex)
        else:
            gm = fourth_order_derivative(lambda x: np.asarray(ch.function(x), dtype=complex), dq, ch.fd_step)
        tg = np.einsum("qa,qpiab,pb->qpi", u.conj(), gm, u)
        v = np.einsum("qa,qpab,pb->qp", u.conj(), um, u)
        ta = np.einsum("qia,qpab,pb->qpi", chi.conj(), um, u) + tg
        tb = np.einsum("qa,qpab,pib->qpi", u.conj(), um, chi) - tg
    cv = v.conj()[..., None]
    return v, -np.imag(cv * ta), -np.imag(cv * tb)


def _solve(kmat, w, source):
    r"""Min-norm ``lstsq`` solution of ``A phi = w S``, ``A = diag(w Kw) - W K W``.

    The gauge is fixed by ``sum_p w_p phi_p = 0`` over the whole Fermi surface
    (all sheets assumed mutually coupled).  ``source`` is ``(N, m)``.
    """
    a = np.diag(w * (kmat @ w)) - w[:, None] * kmat * w[None, :]
    phi = np.linalg.lstsq(a, w[:, None] * source, rcond=None)[0]
    return phi - (w @ phi) / w.sum()


def dense_transport(model, mu, disorder, observable="sz", charge=-1.0, n_points=256):
    r"""Fermi-surface conductivities of the conserved s-current, computed densely.

    Parameters
    ----------
    model, mu, disorder, observable, charge, n_points :
        As in :func:`boltzspin.transport` (``charge`` is ``q``; ``n_points``
        angles per Fermi sheet; default origin and ``k_max``).

    Returns
    -------
    dict
        ``{name: (D, D) array}`` for :data:`DENSE_CONTRIBUTIONS`, with
        ``J^s_i = sigma[i, j] E_j`` (zeros when ``mu`` is in a gap).

    Notes
    -----
    With weights ``w_p``, velocities ``v_p``, ``s_p = <u_p|s|u_p>``, dipoles ``d^s_p``:

    * ``K_pp' = sum_a prefactor_a |V^a_p'p|^2`` (symmetrized to round-off);
    * ``dr^s_p'p = s_p' a + s_p b`` and ``dr = a + b`` (documentation: Theory, "The conserved current", side jump), so
      ``Y^{s,i}_p = sum_a sum_p' w_p' prefactor_a |V^a|^2 dr^{s,i}_p'p`` and
      ``v^{sj}_p`` is the same with ``s = 1``;
    * ``phi^(j)`` solves ``sum_p' w_p' K_pp' (phi_p - phi_p') = q v^j_p`` and
      ``phi^a(j)`` the same with source ``-q v^{sj,j}_p`` (see :func:`_solve`);
    * ``intrinsic_dipole = q sum_p w d^{s,i} v^j``,
      ``boltzmann = sum_p w phi^(j) v^i s``, ``side_jump = sum_p w phi^(j) Y^{s,i}``,
      ``dipole_change = sum_p w phi^(j) sum_p' w_p' K_pp' (d^i_p' - d^i_p)``,
      ``anomalous_distribution = sum_p w phi^a(j) v^i s``.

    All sheets are assumed mutually coupled by the disorder (one gauge
    condition on the whole Fermi surface); the package handles decoupled sets.
    """
    q = float(charge)
    s_matrix, _ = resolve_observable(model, observable, q)
    dim = model.dim
    fs = fermi_surface(model, mu, n_points)
    out = {c: np.zeros((dim, dim)) for c in DENSE_CONTRIBUTIONS}
    if fs.n_points == 0:
        return out
    es, band, w, vel, k = fs.eigensystem, fs.band, fs.weight, fs.velocity, fs.k
    u = np.take_along_axis(es.vectors, band[:, None, None], axis=2)[:, :, 0]  # (N, n)
    chi = interband_derivative(es, band)  # (N, D, n)
    s = np.take_along_axis(expectation(es, s_matrix), band[:, None], axis=1)[:, 0]
    d = np.take_along_axis(s_dipole(es, s_matrix), band[:, None, None], axis=1)[:, 0, :]
    n = len(w)
    kt = np.zeros((n, n))  # kt[p', p] = sum_a pref |V_p'p|^2
    wa = np.zeros((n, n, dim))  # sum_a pref |V|^2 a, indices [p', p, i]
    wb = np.zeros((n, n, dim))
    for ch in disorder.channels(model):
        v, a, b = _channel_pairs(ch, k, u, chi)
        kt += ch.prefactor * np.abs(v) ** 2
        wa += ch.prefactor * a
        wb += ch.prefactor * b
    kmat = 0.5 * (kt + kt.T)
    y_s = np.einsum("q,qpi->pi", w * s, wa) + s[:, None] * np.einsum("q,qpi->pi", w, wb)
    v_sj = np.einsum("q,qpi->pi", w, wa + wb)
    sol = _solve(kmat, w, np.concatenate([q * vel, -q * v_sj], axis=1))  # one solve, 2D sources
    phi, phi_a = sol[:, :dim], sol[:, dim:]
    dip_change = kmat @ (w[:, None] * d) - (kmat @ w)[:, None] * d
    out["intrinsic_dipole"] = q * np.einsum("p,pi,pj->ij", w, d, vel)
    out["boltzmann"] = np.einsum("p,pj,pi->ij", w * s, phi, vel)
    out["side_jump"] = np.einsum("p,pj,pi->ij", w, phi, y_s)
    out["dipole_change"] = np.einsum("p,pj,pi->ij", w, phi, dip_change)
    out["anomalous_distribution"] = np.einsum("p,pj,pi->ij", w * s, phi_a, vel)
    return out


def dense_memory_estimate(n_points_total, dim=2, n_bands=2, callable_channel=False):
    """Peak bytes of the dense pair arrays for ``n_points_total`` Fermi points ``N``.

    Per pair ``(p', p)`` and ``D = dim``, live at the peak (the second channel's
    ``b``): the accumulators ``K`` (8 B) and ``wa``, ``wb`` (8 D each), the
    previous channel's ``V``, ``a``, ``b`` (16 + 16 D), and the current channel's
    ``k_p' - k_p`` (8 D), profile (8), ``V`` (16), ``conj V`` (16),
    ``<chi|U|u>``, ``<u|U|chi>`` (16 D each), ``a`` (8 D), ``conj(V) <u|U|chi>``
    (16 D) and ``b`` (8 D): ``(64 + 104 D) N^2`` B, 272 N^2 for D = 2, as
    measured with ``tracemalloc``.  A callable channel adds ``U(q)`` and the
    finite-difference ``dU/dq`` with its temporaries, bounded by
    ``16 (1 + 2 D) n^2 + 16 D`` B per pair (measured 488 N^2 in total for
    n = D = 2).  The Boltzmann stage (``A`` and ``lstsq`` copies) needs less.
    Not counted: the transient ray scan of :mod:`boltzspin.geometry.fermi`, about
    0.3 MB per angle, which is freed before the pair arrays are built.
    """
    per_pair = 64 + 104 * dim
    if callable_channel:
        per_pair += 16 * (1 + 2 * dim) * n_bands**2 + 16 * dim
    return int(per_pair) * int(n_points_total) ** 2
