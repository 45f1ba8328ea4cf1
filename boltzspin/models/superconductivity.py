r"""Mean-field superconductors: Bogoliubov-de Gennes models of a normal-state model.

:class:`BdG` builds the Nambu Hamiltonian of a normal-state model (continuum or
lattice) with a k-dependent gap function, so that every stage of boltzspin
(band geometry, Fermi surfaces, Boltzmann transport, magnetization) applies to
Bogoliubov quasiparticles with ``s = q tau_z`` (observable ``"charge"``), as in
the letter (C. Xiao and Q. Niu, arXiv:2009.12058, Eqs. 7-9).

Nambu bases (hbar = 1, energies measured from the quasiparticle Fermi level 0):

* one normal band ``e(k)`` (spin degenerate, no spin-orbit coupling): the
  reduced basis ``(c_{k up}, c^dagger_{-k down})``,

  .. math:: H = \begin{pmatrix}\xi(k) & \Delta(k)\\ \Delta^*(k) & -\xi(-k)\end{pmatrix},
            \qquad \xi = e - \mu_N,

  where every quasiparticle state appears once and carries spin ``S_z = +1/2``
  (so a Zeeman gradient acts on it as an electric field with unit coupling);
* a spin-1/2 normal model (``n = 2``, e.g. magnetized Rashba): the full basis
  ``(c_k, c^dagger_{-k})`` with singlet pairing ``Delta(k) i sigma_y``,

  .. math:: H = \begin{pmatrix}H_0(k) - \mu_N & \Delta(k)\,i\sigma_y\\
            (\Delta(k)\,i\sigma_y)^\dagger & -H_0(-k)^T + \mu_N\end{pmatrix},

  where every state appears twice (particle and hole copy).  The double counting
  is compensated in the observable: ``"charge"`` is ``(q/2) tau_z`` there, so
  every s-weighted output (currents, magnetization) is the physical one, and
  :attr:`BdG.nambu_weight` (1/2) weights particle-number sums (thermal Hall).

The quasiparticle charge is ``q rho_n``, ``rho_n = <tau_z>`` (``xi/E`` for one
band); the charge dipole ``d_n`` (letter Eq. 9) and orbital moment ``m_n`` (Eq. 8)
are the general s-dipole and s-orbital moment of :mod:`boltzspin.geometry.bands` with
``s = q tau_z``; :func:`charge_dipole_one_band` gives the closed form.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .continuum import Model, _as_k, _finite_real, check_model, fourth_order_derivative

__all__ = ["BdG", "Pairing", "SWave", "DWave", "ChiralD", "ChiralP", "CustomPairing",
           "charge_dipole_one_band", "berry_curvature_one_band"]

SIGMA_Y = np.array([[0, -1j], [1j, 0]])


class Pairing:
    """A gap function ``Delta(k)`` (energy) and its gradient, vectorized over ``k (..., D)``.

    Built-ins take the amplitude ``delta`` (energy) and, for chiral ones, ``chirality`` (+-1).
    """

    def __init__(self, delta, chirality=None):
        self.delta = _finite_real("delta", delta)
        if chirality is not None:
            if chirality not in (1, -1):
                raise ModelError(f"chirality must be +1 or -1, got {chirality!r}")
            self.chirality = int(chirality)

    def __repr__(self):
        extra = f", chirality={self.chirality!r}" if hasattr(self, "chirality") else ""
        return f"{type(self).__name__}(delta={self.delta!r}{extra})"

    def gap(self, k):  # pragma: no cover - abstract
        raise NotImplementedError

    def gradient(self, k):  # pragma: no cover - abstract
        raise NotImplementedError


class SWave(Pairing):
    r"""``Delta(k) = delta`` (conventional s-wave).

    Parameters
    ----------
    delta : float
        Gap amplitude (energy).
    chirality : None
        Unused (s-wave has no chirality).
    """

    def gap(self, k):
        return np.full(np.shape(k)[:-1], complex(self.delta))

    def gradient(self, k):
        return np.zeros(np.shape(k), dtype=complex)


class DWave(Pairing):
    r"""``Delta(k) = delta (cos k_x - cos k_y)`` (d_{x^2-y^2}, lattice constant 1).

    Parameters
    ----------
    delta : float
        Gap amplitude (energy).
    chirality : None
        Unused (a real gap has no chirality).
    """

    def gap(self, k):
        return self.delta * (np.cos(k[..., 0]) - np.cos(k[..., 1])) + 0j

    def gradient(self, k):
        out = np.zeros(np.shape(k), dtype=complex)
        out[..., 0] = -self.delta * np.sin(k[..., 0])
        out[..., 1] = self.delta * np.sin(k[..., 1])
        return out


class ChiralD(Pairing):
    r"""``Delta(k) = delta [(cos k_x - cos k_y) + 2 i chirality sin k_x sin k_y]`` (d + id).

    Winding 2 around Gamma.

    Parameters
    ----------
    delta : float
        Gap amplitude (energy).
    chirality : {1, -1}
        Sense of the winding (d + id or d - id).

    References
    ----------
    T. Senthil, J. B. Marston and M. P. A. Fisher, PRB 60, 4245 (1999).
    """

    def __init__(self, delta, chirality=1):
        super().__init__(delta, chirality)

    def gap(self, k):
        x, y = k[..., 0], k[..., 1]
        return self.delta * ((np.cos(x) - np.cos(y)) + 2j * self.chirality * np.sin(x) * np.sin(y))

    def gradient(self, k):
        x, y = k[..., 0], k[..., 1]
        out = np.empty(np.shape(k), dtype=complex)
        out[..., 0] = self.delta * (-np.sin(x) + 2j * self.chirality * np.cos(x) * np.sin(y))
        out[..., 1] = self.delta * (np.sin(y) + 2j * self.chirality * np.sin(x) * np.cos(y))
        return out


class ChiralP(Pairing):
    r"""``Delta(k) = delta (sin k_x + i chirality sin k_y)`` (p + ip, odd in k).

    Parameters
    ----------
    delta : float
        Gap amplitude (energy).
    chirality : {1, -1}
        Sense of the winding (p + ip or p - ip).
    """

    def __init__(self, delta, chirality=1):
        super().__init__(delta, chirality)

    def gap(self, k):
        return self.delta * (np.sin(k[..., 0]) + 1j * self.chirality * np.sin(k[..., 1]))

    def gradient(self, k):
        out = np.zeros(np.shape(k), dtype=complex)
        out[..., 0] = self.delta * np.cos(k[..., 0])
        out[..., 1] = 1j * self.chirality * self.delta * np.cos(k[..., 1])
        return out


class CustomPairing(Pairing):
    """A user gap function ``gap(k) -> (...,)``; ``gradient`` by 4th-order differences if omitted.

    Parameters
    ----------
    gap : callable
        ``gap(k)`` with ``k`` of shape ``(..., D)`` returning the complex gap
        ``(...,)`` (energy).
    gradient : callable, optional
        ``dDelta/dk``, shape ``(..., D)``.
    fd_step : float
        Finite-difference step (inverse length) when ``gradient`` is omitted.
    name : str
        Label used in ``repr``.
    """

    def __init__(self, gap, gradient=None, fd_step=1e-4, name="custom"):
        self._gap, self._gradient, self.fd_step, self.name = gap, gradient, float(fd_step), name

    def __repr__(self):
        return f"CustomPairing(name={self.name!r})"

    def gap(self, k):
        return np.asarray(self._gap(k), dtype=complex)

    def gradient(self, k):
        if self._gradient is not None:
            return np.asarray(self._gradient(k), dtype=complex)
        return np.moveaxis(fourth_order_derivative(lambda kk: self.gap(kk)[..., None, None], k,
                                                   self.fd_step)[..., 0, 0], -1, -1)


class BdG(Model):
    """Bogoliubov-de Gennes model of ``normal`` with gap ``pairing`` (see the module doc).

    Parameters
    ----------
    normal : Model
        One band (reduced Nambu basis) or a spin-1/2 model with two bands
        (full basis, singlet ``Delta i sigma_y``).
    pairing : Pairing
        The gap function ``Delta(k)``, e.g. ``ChiralD(0.3)``.
    chemical_potential : float
        Normal-state chemical potential ``mu_N`` (inside ``H``); the quasiparticle
        Fermi level is 0, so pass ``mu=0`` to :func:`boltzspin.transport` and
        :func:`boltzspin.magnetization`.

    Attributes
    ----------
    charge_operator : (n, n) array
        ``tau_z``, halved in the full basis (each state appears twice).
    nambu_weight : float
        1 (reduced basis) or 1/2 (full basis): weight of particle-number sums.
    operators : dict
        ``{"tau_z": ...}``; ``observable="charge"`` uses ``q`` times ``charge_operator``.
    band_labels : list of tuple
        Bogoliubov index ``(n, +-1)`` of each band, in ``eigh`` order.

    Notes
    -----
    A periodic normal model passes on ``periodic``, ``lattice_vectors`` and
    ``reciprocal_vectors``.

    References
    ----------
    C. Xiao and Q. Niu, arXiv:2009.12058, Eqs. (7)-(9).
    """

    def __init__(self, normal, pairing, chemical_potential=0.0):
        check_model(normal)
        if not isinstance(pairing, Pairing):
            raise ModelError(f"pairing must be a boltzspin Pairing (SWave, DWave, ...), got {pairing!r}")
        if np.any(np.asarray(getattr(normal, "positions", 0.0)) != 0):
            raise ModelError("BdG needs a normal model without orbital positions (positions=None)")
        self.normal, self.pairing = normal, pairing
        self.chemical_potential = _finite_real("chemical_potential", chemical_potential)
        n = normal.n_bands
        if n == 1:
            self.pair_matrix, self.nambu_weight = np.eye(1), 1.0
        elif n == 2:
            self.pair_matrix, self.nambu_weight = 1j * SIGMA_Y, 0.5
        else:
            raise ModelError(f"BdG supports one-band or spin-1/2 two-band normal models, got n = {n}")
        self.dim, self.n_bands = normal.dim, 2 * n
        tau_z = np.diag([1.0] * n + [-1.0] * n).astype(complex)
        self.charge_operator = self.nambu_weight * tau_z
        #: Bogoliubov band index (n, sigma) of each eigh-ordered band: the lower half are the
        #: sigma = -1 partners (mirrored), the upper half sigma = +1 (exact where ``|E| > 0`` orders them).
        self.band_labels = [(n - 1 - i, -1) for i in range(n)] + [(i, +1) for i in range(n)]
        if getattr(normal, "periodic", False):
            self.periodic = True
            self.lattice_vectors = normal.lattice_vectors
            self.reciprocal_vectors = normal.reciprocal_vectors
        super().__init__({"tau_z": tau_z})

    def __repr__(self):
        return f"BdG({self.normal!r}, {self.pairing!r}, chemical_potential={self.chemical_potential!r})"

    def hamiltonian(self, k):
        k = _as_k(k, self.dim)
        n = self.normal.n_bands
        h0 = np.asarray(self.normal.hamiltonian(k)) - self.chemical_potential * np.eye(n)
        hm = np.asarray(self.normal.hamiltonian(-k)) - self.chemical_potential * np.eye(n)
        delta = self.pairing.gap(k)[..., None, None] * self.pair_matrix
        out = np.empty(k.shape[:-1] + (2 * n, 2 * n), dtype=complex)
        out[..., :n, :n] = h0
        out[..., n:, n:] = -np.swapaxes(hm, -1, -2)
        out[..., :n, n:] = delta
        out[..., n:, :n] = np.swapaxes(delta.conj(), -1, -2)
        return out

    def velocity(self, k):
        k = _as_k(k, self.dim)
        n = self.normal.n_bands
        v0 = np.asarray(self.normal.velocity(k))
        vm = np.asarray(self.normal.velocity(-k))
        grad = self.pairing.gradient(k)[..., :, None, None] * self.pair_matrix  # (..., D, n, n)
        out = np.empty(k.shape[:-1] + (self.dim, 2 * n, 2 * n), dtype=complex)
        out[..., :n, :n] = v0
        out[..., n:, n:] = np.swapaxes(vm, -1, -2)  # d/dk of -H0(-k)^T
        out[..., :n, n:] = grad
        out[..., n:, :n] = np.swapaxes(grad.conj(), -1, -2)
        return out


def _one_band(model, k, what):
    """``xi, E, d xi/dk, grad theta, grad |Delta|^2`` of the reduced (one-band) Nambu basis."""
    if model.normal.n_bands != 1:
        raise ModelError(f"{what} needs the reduced (one-band) Nambu basis")
    k = _as_k(k, model.dim)
    xi = np.real(np.asarray(model.normal.hamiltonian(k))[..., 0, 0]) - model.chemical_potential
    v = np.real(np.asarray(model.normal.velocity(k))[..., :, 0, 0])
    delta, grad = model.pairing.gap(k), model.pairing.gradient(k)
    mod2 = np.abs(delta) ** 2
    grad_theta = np.imag(np.conj(delta)[..., None] * grad) / mod2[..., None]  # Im(conj(D) grad D)/|D|^2
    grad_mod2 = 2 * np.real(np.conj(delta)[..., None] * grad)
    return xi, np.sqrt(xi**2 + mod2), v, grad_theta, grad_mod2


def charge_dipole_one_band(model, k, charge=-1.0):
    r"""Closed form of the letter's Eq. (9) for the reduced (one-band) Nambu basis.

    With ``Delta = |Delta| e^{i theta}``, ``rho_+- = +- xi / E`` and ``E = sqrt(xi^2 + |Delta|^2)``,

    .. math:: d_{\pm} = -\frac{q}{2}\,(1 - \rho_\pm^2)\,\nabla_k\theta

    for both Bogoliubov bands (``+`` upper, ``-`` lower).  It equals the general
    s-dipole of :func:`boltzspin.geometry.bands.s_dipole` with ``s = q tau_z`` (tested); the
    sign is that of our Nambu convention (``Delta`` in the upper-right block).
    Returns ``(rho (..., 2), d (..., 2, D))`` with bands ordered as ``eigh`` (lower first).
    """
    xi, big_e, _, grad_theta, _ = _one_band(model, k, "charge_dipole_one_band")
    rho = np.stack([-xi / big_e, xi / big_e], axis=-1)
    d = -0.5 * float(charge) * (1 - rho[..., None] ** 2) * grad_theta[..., None, :]
    return rho, d


def berry_curvature_one_band(model, k):
    r"""Pairing-induced Berry curvature of a geometrically trivial band (reduced basis, 2D).

    .. math:: \Omega_\sigma = -\frac{\sigma}{2}\,\partial_k\rho\times\partial_k\theta,
              \qquad \rho = \xi/E,\ \theta = \arg\Delta

    (the letter, before its Eq. 10).  It equals the general Berry curvature of
    :func:`boltzspin.geometry.bands.berry_curvature` (tested).  Returns ``(..., 2)``, lower band first.
    """
    if model.dim != 2:
        raise ModelError("berry_curvature_one_band needs a 2D model")
    xi, big_e, v, grad_theta, grad_mod2 = _one_band(model, k, "berry_curvature_one_band")
    grad_rho = v / big_e[..., None] - xi[..., None] * (2 * xi[..., None] * v + grad_mod2) / (2 * big_e[..., None] ** 3)
    cross = grad_rho[..., 0] * grad_theta[..., 1] - grad_rho[..., 1] * grad_theta[..., 0]
    return np.stack([0.5 * cross, -0.5 * cross], axis=-1)
