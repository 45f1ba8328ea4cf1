"""Disorder species, first-Born kernels, coordinate shifts and the Boltzmann solver."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.collisions.boltzmann import solve_boltzmann
from boltzspin.geometry.fermi import fermi_surface
from boltzspin.collisions.scattering import scattering

from conftest import random_hermitian

AGREE_RTOL = 1e-10


def setup(model=None, mu=0.4, n=48, observable="sz"):
    model = model or bs.Rashba(1.0, 0.5, dresselhaus=0.15, exchange=(0.03, -0.02, 0.1))
    fs = fermi_surface(model, mu, n)
    return model, fs, model.operators[observable]


def test_reprs_record_parameters():
    assert repr(bs.DeltaCorrelated(0.01, 2.0)) == "DeltaCorrelated(density=0.01, strength=2.0)"
    assert "length=1.5" in repr(bs.GaussianCorrelated(0.01, 1.0, 1.5))
    mix = bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(0.02, 0.5, 1.0)
    assert "DeltaCorrelated" in repr(mix) and "MagneticImpurities(density=0.02, exchange=0.5, spin=1.0)" in repr(mix)
    assert len(mix.species) == 2 and mix.density == pytest.approx(0.03)


@pytest.mark.parametrize(
    "make",
    [
        lambda: bs.DeltaCorrelated(-1.0, 1.0),
        lambda: bs.DeltaCorrelated(np.nan, 1.0),
        lambda: bs.GaussianCorrelated(0.01, 1.0, 0.0),
        lambda: bs.MagneticImpurities(0.01, np.inf, 1.0),
        lambda: bs.Potential(0.01, "not callable"),
    ],
)
def test_bad_disorder_parameters(make):
    with pytest.raises(bs.DisorderError):
        make()


def test_disorder_matrix_checks():
    model = bs.Rashba(1.0, 0.5)
    with pytest.raises(bs.DisorderError, match="shape"):
        bs.DeltaCorrelated(0.01, 1.0, matrix=np.eye(3)).channels(model)
    with pytest.raises(bs.DisorderError, match="Hermitian"):
        bs.DeltaCorrelated(0.01, 1.0, matrix=[[0, 1], [0, 0]]).channels(model)
    with pytest.raises(bs.DisorderError, match="Hermitian"):
        bs.Potential(0.01, lambda q: q[..., :1, None] * np.array([[0, 1], [0, 0]])).channels(model)


def test_u_of_q_formulas():
    q = np.array([[0.3, 0.4]])
    np.testing.assert_allclose(bs.GaussianCorrelated(0.1, 2.0, 1.5).U(q)[0], 2.0 * np.exp(-0.25 * 1.5**2 / 4) * np.eye(2))
    np.testing.assert_allclose(bs.DeltaCorrelated(0.1, 2.0).U(q)[0], 2.0 * np.eye(2))
    np.testing.assert_allclose(bs.MagneticImpurities(0.1, 2.0, 0.5).U(q)[0], np.diag([1.0, -1.0]))


def test_rates_symmetric_and_callable_path_agrees_with_numba(rng):
    """Gaussian and matrix disorder through the numba kernel and as a generic callable."""
    model, fs, sz = setup()
    m = random_hermitian(rng, 2)
    length = 1.3

    def gaussian(q):
        return 0.8 * np.exp(-np.sum(q**2, -1) * length**2 / 4)[..., None, None] * np.eye(2)

    def constant(q):
        return np.broadcast_to(m, q.shape[:-1] + (2, 2))

    fast = scattering(fs, bs.GaussianCorrelated(0.02, 0.8, length) + bs.DeltaCorrelated(0.01, 1.0, matrix=m), model, sz)
    generic = scattering(fs, bs.Potential(0.02, gaussian) + bs.Potential(0.01, constant), model, sz)
    for a, b in [(fast.dense(), generic.dense()), (fast.side_jump_velocity, generic.side_jump_velocity),
                 (fast.side_jump_velocity_s, generic.side_jump_velocity_s)]:
        np.testing.assert_allclose(a, b, rtol=0, atol=AGREE_RTOL * np.abs(a).max())
    assert fast.kernel_asymmetry < 1e-14
    assert generic.kernel_asymmetry < 1e-14


def test_q_dependent_matrix_potential_uses_gradient_term(rng):
    """A matrix-valued U(q) whose phase changes with q: the dU/dq term of dr^s matters and FD agrees."""
    model, fs, sz = setup()
    lam = 0.7

    sx, sy = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]])

    def u_of_q(q):  # Hermitian in real space: U(-q) = U(q)^dagger
        return np.eye(2) + 1j * lam * (q[..., 0, None, None] * sy - q[..., 1, None, None] * sx)

    def grad(q):
        ones = np.ones(q.shape[:-1] + (1, 1))
        return np.stack([1j * lam * sy * ones, -1j * lam * sx * ones], axis=-3)

    fd = scattering(fs, bs.Potential(0.02, u_of_q), model, sz)
    exact = scattering(fs, bs.Potential(0.02, u_of_q, gradient=grad), model, sz)
    no_grad = scattering(fs, bs.Potential(0.02, u_of_q, gradient=lambda q: 0 * grad(q)), model, sz)
    ys = exact.side_jump_velocity_s
    np.testing.assert_allclose(fd.side_jump_velocity_s, ys, atol=1e-9 * np.abs(ys).max())
    assert np.abs(no_grad.side_jump_velocity_s - ys).max() > 1e-3 * np.abs(ys).max()
    # (d_k' + d_k) U(k' - k) = 0: the charge coordinate shift has no gradient term
    np.testing.assert_allclose(no_grad.side_jump_velocity, exact.side_jump_velocity,
                               atol=1e-13 * np.abs(exact.side_jump_velocity).max())


def test_coordinate_shift_is_antisymmetric():
    """sum_p w_p v^sj_p = sum_pp' w w K dr_{p'p} = 0 because dr_{l'l} = -dr_{ll'}."""
    model, fs, sz = setup()
    scat = scattering(fs, bs.GaussianCorrelated(0.02, 1.0, 1.0) + bs.MagneticImpurities(0.01, 1.0, 1.0), model, sz)
    total = fs.weight @ scat.side_jump_velocity
    assert np.abs(total).max() < 1e-12 * (fs.weight @ np.abs(scat.side_jump_velocity)).max()


def test_magnetic_average_equals_orientation_average(rng):
    """Three channels S^2/3 sigma_a equal the Monte-Carlo-free exact average over +-x, +-y, +-z."""
    model, fs, sz = setup()
    mag = bs.MagneticImpurities(0.03, 0.7, 1.5)
    avg = scattering(fs, mag, model, sz)
    parts = [bs.DeltaCorrelated(0.03 / 3, 0.7 * 1.5, matrix=2 * model.operators[a]) for a in ("sx", "sy", "sz")]
    explicit = scattering(fs, parts[0] + parts[1] + parts[2], model, sz)
    np.testing.assert_allclose(avg.dense(), explicit.dense(), rtol=1e-12, atol=1e-14 * avg.dense().max())
    np.testing.assert_allclose(avg.side_jump_velocity_s, explicit.side_jump_velocity_s, atol=1e-13 * np.abs(avg.side_jump_velocity_s).max())


def test_dirac_transport_time_is_rta_exact():
    """Isotropic Dirac: phi = tau_tr q v with 1/tau_tr = n u0^2 (eF^2 + 3 gap^2) / (4 v^2 eF)."""
    v, gap, ef, n_imp, u0 = 1.0, 0.3, 0.5, 0.01, 1.0
    model = bs.MassiveDirac(v, gap)
    fs = fermi_surface(model, ef, 64)
    scat = scattering(fs, bs.DeltaCorrelated(n_imp, u0), model, np.eye(2))
    sol = solve_boltzmann(scat, -fs.velocity, fs.sheet)
    tau = 4 * v**2 * ef / (n_imp * u0**2 * (ef**2 + 3 * gap**2))
    np.testing.assert_allclose(sol.phi, -tau * fs.velocity, rtol=1e-10, atol=1e-10 * tau)
    assert sol.residual.max() < 1e-10 and sol.n_sets == 1


def test_solver_raises_when_tolerance_unreachable():
    model, fs, sz = setup()
    scat = scattering(fs, bs.GaussianCorrelated(0.02, 1.0, 1.0), model, sz)
    with pytest.raises(bs.SolverError, match="did not converge"):
        solve_boltzmann(scat, fs.velocity, fs.sheet, tol=1e-30)


def test_decoupled_sheets_are_separate_null_spaces():
    """Spin-diagonal disorder in a z-polarized two-band model without SOC never couples the bands."""
    model = bs.Rashba(1.0, 0.0, exchange=(0, 0, 0.2))
    fs = fermi_surface(model, 0.5, 32)
    scat = scattering(fs, bs.DeltaCorrelated(0.01, 1.0), model, model.operators["sz"])
    sol = solve_boltzmann(scat, fs.velocity, fs.sheet)
    assert sol.n_sets == 2
    for sheet in range(2):
        sel = fs.sheet == sheet
        assert abs(fs.weight[sel] @ sol.phi[sel, 0]) < 1e-12 * np.abs(sol.phi).max()
