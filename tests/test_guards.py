"""Input guards, honest diagnoses, resource limits and progress reporting (issues 10 and 11).

Every test here failed on the code before the guard was added: either a wrong number was
returned without a word, or the error named the wrong problem.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import boltzspin as bs
from boltzspin.models.continuum import PAULI, check_model

DELTA = bs.DeltaCorrelated(0.01, 1.0)
SZ = np.diag([0.5, -0.5]).astype(complex)
SETTINGS = settings(derandomize=True, deadline=None, max_examples=40)


# ---------------------------------------------------------------- item 3: band bottom


def _rotated_band_bottom():
    """H = U diag(0.8 kx^2 + ky^2/2, k^2/2 + 1) U^dagger: Hermitian only to round-off."""
    u, _ = np.linalg.qr(np.array([[1.0 + 0.3j, -0.4], [0.2j, 0.9 - 0.1j]]))

    def h(k):
        k = np.asarray(k)
        d = np.zeros(k.shape[:-1] + (2, 2), complex)
        d[..., 0, 0] = 0.8 * k[..., 0] ** 2 + 0.5 * k[..., 1] ** 2
        d[..., 1, 1] = 0.5 * (k**2).sum(-1) + 1.0
        return u @ d @ u.conj().T

    return bs.KPModel(h, operators={"sz": u @ SZ @ u.conj().T})


@pytest.mark.parametrize("mu", [1e-8, 1e-10])
def test_finite_difference_velocity_near_a_band_bottom_is_accepted(mu):
    """The difference quotient's round-off (eps |H| / h) must not be compared with |v| ~ k_F."""
    ds = bs.transport(_rotated_band_bottom(), mu, DELTA, "sz", -1.0, n_points=64)
    # anisotropic parabola e = 0.8 kx^2 + 0.5 ky^2: DOS = 1 / (2 pi sqrt(1.6 * 1.0))
    assert ds.density_of_states.item() == pytest.approx(1 / (2 * np.pi * np.sqrt(1.6)), rel=1e-7)


# ---------------------------------------------------------------- item 5: user velocity


def _rashba_kp(velocity):
    def h(k):
        return bs.Rashba(1.0, 0.5).hamiltonian(k)

    return bs.KPModel(h, velocity=velocity, operators={"sz": SZ})


def _rashba_velocity_without_spin_orbit(k):
    k = np.asarray(k)
    return k[..., :, None, None] * np.eye(2)  # only k / m: the alpha sigma terms are missing


def test_inconsistent_user_velocity_is_refused_and_the_remedy_works():
    with pytest.raises(bs.ModelError, match=r"not dH/dk.*omit velocity="):
        bs.transport(_rashba_kp(_rashba_velocity_without_spin_orbit), 0.6, DELTA, "sz", -1.0, n_points=64)
    # the remedy: omit velocity= (finite difference) -- the Rashba dipole value -q/(8 pi)
    ds = bs.transport(_rashba_kp(None), 0.6, DELTA, "sz", -1.0, n_points=64)
    dipole = ds.sigma.sel(contribution="intrinsic_dipole", i="x", j="y").item()
    assert dipole == pytest.approx(bs.transport(bs.Rashba(1.0, 0.5), 0.6, DELTA, "sz", -1.0, 64)
                                   .sigma.sel(contribution="intrinsic_dipole", i="x", j="y").item(), rel=1e-8)
    assert abs(dipole) == pytest.approx(1 / (8 * np.pi), rel=1e-8)
    # a correct analytic velocity is accepted
    bs.transport(_rashba_kp(bs.Rashba(1.0, 0.5).velocity), 0.6, DELTA, "sz", -1.0, n_points=64)


MONOMIALS = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))  # powers of (kx, ky)


def _kp_from_coefficients(c):
    """H(k) = sum_m kx^a ky^b (c_m0 + c_m . sigma) with its exact velocity."""
    mats = [c[4 * m] * np.eye(2) + sum(c[4 * m + 1 + i] * PAULI[i] for i in range(3)) for m in range(6)]

    def h(k):
        k = np.asarray(k)
        return sum((k[..., 0] ** a * k[..., 1] ** b)[..., None, None] * mat
                   for (a, b), mat in zip(MONOMIALS, mats))

    def v(k):
        k = np.asarray(k)
        vx = sum((a * k[..., 0] ** max(a - 1, 0) * k[..., 1] ** b)[..., None, None] * mat
                 for (a, b), mat in zip(MONOMIALS, mats))
        vy = sum((b * k[..., 0] ** a * k[..., 1] ** max(b - 1, 0))[..., None, None] * mat
                 for (a, b), mat in zip(MONOMIALS, mats))
        return np.stack([vx, vy], axis=-3)

    return h, v


coefficients = st.lists(st.floats(-1, 1, allow_nan=False), min_size=24, max_size=24)


@SETTINGS
@given(c=coefficients)
def test_random_kp_model_with_its_exact_velocity_passes(c):
    h, v = _kp_from_coefficients(c)
    check_model(bs.KPModel(h, velocity=v))


@SETTINGS
@given(c=coefficients, size=st.floats(1e-4, 1.0), component=st.integers(0, 1),
       pert=st.lists(st.floats(-1, 1, allow_nan=False), min_size=4, max_size=4), linear=st.booleans())
def test_random_kp_model_with_a_perturbed_velocity_is_refused(c, size, component, pert, linear):
    h, v = _kp_from_coefficients(c)
    p = pert[0] * np.eye(2) + sum(pert[1 + i] * PAULI[i] for i in range(3))
    if np.abs(p).max() < 1e-3:
        p = PAULI[2]
    p = size * p / np.abs(p).max()  # a Hermitian error of relative size >= 1e-4

    def v_wrong(k):
        out = v(k).copy()
        factor = np.asarray(k)[..., 1 - component] if linear else np.ones(np.shape(k)[:-1])
        out[..., component, :, :] += factor[..., None, None] * p
        return out

    with pytest.raises(bs.ModelError, match="not dH/dk"):
        check_model(bs.KPModel(h, velocity=v_wrong))


# ---------------------------------------------------------------- item 9: NaN in H(k)


def _nan_model(regularized):
    """Rashba-like with a NaN-producing ``sqrt(4 - k^2)`` factor beyond |k| = 2 (finite if regularized)."""
    def h(k):
        k = np.asarray(k)
        r2 = (k**2).sum(-1)
        with np.errstate(invalid="ignore"):
            root = np.sqrt(np.maximum(4 - r2, 0.0)) if regularized else np.sqrt(4 - r2)
        out = np.zeros(k.shape[:-1] + (2, 2), complex)
        out[..., 0, 0] = out[..., 1, 1] = r2 / 2 + 0.01 * root
        out[..., 0, 1] = 0.5 * (k[..., 1] + 1j * k[..., 0])
        out[..., 1, 0] = 0.5 * (k[..., 1] - 1j * k[..., 0])
        return out

    return bs.KPModel(h, operators={"sz": SZ})


def test_nan_in_the_hamiltonian_is_named_and_the_remedy_works():
    """NaN beyond |k| = 2 (check_model's sample points are finite): named, with the momentum."""
    with pytest.raises(bs.ModelError, match=r"returned NaN or inf at k = .*Make hamiltonian\(k\) finite") as err:
        bs.transport(_nan_model(False), 0.6, DELTA, "sz", -1.0, n_points=64)
    k = np.array([float(x) for x in str(err.value).split("k = [")[1].split("]")[0].split()])
    assert np.linalg.norm(k) > 2.0  # a momentum where H is not defined
    ds = bs.transport(_nan_model(True), 0.6, DELTA, "sz", -1.0, n_points=64)
    assert ds.attrs["state"] == "metal"


# ---------------------------------------------------------------- item 9: diagnoses that name the problem

RASHBA = bs.Rashba(1.0, 0.5)


@pytest.mark.parametrize("options, words", [
    (dict(k_max=0.0), r"k_max=0.0 must be a positive finite momentum.*k_max=None"),
    (dict(k_max=-1.0), r"k_max=-1.0 must be a positive"),
    (dict(radial_samples=0), r"radial_samples=0 must be an integer >= 16"),
    (dict(solver_tol=0), r"solver_tol=0 must be a relative residual in \[1e-15, 1\)"),
    (dict(temperature=0.01, energy_step=0.0), r"energy_step=0.0 must be a positive number"),
    (dict(temperature=0.01, energy_step=-0.1), r"energy_step=-0.1 must be a positive number"),
    (dict(sea_order=0), r"sea_order=0 must be an integer >= 2 \(Gauss-Legendre order"),
    (dict(origin="center"), r"origin='center' must be a pair of finite momenta"),
    (dict(origin=(0.0, np.nan)), r"must be a pair of finite momenta"),
    (dict(method="fast"), r"method='fast' is not one of"),
    (dict(gauge_seed=-1), r"gauge_seed=-1 must be an integer >= 0"),
])
def test_bad_numerical_option_is_named(options, words):
    with pytest.raises(bs.ModelError, match=words):
        bs.transport(RASHBA, 0.6, DELTA, "sz", -1.0, n_points=64, **options)


@pytest.mark.parametrize("options", [dict(k_max=3.0), dict(radial_samples=64), dict(solver_tol=1e-12),
                                     dict(sea_order=8), dict(origin=(0.01, 0.0)),
                                     dict(temperature=np.float64(0.01), energy_step=0.5)])
def test_the_named_remedies_work(options):
    ds = bs.transport(RASHBA, 0.6, DELTA, "sz", -1.0, n_points=64, **options)
    assert abs(ds.sigma.sel(contribution="total", i="x", j="y").item()) < 1e-9  # the Rashba null result


@pytest.mark.parametrize("mu", [np.array(0.6), np.float32(0.6), np.float64(0.6), np.array([0.6])[0]])
def test_numpy_scalar_mu_is_accepted(mu):
    ds = bs.transport(RASHBA, mu, DELTA, "sz", -1.0, n_points=64)
    assert isinstance(ds.attrs["mu"], float)
    assert ds.attrs["mu"] == pytest.approx(0.6, rel=1e-7)


def test_numpy_integer_inputs_are_accepted():
    ds = bs.transport(RASHBA, np.int64(1), DELTA, "sz", np.array(-1), n_points=np.array(64))
    assert ds.attrs["n_points"] == 64 and ds.attrs["charge"] == -1.0


@pytest.mark.parametrize("matrix, words", [("identity", r"'identity' is not a matrix.*omit it"),
                                           ([[1, 0], [0]], r"not a numeric matrix|not a square matrix"),
                                           (np.ones(3), r"not a square matrix"),
                                           ([[1, 1j], [1j, 1]], r"not Hermitian")])
def test_malformed_disorder_matrix_is_named(matrix, words):
    with pytest.raises(bs.DisorderError, match=words):
        bs.DeltaCorrelated(0.01, 1.0, matrix=matrix)
    bs.transport(RASHBA, 0.6, bs.DeltaCorrelated(0.01, 1.0, matrix=np.eye(2)), "sz", -1.0, 64)  # the remedy


def test_nan_in_the_disorder_potential_is_named_and_screening_works():
    coulomb = bs.Potential(0.01, lambda q: (2 * np.pi / np.linalg.norm(q, axis=-1))[..., None, None] * np.eye(2))
    with pytest.raises(bs.DisorderError, match=r"NaN or inf at q = \[0. 0.\].*screen a 1/\|q\| potential"):
        bs.transport(RASHBA, 0.6, coulomb, "sz", -1.0, n_points=64)
    screened = bs.Potential(0.01, lambda q: (2 * np.pi / (np.linalg.norm(q, axis=-1) + 1.0))[..., None, None]
                            * np.eye(2))
    ds = bs.transport(RASHBA, 0.6, screened, "sz", -1.0, n_points=64)
    reference = bs.transport(RASHBA, 0.6, bs.ScreenedCoulomb(0.01, 1.0, 1.0), "sz", -1.0, n_points=64)
    assert ds.sigma.sel(contribution="boltzmann").values == pytest.approx(
        reference.sigma.sel(contribution="boltzmann").values, rel=1e-8, abs=1e-12)


def test_van_hove_mu_on_a_lattice_is_named():
    """At the saddle energy 4t + h_z a Fermi point has v = 0; the solver used to blame decoupled sheets."""
    model = bs.LatticeRashba(1.0, 0.3, exchange=(0.0, 0.0, 0.2))
    with pytest.raises(bs.FermiSurfaceError, match=r"van Hove singularity.*vanishes.*Move mu off"):
        bs.transport(model, 4.2, DELTA, "sz", -1.0, n_points=64)
    ds = bs.transport(model, 4.2 + 8e-5, DELTA, "sz", -1.0, n_points=64)  # 1e-5 of the band width 8
    assert ds.attrs["state"] == "metal"
