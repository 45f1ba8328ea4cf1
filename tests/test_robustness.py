"""Regression tests for silent-failure modes found in review: each must be right or raise."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.models.continuum import PAULI

DELTA = bs.DeltaCorrelated(0.01, 1.0)


@pytest.mark.parametrize("above_edge", [1e-6, 1e-8, 1e-10])
def test_dirac_berry_part_just_above_the_band_edge(above_edge):
    """The Fermi-sea tail starts at the band's own momentum scale, not at 2 k_F -> 0."""
    e_f = 1.0 + above_edge
    ds = bs.transport(bs.MassiveDirac(1.0, 1.0), e_f, DELTA, "charge", -1.0, n_points=64)
    berry = ds.sigma.sel(contribution="intrinsic_berry", i="y", j="x").item()
    assert berry == pytest.approx(1 / (4 * np.pi * e_f), rel=1e-10)


def test_unresolved_fermi_sea_raises():
    """Nearly equal Rashba and Dresselhaus couplings: sharp angular structure."""
    with pytest.raises(bs.FermiSurfaceError, match="not converged"):
        bs.transport(bs.Rashba(1.0, 0.5, dresselhaus=0.49), 0.6, DELTA, "sz", -1.0, 256)


def test_thin_annulus_at_the_band_bottom_is_found():
    m, a, mu = 1.0, 0.5, -0.125 + 1e-6
    ds = bs.transport(bs.Rashba(m, a), mu, DELTA, "charge", -1.0, n_points=64)
    root = np.sqrt(m**2 * a**2 + 2 * m * mu)
    k1, k2 = m * a - root, m * a + root
    assert ds.attrs["state"] == "metal"
    assert ds.density_of_states.item() == pytest.approx((k1 + k2) / (root / m) / (2 * np.pi), rel=1e-8)


def test_pocket_between_rays_is_found():
    model = bs.KPModel(lambda k: (np.sum((k - [1.0, 0.3]) ** 2, -1) / 2)[..., None, None] * np.ones((1, 1)))
    ds = bs.transport(model, 1e-6, DELTA, "charge", -1.0, n_points=64)
    assert ds.density_of_states.item() == pytest.approx(1 / (2 * np.pi), rel=1e-10)
    ds = bs.transport(model, 1e-6, DELTA, "charge", -1.0, n_points=64, origin=(1.0, 0.3))
    assert ds.density_of_states.item() == pytest.approx(1 / (2 * np.pi), rel=1e-10)


def test_user_model_reading_mutable_state_is_not_cached():
    params = {"gap": 0.5}

    def hamiltonian(k):
        return k[..., 0, None, None] * PAULI[0] + k[..., 1, None, None] * PAULI[1] + params["gap"] * PAULI[2]

    model = bs.KPModel(hamiltonian)
    first = bs.transport(model, 1.5, DELTA, "charge", n_points=32).sigma.sel(contribution="intrinsic_berry", i="y", j="x").item()
    params["gap"] = 0.9
    second = bs.transport(model, 1.5, DELTA, "charge", n_points=32).sigma.sel(contribution="intrinsic_berry", i="y", j="x").item()
    assert first == pytest.approx(0.5 / (4 * np.pi * 1.5), rel=1e-8)
    assert second == pytest.approx(0.9 / (4 * np.pi * 1.5), rel=1e-8)


def two_block_model():
    a = bs.Rashba(1.0, 0.5, dresselhaus=0.15, exchange=(0.1, 0.0, 0.3))
    b = bs.Rashba(0.7, 0.3, dresselhaus=-0.1, exchange=(0.0, 0.2, -0.2))

    def hamiltonian(k):
        out = np.zeros(k.shape[:-1] + (4, 4), complex)
        out[..., :2, :2] = a.hamiltonian(k)
        out[..., 2:, 2:] = b.hamiltonian(k) + 0.05 * np.eye(2)
        return out

    def velocity(k):
        out = np.zeros(k.shape[:-1] + (2, 4, 4), complex)
        out[..., :2, :2] = a.velocity(k)
        out[..., 2:, 2:] = b.velocity(k)
        return out

    return bs.KPModel(hamiltonian, velocity, operators={"sz": np.kron(np.eye(2), PAULI[2] / 2)})


def test_decoupled_blocks_with_crossing_contours_are_separate_sets():
    """Band-index sheets mix the two blocks where contours cross; the point graph does not."""
    model = two_block_model()
    results = [bs.transport(model, 0.6, DELTA, "sz", n_points=n, method="dense") for n in (64, 128)]
    assert all(r.attrs["n_coupled_sets"] == 2 for r in results)
    a, b = (r.sigma.sel(contribution=["boltzmann", "anomalous_distribution"]) for r in results)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * float(np.abs(a).max()))
