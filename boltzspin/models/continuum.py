r"""Band models: Bloch Hamiltonians ``H(k)``, their derivatives and operators.

Conventions (documentation: Theory, "Conventions"): hbar = 1, momenta and energies in the
model's own units, spin operators in units of hbar (``sz = sigma_z / 2``).

A model is any object with

* ``dim`` -- spatial dimension D;
* ``n_bands`` -- size n of the orbital/spin space;
* ``hamiltonian(k)`` -- ``k`` of shape ``(..., D)`` -> ``(..., n, n)``;
* ``velocity(k)`` -- ``dH/dk`` of shape ``(..., D, n, n)``;
* ``operators`` -- a dict of named Hermitian ``(n, n)`` matrices.

:func:`check_model` validates these contracts and is called by every stage
that receives a model from a user.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ModelError

__all__ = [
    "Model",
    "Rashba",
    "MassiveDirac",
    "KPModel",
    "PAULI",
    "check_model",
    "check_velocity",
    "resolve_observable",
]

SIGMA_0 = np.eye(2, dtype=complex)
SIGMA_X = np.array([[0, 1], [1, 0]], dtype=complex)
SIGMA_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
SIGMA_Z = np.array([[1, 0], [0, -1]], dtype=complex)
PAULI = (SIGMA_X, SIGMA_Y, SIGMA_Z)

#: Default relative tolerance of the Hermiticity checks.
HERMITIAN_RTOL = 1e-10


def _finite_real(name, value):
    if not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ModelError(
            f"parameter {name}={value!r} must be a finite real number; "
            "pass a float such as 1.0"
        )
    return float(value)


def _spin_half_operators():
    return {"sx": SIGMA_X / 2, "sy": SIGMA_Y / 2, "sz": SIGMA_Z / 2}


def _as_k(k, dim):
    k = np.asarray(k, dtype=float)
    if k.ndim == 0 or k.shape[-1] != dim:
        raise ModelError(
            f"k must have shape (..., {dim}) for a {dim}D model, got {k.shape}; "
            "stack the momentum components in the last axis"
        )
    if not np.all(np.isfinite(k)):
        raise ModelError("k contains NaN or inf; pass finite momenta")
    return k


class Model:
    """Base class of the built-in models: stores operators, checks ``k``."""

    dim = 2
    n_bands = 2

    def __init__(self, operators=None):
        self.operators = {}
        for name, op in (operators or {}).items():
            self.operators[name] = _check_operator(name, op, self.n_bands)

    def hamiltonian(self, k):  # pragma: no cover - abstract
        raise NotImplementedError

    def velocity(self, k):  # pragma: no cover - abstract
        raise NotImplementedError


def _check_operator(name, op, n):
    op = np.asarray(op, dtype=complex)
    if op.shape != (n, n):
        raise ModelError(f"operator {name!r} has shape {op.shape}, expected ({n}, {n})")
    if not np.all(np.isfinite(op)):
        raise ModelError(f"operator {name!r} contains NaN or inf")
    scale = max(np.abs(op).max(), 1.0)
    if np.abs(op - op.conj().T).max() > HERMITIAN_RTOL * scale:
        raise ModelError(
            f"operator {name!r} is not Hermitian (max |O - O^dagger| = "
            f"{np.abs(op - op.conj().T).max():.3g}); observables must be Hermitian"
        )
    return op


class Rashba(Model):
    r"""2D Rashba(-Dresselhaus) electron gas with an optional exchange field.

    .. math::

        H = \frac{k^2}{2m} + \alpha(\sigma_x k_y - \sigma_y k_x)
            + \beta(\sigma_x k_x - \sigma_y k_y) + \mathbf{h}\cdot\boldsymbol\sigma

    Parameters
    ----------
    mass : float
        Effective mass m (hbar = 1), must be nonzero.
    alpha : float
        Rashba coupling (energy x length).
    dresselhaus : float
        Linear Dresselhaus coupling beta.
    exchange : 3-sequence of float
        Exchange field h (energy), coupling to the Pauli matrices.

    Notes
    -----
    Operators ``sx, sy, sz`` are spin in units of hbar (sigma / 2).  The bands
    cross at ``k = 0`` (without exchange) and start at ``-m alpha^2 / 2``.

    References
    ----------
    Yu. A. Bychkov and E. I. Rashba, JETP Lett. 39, 78 (1984).
    """

    dim = 2
    n_bands = 2

    def __init__(self, mass, alpha, dresselhaus=0.0, exchange=(0.0, 0.0, 0.0)):
        self.mass = _finite_real("mass", mass)
        if self.mass == 0:
            raise ModelError("mass must be nonzero")
        self.alpha = _finite_real("alpha", alpha)
        self.dresselhaus = _finite_real("dresselhaus", dresselhaus)
        exchange = tuple(exchange)
        if len(exchange) != 3:
            raise ModelError("exchange must have three components (hx, hy, hz)")
        self.exchange = tuple(_finite_real(f"exchange[{i}]", h) for i, h in enumerate(exchange))
        super().__init__(_spin_half_operators())

    def __repr__(self):
        return (
            f"Rashba(mass={self.mass!r}, alpha={self.alpha!r}, "
            f"dresselhaus={self.dresselhaus!r}, exchange={self.exchange!r})"
        )

    def hamiltonian(self, k):
        k = _as_k(k, 2)
        kx, ky = k[..., 0], k[..., 1]
        a, b = self.alpha, self.dresselhaus
        hx, hy, hz = self.exchange
        kinetic = (kx * kx + ky * ky) / (2 * self.mass)
        x = a * ky + b * kx + hx  # coefficient of sigma_x
        y = -a * kx - b * ky + hy  # coefficient of sigma_y
        out = np.empty(k.shape[:-1] + (2, 2), dtype=complex)
        out[..., 0, 0] = kinetic + hz
        out[..., 1, 1] = kinetic - hz
        out[..., 0, 1] = x - 1j * y
        out[..., 1, 0] = x + 1j * y
        return out

    def velocity(self, k):
        k = _as_k(k, 2)
        a, b = self.alpha, self.dresselhaus
        out = np.empty(k.shape[:-1] + (2, 2, 2), dtype=complex)
        for i, (x, y) in enumerate(((b, -a), (a, -b))):  # dH/dk_i = k_i/m + x sigma_x + y sigma_y
            out[..., i, 0, 0] = out[..., i, 1, 1] = k[..., i] / self.mass
            out[..., i, 0, 1] = x - 1j * y
            out[..., i, 1, 0] = x + 1j * y
        return out


class MassiveDirac(Model):
    r"""2D massive Dirac cone.

    .. math:: H = v (k_x \sigma_x + k_y \sigma_y) + \Delta \sigma_z

    Parameters
    ----------
    velocity : float
        Dirac velocity ``v`` (energy x length, hbar = 1), nonzero.
    gap : float
        Mass ``Delta`` (energy); the gap is ``2 |Delta|``.

    Notes
    -----
    The lower band is unbounded below; Fermi-sea integrals over it use the
    convergent tail treatment documented in :mod:`boltzspin.geometry.fermi`.
    Operators ``sx, sy, sz`` are sigma / 2 (pseudospin in units of hbar).

    References
    ----------
    N. A. Sinitsyn, A. H. MacDonald, T. Jungwirth, V. K. Dugaev and J. Sinova,
    PRB 75, 045315 (2007).
    """

    dim = 2
    n_bands = 2

    def __init__(self, velocity, gap):
        self.v = _finite_real("velocity", velocity)
        if self.v == 0:
            raise ModelError("velocity must be nonzero")
        self.gap = _finite_real("gap", gap)
        super().__init__(_spin_half_operators())

    def __repr__(self):
        return f"MassiveDirac(velocity={self.v!r}, gap={self.gap!r})"

    def hamiltonian(self, k):
        k = _as_k(k, 2)
        kx, ky = k[..., 0, None, None], k[..., 1, None, None]
        return self.v * (kx * SIGMA_X + ky * SIGMA_Y) + self.gap * SIGMA_Z + 0 * kx

    def velocity(self, k):
        k = _as_k(k, 2)
        ones = np.ones(k.shape[:-1] + (1, 1))
        return np.stack([self.v * SIGMA_X * ones, self.v * SIGMA_Y * ones], axis=-3)


class KPModel(Model):
    r"""A k.p model from user callables.

    Parameters
    ----------
    hamiltonian : callable
        ``hamiltonian(k)`` with ``k`` of shape ``(..., dim)`` returning the
        Hermitian ``(..., n, n)`` Bloch Hamiltonian (vectorized).
    velocity : callable, optional
        ``velocity(k)`` returning ``dH/dk`` of shape ``(..., dim, n, n)``.  When
        omitted, a fourth-order central difference is used:

        .. math:: \partial_i H \approx \frac{-H(k+2h) + 8H(k+h) - 8H(k-h) + H(k-2h)}{12 h}

        with ``h = fd_step``.  Truncation error is ``h^4 H^{(5)}/30`` and
        round-off ``~ eps |H| / h``; for ``H`` whose derivatives are O(1) in
        the model's units and the default ``h = 1e-3`` both are ~1e-12
        relative.  Rescale ``fd_step`` with the model's momentum scale.
    dim : int
        Spatial dimension (2 or 3).
    operators : dict, optional
        Named Hermitian ``(n, n)`` matrices, e.g. ``{"sz": ...}``.
    fd_step : float
        Step ``h`` (inverse length) of the finite-difference velocity.
    name : str, optional
        Label used in ``repr`` and Dataset attrs.
    """

    def __init__(self, hamiltonian, velocity=None, dim=2, operators=None, fd_step=1e-3, name=None):
        if not callable(hamiltonian):
            raise ModelError("hamiltonian must be a callable k -> (..., n, n)")
        if velocity is not None and not callable(velocity):
            raise ModelError("velocity must be a callable k -> (..., dim, n, n) or None")
        if dim not in (1, 2, 3):
            raise ModelError(f"dim must be 1, 2 or 3, got {dim!r}")
        self.dim = int(dim)
        self._h = hamiltonian
        self._v = velocity
        self.fd_step = _finite_real("fd_step", fd_step)
        if self.fd_step <= 0:
            raise ModelError("fd_step must be positive")
        self.name = name or getattr(hamiltonian, "__name__", "user")
        h0 = np.asarray(hamiltonian(np.zeros(self.dim)))
        if h0.ndim != 2 or h0.shape[0] != h0.shape[1]:
            raise ModelError(
                f"hamiltonian(k) with k of shape ({self.dim},) must return an (n, n) "
                f"matrix, got shape {h0.shape}"
            )
        self.n_bands = h0.shape[0]
        super().__init__(operators)

    def __repr__(self):
        fd = "finite-difference velocity" if self._v is None else "analytic velocity"
        return f"KPModel(name={self.name!r}, dim={self.dim}, n_bands={self.n_bands}, {fd})"

    def hamiltonian(self, k):
        k = _as_k(k, self.dim)
        return _finite_output(self, "hamiltonian", k, np.asarray(self._h(k), dtype=complex))

    def velocity(self, k):
        k = _as_k(k, self.dim)
        if self._v is not None:
            return _finite_output(self, "velocity", k, np.asarray(self._v(k), dtype=complex))
        v = fourth_order_derivative(self.hamiltonian, k, self.fd_step)
        # The difference quotient of a Hermitian H is Hermitian up to the round-off of H
        # amplified by 1/h (~eps |H| / h), which near a band bottom exceeds any tolerance
        # relative to |v| ~ k_F.  Keep the Hermitian part: the derivative of (H + H^dagger)/2,
        # the Hamiltonian eigh diagonalizes (H itself is checked for Hermiticity).
        return 0.5 * (v + np.swapaxes(v.conj(), -1, -2))

    @property
    def analytic_velocity(self):
        """True when the velocity is the user's callable (checked by :func:`check_velocity`)."""
        return self._v is not None


def nonfinite_momenta(k, out):
    """Where a function of momenta ``k`` ``(..., D)`` returned NaN or inf.

    Returns ``(bad, first)``: the mask over ``k.shape[:-1]`` of the momenta whose
    output block ``out[..., :, :]`` is not finite, and the one of them nearest
    ``k = 0``; ``(None, None)`` when ``out`` is not laid out per momentum.
    """
    k = np.asarray(k)
    lead = out.shape[: k.ndim - 1]
    if lead != k.shape[:-1]:
        return None, None
    bad = ~np.all(np.isfinite(out.reshape(lead + (-1,))), axis=-1)
    if not np.any(bad):
        return None, None
    bad_k = k[bad]
    return bad, bad_k[np.argmin(np.linalg.norm(bad_k, axis=-1))]


def _finite_output(model, what, k, out):
    """Raise :class:`ModelError` naming the first momentum where ``out`` is NaN or inf."""
    if out.ndim < 2 or np.all(np.isfinite(out)):
        return out
    bad, first = nonfinite_momenta(k, out)
    if bad is None:
        raise ModelError(f"{what}(k) of {model!r} returned NaN or inf; make the model finite for every k")
    raise ModelError(
        f"{what}(k) of {model!r} returned NaN or inf at k = {np.array2string(first, precision=6)} "
        f"({int(bad.sum())} of {bad.size} momenta in this call): a Bloch Hamiltonian must be finite "
        "at every momentum of the plane (the ray scans of 2D continuum models probe up to 1e6 k_max "
        "to find every crossing). Make hamiltonian(k) finite there, e.g. regularize the expression "
        "that divides by zero or takes a root of a negative number."
    )


def fourth_order_derivative(func, x, h):
    r"""Fourth-order central difference of a matrix function of a vector.

    .. math:: \partial_i F \approx \frac{-F(x+2h e_i) + 8F(x+h e_i) - 8F(x-h e_i) + F(x-2h e_i)}{12 h}

    ``func(x)`` maps ``(..., D)`` to ``(..., n, n)``; returns ``(..., D, n, n)``.
    Truncation error ``h^4 F^{(5)}/30``, round-off ``~ eps |F| / h``.
    """
    out = []
    for i in range(x.shape[-1]):
        e = np.zeros(x.shape[-1])
        e[i] = h
        out.append((-func(x + 2 * e) + 8 * func(x + e) - 8 * func(x - e) + func(x - 2 * e)) / (12 * h))
    return np.stack(out, axis=-3)


def check_model(model, k=None, rtol=HERMITIAN_RTOL):
    """Validate a model's shapes, finiteness and Hermiticity at sample points.

    Parameters
    ----------
    model : object
        Anything following the model contract of this module.
    k : array, optional
        Sample momenta ``(M, D)``; a fixed pseudo-random set by default.

    Raises
    ------
    ModelError
        Naming the violated contract.
    """
    for attr in ("dim", "n_bands", "hamiltonian", "velocity", "operators"):
        if not hasattr(model, attr):
            raise ModelError(f"model {model!r} has no attribute {attr!r}; see boltzspin.models.continuum")
    d, n = model.dim, model.n_bands
    if k is None:
        k = np.random.default_rng(12345).normal(size=(7, d))
    k = np.asarray(k, dtype=float)
    h = np.asarray(model.hamiltonian(k))
    if h.shape != k.shape[:-1] + (n, n):
        raise ModelError(
            f"hamiltonian(k) returned shape {h.shape} for k of shape {k.shape}; "
            f"expected {k.shape[:-1] + (n, n)} (vectorize over leading axes)"
        )
    v = np.asarray(model.velocity(k))
    if v.shape != k.shape[:-1] + (d, n, n):
        raise ModelError(
            f"velocity(k) returned shape {v.shape} for k of shape {k.shape}; "
            f"expected {k.shape[:-1] + (d, n, n)}"
        )
    for name, arr in (("hamiltonian", h), ("velocity", v)):
        if not np.all(np.isfinite(arr)):
            raise ModelError(f"{name}(k) contains NaN or inf; check the model parameters")
    check_hermitian(h, "hamiltonian(k)", rtol)
    check_hermitian(v, "velocity(k)", rtol)
    for name, op in model.operators.items():
        _check_operator(name, op, n)
    check_velocity(model)
    return model


#: Relative tolerance of :func:`check_velocity` (relative to the largest |dH/dk| element at each point).
VELOCITY_RTOL = 1e-6
#: Radii (model momentum units) of the points :func:`check_velocity` probes along fixed directions.
VELOCITY_CHECK_RADII = np.geomspace(1e-2, 1e1, 7)


def velocity_check_points(dim):
    """Deterministic momenta ``(M, dim)`` spread over ``1e-2 <= |k| <= 10`` in every direction.

    Golden-angle (2D) or Fibonacci-sphere (3D) directions, none along a coordinate axis,
    times :data:`VELOCITY_CHECK_RADII`, plus the default sample points of :func:`check_model`.
    """
    n_dir = 7
    j = np.arange(n_dir) + 0.5
    if dim == 1:
        dirs = np.array([[1.0], [-1.0]])
    elif dim == 2:
        phi = j * np.pi * (3 - np.sqrt(5)) + 0.3
        dirs = np.stack([np.cos(phi), np.sin(phi)], axis=-1)
    else:
        z = 1 - 2 * j / n_dir
        phi = j * np.pi * (3 - np.sqrt(5)) + 0.3
        rho = np.sqrt(1 - z * z)
        dirs = np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=-1)
    k = (dirs[:, None, :] * VELOCITY_CHECK_RADII[None, :, None]).reshape(-1, dim)
    return np.concatenate([k, np.random.default_rng(12345).normal(size=(7, dim))])


def check_velocity(model, k=None, rtol=VELOCITY_RTOL):
    r"""Raise :class:`ModelError` unless ``model.velocity`` is ``dH/dk`` at sample momenta.

    A velocity inconsistent with the Hamiltonian changes every velocity-dependent part
    (e.g. the intrinsic dipole term) without any other symptom, so a user-supplied
    velocity is compared with the fourth-order central difference of ``hamiltonian``
    (:func:`fourth_order_derivative`) at deterministic points over ``1e-2 <= |k| <= 10``
    (:func:`velocity_check_points`), with the step ``h = 1e-3 max(|k|, 0.1)``.  At each
    point the accepted deviation is

    .. math:: 	ext{rtol}\,\max|D_h| + 2|D_h - D_{2h}| + 10^3\,\epsilon\,\max|H|/h,

    the relative tolerance against the largest element of ``dH/dk`` there (not the band
    velocity, which vanishes at a band bottom), the truncation error of the difference
    quotient (estimated from steps ``h`` and ``2h``) and its round-off.  Points where the
    difference quotient itself is unreliable (truncation estimate above 1e-3 of
    ``max|D_h|``) or ``H`` is not finite are skipped.  Models whose velocity already is a
    finite difference (:class:`KPModel` without ``velocity``) are not checked.

    Parameters
    ----------
    model : object
        A model (module contract).
    k : (M, D) array, optional
        Momenta to probe; :func:`velocity_check_points` by default.
    rtol : float
        Relative tolerance (default :data:`VELOCITY_RTOL`).

    Raises
    ------
    ModelError
        Naming the momentum, the component and the size of the disagreement.
    """
    if getattr(model, "analytic_velocity", True) is False:
        return model
    d = model.dim
    k = velocity_check_points(d) if k is None else np.asarray(k, dtype=float).reshape(-1, d)
    h = 1e-3 * np.maximum(np.linalg.norm(k, axis=-1), 0.1)  # (M,)
    shifts = np.array([-4, -2, -1, 1, 2, 4], dtype=float)  # in units of h
    eye = np.eye(d)
    ks = k[None, None, :, :] + shifts[:, None, None, None] * eye[None, :, None, :] * h[None, None, :, None]
    with np.errstate(all="ignore"):
        try:
            hs = np.asarray(model.hamiltonian(ks), dtype=complex)  # (6, D, M, n, n)
        except ModelError:
            return model  # not finite somewhere on the stencil: the other checks report NaN
        v = np.asarray(model.velocity(k), dtype=complex)  # (M, D, n, n)
        hm4, hm2, hm1, hp1, hp2, hp4 = hs
        hh = h[None, :, None, None]
        d1 = (-hp2 + 8 * hp1 - 8 * hm1 + hm2) / (12 * hh)  # (D, M, n, n) step h
        d2 = (-hp4 + 8 * hp2 - 8 * hm2 + hm4) / (24 * hh)  # step 2h
        d1, d2 = np.moveaxis(d1, 0, 1), np.moveaxis(d2, 0, 1)  # (M, D, n, n)
        axes = (1, 2, 3)
        size = np.abs(d1).max(axis=axes)
        trunc = np.abs(d1 - d2).max(axis=axes)
        roundoff = 1e3 * np.finfo(float).eps * np.abs(hs).max(axis=(0, 1, 3, 4)) / h
        dev = np.abs(v - d1).max(axis=axes)
        usable = np.isfinite(size) & np.isfinite(trunc) & np.isfinite(dev) & (trunc <= 1e-3 * size + roundoff)
    bad = usable & (dev > rtol * size + 2 * trunc + roundoff)
    if np.any(bad):
        p = int(np.argmax(np.where(bad, dev / np.maximum(size, 1e-300), -1.0)))
        comp = int(np.argmax(np.abs(v[p] - d1[p]).max(axis=(1, 2))))
        raise ModelError(
            f"velocity(k) of {model!r} is not dH/dk: at k = {np.array2string(k[p], precision=4)} "
            f"the component dH/dk_{'xyz'[comp]} differs from the finite difference of hamiltonian(k) by "
            f"{dev[p]:.3g} (largest element of dH/dk there: {size[p]:.3g}; {int(bad.sum())} of "
            f"{int(usable.sum())} probed momenta disagree). Every velocity-dependent contribution "
            "would be wrong. Fix the velocity callable, or omit velocity= to use the built-in "
            "fourth-order finite difference of the Hamiltonian."
        )
    return model


def check_hermitian(h, what, rtol=HERMITIAN_RTOL):
    """Raise :class:`ModelError` unless ``h`` (``(..., n, n)``) is Hermitian."""
    err = np.abs(h - np.swapaxes(h.conj(), -1, -2)).max(initial=0.0)
    scale = max(np.abs(h).max(initial=0.0), 1e-300)
    if err > rtol * scale:
        raise ModelError(
            f"{what} is not Hermitian: max |H - H^dagger| = {err:.3g} "
            f"(relative {err / scale:.3g} > {rtol:g}); boltzspin needs Hermitian "
            "Bloch Hamiltonians -- check the off-diagonal terms"
        )


def resolve_observable(model, observable, charge):
    """The Hermitian matrix ``s`` for an observable specification.

    ``"charge"`` gives ``charge * identity`` (the ordinary charge current), or
    ``charge * model.charge_operator`` when the model defines one (BdG: ``tau_z``),
    a string names one of ``model.operators``, an ``(n, n)`` array is used as
    given.  Returns ``(matrix, label)``.
    """
    n = model.n_bands
    if isinstance(observable, str):
        if observable == "charge":
            if hasattr(model, "charge_operator"):  # Bogoliubov quasiparticles: q tau_z
                return charge * np.asarray(model.charge_operator, dtype=complex), "charge (q tau_z)"
            return charge * np.eye(n, dtype=complex), "charge"
        if observable not in model.operators:
            raise ModelError(
                f"observable {observable!r} is not an operator of {model!r}; "
                f"choose 'charge', one of {sorted(model.operators)} or pass a matrix"
            )
        return np.asarray(model.operators[observable], dtype=complex), observable
    mat = _check_operator("observable", observable, n)
    return mat, "matrix " + np.array2string(mat, precision=4, separator=",").replace("\n", "")
