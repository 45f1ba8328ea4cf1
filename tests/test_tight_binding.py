import sys

import numpy as np
import pytest
from conftest import random_hermitian

import boltzspin.models.tight_binding as tbmod
from boltzspin.errors import ModelError
from boltzspin.models.continuum import PAULI, Rashba, check_model, fourth_order_derivative
from boltzspin.models.tight_binding import (
    LatticeRashba,
    QiWuZhang,
    Rashba3D,
    TightBinding,
    from_pythtb,
    from_tbmodels,
)

#: Finite-difference step and the agreement of analytic and 4th-order FD velocities.
FD_STEP = 1e-3
FD_ATOL = 1e-8
#: Agreement of exact identities (formulas, unitary equivalence, periodicity).
EXACT_ATOL = 1e-12
#: Error ratio of lattice vs continuum Rashba when k halves (O(k^3): 8).
CONTINUUM_RATIO = (7.5, 8.5)


def random_tb(rng, d, n, n_r=4, positions=True):
    """A random Hermitian table with n_r hopping vectors (plus partners), random cell and positions."""
    lattice = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    table = {(0,) * d: random_hermitian(rng, n)}
    for _ in range(n_r):
        r = tuple(int(x) for x in rng.integers(-2, 3, size=d))
        t = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        if r == (0,) * d:
            continue
        table[r] = table.get(r, 0) + t
        table[tuple(-x for x in r)] = table[r].conj().T
    tau = rng.uniform(-0.3, 1.2, size=(n, d)) if positions else None
    return TightBinding(lattice, table, tau, operators={"p0": np.diag(np.arange(n) == 0).astype(float)})


def all_models(seed=7):
    rng = np.random.default_rng(seed)
    return [
        LatticeRashba(1.0, 0.4, exchange=(0.1, -0.2, 0.3)),
        QiWuZhang(-1.2, hopping=0.8),
        Rashba3D(1.0, 0.3, 0.5, exchange=(0.0, 0.1, 0.2)),
        random_tb(rng, 2, 3),
        random_tb(rng, 3, 4),
    ]


@pytest.mark.parametrize("model", all_models(), ids=repr)
def test_velocity_equals_finite_difference_and_model_is_valid(model, rng):
    k = rng.normal(size=(4, 3, model.dim))
    v = model.velocity(k)
    assert v.shape == (4, 3, model.dim, model.n_bands, model.n_bands)
    np.testing.assert_allclose(v, fourth_order_derivative(model.hamiltonian, k, FD_STEP), atol=FD_ATOL)
    h = model.hamiltonian(k)
    np.testing.assert_array_equal(h, np.swapaxes(h.conj(), -1, -2))
    assert model.hamiltonian(k[0, 0]).shape == (model.n_bands,) * 2
    assert model.periodic
    check_model(model)


@pytest.mark.parametrize("model", all_models(11), ids=repr)
def test_eigenvalues_periodic_and_bloch_gauge(model, rng):
    k = rng.normal(size=(6, model.dim))
    b = model.reciprocal_vectors
    np.testing.assert_allclose(model.lattice_vectors @ b.T, 2 * np.pi * np.eye(model.dim), atol=EXACT_ATOL)
    e = np.linalg.eigvalsh(model.hamiltonian(k))
    tau = model.positions @ model.lattice_vectors
    for g in list(b) + [b[0] - 2 * b[-1]]:
        np.testing.assert_allclose(np.linalg.eigvalsh(model.hamiltonian(k + g)), e, atol=EXACT_ATOL)
        d = np.diag(np.exp(1j * tau @ g))  # H(k + G) = D^dagger H(k) D
        np.testing.assert_allclose(model.hamiltonian(k + g), d.conj().T @ model.hamiltonian(k) @ d, atol=1e-11)


def test_positions_give_unitarily_equivalent_hamiltonian(rng):
    model = random_tb(rng, 3, 3)
    plain = TightBinding(model.lattice_vectors, model.hoppings)
    k = rng.normal(size=(7, 3))
    u = np.exp(1j * k @ (model.positions @ model.lattice_vectors).T)  # (7, n)
    np.testing.assert_allclose(model.position_phases(k), u, atol=EXACT_ATOL)
    expected = u.conj()[:, :, None] * plain.hamiltonian(k) * u[:, None, :]
    np.testing.assert_allclose(model.hamiltonian(k), expected, atol=EXACT_ATOL)
    np.testing.assert_allclose(np.linalg.eigvalsh(model.hamiltonian(k)), np.linalg.eigvalsh(plain.hamiltonian(k)),
                               atol=EXACT_ATOL)
    # position phases change the velocity (physical vs periodic gauge) but not the band velocity
    assert np.abs(model.velocity(k) - plain.velocity(k)).max() > 1e-3


def test_chunked_evaluation_matches_unchunked(rng, monkeypatch):
    model = random_tb(rng, 2, 2)
    k = rng.normal(size=(3001, 2))
    h, v = model.hamiltonian(k), model.velocity(k)
    monkeypatch.setattr(tbmod, "CHUNK_ELEMENTS", 100)
    np.testing.assert_allclose(model.hamiltonian(k), h, atol=EXACT_ATOL)  # BLAS paths differ by round-off
    np.testing.assert_allclose(model.velocity(k), v, atol=EXACT_ATOL)
    assert model.hamiltonian(np.zeros((0, 2))).shape == (0, 2, 2)


def test_lattice_rashba_reduces_to_continuum():
    t, alpha, h = 0.7, 0.4, (0.1, -0.2, 0.3)
    lattice, continuum = LatticeRashba(t, alpha, exchange=h), Rashba(mass=1 / (2 * t), alpha=alpha, exchange=h)
    direction = np.array([np.cos(0.3), np.sin(0.3)])
    errors = [np.abs(lattice.hamiltonian(s * direction) - continuum.hamiltonian(s * direction)).max()
              for s in (0.04, 0.02, 0.01)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((CONTINUUM_RATIO[0] < ratios) & (ratios < CONTINUUM_RATIO[1])), ratios
    np.testing.assert_allclose(lattice.hamiltonian([0.0, 0.0]), continuum.hamiltonian([0.0, 0.0]), atol=EXACT_ATOL)
    np.testing.assert_allclose(lattice.velocity([0.0, 0.0]), continuum.velocity([0.0, 0.0]), atol=EXACT_ATOL)
    assert sorted(lattice.operators) == ["sx", "sy", "sz"]
    np.testing.assert_array_equal(lattice.operators["sz"], PAULI[2] / 2)


def _pauli_sum(e0, x, y, z):
    coefficients = (np.asarray(c, float)[..., None, None] for c in (e0, x, y, z))
    return sum(c * s for c, s in zip(coefficients, (np.eye(2),) + PAULI))


def test_qi_wu_zhang_formula(rng):
    m, t = 1.3, 0.7
    k = rng.uniform(-4, 4, size=(9, 2))
    kx, ky = k[:, 0], k[:, 1]
    expected = _pauli_sum(0 * kx, t * np.sin(kx), t * np.sin(ky), t * (m + np.cos(kx) + np.cos(ky)))
    np.testing.assert_allclose(QiWuZhang(m, hopping=t).hamiltonian(k), expected, atol=EXACT_ATOL)
    gapless = QiWuZhang(2.0)
    np.testing.assert_allclose(np.linalg.eigvalsh(gapless.hamiltonian([np.pi, np.pi])), [0, 0], atol=EXACT_ATOL)


def test_rashba3d_formula(rng):
    t, tz, a, h = 0.9, 0.3, 0.45, (0.05, -0.1, 0.2)
    k = rng.uniform(-4, 4, size=(9, 3))
    kx, ky, kz = k.T
    e0 = -2 * t * (np.cos(kx) + np.cos(ky) - 2) - 2 * tz * (np.cos(kz) - 1)
    expected = _pauli_sum(e0, a * np.sin(ky) + h[0], -a * np.sin(kx) + h[1], h[2] + 0 * kx)
    np.testing.assert_allclose(Rashba3D(t, tz, a, exchange=h).hamiltonian(k), expected, atol=EXACT_ATOL)


def test_repr_records_parameters(rng):
    ns = {"LatticeRashba": LatticeRashba, "QiWuZhang": QiWuZhang, "Rashba3D": Rashba3D}
    k = rng.normal(size=(3, 3))
    for model in all_models()[:3]:
        again = eval(repr(model), ns)
        np.testing.assert_array_equal(again.hamiltonian(k[:, : model.dim]), model.hamiltonian(k[:, : model.dim]))
    a, b = random_tb(np.random.default_rng(1), 2, 2), random_tb(np.random.default_rng(2), 2, 2)
    assert "n_hoppings=" in repr(a) and "n_bands=2" in repr(a) and repr(a) != repr(b)
    assert repr(a) == repr(random_tb(np.random.default_rng(1), 2, 2))


def test_hoppings_attribute_is_a_copy():
    model = LatticeRashba(1.0, 0.2)
    table = model.hoppings
    table[(0, 0)][:] = 99.0
    assert model.hoppings[(0, 0)][0, 0] == 4.0
    assert len(table) == 5 and set(table) == {(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)}


ONSITE = np.diag([0.5, -0.5])
HOP = np.array([[0.1, 0.2j], [0.3, 0.0]])


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.eye(2), {(0, 0): ONSITE, (1, 0): HOP}), r"no conjugate partner R=\(-1, 0\).*add hoppings"),
        ((np.eye(2), {(0, 0): ONSITE, (1, 0): HOP, (-1, 0): HOP}), r"R=\(-1, 0\) is not the conjugate transpose"),
        ((np.eye(2), {(0, 0): HOP}), "on-site term"),
        ((np.eye(2), {(0, 0): ONSITE, (1, 0): np.zeros((3, 3))}), r"shape \(3, 3\)"),
        ((np.eye(2), {(0, 0, 0): ONSITE}), "tuple of 2 integers"),
        ((np.eye(2), {(0.0, 0): ONSITE}), "tuple of 2 integers"),
        ((np.eye(2), {}), "non-empty dict"),
        ((np.eye(2), {(0, 0): np.diag([np.nan, 1.0])}), "NaN"),
        (([[1.0, 2.0], [2.0, 4.0]], {(0, 0): ONSITE}), "singular"),
        (([[1.0, np.nan], [0.0, 1.0]], {(0, 0): ONSITE}), "NaN"),
        ((np.eye(4), {(0, 0, 0, 0): ONSITE}), "D = 2 or 3"),
        ((np.eye(2), {(0, 0): ONSITE}, np.zeros((3, 2))), r"positions must have shape \(n, D\) = \(2, 2\)"),
        ((np.eye(2), {(0, 0): ONSITE}, [[0, np.nan], [0, 0]]), "positions contain NaN"),
        ((np.eye(2), {(0, 0): ONSITE}, None, {"sz": np.eye(3)}), "operator 'sz' has shape"),
    ],
)
def test_bad_tight_binding_inputs_raise(args, match):
    with pytest.raises(ModelError, match=match):
        TightBinding(*args)


def test_bad_builtin_parameters_and_k_raise():
    with pytest.raises(ModelError, match="finite real"):
        LatticeRashba(np.nan, 0.1)
    with pytest.raises(ModelError, match="nonzero"):
        LatticeRashba(0.0, 0.1)
    with pytest.raises(ModelError, match="three components"):
        Rashba3D(1.0, 0.2, 0.1, exchange=(0.1, 0.2))
    with pytest.raises(ModelError, match="NaN"):
        QiWuZhang(1.0).hamiltonian([np.nan, 0.0])
    with pytest.raises(ModelError, match=r"shape \(\.\.\., 3\)"):
        Rashba3D(1.0, 0.2, 0.1).velocity(np.zeros((4, 2)))


# ----------------------------------------------------------------------- converters


def _pythtb_models(pythtb):
    lat2, orb2 = [[1.0, 0.1], [0.3, 1.2]], [[0.1, 0.2], [0.6, 0.45]]
    spinless = pythtb.tb_model(2, 2, lat2, orb2)
    spinless.set_onsite([0.3, -0.2])
    spinless.set_hop(0.5 + 0.2j, 0, 1, [0, 0])
    spinless.set_hop(-0.3, 0, 0, [1, 0])
    spinless.set_hop(0.1j, 1, 0, [1, -1])
    spinful = pythtb.tb_model(2, 2, lat2, orb2, nspin=2)
    spinful.set_onsite([[0.3, 0.1, 0.0, 0.2], [-0.2, 0.0, 0.3, 0.0]])
    spinful.set_hop([0.5, 0.1, 0.2j, 0.0], 0, 1, [0, 0])
    spinful.set_hop([-0.3, 0.0, 0.0, 0.2], 0, 0, [1, 0])
    spinful.set_hop(0.1j, 1, 0, [1, -1])
    bulk = pythtb.tb_model(3, 3, [[1.0, 0, 0], [0.2, 1.1, 0], [0, 0.3, 0.9]], [[0, 0, 0], [0.5, 0.5, 0.3]])
    bulk.set_onsite([0.1, -0.1])
    bulk.set_hop(0.4, 0, 1, [0, 0, 0])
    bulk.set_hop(0.2 - 0.1j, 0, 1, [1, 0, -1])
    bulk.set_hop(-0.25, 1, 1, [0, 0, 1])
    return [spinless, spinful, bulk]


def test_from_pythtb_matches_pythtb_bands(rng):
    pythtb = pytest.importorskip("pythtb")
    for ptb in _pythtb_models(pythtb):
        model = from_pythtb(ptb)
        check_model(model)
        k_red = rng.normal(size=(6, ptb._dim_k))
        k = k_red @ model.reciprocal_vectors
        np.testing.assert_allclose(np.linalg.eigvalsh(model.hamiltonian(k)), ptb.solve_all(k_red).T, atol=EXACT_ATOL)
        for kr, h in zip(k_red, model.hamiltonian(k)):
            np.testing.assert_allclose(h, ptb._gen_ham(kr).reshape(h.shape), atol=EXACT_ATOL)
    assert sorted(from_pythtb(_pythtb_models(pythtb)[1]).operators) == ["sx", "sy", "sz"]
    with pytest.raises(ModelError, match="dim_k = dim_r"):
        from_pythtb(pythtb.tb_model(1, 2, [[1, 0], [0, 1]], [[0, 0]]))
    with pytest.raises(ModelError, match="not a PythTB"):
        from_pythtb(object())


def test_from_tbmodels_matches_tbmodels_bands(rng):
    tbmodels = pytest.importorskip("tbmodels")
    m2 = tbmodels.Model(on_site=[0.3, -0.2], pos=[[0.1, 0.2], [0.6, 0.45]], uc=[[1.0, 0.1], [0.3, 1.2]], occ=1)
    m2.add_hop(0.5 + 0.2j, 0, 1, [0, 0])
    m2.add_hop(-0.3, 0, 0, [1, 0])
    m2.add_hop(0.1j, 1, 0, [1, -1])
    m3 = tbmodels.Model(on_site=[0.1, -0.1], pos=[[0, 0, 0], [0.5, 0.5, 0.3]], uc=np.diag([1.0, 1.1, 0.9]), occ=1)
    m3.add_hop(0.2 - 0.1j, 0, 1, [1, 0, -1])
    m3.add_hop(-0.25, 1, 1, [0, 0, 1])
    for tm in (m2, m3):
        model = from_tbmodels(tm)
        k_red = rng.normal(size=(6, tm.dim))
        k = k_red @ model.reciprocal_vectors
        np.testing.assert_allclose(model.hamiltonian(k), tm.hamilton(k_red, convention=1), atol=EXACT_ATOL)
        np.testing.assert_allclose(np.linalg.eigvalsh(model.hamiltonian(k)), tm.eigenval(k_red), atol=EXACT_ATOL)
    with pytest.raises(ModelError, match="unit cell"):
        from_tbmodels(tbmodels.Model(on_site=[0.0], dim=2))


def test_missing_optional_library_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pythtb", None)  # makes "import pythtb" raise ImportError
    monkeypatch.setitem(sys.modules, "tbmodels", None)
    with pytest.raises(ImportError, match=r'pip install "boltzspin\[pythtb\]"'):
        from_pythtb(object())
    with pytest.raises(ImportError, match=r"boltzspin\[tbmodels\]"):
        from_tbmodels(object())
