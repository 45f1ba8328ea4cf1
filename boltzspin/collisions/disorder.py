r"""Impurity species: the Fourier-transformed single-impurity potential U(q).

Each species is a small class with a density ``n_imp`` (per area in 2D), a
documented matrix element ``U(q)`` on the model's orbital/spin space and a
``repr`` recording its parameters.  First-Born rates (documentation: Theory, "First-Born scattering"):

.. math:: w_{l'l} = 2\pi n_\mathrm{imp}\,|\langle u_{l'}|U(k'-k)|u_l\rangle|^2
          \,\delta(e_{l'} - e_l).

A species whose potential has random internal components (randomly oriented
magnetic moments) is a set of uncorrelated *channels* ``U_a`` with weights
``c_a``; every disorder average of a product of two matrix elements -- the
rate and also ``w dr`` -- is taken channel by channel as ``sum_a c_a (...)_a``.
Species add: ``a + b`` is the combined disorder, whose rates add.

Beyond first Born, skew scattering needs the *third* moment of the disorder,
the average of three matrix elements of one impurity,
``<U_{ll'} U_{l'l''} U_{l''l}>`` (documentation: Theory, "Skew scattering").
Every species states it in :meth:`third_moments`, a list of
:class:`ThirdMoment` terms: identical impurities give ``n_imp U U U``; a
species with random strengths gives ``n_imp <u^3> M M M`` (zero for a
symmetric binary alloy); randomly oriented moments give zero unless the
impurity also has a scalar part.  Different species are uncorrelated, so
their third moments add with no cross terms.

The scattering stage consumes :meth:`channels`, a list of :class:`Channel`.
A channel is either ``profile(q) * matrix`` with a real scalar profile (fast
numba path) or a general matrix-valued callable (blocked NumPy path).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ..errors import DisorderError
from ..models.continuum import nonfinite_momenta

__all__ = [
    "Channel",
    "ThirdMoment",
    "Disorder",
    "DeltaCorrelated",
    "GaussianCorrelated",
    "ScreenedCoulomb",
    "MagneticImpurities",
    "Potential",
    "StrengthDistribution",
    "BinaryAlloy",
    "DisorderMixture",
]

PROFILE_CONSTANT = 0
PROFILE_GAUSSIAN = 1
PROFILE_SCREENED_COULOMB = 2


def _positive(name, value):
    if not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise DisorderError(f"{name}={value!r} must be a positive finite number")
    return float(value)


def _finite(name, value):
    if not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise DisorderError(f"{name}={value!r} must be a finite real number")
    return float(value)


@dataclass
class Channel:
    r"""One uncorrelated scattering channel: ``prefactor * |<l'|U_a|l>|^2``.

    ``prefactor = 2 pi n_imp c_a``.  Either ``matrix`` with a real profile
    (``kind``/``parameter``: constant, ``exp(-q^2 L^2/4)`` with ``L``, or
    ``2 pi/(|q| + q_TF)`` with ``q_TF``), or
    ``function(q) -> (..., n, n)`` with optional ``gradient(q) -> (..., D, n, n)``.
    """

    prefactor: float
    matrix: np.ndarray | None = None
    kind: int = PROFILE_CONSTANT
    parameter: float = 0.0
    function: object = None
    gradient: object = None
    fd_step: float = 1e-4
    label: str = field(default="")


@dataclass
class ThirdMoment:
    r"""One term of the third moment of one impurity species.

    The disorder average of three matrix elements of the same impurity is
    :math:`\langle U_{ll'}U_{l'l''}U_{l''l}\rangle = \sum_t` ``prefactor_t / (2 pi)^2`` times
    :math:`A_{ll'} B_{l'l''} C_{l''l}` with ``(A, B, C) = matrices`` of term ``t``, each
    multiplied by the species' profile ``f(k - k')`` (``kind``/``parameter`` as in
    :class:`Channel`), or, when ``function`` is set, the three matrices replaced by
    ``function(q)`` itself.  ``prefactor = (2 pi)^2 n_imp c_t``: the weight of the
    term, times ``(2 pi)^2`` of the skew rate (documentation: Theory, "Skew scattering").
    Units: energy^3 x area^3 / area (2D) in ``prefactor * A B C``.
    """

    prefactor: float
    matrices: tuple | None = None
    kind: int = PROFILE_CONSTANT
    parameter: float = 0.0
    function: object = None
    label: str = field(default="")


class Disorder:
    """Base class: adding two disorders gives a :class:`DisorderMixture`."""

    density: float

    def __add__(self, other):
        if not isinstance(other, Disorder):
            return NotImplemented
        return DisorderMixture(_species(self) + _species(other))

    def channels(self, model):  # pragma: no cover - abstract
        raise NotImplementedError

    def third_moments(self, model):
        """The :class:`ThirdMoment` terms of this species (skew scattering).

        A species defined outside boltzspin must state its own; there is no safe default.

        Parameters
        ----------
        model : Model
            The band model (orbital count and spin operators).

        Returns
        -------
        list of ThirdMoment
            The terms ``prefactor * A B C`` of the averaged third moment; empty when it vanishes.
        """
        raise DisorderError(
            f"{self!r} does not state its third moment, which skew scattering needs; define "
            "third_moments(model) returning a list of boltzspin.collisions.disorder.ThirdMoment "
            "(an empty list for disorder with a symmetric strength distribution), or use "
            "scattering='born'"
        )

    @property
    def species(self):
        return [self]


def _species(d):
    return list(d.species)


def _check_matrix(name, matrix, n):
    matrix = np.asarray(matrix, dtype=complex)
    if matrix.shape != (n, n):
        raise DisorderError(
            f"{name} has shape {matrix.shape} but the model has {n} orbitals; "
            f"pass an ({n}, {n}) matrix"
        )
    if not np.all(np.isfinite(matrix)):
        raise DisorderError(f"{name} contains NaN or inf")
    if np.abs(matrix - matrix.conj().T).max() > 1e-12 * max(np.abs(matrix).max(), 1.0):
        raise DisorderError(
            f"{name} is not Hermitian; a real-space impurity potential must be Hermitian"
        )
    return matrix


def _as_matrix(name, matrix):
    """A square, finite, Hermitian complex matrix, or :class:`DisorderError` naming what is wrong."""
    remedy = ("pass a Hermitian (n, n) array on the model's orbital/spin space (e.g. numpy.eye(2) or "
              "a Pauli matrix), or omit it: the identity is the default")
    if isinstance(matrix, (str, bytes)):
        raise DisorderError(f"{name}={matrix!r} is not a matrix; {remedy}")
    try:
        m = np.asarray(matrix, dtype=complex)
    except (TypeError, ValueError) as exc:
        raise DisorderError(f"{name}={matrix!r} is not a numeric matrix; {remedy}") from exc
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise DisorderError(f"{name} has shape {m.shape}, not a square matrix; {remedy}")
    return _check_matrix(name, m, m.shape[0])


class DeltaCorrelated(Disorder):
    r"""Short-range (delta-correlated) impurities.

    .. math:: U(\mathbf q) = u_0\,M

    with ``u0 = strength`` and ``M = matrix`` (identity by default).

    Parameters
    ----------
    density : float
        Impurity density ``n_imp`` (per area in 2D, per volume in 3D), positive.
    strength : float
        ``u0`` (energy x area in 2D, energy x volume in 3D).
    matrix : (n, n) array, optional
        Hermitian matrix ``M`` on the orbital/spin space; identity by default.

    References
    ----------
    N. A. Sinitsyn et al., PRB 75, 045315 (2007).
    """

    def __init__(self, density, strength, matrix=None):
        self.density = _positive("density", density)
        self.strength = _finite("strength", strength)
        self.matrix = None if matrix is None else _as_matrix("DeltaCorrelated.matrix", matrix)

    def __repr__(self):
        m = "" if self.matrix is None else f", matrix={self.matrix.tolist()!r}"
        return f"DeltaCorrelated(density={self.density!r}, strength={self.strength!r}{m})"

    def _matrix(self, n):
        if self.matrix is None:
            return np.eye(n, dtype=complex)
        return _check_matrix("DeltaCorrelated.matrix", self.matrix, n)

    def U(self, q, n=None):
        """``strength * matrix`` broadcast over ``q`` (shape ``(..., D)``).

        Parameters
        ----------
        q : (..., D) array
            Momentum transfer ``k' - k``.
        n : int, optional
            Matrix size when ``matrix`` is None (default 2).

        Returns
        -------
        (..., n, n) array
            ``U(q)`` (energy x area in 2D).
        """
        q = np.asarray(q, dtype=float)
        m = self._matrix(n or (2 if self.matrix is None else self.matrix.shape[0]))
        return self.strength * np.broadcast_to(m, q.shape[:-1] + m.shape)

    def channels(self, model):
        m = self._matrix(model.n_bands)
        return [Channel(2 * np.pi * self.density, self.strength * m, label=repr(self))]

    def third_moments(self, model):
        """Identical impurities: ``n_imp (u0 M)(u0 M)(u0 M)``.

        Parameters
        ----------
        model : Model
            The band model (orbital count and spin operators).

        Returns
        -------
        list of ThirdMoment
            The terms ``prefactor * A B C`` of the averaged third moment; empty when it vanishes.
        """
        m = self.strength * self._matrix(model.n_bands)
        return [ThirdMoment((2 * np.pi) ** 2 * self.density, (m, m, m), label=repr(self))]


class GaussianCorrelated(Disorder):
    r"""Scalar impurities with a Gaussian profile of range ``length``.

    .. math:: U(\mathbf q) = u_0\,e^{-q^2 \ell^2/4}\,\mathbb 1

    (the Fourier transform of a Gaussian of width ``ell/sqrt(2)`` with
    integral ``u0``).  Units: energy x area.

    Parameters
    ----------
    density : float
        Impurity density ``n_imp`` (per area), positive.
    strength : float
        ``u0`` (energy x area).
    length : float
        Correlation length ``ell`` (length), positive.
    """

    def __init__(self, density, strength, length):
        self.density = _positive("density", density)
        self.strength = _finite("strength", strength)
        self.length = _positive("length", length)

    def __repr__(self):
        return (
            f"GaussianCorrelated(density={self.density!r}, strength={self.strength!r}, "
            f"length={self.length!r})"
        )

    def U(self, q, n=2):
        q = np.asarray(q, dtype=float)
        f = self.strength * np.exp(-np.sum(q**2, axis=-1) * self.length**2 / 4)
        return f[..., None, None] * np.eye(n)

    def channels(self, model):
        m = self.strength * np.eye(model.n_bands, dtype=complex)
        return [
            Channel(2 * np.pi * self.density, m, PROFILE_GAUSSIAN, self.length, label=repr(self))
        ]

    def third_moments(self, model):
        """Identical impurities: ``n_imp U(q1) U(q2) U(q3)``.

        Parameters
        ----------
        model : Model
            The band model (orbital count and spin operators).

        Returns
        -------
        list of ThirdMoment
            The terms ``prefactor * A B C`` of the averaged third moment; empty when it vanishes.
        """
        m = self.strength * np.eye(model.n_bands, dtype=complex)
        return [ThirdMoment((2 * np.pi) ** 2 * self.density, (m, m, m), PROFILE_GAUSSIAN, self.length,
                            label=repr(self))]


class ScreenedCoulomb(Disorder):
    r"""Charged impurities with a 2D Thomas-Fermi screened Coulomb potential.

    .. math:: U(\mathbf q) = \frac{2\pi\,e^2/(4\pi\epsilon)}{|\mathbf q| + q_\mathrm{TF}}
              \,\mathbb 1

    with ``e^2/(4 pi eps) = strength`` and ``q_TF = screening``: the Fourier
    transform of the potential of a point charge in the plane of the 2D
    electron gas, screened in the Thomas-Fermi approximation (static,
    long-wavelength RPA).  Reference: T. Ando, A. B. Fowler and F. Stern,
    Rev. Mod. Phys. 54, 437 (1982).

    Parameters
    ----------
    density : float
        Impurity density ``n_imp`` (per area), positive.
    strength : float
        ``e^2/(4 pi eps)`` times the impurity charge in units of ``e`` (energy x
        length); finite, any sign (first-Born quantities are quadratic in it).
    screening : float
        Thomas-Fermi wavevector ``q_TF`` (inverse length), positive; it keeps
        ``U(0) = 2 pi strength/q_TF`` finite.

    Notes
    -----
    ``U(q)`` has units energy x area.  The channel carries ``strength * 1`` as
    its matrix and the real scalar profile ``f(q) = 2 pi/(|q| + q_TF)``
    (kind :data:`PROFILE_SCREENED_COULOMB`, parameter ``q_TF``).  Because
    ``f`` is real and multiplies a q-independent matrix,
    ``<u'|dU/dq|u> = (df/dq/f) V`` is a real multiple of ``V``, so the
    ``-Im[<u'|dU/dq|u>/V]`` term of the coordinate shift (documentation: Theory, "The conserved current")
    vanishes identically: no phase, no ``dU/dq`` contribution (the cusp of
    ``|q|`` at ``q = 0`` does not enter).  The slow ``1/q`` tail means that no
    pair can be dropped: the collision operator is always ``"dense"`` or
    ``"onthefly"``, never ``"sparse"`` or ``"lowrank"``.
    """

    def __init__(self, density, strength, screening):
        self.density = _positive("density", density)
        self.strength = _finite("strength", strength)
        self.screening = _positive("screening", screening)

    def __repr__(self):
        return (
            f"ScreenedCoulomb(density={self.density!r}, strength={self.strength!r}, "
            f"screening={self.screening!r})"
        )

    def U(self, q, n=2):
        """``strength * 2 pi/(|q| + q_TF) * identity`` for ``q`` of shape ``(..., D)``.

        Parameters
        ----------
        q : (..., D) array
            Momentum transfer ``k' - k``.
        n : int
            Matrix size.

        Returns
        -------
        (..., n, n) array
            ``U(q)`` (energy x area in 2D).
        """
        q = np.asarray(q, dtype=float)
        f = self.strength * 2 * np.pi / (np.sqrt(np.sum(q**2, axis=-1)) + self.screening)
        return f[..., None, None] * np.eye(n)

    def channels(self, model):
        m = self.strength * np.eye(model.n_bands, dtype=complex)
        return [
            Channel(
                2 * np.pi * self.density, m, PROFILE_SCREENED_COULOMB, self.screening, label=repr(self)
            )
        ]

    def third_moments(self, model):
        """Identical impurities: ``n_imp U(q1) U(q2) U(q3)``.

        Parameters
        ----------
        model : Model
            The band model (orbital count and spin operators).

        Returns
        -------
        list of ThirdMoment
            The terms ``prefactor * A B C`` of the averaged third moment; empty when it vanishes.
        """
        m = self.strength * np.eye(model.n_bands, dtype=complex)
        return [ThirdMoment((2 * np.pi) ** 2 * self.density, (m, m, m), PROFILE_SCREENED_COULOMB,
                            self.screening, label=repr(self))]


class MagneticImpurities(Disorder):
    r"""Randomly oriented magnetic impurities, short range.

    .. math:: U(\mathbf q) = J\,\mathbf S\cdot\boldsymbol\sigma,\qquad
              \langle S_a S_b\rangle = \tfrac{S^2}{3}\delta_{ab}

    with ``J = exchange`` and ``S = spin``, plus an optional scalar part
    ``u0 = scalar`` on the same site, ``U = u0 + J S . sigma``.  Averaged over
    orientations as three uncorrelated channels ``U_a = J sigma_a`` of weight
    ``S^2/3`` and, for ``u0 != 0``, the scalar channel ``u0`` (the cross terms
    ``u0 J <S_a>`` vanish; see the theory page on scattering).
    ``sigma_a = 2 s_a`` uses the model's ``sx, sy, sz``.

    Third moment (skew scattering): ``<S_a S_b S_c> = 0``, so a pure exchange
    impurity has none; with a scalar part it is ``n_imp [u0^3 1 1 1 + u0 J^2 S^2/3
    sum_a (sigma_a sigma_a 1 + sigma_a 1 sigma_a + 1 sigma_a sigma_a)]``.

    Parameters
    ----------
    density : float
        Impurity density ``n_imp`` (per area in 2D), positive.
    exchange : float
        Exchange coupling ``J`` (energy x area in 2D).
    spin : float
        Impurity spin ``S`` (dimensionless), positive.
    scalar : float
        Scalar potential ``u0`` of the same impurity (energy x area in 2D); default 0.
    """

    def __init__(self, density, exchange, spin, scalar=0.0):
        self.density = _positive("density", density)
        self.exchange = _finite("exchange", exchange)
        self.spin = _positive("spin", spin)
        self.scalar = _finite("scalar", scalar)

    def __repr__(self):
        extra = f", scalar={self.scalar!r}" if self.scalar else ""
        return (
            f"MagneticImpurities(density={self.density!r}, exchange={self.exchange!r}, "
            f"spin={self.spin!r}{extra})"
        )

    def _pauli(self, model):
        try:
            return [2 * np.asarray(model.operators[a], dtype=complex) for a in ("sx", "sy", "sz")]
        except KeyError as exc:
            raise DisorderError(
                f"MagneticImpurities needs spin operators 'sx', 'sy', 'sz' on {model!r}; "
                "add them to the model's operators"
            ) from exc

    def U(self, q, orientation=(0.0, 0.0, 1.0), model=None):
        """``J S n . sigma`` for one impurity orientation ``n`` (default z).

        Parameters
        ----------
        q : (..., D) array
            Momentum transfer ``k' - k``.
        orientation : 3-sequence of float
            Direction ``n`` of the impurity moment (normalized here).
        model : Model, optional
            Model whose ``sx, sy, sz`` define ``sigma``; Pauli matrices by default.

        Returns
        -------
        (..., n, n) array
            ``U(q)`` (energy x area in 2D).
        """
        from ..models.continuum import PAULI

        pauli = PAULI if model is None else self._pauli(model)
        n = np.asarray(orientation, dtype=float)
        n = n / np.linalg.norm(n)
        m = self.exchange * self.spin * sum(c * p for c, p in zip(n, pauli)) + self.scalar * np.eye(len(pauli[0]))
        q = np.asarray(q, dtype=float)
        return np.broadcast_to(m, q.shape[:-1] + m.shape)

    def channels(self, model):
        pref = 2 * np.pi * self.density * self.spin**2 / 3
        out = [
            Channel(pref, self.exchange * p, label=f"{self!r}[{a}]")
            for a, p in zip("xyz", self._pauli(model))
        ]
        if self.scalar:
            out.append(Channel(2 * np.pi * self.density, self.scalar * np.eye(model.n_bands, dtype=complex),
                               label=f"{self!r}[scalar]"))
        return out

    def third_moments(self, model):
        """Zero for a pure exchange impurity; scalar-exchange cross terms otherwise.

        Parameters
        ----------
        model : Model
            The band model (orbital count and spin operators).

        Returns
        -------
        list of ThirdMoment
            The terms ``prefactor * A B C`` of the averaged third moment; empty when it vanishes.
        """
        if not self.scalar:
            self._pauli(model)  # the model must still have spin operators
            return []
        one = self.scalar * np.eye(model.n_bands, dtype=complex)
        pref = (2 * np.pi) ** 2 * self.density
        out = [ThirdMoment(pref, (one, one, one), label=f"{self!r}[scalar^3]")]
        cross = pref * self.spin**2 / 3  # <S_a S_b> = S^2/3 delta_ab; u0 and J are in the matrices
        for a, p in zip("xyz", self._pauli(model)):
            j = self.exchange * p
            for order in ((j, j, one), (j, one, j), (one, j, j)):
                out.append(ThirdMoment(cross, order, label=f"{self!r}[scalar J_{a}^2]"))
        return out


class Potential(Disorder):
    r"""A user-supplied impurity potential ``U(q)``.

    Parameters
    ----------
    density : float
        Impurity density.
    U : callable
        ``U(q)`` with ``q`` of shape ``(..., D)`` returning ``(..., n, n)``.
        The real-space potential must be Hermitian, i.e.
        ``U(-q) = U(q)^dagger`` (checked), which makes the rates symmetric.
    gradient : callable, optional
        ``dU/dq``, shape ``(..., D, n, n)``; by default a fourth-order central
        difference with step ``fd_step`` (error ~ fd_step^4, ~1e-12 relative
        for U varying on momentum scales of order one).
    fd_step : float
        Finite-difference step (inverse length) of the default gradient.
    name : str, optional
        Label for ``repr``.

    Notes
    -----
    The coordinate shift includes ``-Im <l'|dU/dq|l>/V`` for matrix-valued or
    complex ``U(q)`` (see the theory page on the conserved current).
    """

    def __init__(self, density, U, gradient=None, fd_step=1e-4, name=None):
        self.density = _positive("density", density)
        if not callable(U):
            raise DisorderError("U must be a callable q -> (..., n, n)")
        self.function = U
        self.gradient = gradient
        self.fd_step = _positive("fd_step", fd_step)
        self.name = name or getattr(U, "__name__", "U")

    def __repr__(self):
        return f"Potential(density={self.density!r}, U={self.name})"

    def U(self, q):
        """The user's ``U(q)`` as a complex array.

        Parameters
        ----------
        q : (..., D) array
            Momentum transfer ``k' - k``.

        Returns
        -------
        array
            ``U(q)``, complex; NaN or inf raise :class:`DisorderError` naming ``q``.
        """
        q = np.asarray(q, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.asarray(self.function(q), dtype=complex)
        if not np.all(np.isfinite(u)):
            bad, first = nonfinite_momenta(q, u)
            if bad is None:  # U not laid out per momentum transfer: every q counts
                bad = np.ones(q.shape[:-1], dtype=bool)
                first = q[bad][np.argmin(np.linalg.norm(q[bad], axis=-1))]
            raise DisorderError(
                f"U(q) of {self!r} is NaN or inf at q = {np.array2string(first, precision=6)} "
                f"(|q| = {np.linalg.norm(first):.3g}; {int(bad.sum())} of {bad.size} momentum transfers in "
                "this call). The first-Born rates need a finite U at every momentum transfer between "
                "Fermi points, q = 0 (forward scattering) included. Make U finite there: e.g. screen a "
                "1/|q| potential (ScreenedCoulomb, or U(q) = u0 / (|q| + q_TF))."
            )
        return u

    def channels(self, model):
        n, d = model.n_bands, model.dim
        q = np.random.default_rng(7).normal(size=(5, d))
        u = self.U(q)
        if u.shape != (5, n, n):
            raise DisorderError(
                f"U(q) returned shape {u.shape} for q of shape {q.shape}; expected (5, {n}, {n})"
            )
        if not np.all(np.isfinite(u)):
            raise DisorderError("U(q) returned NaN or inf")
        um = self.U(-q)
        if np.abs(um - np.swapaxes(u.conj(), -1, -2)).max() > 1e-10 * max(np.abs(u).max(), 1e-300):
            raise DisorderError(
                "U(-q) != U(q)^dagger: the real-space potential is not Hermitian, so the "
                "first-Born rates would not be symmetric; fix U"
            )
        return [
            Channel(
                2 * np.pi * self.density,
                function=self.U,
                gradient=self.gradient,
                fd_step=self.fd_step,
                label=repr(self),
            )
        ]

    def third_moments(self, model):
        """Identical impurities: ``n_imp U(q1) U(q2) U(q3)``.

        Parameters
        ----------
        model : Model
            The band model (orbital count and spin operators).

        Returns
        -------
        list of ThirdMoment
            The terms ``prefactor * A B C`` of the averaged third moment; empty when it vanishes.
        """
        self.channels(model)  # validates U
        return [ThirdMoment((2 * np.pi) ** 2 * self.density, function=self.U, label=repr(self))]


class StrengthDistribution(Disorder):
    r"""Short-range impurities whose strength is random: ``U = u M`` with ``u`` drawn per impurity.

    .. math:: \langle u^2\rangle = \text{second\_moment},\qquad
              \langle u^3\rangle = \text{third\_moment}

    First-Born rates see only ``n_imp <u^2>`` (as :class:`DeltaCorrelated` with
    ``strength = sqrt(<u^2>)``); skew scattering sees ``n_imp <u^3>``.  A symmetric
    distribution (a symmetric binary alloy, :class:`BinaryAlloy`, or the Gaussian
    white-noise limit) has ``<u^3> = 0`` and so no third-order skew scattering.

    Parameters
    ----------
    density : float
        Impurity density ``n_imp`` (per area in 2D), positive.
    second_moment : float
        ``<u^2>`` (energy^2 x area^2 in 2D), positive: the variance of a zero-mean
        distribution, or mean^2 + variance.
    third_moment : float
        ``<u^3>`` (energy^3 x area^3), default 0.
    matrix : (n, n) array, optional
        Hermitian matrix ``M``; identity by default.
    """

    def __init__(self, density, second_moment, third_moment=0.0, matrix=None):
        self.density = _positive("density", density)
        if not isinstance(second_moment, numbers.Real) or not np.isfinite(second_moment) or second_moment <= 0:
            raise DisorderError(
                f"second_moment={second_moment!r} must be a positive finite number: <u^2> > 0 for any "
                "distribution of strengths that is not identically zero (a negative variance is impossible)"
            )
        self.second_moment = float(second_moment)
        self.third_moment = _finite("third_moment", third_moment)
        if self.third_moment ** 2 > 1e12 * self.second_moment ** 3:
            raise DisorderError(
                f"third_moment={third_moment!r} is implausibly large for second_moment={second_moment!r} "
                "(|<u^3>| > 1e6 <u^2>^(3/2)); check the units of both"
            )
        self.matrix = None if matrix is None else _as_matrix("StrengthDistribution.matrix", matrix)

    def __repr__(self):
        m = "" if self.matrix is None else f", matrix={self.matrix.tolist()!r}"
        return (f"{type(self).__name__}(density={self.density!r}, second_moment={self.second_moment!r}, "
                f"third_moment={self.third_moment!r}{m})")

    def _matrix(self, n):
        if self.matrix is None:
            return np.eye(n, dtype=complex)
        return _check_matrix(f"{type(self).__name__}.matrix", self.matrix, n)

    def U(self, q, strength, n=2):
        """``strength * matrix`` for one impurity of the given ``strength``, broadcast over ``q``.

        Parameters
        ----------
        q : (..., D) array
            Momentum transfer ``k' - k``.
        strength : float
            The strength ``u`` of this impurity (energy x area in 2D).
        n : int
            Matrix size when ``matrix`` is None (default 2).

        Returns
        -------
        (..., n, n) array
            ``U(q)`` of this impurity.
        """
        q = np.asarray(q, dtype=float)
        m = self._matrix(n if self.matrix is None else self.matrix.shape[0])
        return strength * np.broadcast_to(m, q.shape[:-1] + m.shape)

    def channels(self, model):
        m = np.sqrt(self.second_moment) * self._matrix(model.n_bands)
        return [Channel(2 * np.pi * self.density, m, label=repr(self))]

    def third_moments(self, model):
        """``n_imp <u^3> M M M``; none when ``<u^3> = 0``.

        Parameters
        ----------
        model : Model
            The band model (orbital count and spin operators).

        Returns
        -------
        list of ThirdMoment
            The terms ``prefactor * A B C`` of the averaged third moment; empty when it vanishes.
        """
        m = self._matrix(model.n_bands)
        if not self.third_moment:
            return []
        return [ThirdMoment((2 * np.pi) ** 2 * self.density * self.third_moment, (m, m, m), label=repr(self))]


class BinaryAlloy(StrengthDistribution):
    r"""A symmetric binary alloy: impurity strengths ``+u`` and ``-u`` with equal probability.

    ``<u^2> = u^2``, ``<u^3> = 0``: the first-Born rates of :class:`DeltaCorrelated`
    with ``strength = u``, and no third-order skew scattering.

    Parameters
    ----------
    density : float
        Density of impurity sites (both kinds), positive.
    strength : float
        ``u`` (energy x area in 2D), nonzero.
    matrix : (n, n) array, optional
        Hermitian matrix ``M``; identity by default.
    """

    def __init__(self, density, strength, matrix=None):
        strength = _finite("strength", strength)
        if strength == 0:
            raise DisorderError("strength=0 gives no disorder; give a nonzero u")
        self.strength = strength
        super().__init__(density, strength**2, 0.0, matrix)

    def __repr__(self):
        m = "" if self.matrix is None else f", matrix={self.matrix.tolist()!r}"
        return f"BinaryAlloy(density={self.density!r}, strength={self.strength!r}{m})"


class DisorderMixture(Disorder):
    """Several independent impurity species; their rates add."""

    def __init__(self, species):
        self._species = list(species)
        if not self._species:
            raise DisorderError("a disorder mixture needs at least one species")

    @property
    def species(self):
        return list(self._species)

    @property
    def density(self):
        return sum(s.density for s in self._species)

    def __repr__(self):
        return " + ".join(repr(s) for s in self._species)

    def channels(self, model):
        return [c for s in self._species for c in s.channels(model)]

    def third_moments(self, model):
        """The species' terms: different species are uncorrelated (no mixed third moments).

        Parameters
        ----------
        model : Model
            The band model (orbital count and spin operators).

        Returns
        -------
        list of ThirdMoment
            The terms ``prefactor * A B C`` of the averaged third moment; empty when it vanishes.
        """
        return [t for s in self._species for t in s.third_moments(model)]
