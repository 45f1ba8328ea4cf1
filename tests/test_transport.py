"""transport(): THEORY.md section 7 targets, identities, limits and conventions."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import boltzspin as bs
from boltzspin.responses.response import CONTRIBUTIONS

from conftest import ANALYTIC_RTOL, IDENTITY_RTOL, random_hermitian

Q = -1.0
SPIN_HALL_QUANTUM = abs(Q) / (8 * np.pi)


def xy(ds, c):
    return float(ds.sigma.sel(contribution=c, i="x", j="y"))


def yx(ds, c):
    return float(ds.sigma.sel(contribution=c, i="y", j="x"))


def test_contract_rashba_null_at_default_point_count():
    ds = bs.transport(bs.Rashba(1, 0.5), 0.6, bs.DeltaCorrelated(0.01, 1.0))
    assert list(ds.sigma.dims) == ["contribution", "i", "j"]
    assert list(ds.contribution.values) == list(CONTRIBUTIONS)
    assert list(ds.i.values) == ["x", "y"] and list(ds.j.values) == ["x", "y"]
    assert xy(ds, "intrinsic_dipole") == pytest.approx(-Q / (8 * np.pi), rel=1e-12)
    assert abs(xy(ds, "total")) < 1e-10 * SPIN_HALL_QUANTUM
    assert np.all(np.abs(ds.sigma.sel(contribution="total")) < 1e-10 * SPIN_HALL_QUANTUM)
    for key in ("units", "charge", "observable", "mu", "model", "disorder", "n_points", "solver_residual"):
        assert key in ds.attrs
    assert ds.attrs["charge"] == Q and ds.attrs["observable"] == "sz"
    assert ds.density_of_states.item() == pytest.approx(1 / np.pi, rel=1e-12)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mass=st.floats(0.3, 3.0),
    alpha=st.floats(0.1, 1.5),
    mu_over_crossing=st.floats(0.05, 3.0),
    kind=st.sampled_from(["delta", "gaussian", "magnetic"]),
    charge=st.sampled_from([-1.0, 1.0, -2.0]),
)
def test_rashba_section7_targets(mass, alpha, mu_over_crossing, kind, charge):
    """Above the crossing: s_n = 0, dipole -q/8pi, conventional +q/8pi, dipole change +q/8pi."""
    mu = mu_over_crossing * mass * alpha**2
    disorder = {
        "delta": bs.DeltaCorrelated(0.02, 1.0),
        "gaussian": bs.GaussianCorrelated(0.02, 1.0, 1.0 / (mass * alpha)),
        "magnetic": bs.MagneticImpurities(0.02, 1.0, 1.0),
    }[kind]
    ds = bs.transport(bs.Rashba(mass, alpha), mu, disorder, charge=charge, n_points=64)
    unit = charge / (8 * np.pi)
    # identically zero: only the round-off of s_n ~ 1e-17 remains, amplified in the
    # Boltzmann-like parts by phi ~ 1/n_imp, i.e. relative to the particle conductivity
    particle = bs.transport(bs.Rashba(mass, alpha), mu, disorder, observable=np.eye(2), charge=charge, n_points=64)
    drude = float(np.abs(particle.sigma.sel(contribution="boltzmann")).max())
    for c in ("intrinsic_berry", "boltzmann", "side_jump", "anomalous_distribution"):
        assert np.all(np.abs(ds.sigma.sel(contribution=c)) < 1e-12 * abs(unit) + 1e-14 * drude), c
    assert xy(ds, "intrinsic_dipole") == pytest.approx(-unit, rel=1e-10)
    assert xy(ds, "dipole_change") == pytest.approx(unit, rel=1e-10)
    assert float(ds.sigma_conventional_intrinsic.sel(i="x", j="y")) == pytest.approx(unit, rel=1e-10)
    assert abs(xy(ds, "total")) < 1e-10 * abs(unit)


@pytest.mark.parametrize("e_fermi", [0.35, 0.5, 1.2])
def test_massive_dirac_anomalous_hall_first_born(e_fermi):
    v, gap, n_imp, u0 = 1.0, 0.3, 0.01, 1.0
    ds = bs.transport(bs.MassiveDirac(v, gap), e_fermi, bs.DeltaCorrelated(n_imp, u0),
                      observable="charge", charge=Q, n_points=128)
    x = (e_fermi**2 - gap**2) / (e_fermi**2 + 3 * gap**2)
    assert yx(ds, "intrinsic_berry") == pytest.approx(gap / (4 * np.pi * e_fermi), rel=ANALYTIC_RTOL)
    assert yx(ds, "side_jump") == pytest.approx(2 * x * gap / (4 * np.pi * e_fermi), rel=ANALYTIC_RTOL)
    assert yx(ds, "anomalous_distribution") == pytest.approx(2 * x * gap / (4 * np.pi * e_fermi), rel=ANALYTIC_RTOL)
    d = e_fermi**2 + 3 * gap**2
    sxx = Q**2 * v**2 * (e_fermi**2 - gap**2) / (np.pi * n_imp * u0**2 * d)
    assert float(ds.sigma.sel(contribution="boltzmann", i="x", j="x")) == pytest.approx(sxx, rel=ANALYTIC_RTOL)
    # the charge current has no dipole parts
    assert np.all(np.abs(ds.sigma.sel(contribution=["intrinsic_dipole", "dipole_change"])) < 1e-14)


def test_massive_dirac_independent_of_disorder_strength():
    model = bs.MassiveDirac(1.0, 0.3)
    a = bs.transport(model, 0.5, bs.DeltaCorrelated(0.01, 1.0), observable="charge", n_points=64)
    b = bs.transport(model, 0.5, bs.DeltaCorrelated(0.05, 0.5), observable="charge", n_points=64)
    for c in ("intrinsic_berry", "side_jump", "anomalous_distribution"):
        assert yx(a, c) == pytest.approx(yx(b, c), rel=1e-10)


@pytest.mark.parametrize("gap", [0.3, -0.2])
def test_massive_dirac_half_quantized_in_gap(gap):
    ds = bs.transport(bs.MassiveDirac(0.7, gap), 0.05, bs.DeltaCorrelated(0.01, 1.0), observable="charge", n_points=64)
    assert ds.attrs["state"] == "insulator"
    assert yx(ds, "intrinsic_berry") == pytest.approx(np.sign(gap) / (4 * np.pi), rel=1e-10)
    assert yx(ds, "total") == pytest.approx(np.sign(gap) / (4 * np.pi), rel=1e-10)
    fermi_parts = [c for c in CONTRIBUTIONS if c not in ("intrinsic_berry", "total")]
    assert np.all(ds.sigma.sel(contribution=fermi_parts) == 0)
    assert ds.density_of_states.item() == 0


def test_drude_single_parabolic_band():
    mass, mu, n_imp, u0 = 0.8, 0.6, 0.02, 0.7
    model = bs.KPModel(lambda k: (np.sum(k**2, -1) / (2 * mass))[..., None, None] * np.ones((1, 1)),
                       velocity=lambda k: (k / mass)[..., None, None] * np.ones((1, 1)))
    ds = bs.transport(model, mu, bs.DeltaCorrelated(n_imp, u0), observable="charge", charge=Q, n_points=64)
    dos = mass / (2 * np.pi)
    tau = 1 / (2 * np.pi * n_imp * u0**2 * dos)
    density = mass * mu / (2 * np.pi)
    drude = Q**2 * density * tau / mass
    sig = ds.sigma.sel(contribution="total")
    np.testing.assert_allclose(sig.values, drude * np.eye(2), rtol=ANALYTIC_RTOL, atol=1e-12 * drude)
    assert ds.density_of_states.item() == pytest.approx(dos, rel=1e-12)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), mu=st.floats(0.1, 1.5))
def test_dipole_change_identity_random_mixtures(seed, mu):
    """J_dp = -J_d for any disorder mixture and observable (THEORY 6.5)."""
    rng = np.random.default_rng(seed)
    # h_z >= 0.05 keeps the gap at the (shifted) band crossing resolvable by 64 rays
    exchange = (*rng.uniform(-0.05, 0.05, 2), rng.uniform(0.05, 0.1))
    model = bs.Rashba(1.0, 0.5, dresselhaus=rng.uniform(0, 0.2), exchange=exchange)
    disorder = bs.DeltaCorrelated(rng.uniform(0.005, 0.05), 1.0, matrix=random_hermitian(rng, 2))
    disorder = disorder + bs.GaussianCorrelated(rng.uniform(0.005, 0.05), rng.uniform(0.2, 2), rng.uniform(0.2, 2))
    if rng.random() < 0.5:
        disorder = disorder + bs.MagneticImpurities(rng.uniform(0.005, 0.05), 1.0, 0.5)
    s = random_hermitian(rng, 2)
    ds = bs.transport(model, mu, disorder, observable=s, n_points=64)
    d = ds.sigma.sel(contribution="intrinsic_dipole").values
    dp = ds.sigma.sel(contribution="dipole_change").values
    np.testing.assert_allclose(dp, -d, atol=IDENTITY_RTOL * np.abs(d).max())


def test_magnetized_rashba_every_contribution_nonzero():
    """Exchange along z: s_z != 0, so every part appears; identities and power counting hold."""
    model = bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.1))
    results = {}
    for n_imp in (0.01, 0.02):
        disorder = bs.GaussianCorrelated(n_imp, 1.0, 1.0) + bs.DeltaCorrelated(n_imp, 0.5)
        results[n_imp] = ds = bs.transport(model, 0.5, disorder, n_points=128)
        for c in CONTRIBUTIONS:
            assert np.abs(ds.sigma.sel(contribution=c)).max() > 1e-4, c
        d = ds.sigma.sel(contribution="intrinsic_dipole").values
        np.testing.assert_allclose(ds.sigma.sel(contribution="dipole_change").values, -d,
                                   atol=IDENTITY_RTOL * np.abs(d).max())
        # THEORY 6: a two-band model with s = sz/2 and a gap in the Fermi sea has J_B + J_d = 0
        np.testing.assert_allclose(ds.sigma.sel(contribution="intrinsic_berry").values, -d,
                                   atol=1e-10 * np.abs(d).max())
    a, b = results[0.01].sigma, results[0.02].sigma
    scale = float(np.abs(a).max())
    np.testing.assert_allclose(b.sel(contribution="boltzmann"), a.sel(contribution="boltzmann") / 2,
                               rtol=1e-9, atol=1e-13 * scale)
    for c in ("side_jump", "dipole_change", "anomalous_distribution", "intrinsic_berry", "intrinsic_dipole"):
        np.testing.assert_allclose(b.sel(contribution=c), a.sel(contribution=c), rtol=1e-9, atol=1e-13 * scale)


@pytest.mark.parametrize("observable", ["sz", "sx", "charge"])
def test_random_gauge_phases_leave_every_output_unchanged(observable):
    model = bs.Rashba(1.0, 0.5, dresselhaus=0.1, exchange=(0.02, -0.03, 0.08))
    disorder = bs.GaussianCorrelated(0.01, 1.0, 1.2) + bs.MagneticImpurities(0.01, 0.5, 1.0)
    ref = bs.transport(model, 0.4, disorder, observable=observable, n_points=64)
    for seed in (1, 2):
        ds = bs.transport(model, 0.4, disorder, observable=observable, n_points=64, gauge_seed=seed)
        scale = float(np.abs(ref.sigma).max())
        np.testing.assert_allclose(ds.sigma.values, ref.sigma.values, atol=1e-11 * scale, rtol=0)
        np.testing.assert_allclose(ds.sigma_conventional_intrinsic.values,
                                   ref.sigma_conventional_intrinsic.values, atol=1e-13)


def test_identity_observable_is_the_charge_current():
    """s = q * 1 is 'charge'; s = 1 is the particle current, i.e. charge/q."""
    model = bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.1))
    disorder = bs.GaussianCorrelated(0.01, 1.0, 1.0)
    charge = bs.transport(model, 0.5, disorder, observable="charge", charge=Q, n_points=64)
    number = bs.transport(model, 0.5, disorder, observable=np.eye(2), charge=Q, n_points=64)
    np.testing.assert_allclose(charge.sigma.values, Q * number.sigma.values, atol=1e-14)
    # for a conserved quantity there is no dipole physics and the conventional
    # intrinsic current is the Berry one
    assert np.all(np.abs(charge.sigma.sel(contribution=["intrinsic_dipole", "dipole_change"])) < 1e-14)
    np.testing.assert_allclose(charge.sigma_conventional_intrinsic.values,
                               charge.sigma.sel(contribution="intrinsic_berry").values, atol=1e-13)


def test_converges_spectrally_with_n_points():
    model = bs.Rashba(1.0, 0.5, dresselhaus=0.2, exchange=(0.05, 0.0, 0.1))
    disorder = bs.GaussianCorrelated(0.01, 1.0, 1.0)
    ref = bs.transport(model, 0.4, disorder, n_points=256).sigma
    errors = []
    for n in (16, 32, 64):
        ds = bs.transport(model, 0.4, disorder, n_points=n)
        errors.append(float(np.abs(ds.sigma - ref).max() / np.abs(ref).max()))
    assert errors[0] > errors[1] > errors[2] >= 0
    assert errors[1] < 1e-4 and errors[2] < 1e-6


def test_below_band_crossing_still_null():
    ds = bs.transport(bs.Rashba(1.0, 0.5), -0.06, bs.GaussianCorrelated(0.01, 1.0, 1.5), n_points=64)
    assert ds.attrs["n_sheets"] == 2
    assert np.all(np.abs(ds.sigma.sel(contribution="total")) < 1e-10 * SPIN_HALL_QUANTUM)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(mu=np.nan), bs.ModelError, "mu"),
        (dict(charge=0.0), bs.ModelError, "charge"),
        (dict(n_points=4), bs.ModelError, "n_points"),
        (dict(observable="spin"), bs.ModelError, "not an operator"),
        (dict(disorder="delta"), bs.BoltzspinError, "disorder"),
        (dict(mu=0.0), bs.DegenerateBandsError, "degenerate"),
        (dict(disorder=bs.DeltaCorrelated(0.01, 0.0)), bs.SolverError, "scattering rate"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, error, match):
    args = dict(model=bs.Rashba(1.0, 0.5), mu=0.5, disorder=bs.DeltaCorrelated(0.01, 1.0))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        bs.transport(**args)


def test_kramers_degenerate_model_raises_explicit_message():
    model = bs.KPModel(lambda k: (np.sum(k**2, -1) / 2)[..., None, None] * np.eye(2),
                       operators={"sz": np.diag([0.5, -0.5])})
    with pytest.raises(bs.DegenerateBandsError, match="Kramers"):
        bs.transport(model, 0.5, bs.DeltaCorrelated(0.01, 1.0))
