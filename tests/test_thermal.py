"""Finite temperature: Fermi-window quadrature, Mott relation, s orbital magnetization, Streda."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.responses.equilibrium import magnetization
from boltzspin.responses.response import fermi_window

Q = -1.0
GAP = 0.3
DIRAC = bs.MassiveDirac(1.0, GAP)
DELTA = bs.DeltaCorrelated(0.01, 1.0)


def test_fermi_window_moments():
    _, w, x = fermi_window(0.0, 1.0, step=0.2)
    assert w.sum() == pytest.approx(1.0, abs=1e-15)
    assert (w * x**2).sum() == pytest.approx(np.pi**2 / 3, rel=1e-14)
    assert (w * x**4).sum() == pytest.approx(7 * np.pi**4 / 15, rel=1e-13)
    assert abs((w * x).sum()) < 1e-15


def test_zero_temperature_has_zero_alpha_and_low_t_limit():
    cold = bs.transport(DIRAC, 0.6, DELTA, observable="charge", n_points=32)
    assert np.all(cold.alpha == 0) and cold.attrs["temperature"] == 0
    warm = bs.transport(DIRAC, 0.6, DELTA, observable="charge", n_points=32, temperature=1e-5)
    scale = float(np.abs(cold.sigma).max())
    np.testing.assert_allclose(warm.sigma, cold.sigma, atol=1e-8 * scale)
    assert warm.attrs["n_energies"] == 29


@pytest.mark.parametrize("temperature", [-1.0, np.nan])
def test_bad_temperature(temperature):
    with pytest.raises(bs.ModelError, match="temperature"):
        bs.transport(DIRAC, 0.6, DELTA, temperature=temperature)


def test_mott_relation_per_contribution():
    """alpha = (pi^2/3) (T/q) d sigma/d mu + O(T^3), contribution by contribution (k_B = 1)."""
    mu, h = 0.6, 1e-3
    kwargs = dict(observable="charge", charge=Q, n_points=32)
    slope = (bs.transport(DIRAC, mu + h, DELTA, **kwargs).sigma - bs.transport(DIRAC, mu - h, DELTA, **kwargs).sigma) / (2 * h)
    ratios = []
    for t in (0.02, 0.01):
        ds = bs.transport(DIRAC, mu, DELTA, temperature=t, **kwargs)
        mott = (np.pi**2 / 3) * (t / Q) * slope
        ratios.append([float(ds.alpha.sel(contribution=c, i="y", j="x") / mott.sel(contribution=c, i="y", j="x"))
                       for c in ("intrinsic_berry", "side_jump", "anomalous_distribution")])
    ratios = np.array(ratios)
    assert np.all(np.abs(ratios[1] - 1) < 0.02)
    # the deviation is O(T^2): halving T divides it by about four
    np.testing.assert_allclose((ratios[0] - 1) / (ratios[1] - 1), 4.0, rtol=0.1)


def test_streda_relation_in_the_gap():
    """Letter Eq. (12): in an insulator sigma_xy = -q int f Omega s = q dM^s/d mu."""
    h = 1e-3
    for observable in ("charge", "sz"):
        slope = (float(magnetization(DIRAC, 0.1 + h, observable, Q).magnetization)
                 - float(magnetization(DIRAC, 0.1 - h, observable, Q).magnetization)) / (2 * h)
        sigma = bs.transport(DIRAC, 0.1, DELTA, observable=observable, charge=Q, n_points=32)
        berry = float(sigma.sigma.sel(contribution="intrinsic_berry", i="x", j="y"))
        # M^s for sz is a Fermi-sea integral over the infinite lower band: ~1e-8 quadrature noise
        assert Q * slope == pytest.approx(berry, rel=1e-6), observable
    # s = charge: M = mu sigma_xy / q, zero at the particle-hole symmetric point
    assert float(magnetization(DIRAC, 0.0, "charge", Q).magnetization) == pytest.approx(0, abs=1e-12)


def test_magnetization_temperature_average_is_exact_for_linear_m():
    """In the gap M(mu) is linear, so the Fermi-window average changes nothing."""
    cold = magnetization(DIRAC, 0.05, "charge", Q)
    warm = magnetization(DIRAC, 0.05, "charge", Q, temperature=0.005)
    assert float(warm.magnetization) == pytest.approx(float(cold.magnetization), rel=1e-9)
    assert cold.attrs["fermi_sea_error_estimate"] < 1e-10


def test_conserved_quantity_local_plus_global():
    """For s = 1 in a bounded band the parts are separately finite and converge with the rays."""
    model = bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.1))
    a = magnetization(model, 0.3, np.eye(2), Q, n_angles=64)
    b = magnetization(model, 0.3, np.eye(2), Q, n_angles=128)
    for part in ("local", "global", "magnetization"):
        assert float(a[part]) == pytest.approx(float(b[part]), rel=1e-10)
    assert abs(float(a["local"])) > 1e-4 and abs(float(a["global"])) > 1e-4
