"""Bogoliubov quasiparticles: BdG models, charge dipole (Eq. 9), magnetization (Eq. 7), thermal Hall."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.geometry.bands import eigensystem, expectation, s_dipole, s_orbital_moment_parts
from boltzspin.models.continuum import check_model, fourth_order_derivative
from boltzspin.geometry.bands import berry_curvature
from boltzspin.models.superconductivity import (BdG, ChiralD, ChiralP, CustomPairing, DWave, SWave,
                                         berry_curvature_one_band, charge_dipole_one_band)
from boltzspin.responses.thermal_hall import thermal_hall
from boltzspin.models.tight_binding import LatticeRashba, SquareLattice

Q = -1.0
PAIRINGS = [SWave(0.3), DWave(0.3), ChiralD(0.3), ChiralP(0.3)]
FD_ATOL = 1e-9
QUANTUM_RTOL = 1e-5  # thermal/spin Hall quanta on a 64^2 grid at T = 0.01 (gap ~ 0.6)
K = np.random.default_rng(3).uniform(-3.0, 3.0, size=(12, 2))


def _normals():
    return [SquareLattice(1.0), LatticeRashba(1.0, 0.5, exchange=(0.05, 0.0, 0.2))]


@pytest.mark.parametrize("pairing", PAIRINGS + [CustomPairing(lambda k: 0.2 * np.sin(k[..., 0]) ** 2 + 0.1j)])
@pytest.mark.parametrize("normal", _normals())
def test_bdg_velocity_hermiticity_and_particle_hole_symmetry(normal, pairing):
    model = BdG(normal, pairing, chemical_potential=-0.7)
    check_model(model)
    numeric = fourth_order_derivative(model.hamiltonian, K, 1e-4)
    np.testing.assert_allclose(model.velocity(K), numeric, rtol=0, atol=FD_ATOL)
    e_k = np.linalg.eigvalsh(model.hamiltonian(K))
    e_mk = np.linalg.eigvalsh(model.hamiltonian(-K))
    np.testing.assert_allclose(e_k, -e_mk[:, ::-1], atol=1e-12)  # E(k) spectrum = -E(-k) spectrum


def test_zero_gap_gives_the_normal_bands():
    normal = LatticeRashba(1.0, 0.5, exchange=(0.05, 0.0, 0.2))
    model = BdG(normal, SWave(0.0), chemical_potential=0.4)
    e = np.linalg.eigvalsh(normal.hamiltonian(K)) - 0.4
    e_minus = np.linalg.eigvalsh(normal.hamiltonian(-K)) - 0.4
    expected = np.sort(np.concatenate([e, -e_minus], axis=1), axis=1)
    np.testing.assert_allclose(np.linalg.eigvalsh(model.hamiltonian(K)), expected, atol=1e-12)


@pytest.mark.parametrize("pairing", [ChiralD(0.3), ChiralP(0.3, chirality=-1), CustomPairing(
    lambda k: 0.3 * np.exp(1j * (np.sin(k[..., 0]) + 0.5 * np.cos(k[..., 1]))))])
def test_charge_dipole_equation_9_equals_the_general_s_dipole(pairing):
    """d_n = -(q/2)(1 - rho_n^2) grad theta and rho_n = xi/E against THEORY section 2 with s = q tau_z."""
    model = BdG(SquareLattice(1.0), pairing, chemical_potential=-1.0)
    es = eigensystem(model, K)
    rho, d = charge_dipole_one_band(model, K, Q)
    np.testing.assert_allclose(expectation(es, model.charge_operator), rho, atol=1e-13)
    np.testing.assert_allclose(s_dipole(es, Q * model.charge_operator), d, atol=1e-7)
    assert np.abs(d).max() > 1e-3


@pytest.mark.parametrize("pairing", [ChiralD(0.3), ChiralP(0.2, chirality=-1)])
def test_pairing_berry_curvature_of_a_trivial_band(pairing):
    """Letter: Omega_sigma = -sigma d rho x d theta / 2 comes from the pairing alone."""
    model = BdG(SquareLattice(1.0), pairing, chemical_potential=-1.0)
    general = berry_curvature(eigensystem(model, K))[..., 0, 1]
    np.testing.assert_allclose(berry_curvature_one_band(model, K), general, atol=1e-12)
    assert np.abs(general).max() > 1e-2


def test_self_rotation_vanishes_for_a_trivial_particle_hole_symmetric_band():
    """Letter, after Eq. 9: the first term of m_n vanishes by particle-hole symmetry."""
    es = eigensystem(BdG(SquareLattice(1.0), ChiralD(0.3), chemical_potential=-1.0), K)
    self_rotation, moving_dipole = s_orbital_moment_parts(es, Q * np.diag([1.0, -1.0]))
    assert np.abs(self_rotation).max() < 1e-14
    assert np.abs(moving_dipole).max() > 1e-4


@pytest.mark.parametrize("pairing, temperature", [(p, 0.0) for p in PAIRINGS] + [
    (PAIRINGS[2], 0.05), (PAIRINGS[3], 0.05),
    pytest.param(PAIRINGS[0], 0.05, marks=pytest.mark.slow), pytest.param(PAIRINGS[1], 0.05, marks=pytest.mark.slow),
    pytest.param(PAIRINGS[2], 0.2, marks=pytest.mark.slow)])
def test_magnetization_vanishes_for_geometrically_trivial_bands(pairing, temperature):
    """Letter: M = 0 for a particle-hole symmetric two-band Nambu model (local = -global)."""
    model = BdG(SquareLattice(1.0), pairing, chemical_potential=-1.0)
    ds = bs.magnetization(model, 0.0, "charge", charge=Q, temperature=temperature, n_grid=64, energy_step=0.5)
    local, total = ds.local.item(), ds.magnetization.item()
    assert abs(total) <= max(10 * ds.attrs["fermi_sea_error_estimate"], 1e-12)
    if isinstance(pairing, (ChiralD, ChiralP)):
        assert abs(local) > 1e-3 and abs(local) > 100 * abs(total)  # each circuit alone is not zero


def test_magnetization_of_a_magnetized_rashba_normal_state_is_not_zero_and_converges():
    values = {}
    for hz in (0.0, 0.2):
        model = BdG(LatticeRashba(1.0, 0.5, exchange=(0.0, 0.0, hz)), ChiralD(0.3), chemical_potential=-2.0)
        coarse, fine = (bs.magnetization(model, 0.0, "charge", charge=Q, n_grid=g) for g in (64, 128))
        values[hz] = (fine.magnetization.item(), fine.attrs["fermi_sea_error_estimate"])
        assert abs(fine.magnetization.item() - coarse.magnetization.item()) < 1e-3 * abs(fine.local.item())
    total, error = values[0.2]
    assert abs(total) > 1e-5 and abs(total) > 1e4 * error
    assert abs(values[0.0][0]) < 0.01 * abs(total)  # no exchange: the normal state has no net Berry curvature


def test_doubled_nambu_basis_counts_each_state_once():
    """Delta = 0: the BdG magnetization of a spin-1/2 model is the normal state's."""
    normal = LatticeRashba(1.0, 0.5, exchange=(0.0, 0.0, 0.3))
    bdg = bs.magnetization(BdG(normal, SWave(0.0), chemical_potential=1.0), 0.0, "charge", charge=Q, n_grid=128)
    direct = bs.magnetization(normal, 1.0, "charge", charge=Q, n_grid=128)
    for part in ("local", "global", "magnetization"):
        assert bdg[part].item() == pytest.approx(direct[part].item(), abs=1e-3 * abs(direct.local.item()))


def test_chiral_d_wave_thermal_and_spin_quantum_hall():
    """d + id: kappa_xy/T -> 2 pi k_B^2/(6 hbar), spin Hall -> 2 hbar/(8 pi) (Senthil-Marston-Fisher).

    Reduced Nambu basis: every quasiparticle carries S_z = +1/2, so a Zeeman gradient
    acts as a field with coupling 1/2 on s = 1/2: sigma^s = -(1/4) int f Omega = -C/(8 pi).
    """
    model = BdG(SquareLattice(1.0), ChiralD(0.3), chemical_potential=-1.0)
    kappa = thermal_hall(model, 0.0, 0.01, 64)
    assert kappa.kappa_xy_over_T.item() == pytest.approx(2 * np.pi / 6, rel=QUANTUM_RTOL)
    spin = bs.transport(model, 0.0, bs.DeltaCorrelated(0.01, 1.0, np.diag([1.0, -1.0])),
                        observable=0.5 * np.eye(2), charge=0.5, n_points=64)
    assert spin.attrs["state"] == "insulator"
    assert abs(spin.sigma.sel(contribution="total", i="x", j="y").item()) == pytest.approx(
        2 / (8 * np.pi), rel=QUANTUM_RTOL)
    p_wave = thermal_hall(BdG(SquareLattice(1.0), ChiralP(0.3), chemical_potential=-1.0), 0.0, 0.01, 64)
    assert abs(p_wave.kappa_xy_over_T.item()) == pytest.approx(np.pi / 6, rel=1e-3)


def test_quasiparticle_transport_identities_and_gauge_invariance():
    """Bogoliubov Fermi surface (quasiparticle level in the upper band): J_dp = -J_d, gauge-free."""
    model = BdG(LatticeRashba(1.0, 0.5, exchange=(0.05, 0.0, 0.2)), ChiralD(0.3), chemical_potential=-1.0)
    disorder = bs.DeltaCorrelated(0.01, 1.0, np.diag([1.0, 1.0, -1.0, -1.0]))  # scalar impurity: U tau_z
    a = bs.transport(model, 0.8, disorder, "charge", charge=Q, n_points=96)
    b = bs.transport(model, 0.8, disorder, "charge", charge=Q, n_points=96, gauge_seed=11)
    assert a.attrs["state"] == "metal"
    scale = float(np.abs(a.sigma).max())
    np.testing.assert_allclose(b.sigma, a.sigma, rtol=0, atol=1e-11 * scale)
    # exact on any discretized surface: the dipole part uses the source the solve used
    # (on a k-grid sum_p w_p v_p = 0 only to O(h^2): attrs["source_projection"])
    assert 0 < a.attrs["source_projection"] < a.attrs["fermi_surface_error_estimate"]
    np.testing.assert_allclose(a.sigma.sel(contribution="dipole_change"),
                               -a.sigma.sel(contribution="intrinsic_dipole"), rtol=0, atol=1e-12 * scale)


def test_charge_current_driven_by_a_temperature_gradient():
    """Eqs. 10-11 with s = q tau_z: alpha is exponentially small deep in a full gap, finite when T ~ gap."""
    model = BdG(SquareLattice(1.0), ChiralD(0.3), chemical_potential=-1.0)
    disorder = bs.DeltaCorrelated(0.01, 1.0, np.diag([1.0, -1.0]))
    cold = bs.transport(model, 0.0, disorder, "charge", charge=Q, n_points=64, temperature=0.005, energy_step=0.5)
    # n_points=128: at 64 the honest k-grid sea estimate (4 % at e = -0.37) refuses the T = 0.1 window
    warm = bs.transport(model, 0.0, disorder, "charge", charge=Q, n_points=128, temperature=0.1, energy_step=0.5)
    assert set(cold.alpha.contribution.values) == set(bs.CONTRIBUTIONS)
    assert abs(cold.alpha.sel(contribution="total", i="x", j="y").item()) < 1e-8
    assert abs(warm.alpha.sel(contribution="total", i="x", j="y").item()) > 1e-4


def test_bad_bdg_input_is_refused():
    with pytest.raises(bs.ModelError, match="Pairing"):
        BdG(SquareLattice(1.0), 0.3)
    with pytest.raises(bs.ModelError, match="chirality"):
        ChiralD(0.3, chirality=2)


def test_quasiparticle_geometry_is_gauge_invariant():
    """Random phases on every Bogoliubov eigenvector leave rho, d, m (both parts) and Omega unchanged."""
    model = BdG(LatticeRashba(1.0, 0.5, exchange=(0.05, 0.0, 0.2)), ChiralD(0.3), chemical_potential=-1.0)
    es = eigensystem(model, K)
    rotated = es.with_random_gauge(21)
    s = Q * model.charge_operator
    for f in (lambda e: expectation(e, s), lambda e: s_dipole(e, s), berry_curvature,
              lambda e: np.stack(s_orbital_moment_parts(e, s))):
        np.testing.assert_allclose(f(rotated), f(es), rtol=0, atol=1e-12)


def test_bdg_needs_one_or_two_normal_bands_and_no_positions():
    three = bs.TightBinding(np.eye(2), {(0, 0): np.diag([0.0, 1.0, 2.0])})
    with pytest.raises(bs.ModelError, match="one-band or spin-1/2"):
        BdG(three, SWave(0.1))
    placed = bs.TightBinding(np.eye(2), {(0, 0): np.zeros((1, 1))}, positions=[[0.5, 0.0]])
    with pytest.raises(bs.ModelError, match="positions"):
        BdG(placed, SWave(0.1))
