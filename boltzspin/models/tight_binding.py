r"""Tight-binding (lattice) models: Bloch sums of a hopping table in 2D and 3D.

A :class:`TightBinding` model is a table of hopping matrices ``t_R`` on a
Bravais lattice with rows ``a_i`` (cartesian) and orbital positions ``tau_a``
(fractional).  The Bloch Hamiltonian uses **convention I** (positions in the
phases; Bena and Montambaux, New J. Phys. 11, 095003 (2009); PythTB formalism
notes),

.. math:: H_{ab}(\mathbf k) = \sum_{\mathbf R} (t_{\mathbf R})_{ab}\,
          e^{i\mathbf k\cdot(\mathbf R + \boldsymbol\tau_b - \boldsymbol\tau_a)},

so that ``dH/dk`` is the physical velocity operator in the tight-binding
(diagonal-position) approximation and Berry curvature and spin geometry are
the physical ones.  The price: ``H(k + G) = D^dagger H(k) D`` with
``D = diag(exp(i G.tau_a))`` is periodic only up to this unitary; eigenvalues
and traces are periodic.  With all ``tau = 0`` (convention II) ``H`` is
periodic and unitarily equivalent at each k, but its band geometry differs.

Units: k in inverse units of the lattice vectors, energies in those of the
table (hbar = 1).  Lattice models set ``periodic = True``: Fermi surfaces and
Fermi-sea integrals then run over the Brillouin zone spanned by
``reciprocal_vectors`` (rows ``b_i``, ``a_i . b_j = 2 pi delta_ij``).
"""

from __future__ import annotations

import hashlib
import importlib
import numbers

import numpy as np

from ..errors import ModelError
from .continuum import PAULI, Model, _as_k, _finite_real, _spin_half_operators

__all__ = ["LatticeRashba", "QiWuZhang", "Rashba3D", "TightBinding", "from_pythtb", "from_tbmodels"]

#: Relative tolerance of the hopping-table Hermiticity check ``t_{-R} = t_R^dagger``.
HOPPING_HERMITIAN_RTOL = 1e-10
#: Largest number of complex elements of one temporary (k-points are chunked).
CHUNK_ELEMENTS = 1 << 22


def _table(hoppings, d):
    """Validated copy of a hopping table and the orbital count n."""
    if not isinstance(hoppings, dict) or not hoppings:
        raise ModelError("hoppings must be a non-empty dict {R: (n, n) matrix}, e.g. {(0,) * D: onsite}")
    table, n = {}, None
    for key, t in hoppings.items():
        if not (isinstance(key, tuple) and len(key) == d
                and all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in key)):
            raise ModelError(f"hopping key {key!r} must be a tuple of {d} integers (R in units of the "
                             f"lattice vectors), e.g. {(1,) + (0,) * (d - 1)!r}")
        r, t = tuple(int(x) for x in key), np.array(t, dtype=complex)
        n = t.shape[0] if n is None and t.ndim == 2 and t.size else n
        if n is None or t.shape != (n, n):
            size = "(n, n) with n >= 1" if n is None else f"({n}, {n}) like the first one"
            raise ModelError(f"hopping matrix for R={r} has shape {t.shape}; every hopping must be a "
                             f"square matrix of shape {size}")
        if not np.all(np.isfinite(t)):
            raise ModelError(f"hopping matrix for R={r} contains NaN or inf; pass finite amplitudes")
        table[r] = t
    _check_table_hermitian(table)
    return table, n


class TightBinding(Model):
    r"""A tight-binding model from a hopping table (convention I Bloch sum, see module doc).

    Parameters
    ----------
    lattice_vectors : (D, D) array
        Rows are the primitive vectors ``a_i`` (cartesian); D = 2 or 3; nonsingular.
    hoppings : dict
        ``{R: t_R}`` with ``R`` a tuple of D integers and ``t_R`` an ``(n, n)``
        matrix, ``H_ab(k) = sum_R (t_R)_ab exp(i k.(R_cart + tau_b - tau_a))``,
        ``R_cart = sum_i R_i a_i``.  Must be Hermitian: ``t_{-R} = t_R^dagger``
        (both partners listed), ``t_0`` Hermitian.
    positions : (n, D) array, optional
        Orbital positions ``tau_a`` in fractional coordinates; zeros by default.
    operators : dict, optional
        Named Hermitian ``(n, n)`` observables.
    name : str, optional
        Label used in ``repr``.
    """

    periodic = True

    def __init__(self, lattice_vectors, hoppings, positions=None, operators=None, name=None):
        a = np.array(lattice_vectors, dtype=float)
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] not in (2, 3):
            raise ModelError(f"lattice_vectors must be a (D, D) array with D = 2 or 3 (rows a_i), got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ModelError("lattice_vectors contain NaN or inf; pass finite cartesian vectors")
        d = a.shape[0]
        if abs(np.linalg.det(a)) <= 1e-12 * np.prod(np.linalg.norm(a, axis=1)):
            raise ModelError(f"lattice_vectors {a.tolist()} are singular (linearly dependent rows); "
                             "pass D independent primitive vectors")
        table, n = _table(hoppings, d)
        self.dim, self.n_bands = d, n
        tau = np.zeros((n, d)) if positions is None else np.array(positions, dtype=float)
        if tau.shape != (n, d):
            raise ModelError(f"positions must have shape (n, D) = ({n}, {d}) in fractional coordinates, got {tau.shape}")
        if not np.all(np.isfinite(tau)):
            raise ModelError("positions contain NaN or inf; pass finite fractional coordinates")
        self.lattice_vectors = a
        self.reciprocal_vectors = 2 * np.pi * np.linalg.inv(a).T
        self.positions = tau
        self.name = name
        self._table = table
        keys = sorted(table)
        self._r_int = np.array(keys, dtype=int).reshape(-1, d)
        self._r_cart = self._r_int @ a  # (M, D)
        self._t_flat = np.array([table[r] for r in keys]).reshape(len(keys), n * n)
        self._tau_cart = tau @ a  # (n, D)
        self._dtau = self._tau_cart.T[:, None, :] - self._tau_cart.T[:, :, None]  # [j, a, b] = tau_bj - tau_aj
        self._has_tau = bool(np.any(tau != 0))
        for arr in (self.lattice_vectors, self.reciprocal_vectors, self.positions):
            arr.flags.writeable = False
        super().__init__(operators)

    @property
    def hoppings(self):
        """A copy of the hopping table ``{R: t_R}``."""
        return {r: t.copy() for r, t in self._table.items()}

    def table_hash(self):
        """Short SHA-1 of lattice, positions and hopping table (identifies the model).

        Returns
        -------
        str
            The first 10 hexadecimal digits.
        """
        h = hashlib.sha1()
        for arr in (self.lattice_vectors, self.positions, self._r_int, self._t_flat):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:10]

    def __repr__(self):
        name = "" if self.name is None else f"name={self.name!r}, "
        return (
            f"TightBinding({name}dim={self.dim}, n_bands={self.n_bands}, "
            f"n_hoppings={len(self._table)}, table={self.table_hash()})"
        )

    def position_phases(self, k):
        """Phases ``exp(i k . tau_a)`` of the orbital positions.

        ``H(k) = D^dagger H_II(k) D`` with ``D = diag(position_phases(k))`` and
        ``H_II`` the periodic (tau = 0) Bloch sum; ``D @ u`` turns an eigenvector
        of ``H(k)`` into one of ``H_II(k)``.

        Parameters
        ----------
        k : (..., D) array
            Cartesian momenta.

        Returns
        -------
        (..., n) complex array
            The phases.
        """
        return np.exp(1j * (_as_k(k, self.dim) @ self._tau_cart.T))

    def hamiltonian(self, k):
        return self._evaluate(k, False)

    def velocity(self, k):
        return self._evaluate(k, True)

    def _evaluate(self, k, derivative):
        k = _as_k(k, self.dim)
        n, d = self.n_bands, self.dim
        shape = (d, n, n) if derivative else (n, n)
        flat = k.reshape(-1, d)
        out = np.empty((len(flat),) + shape, dtype=complex)
        step = max(1, CHUNK_ELEMENTS // max(len(self._r_cart), n * n * (d + 1)))
        for s in range(0, len(flat), step):
            out[s : s + step] = self._block(flat[s : s + step], derivative)
        return out.reshape(k.shape[:-1] + shape)

    def _block(self, k, derivative):
        n = self.n_bands
        phase = np.exp(1j * (k @ self._r_cart.T))  # (N, M)
        h0 = (phase @ self._t_flat).reshape(-1, n, n)
        gauge = 1.0
        if self._has_tau:
            u = np.exp(1j * (k @ self._tau_cart.T))  # (N, n)
            gauge = u.conj()[:, :, None] * u[:, None, :]
        if not derivative:
            return _hermitize(gauge * h0)
        out = np.empty((len(k), self.dim, n, n), dtype=complex)
        for j in range(self.dim):
            dh0 = ((phase * (1j * self._r_cart[:, j])) @ self._t_flat).reshape(-1, n, n)
            if self._has_tau:
                dh0 = gauge * (dh0 + 1j * self._dtau[j] * h0)
            out[:, j] = _hermitize(dh0)
        return out


def _hermitize(h):
    return 0.5 * (h + np.swapaxes(h.conj(), -1, -2))


def _check_table_hermitian(table):
    scale = max(max(np.abs(t).max(initial=0.0) for t in table.values()), 1e-300)
    for r, t in table.items():
        minus = tuple(-x for x in r)
        partner = table.get(minus)
        if partner is None:
            if np.any(t != 0):
                raise ModelError(f"hopping table is not Hermitian: R={r} has no conjugate partner R={minus}; "
                                 f"add hoppings[{minus}] = hoppings[{r}].conj().T")
            continue
        err = np.abs(partner - t.conj().T).max()
        if err > HOPPING_HERMITIAN_RTOL * scale:
            what, fix = (("the on-site term t_0 is not Hermitian", "use (t_0 + t_0^dagger) / 2") if r == minus else
                         (f"t_R for R={minus} is not the conjugate transpose of t_R for R={r}",
                          f"set hoppings[{minus}] = hoppings[{r}].conj().T"))
            raise ModelError(f"hopping table is not Hermitian: {what} (max mismatch {err:.3g}); {fix}")


# --------------------------------------------------------------------------- built-ins


def _exchange(exchange):
    exchange = tuple(exchange)
    if len(exchange) != 3:
        raise ModelError("exchange must have three components (hx, hy, hz)")
    return tuple(_finite_real(f"exchange[{i}]", h) for i, h in enumerate(exchange))


def _add_harmonic(table, d, i, cos=0.0, sin=0.0):
    """Add ``cos * cos k_i + sin * sin k_i`` (matrices) to the table:
    ``cos k = (e^{ik} + e^{-ik}) / 2``, ``sin k = (e^{ik} - e^{-ik}) / 2i``."""
    for sign in (1, -1):
        r = tuple(sign if j == i else 0 for j in range(d))
        table[r] = table.get(r, 0) + np.asarray(cos / 2 - 0.5j * sign * sin, dtype=complex)


def _rashba_table(d, t, tz, alpha, h):
    eye, (sx, sy, sz) = np.eye(2), PAULI
    table = {(0,) * d: (4 * t + (2 * tz if d == 3 else 0)) * eye + h[0] * sx + h[1] * sy + h[2] * sz}
    _add_harmonic(table, d, 0, cos=-2 * t * eye, sin=-alpha * sy)
    _add_harmonic(table, d, 1, cos=-2 * t * eye, sin=alpha * sx)
    if d == 3:
        _add_harmonic(table, d, 2, cos=-2 * tz * eye)
    return table


class LatticeRashba(TightBinding):
    r"""Rashba model on the square lattice (lattice constant 1) with an exchange field.

    .. math:: H = -2t(\cos k_x + \cos k_y) + 4t + \alpha(\sin k_y\,\sigma_x - \sin k_x\,\sigma_y)
              + \mathbf h\cdot\boldsymbol\sigma

    Near ``k = 0`` this is the continuum ``Rashba(mass=1/(2t), alpha, exchange=h)``
    up to O(k^3).  Operators ``sx, sy, sz = sigma / 2`` (spin in units of hbar).

    Parameters
    ----------
    hopping : float
        Nearest-neighbour hopping ``t`` (energy), nonzero.
    alpha : float
        Rashba coupling (energy; the continuum coupling for lattice constant 1).
    exchange : 3-sequence of float
        Exchange field ``h`` (energy).

    References
    ----------
    Yu. A. Bychkov and E. I. Rashba, JETP Lett. 39, 78 (1984); lattice form e.g.
    F. Mireles and G. Kirczenow, PRB 64, 024426 (2001).
    """

    def __init__(self, hopping, alpha, exchange=(0.0, 0.0, 0.0)):
        self.hopping = _finite_real("hopping", hopping)
        if self.hopping == 0:
            raise ModelError("hopping must be nonzero (it sets the band mass 1/(2t))")
        self.alpha = _finite_real("alpha", alpha)
        self.exchange = _exchange(exchange)
        table = _rashba_table(2, self.hopping, 0.0, self.alpha, self.exchange)
        super().__init__(np.eye(2), table, operators=_spin_half_operators(), name="LatticeRashba")

    def __repr__(self):
        return f"LatticeRashba(hopping={self.hopping!r}, alpha={self.alpha!r}, exchange={self.exchange!r})"


class QiWuZhang(TightBinding):
    r"""Qi-Wu-Zhang (half-BHZ) Chern insulator on the square lattice (lattice constant 1).

    .. math:: H = t\,[\sin k_x\,\sigma_x + \sin k_y\,\sigma_y + (m + \cos k_x + \cos k_y)\,\sigma_z]

    Gapped unless ``m`` is 0 or +-2: the gap closes at (0, pi) and (pi, 0) for
    m = 0, at (pi, pi) for m = 2 and at Gamma for m = -2.  The lower band has
    ``|C| = 1`` for ``0 < |m| < 2`` and ``C = 0`` for ``|m| > 2``.  Gapless
    masses are accepted (Dirac nodes; no error is raised).  Operators ``sx, sy, sz = sigma / 2``
    (pseudospin).

    Parameters
    ----------
    mass : float
        Dimensionless mass ``m``.
    hopping : float
        Energy scale ``t``, nonzero.

    References
    ----------
    X.-L. Qi, Y.-S. Wu and S.-C. Zhang, PRB 74, 085308 (2006).
    """

    def __init__(self, mass, hopping=1.0):
        self.mass = _finite_real("mass", mass)
        self.hopping = _finite_real("hopping", hopping)
        if self.hopping == 0:
            raise ModelError("hopping must be nonzero (it sets the energy scale)")
        t, (sx, sy, sz) = self.hopping, PAULI
        table = {(0, 0): t * self.mass * sz}
        for i, s in ((0, sx), (1, sy)):
            _add_harmonic(table, 2, i, cos=t * sz, sin=t * s)
        super().__init__(np.eye(2), table, operators=_spin_half_operators(), name="QiWuZhang")

    def __repr__(self):
        return f"QiWuZhang(mass={self.mass!r}, hopping={self.hopping!r})"


class Rashba3D(TightBinding):
    r"""BiTeI-like bulk Rashba model on the simple tetragonal lattice (unit lattice constants).

    .. math:: H = -2t(\cos k_x + \cos k_y - 2) - 2t_z(\cos k_z - 1)
              + \alpha(\sin k_y\,\sigma_x - \sin k_x\,\sigma_y) + \mathbf h\cdot\boldsymbol\sigma

    Operators ``sx, sy, sz = sigma / 2``.

    Parameters
    ----------
    hopping : float
        In-plane hopping ``t`` (energy), nonzero.
    hopping_z : float
        Hopping ``t_z`` along z (energy), nonzero.
    alpha : float
        Rashba coupling (energy).
    exchange : 3-sequence of float
        Exchange field ``h`` (energy).

    References
    ----------
    K. Ishizaka et al., Nat. Mater. 10, 521 (2011) (giant bulk Rashba splitting in BiTeI).
    """

    def __init__(self, hopping, hopping_z, alpha, exchange=(0.0, 0.0, 0.0)):
        self.hopping = _finite_real("hopping", hopping)
        if self.hopping == 0:
            raise ModelError("hopping must be nonzero (it sets the in-plane band mass)")
        self.hopping_z = _finite_real("hopping_z", hopping_z)
        self.alpha = _finite_real("alpha", alpha)
        self.exchange = _exchange(exchange)
        table = _rashba_table(3, self.hopping, self.hopping_z, self.alpha, self.exchange)
        super().__init__(np.eye(3), table, operators=_spin_half_operators(), name="Rashba3D")

    def __repr__(self):
        return (f"Rashba3D(hopping={self.hopping!r}, hopping_z={self.hopping_z!r}, "
                f"alpha={self.alpha!r}, exchange={self.exchange!r})")


# --------------------------------------------------------------------------- converters


def _need(module, extra):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{module} is not installed; install it with pip install \"boltzspin[{extra}]\"") from exc


def from_pythtb(model, operators=None):
    """Convert a PythTB 1.x ``tb_model`` (``dim_k = dim_r`` = 2 or 3) to :class:`TightBinding`.

    PythTB uses convention I with reduced k, ``H_ij += t e^{2 pi i k.(R + tau_j - tau_i)}``
    plus the conjugate term for every stored hopping; this table lists both
    partners, so ``hamiltonian(k_red @ reciprocal_vectors)`` equals PythTB's
    ``_gen_ham(k_red)``.  Spinful models (``nspin = 2``) are orbital-major
    (index ``2 * orbital + spin``) and get ``sx, sy, sz`` (sigma / 2 on each
    orbital) unless ``operators`` is given.

    Parameters
    ----------
    model : pythtb.tb_model
        The model to convert.
    operators : dict, optional
        Named Hermitian ``(n, n)`` observables of the converted model.

    Returns
    -------
    TightBinding
        The same Bloch Hamiltonian at every k (tested against the library).

    Raises
    ------
    ImportError
        If the library is not installed (extra ``boltzspin[pythtb]``).
    ModelError
        If the model is not of the supported kind.
    """
    _need("pythtb", "pythtb")
    try:
        dk, dr, per, lat, orb = model._dim_k, model._dim_r, list(model._per), model._lat, model._orb
        nspin, onsite, hops = model._nspin, model._site_energies, model._hoppings
    except AttributeError as exc:
        raise ModelError(f"{model!r} is not a PythTB 1.x tb_model ({exc}); build it with pythtb.tb_model") from exc
    if dk != dr or dk not in (2, 3) or per != list(range(dk)):
        raise ModelError(
            f"from_pythtb needs a bulk model with dim_k = dim_r = 2 or 3 and per = {list(range(dr))}, "
            f"got dim_k={dk}, dim_r={dr}, per={per}; slabs and ribbons are not lattice models here"
        )
    norb = len(orb)
    n = norb * nspin
    zero = (0,) * dk
    table = {zero: np.zeros((n, n), complex)}
    for i in range(norb):
        table[zero][i * nspin:(i + 1) * nspin, i * nspin:(i + 1) * nspin] = onsite[i]
    for amp, i, j, ind_r in hops:
        r = tuple(int(x) for x in np.rint(ind_r))
        amp = np.asarray(amp, complex).reshape(nspin, nspin)
        for key, a, b, m in ((r, i, j, amp), (tuple(-x for x in r), j, i, amp.conj().T)):
            table.setdefault(key, np.zeros((n, n), complex))
            table[key][a * nspin:(a + 1) * nspin, b * nspin:(b + 1) * nspin] += m
    if operators is None and nspin == 2:
        operators = {k: np.kron(np.eye(norb), s) for k, s in _spin_half_operators().items()}
    return TightBinding(lat, table, np.repeat(np.asarray(orb, float), nspin, axis=0), operators, name="pythtb")


def from_tbmodels(model, operators=None):
    """Convert a ``tbmodels.Model`` (with a unit cell ``uc``) to :class:`TightBinding`.

    TBmodels stores half of the table, ``H(k) = sum_R hop[R] e^{2 pi i k.R} + h.c.``
    (convention 2 of ``Model.hamilton``); this adds the conjugate partners
    (``t_0 = hop[0] + hop[0]^dagger``) and puts ``pos`` into the phases, so
    ``hamiltonian(k_red @ reciprocal_vectors)`` equals ``hamilton(k_red, convention=1)``.
    Note: tbmodels 1.4 requires numpy < 2 (through bands-inspect).

    Parameters
    ----------
    model : tbmodels.Model
        The model to convert.
    operators : dict, optional
        Named Hermitian ``(n, n)`` observables of the converted model.

    Returns
    -------
    TightBinding
        The same Bloch Hamiltonian at every k (tested against the library).

    Raises
    ------
    ImportError
        If the library is not installed (extra ``boltzspin[tbmodels]``).
    ModelError
        If the model is not of the supported kind.
    """
    _need("tbmodels", "tbmodels")
    if getattr(model, "uc", None) is None or not hasattr(model, "hop"):
        raise ModelError(f"{model!r} is not a tbmodels.Model with a unit cell; pass uc=... when building it")
    size, dim = model.size, model.dim
    table = {}
    for r, mat in model.hop.items():
        m = np.asarray(mat.toarray() if hasattr(mat, "toarray") else mat, dtype=complex)
        r = tuple(int(x) for x in r)
        for key, val in ((r, m), (tuple(-x for x in r), m.conj().T)):
            table[key] = table.get(key, np.zeros((size, size), complex)) + val
    if not table:
        table[(0,) * dim] = np.zeros((size, size), complex)
    return TightBinding(model.uc, table, np.asarray(model.pos, float), operators, name="tbmodels")


class SquareLattice(TightBinding):
    r"""One spin-degenerate band on the square lattice (lattice constant 1).

    .. math:: e(k) = -2t(\cos k_x + \cos k_y)

    Geometrically trivial (one band): the normal state of the BdG checks.

    Parameters
    ----------
    hopping : float
        Nearest-neighbour hopping ``t`` (energy), nonzero.
    """

    def __init__(self, hopping=1.0):
        self.hopping = _finite_real("hopping", hopping)
        if self.hopping == 0:
            raise ModelError("hopping must be nonzero")
        table = {(0, 0): np.zeros((1, 1), dtype=complex)}
        _add_harmonic(table, 2, 0, cos=-2 * self.hopping * np.eye(1))
        _add_harmonic(table, 2, 1, cos=-2 * self.hopping * np.eye(1))
        super().__init__(np.eye(2), table, name="SquareLattice")

    def __repr__(self):
        return f"SquareLattice(hopping={self.hopping!r})"
