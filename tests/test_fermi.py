"""Fermi surfaces and Fermi-sea integrals against closed forms."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.geometry import bands, fermi

RTOL = 1e-12


def rashba_radii(m, a, mu):
    root = np.sqrt(m**2 * a**2 + 2 * m * mu)
    return m * a + root, -m * a + root  # outer (lower band), inner (upper band)


@pytest.mark.parametrize("mu", [0.05, 0.6, 2.0])
def test_rashba_density_of_states_above_crossing(mu):
    m, a = 1.3, 0.4
    fs = fermi.fermi_surface(bs.Rashba(m, a), mu, 64)
    assert fs.n_sheets == 2
    assert fs.density_of_states == pytest.approx(m / np.pi, rel=RTOL)
    outer, inner = rashba_radii(m, a, mu)
    radius = np.linalg.norm(fs.k, axis=1)
    np.testing.assert_allclose(radius[fs.band == 0], outer, rtol=RTOL)
    np.testing.assert_allclose(radius[fs.band == 1], inner, rtol=RTOL)


def test_rashba_annulus_below_crossing():
    """Below the crossing one band is crossed twice along each ray: two sheets of band 0."""
    m, a, mu = 1.0, 0.5, -0.08
    fs = fermi.fermi_surface(bs.Rashba(m, a), mu, 64)
    assert fs.n_sheets == 2 and set(fs.band) == {0}
    root = np.sqrt(m**2 * a**2 + 2 * m * mu)
    k1, k2 = m * a - root, m * a + root
    # DOS = (1/2pi) sum_sheets k/|v|, |v| = root/m on both sheets
    assert fs.density_of_states == pytest.approx((k1 + k2) / (root / m) / (2 * np.pi), rel=RTOL)
    density, err = fermi.fermi_sea_integral(bs.Rashba(m, a), mu, lambda es: np.ones(es.energies.shape), 64)
    assert density == pytest.approx((k2**2 - k1**2) / (4 * np.pi), rel=1e-12)
    assert err < 1e-12


def test_weights_are_dS_over_v_for_anisotropic_sheet():
    """Rashba + Dresselhaus: compare sum w with the arc-length form on the same points."""
    model = bs.Rashba(1.0, 0.5, dresselhaus=0.3)
    n = 256
    fs = fermi.fermi_surface(model, 0.4, n)
    v = fs.velocity
    for sheet in range(fs.n_sheets):
        sel = fs.sheet == sheet
        k = fs.k[sel]
        # arc length by spectral differentiation of the periodic curve k(theta)
        kh = np.fft.fft(k, axis=0)
        freq = np.fft.fftfreq(n, d=1.0 / n)
        dk = np.real(np.fft.ifft(1j * freq[:, None] * kh, axis=0))
        ds = np.linalg.norm(dk, axis=1) * 2 * np.pi / n
        expected = ds / ((2 * np.pi) ** 2 * np.linalg.norm(v[sel], axis=1))
        np.testing.assert_allclose(fs.weight[sel], expected, rtol=1e-9)


def test_dirac_in_gap_is_an_insulator_with_half_quantized_berry():
    model = bs.MassiveDirac(1.0, 0.3)
    fs = fermi.fermi_surface(model, 0.1, 64)
    assert fs.n_points == 0 and fs.density_of_states == 0
    value, err = fermi.fermi_sea_integral(model, 0.1, lambda es: bands.berry_curvature(es)[..., 0, 1], 64)
    assert value == pytest.approx(1 / (4 * np.pi), rel=1e-10)
    assert err < 1e-10


def test_below_every_band_is_empty():
    fs = fermi.fermi_surface(bs.Rashba(1.0, 0.5), -1.0, 32)
    assert fs.n_points == 0


def test_degenerate_band_on_fermi_surface_raises():
    with pytest.raises(bs.DegenerateBandsError, match="degenerate"):
        fermi.fermi_surface(bs.Rashba(1.0, 0.5), 0.0, 32)


def test_pocket_not_around_origin_gets_its_own_rays():
    model = bs.KPModel(lambda k: (np.sum((k - [2.0, 0.0]) ** 2, -1) / 2)[..., None, None] * np.ones((1, 1)))
    assert fermi.fermi_surface(model, 0.5, 64).density_of_states == pytest.approx(1 / (2 * np.pi), rel=1e-12)
    fs = fermi.fermi_surface(model, 0.5, 64, origin=(2.0, 0.0))
    assert fs.density_of_states == pytest.approx(1 / (2 * np.pi), rel=RTOL)


def test_nan_mu_raises():
    with pytest.raises(bs.FermiSurfaceError, match="finite"):
        fermi.scan_rays(bs.Rashba(1.0, 0.5), np.nan, 32)
