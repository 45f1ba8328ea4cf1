"""Equilibrium currents (letter Eq. 5), the torque dipole, and Onsager reciprocity."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.geometry.bands import (conventional_current, eigensystem, expectation, expectation_gradient,
                             torque_dipole)
from boltzspin.responses.equilibrium import equilibrium_current

FD_RTOL = 1e-8  # fourth-order finite difference, h = 1e-3
QUADRATURE_RTOL = 1e-10  # ray Fermi-sea integrals of smooth bounded seas
ONSAGER_RTOL = 1e-12  # reciprocity of exactly computed discrete sums


def _generic():
    return bs.Rashba(mass=0.8, alpha=0.45, dresselhaus=0.2, exchange=(0.1, -0.05, 0.15))


def test_expectation_gradient_is_the_derivative_of_the_expectation():
    model = _generic()
    rng = np.random.default_rng(1)
    k = rng.normal(size=(20, 2))
    s = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    s = s + s.conj().T
    analytic = expectation_gradient(eigensystem(model, k), s)  # (20, n, D)
    h = 1e-3
    for i in range(2):
        step = np.zeros(2)
        step[i] = h
        sk = [expectation(eigensystem(model, k + c * step), s) for c in (-2, -1, 1, 2)]
        numeric = (sk[0] - 8 * sk[1] + 8 * sk[2] - sk[3]) / (12 * h)
        np.testing.assert_allclose(analytic[..., i], numeric, rtol=0, atol=FD_RTOL)


def test_torque_dipole_equals_minus_conventional_current_plus_v_s():
    """Letter, after Eq. 4: d^tau = -J^s_nn + v_n s_n, from tau = i[H, s]."""
    model = _generic()
    es = eigensystem(model, np.random.default_rng(2).normal(size=(15, 2)))
    s = model.operators["sy"]
    js = np.swapaxes(np.diagonal(conventional_current(es, s), axis1=-2, axis2=-1).real, -1, -2)
    expected = -js + es.band_velocity * expectation(es, s)[..., None]
    np.testing.assert_allclose(torque_dipole(es, s), expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("mass, alpha, mu", [(1.0, 0.5, 0.3), (1.0, 0.5, 0.8), (2.0, 0.3, 0.4)])
def test_rashba_conventional_equilibrium_spin_current(mass, alpha, mu):
    """Above the band crossing: J^{sy}_x = -J^{sx}_y = -m^2 alpha^3 / (6 pi), independent of mu.

    Derivation: <J^{sy}_x>_(+-) averaged over angle is -+k/(4m) - alpha/2; integrating up
    to k_(-+) = sqrt(m^2 alpha^2 + 2 m mu) +- m alpha gives -m^2 alpha^3/(6 pi)
    (Rashba, PRB 68, 241315 (2003), with s = sigma/2), while the conserved current vanishes.
    """
    model = bs.Rashba(mass, alpha)
    target = -mass**2 * alpha**3 / (6 * np.pi)
    sy = equilibrium_current(model, mu, "sy")
    sx = equilibrium_current(model, mu, "sx")
    assert sy.conventional.sel(i="x").item() == pytest.approx(target, rel=QUADRATURE_RTOL)
    assert sx.conventional.sel(i="y").item() == pytest.approx(-target, rel=QUADRATURE_RTOL)
    for ds in (sx, sy):
        np.testing.assert_allclose(ds.conserved.values, 0.0, atol=QUADRATURE_RTOL * abs(target))
        np.testing.assert_allclose(ds.torque_dipole.values, -ds.conventional.values,
                                   atol=QUADRATURE_RTOL * abs(target))


@pytest.mark.parametrize("observable, temperature", [("sx", 0.0), ("sy", 0.0), ("sz", 0.0), ("sx", 0.01)])
def test_conserved_equilibrium_current_vanishes(observable, temperature):
    """Letter Eq. 5 on a model without symmetry: the conventional current is nonzero.

    At T > 0 the identity holds at every energy of the Fermi window, so a coarse
    window (energy_step=0.6, 13 energies) tests it as well as a fine one.
    """
    ds = equilibrium_current(_generic(), 0.6, observable, temperature=temperature, energy_step=0.6)
    scale = np.abs(ds.conventional.values).max()
    if observable != "sz":
        assert scale > 1e-3  # the conventional current does not vanish
    np.testing.assert_allclose(ds.conserved.values, 0.0, atol=QUADRATURE_RTOL * max(scale, 1e-3))


def test_unbounded_fermi_sea_is_refused():
    with pytest.raises(bs.FermiSurfaceError, match="filled to infinity"):
        equilibrium_current(bs.MassiveDirac(1.0, 0.5), 0.8, "sx")


def test_bad_temperature_is_refused():
    with pytest.raises(bs.ModelError, match="temperature"):
        equilibrium_current(_generic(), 0.6, "sx", temperature=-1.0)


@pytest.mark.parametrize("disorder", [
    bs.DeltaCorrelated(0.01, 1.0),
    bs.GaussianCorrelated(0.01, 1.0, 0.8),
    bs.MagneticImpurities(0.005, 0.5, 1.0),
])
def test_onsager_reciprocity_of_the_charge_conductivity(disorder):
    """sigma_ij(h) = sigma_ji(-h) for the charge current (time reversal maps h -> -h).

    It holds for the total, the intrinsic and Boltzmann parts, and for side jump plus
    anomalous distribution together; each of those two alone has a longitudinal part
    odd in h (they cancel), so reciprocity is not asserted for them separately.
    """
    h = (0.1, -0.07, 0.2)
    a = bs.transport(bs.Rashba(1.0, 0.5, 0.2, h), 0.6, disorder, "charge", n_points=96).sigma
    b = bs.transport(bs.Rashba(1.0, 0.5, 0.2, tuple(-x for x in h)), 0.6, disorder, "charge",
                     n_points=96).sigma.transpose("contribution", "j", "i")
    b = b.rename({"j": "i", "i": "j"}).assign_coords(i=a.i, j=a.j)
    scale = float(np.abs(a).max())
    for parts in (["total"], ["intrinsic_berry"], ["boltzmann"], ["side_jump", "anomalous_distribution"]):
        lhs = a.sel(contribution=parts).sum("contribution").values
        rhs = b.sel(contribution=parts).sum("contribution").values
        np.testing.assert_allclose(lhs, rhs, rtol=0, atol=ONSAGER_RTOL * scale, err_msg=str(parts))
