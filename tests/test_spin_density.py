"""Current-induced spin density (boltzspin.spin_density) and spin-orbit torques.

References: V. M. Edelstein, Solid State Commun. 73, 233 (1990); I. A. Ado, O. A. Tretiakov and
M. Titov, PRB 95, 094401 (2017); N. A. Sinitsyn et al., PRB 75, 045315 (2007).
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import boltzspin as bs
from boltzspin.collisions.boltzmann import solve_boltzmann
from boltzspin.collisions.scattering import scattering
from boltzspin.errors import ModelError
from boltzspin.geometry.fermi import fermi_surface

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]])
SZ = np.diag([1.0, -1.0]).astype(complex)


def edelstein(charge, alpha, density, strength):
    """delta<s_y> per E_x of the Rashba gas with delta disorder, both bands occupied (s = sigma/2).

    q N_0 alpha tau with N_0 = m/(2 pi) and 1/tau = m n_imp u0^2 (theory page, Edelstein 1990).
    """
    return charge * alpha / (2 * np.pi * density * strength**2)


@settings(derandomize=True, max_examples=3, deadline=None)
@given(mu=st.floats(0.05, 2.0), alpha=st.floats(0.2, 1.0), mass=st.floats(0.5, 2.0),
       charge=st.sampled_from([-1.0, 1.0]))
def test_edelstein_closed_form(mu, alpha, mass, charge):
    density, strength = 0.02, 0.7
    ds = bs.spin_density(bs.Rashba(mass, alpha), mu, bs.DeltaCorrelated(density, strength), charge=charge,
                         n_points=32)
    chi = ds.chi.sel(contribution="total")
    err = ds.chi_error.sel(contribution="total")
    exact = edelstein(charge, alpha, density, strength)
    assert abs(float(chi.sel(component="sy", j="x")) - exact) <= 1e-9 * abs(exact)
    assert abs(float(chi.sel(component="sy", j="x")) - exact) <= float(err.sel(component="sy", j="x")) + 1e-12 * abs(exact)
    # rotational symmetry of the Rashba term: delta<s_x> = -chi E_y
    assert abs(float(chi.sel(component="sx", j="y")) + exact) <= 1e-9 * abs(exact)
    # time reversal: no intrinsic, coherence or anomalous parts, no s_z, no s_x for E_x
    for c in ("intrinsic", "extrinsic_coherence", "anomalous_distribution"):
        assert np.all(np.abs(ds.chi.sel(contribution=c).values) <= 1e-12 * abs(exact))
    assert abs(float(chi.sel(component="sx", j="x"))) <= 1e-12 * abs(exact)
    assert np.all(np.abs(chi.sel(component="sz").values) <= 1e-12 * abs(exact))
    # Boltzmann part ~ 1/n_imp
    ds2 = bs.spin_density(bs.Rashba(mass, alpha), mu, bs.DeltaCorrelated(2 * density, strength), charge=charge,
                          n_points=32)
    assert float(ds2.chi.sel(contribution="boltzmann", component="sy", j="x")) == pytest.approx(exact / 2, rel=1e-9)


def test_charge_velocity_reduces_to_transport():
    """s = q dH/dk_i (constant for Dirac): the four parts are transport's charge parts (exact identity)."""
    model, disorder, q = bs.MassiveDirac(velocity=1.3, gap=0.3), bs.DeltaCorrelated(0.01, 1.0), -1.0
    ds = bs.spin_density(model, 0.7, disorder, observables=[q * 1.3 * SX, q * 1.3 * SY], charge=q,
                         n_points=64, gauge_seed=5)
    tr = bs.transport(model, 0.7, disorder, "charge", q, n_points=64)
    assert list(ds.component.values) == ["s0", "s1"]
    s = tr.sigma
    pairs = {"intrinsic": s.sel(contribution="intrinsic_berry") + s.sel(contribution="intrinsic_dipole"),
             "boltzmann": s.sel(contribution="boltzmann"), "extrinsic_coherence": s.sel(contribution="side_jump"),
             "anomalous_distribution": s.sel(contribution="anomalous_distribution"),
             "total": s.sel(contribution="total")}
    scale = float(np.abs(s.sel(contribution="total")).max())
    for name, ref in pairs.items():
        np.testing.assert_allclose(ds.chi.sel(contribution=name).values, ref.values, rtol=0, atol=1e-10 * scale)
    # and the Hall parts are Sinitsyn's first-Born closed forms (Delta/(4 pi e_F), 2x of it)
    e_f, gap = 0.7, 0.3
    x = (e_f**2 - gap**2) / (e_f**2 + 3 * gap**2)
    base = gap / (4 * np.pi * e_f)
    assert float(ds.chi.sel(contribution="intrinsic", component="s1", j="x")) == pytest.approx(base, rel=1e-8)
    assert float(ds.chi.sel(contribution="extrinsic_coherence", component="s1", j="x")) == \
        pytest.approx(2 * x * base, rel=1e-8)


def test_gauge_invariance_and_error_estimate():
    """Random eigenvector phases change nothing; chi_error bounds the error against a fine reference."""
    model = bs.Rashba(1.0, 0.5, dresselhaus=0.2, exchange=(0.05, 0.03, 0.15))
    disorder = bs.GaussianCorrelated(0.01, 1.0, 1.5)
    coarse = bs.spin_density(model, 0.4, disorder, n_points=24)
    gauged = bs.spin_density(model, 0.4, disorder, n_points=24, gauge_seed=11)
    scale = float(np.abs(coarse.chi).max())
    np.testing.assert_allclose(gauged.chi.values, coarse.chi.values, rtol=0, atol=1e-11 * scale)
    fine = bs.spin_density(model, 0.4, disorder, n_points=128)
    true_error = np.abs(coarse.chi.values - fine.chi.values)
    assert np.all(true_error <= coarse.chi_error.values + 1e-12 * scale)
    assert np.all(fine.chi_error.values <= 1e-8 * scale)  # spectral convergence


def test_onsager_boltzmann_part():
    """Reciprocity of the Boltzmann parts: the current pumped by dh/dt (source 2 s_a = d e/d h_a) is
    K^B_ja = 2 chi^B_aj at the same m, by the symmetry of the collision operator."""
    model = bs.Rashba(1.0, 0.5, exchange=(0.05, 0.0, 0.2))
    disorder = bs.MagneticImpurities(0.01, 0.6, 1.0, scalar=1.0)
    q = -1.0
    ds = bs.spin_density(model, 0.5, disorder, charge=q, n_points=48)
    fs = fermi_surface(model, 0.5, 48)
    scat = scattering(fs, disorder, model, model.operators["sz"])
    es = fs.eigensystem
    s = np.stack([np.real(np.einsum("pa,ab,pb->p", np.take_along_axis(es.vectors, fs.band[:, None, None], 2)[..., 0]
                                    .conj(), model.operators[a],
                                    np.take_along_axis(es.vectors, fs.band[:, None, None], 2)[..., 0]))
                  for a in ("sx", "sy", "sz")], axis=1)
    phi_h = solve_boltzmann(scat, 2 * s, fs.sheet).phi
    pumped = np.einsum("p,pa,pj->ja", fs.weight, phi_h, q * fs.velocity)
    chi_b = ds.chi.sel(contribution="boltzmann").values
    np.testing.assert_allclose(pumped.T, 2 * chi_b, rtol=0, atol=1e-9 * np.abs(chi_b).max())


def test_rashba_ferromagnet_damping_like_torque():
    """Scalar delta disorder, both subbands occupied (Ado, Tretiakov, Titov 2017): the Boltzmann density is
    the m-independent Edelstein value, and the intrinsic damping-like torque is cancelled exactly by the
    disorder-induced interband coherence.  In first Born the anomalous distribution remains; the
    fourth-order intrinsic skew scattering removes it (test_intrinsic_skew_cancels_damping_like_torque)."""
    theta = np.array([0.2, 0.9, 1.4])
    ms = np.stack([np.sin(theta), 0 * theta, np.cos(theta)], axis=1)
    alpha, density, strength, h = 0.5, 0.01, 1.0, 0.2
    r = bs.spin_orbit_torque(bs.Rashba(1.0, alpha, exchange=(0, 0, h)), 0.6, bs.DeltaCorrelated(density, strength),
                             n_points=48, magnetization=ms)
    dl = r.damping_like
    intrinsic = dl.sel(contribution="intrinsic").values
    assert np.all(np.abs(intrinsic) > 1e-4)
    np.testing.assert_allclose(dl.sel(contribution="extrinsic_coherence").values, -intrinsic, rtol=1e-9)
    # the field-like Boltzmann torque is J_ex |edelstein| for every m: tau_FL m x y with m x y ...
    fl = r.field_like.sel(contribution="boltzmann").values
    np.testing.assert_allclose(fl, h * edelstein(-1.0, alpha, density, strength), rtol=1e-9)
    assert np.all(np.abs(r.damping_like.sel(contribution="boltzmann").values) < 1e-12)
    # what is left: the anomalous distribution, nonzero (reported honestly, not forced to zero)
    np.testing.assert_allclose(dl.sel(contribution="total").values, dl.sel(contribution="anomalous_distribution").values,
                               rtol=1e-9)
    assert np.all(np.abs(dl.sel(contribution="total").values) > 1e-4)
    # decomposition: T = tau_FL m x y + tau_DL m x (m x y), and T is perpendicular to m
    y = np.array([0.0, 1.0, 0.0])
    for i, m in enumerate(ms):
        t = r.torque.isel(direction=i).sel(contribution="total").values
        rebuilt = r.field_like.isel(direction=i).sel(contribution="total").values * np.cross(m, y) \
            + r.damping_like.isel(direction=i).sel(contribution="total").values * np.cross(m, np.cross(m, y))
        np.testing.assert_allclose(rebuilt, t, atol=1e-12 * np.abs(t).max())
        assert abs(t @ m) < 1e-12 * np.abs(t).max()
    eff = r.damping_like_efficiency.sel(contribution="total").values
    np.testing.assert_allclose(eff, dl.sel(contribution="total").values / r.sigma.values, rtol=1e-12)


def test_magnetic_disorder_breaks_the_cancellation():
    """Spin-dependent (magnetic) disorder: intrinsic + coherence damping-like torque does not cancel and the
    field-like torque depends on m (Qaiumzadeh, Duine, Titov 2015)."""
    theta = np.array([0.2, 1.2])
    ms = np.stack([np.sin(theta), 0 * theta, np.cos(theta)], axis=1)
    r = bs.spin_orbit_torque(bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.2)), 0.6, bs.MagneticImpurities(0.01, 1.0, 1.0),
                             n_points=48, magnetization=ms)
    dl = r.damping_like
    pair = dl.sel(contribution="intrinsic").values + dl.sel(contribution="extrinsic_coherence").values
    assert np.all(np.abs(pair) > 0.1 * np.abs(dl.sel(contribution="intrinsic").values))
    assert np.all(np.abs(pair) > 10 * r.damping_like_error.sel(contribution="total").values)
    fl = r.field_like.sel(contribution="boltzmann").values
    assert abs(fl[0] - fl[1]) > 0.01 * abs(fl[0])
    # intrinsic skew scattering does not restore the cancellation: the total keeps a damping-like torque
    r = bs.spin_orbit_torque(bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.2)), 0.6, bs.MagneticImpurities(0.01, 1.0, 1.0),
                             n_points=48, magnetization=ms, scattering=("intrinsic_skew",))
    total, error = r.damping_like.sel(contribution="total").values, r.damping_like_error.sel(contribution="total")
    isk = r.damping_like.sel(contribution="intrinsic_skew").values
    assert np.all(np.abs(isk) > 1e-6)
    assert np.all(np.abs(total) > 0.5 * np.abs(r.damping_like.sel(contribution="intrinsic").values))
    assert np.all(np.abs(total) > 10 * error.values)


@pytest.mark.parametrize("alpha, h, mu", [(0.5, 0.2, 0.6), (0.3, 0.15, 1.7)])
def test_intrinsic_skew_cancels_damping_like_torque(alpha, h, mu):
    """Rashba ferromagnet, scalar delta disorder, both subbands occupied, m in any direction: with the
    fourth-order intrinsic skew scattering every damping-like torque cancels (intrinsic + coherence = 0,
    anomalous distribution + intrinsic skew = 0) and only the m-independent Edelstein field-like torque
    J_ex q alpha/(2 pi n u0^2) is left: the non-crossing Kubo result of Ado, Tretiakov and Titov (2017)
    and Qaiumzadeh, Duine and Titov (2015).  Third-order skew scattering adds nothing here."""
    theta = np.array([0.3, 1.1, 1.45])
    azimuth = np.array([0.0, 0.7, 2.2])
    ms = np.stack([np.sin(theta) * np.cos(azimuth), np.sin(theta) * np.sin(azimuth), np.cos(theta)], axis=1)
    density, strength = 0.02, 0.7
    r = bs.spin_orbit_torque(bs.Rashba(1.0, alpha, exchange=(0, 0, h)), mu, bs.DeltaCorrelated(density, strength),
                             n_points=32, magnetization=ms, scattering=("skew_scattering", "intrinsic_skew"))
    dl, err = r.damping_like, r.damping_like_error
    ad = dl.sel(contribution="anomalous_distribution").values
    assert np.all(np.abs(ad) > 5e-5)
    np.testing.assert_allclose(dl.sel(contribution="intrinsic_skew").values, -ad, rtol=1e-9)
    total = dl.sel(contribution="total").values
    assert np.all(np.abs(total) <= err.sel(contribution="total").values)
    assert np.all(np.abs(total) < 1e-10 * np.abs(ad))  # the estimate is not vacuous: it is ~1e-12 here
    assert np.all(err.sel(contribution="total").values < 1e-3 * np.abs(ad))
    edelstein_torque = h * edelstein(-1.0, alpha, density, strength)
    fl = r.field_like.sel(contribution="total")
    assert np.all(np.abs(fl.values - edelstein_torque) <= r.field_like_error.sel(contribution="total").values
                  + 1e-12 * abs(edelstein_torque))
    # the first-Born total misses the intrinsic-skew part: field-like torque depends on m there
    born = fl.values - r.field_like.sel(contribution="intrinsic_skew").values
    assert np.ptp(born) > 1e-4 * abs(edelstein_torque)


def test_intrinsic_skew_cancels_rashba_ferromagnet_anomalous_hall():
    """The charge analogue (Nunner et al., PRB 76, 235312 (2007), non-crossing Kubo-Streda): the anomalous Hall
    conductivity of the Rashba ferromagnet with delta disorder vanishes with both subbands occupied once the
    intrinsic skew scattering is kept; in first Born the anomalous distribution is left over."""
    model, d = bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.2)), bs.DeltaCorrelated(0.01, 1.0)
    ds = bs.transport(model, 0.6, d, "charge", n_points=48, scattering=("skew_scattering", "intrinsic_skew"))
    s, e = ds.sigma.sel(i="x", j="y"), ds.sigma_error.sel(i="x", j="y")
    ad = float(s.sel(contribution="anomalous_distribution"))
    assert abs(ad) > 1e-2
    assert float(s.sel(contribution="intrinsic_skew")) == pytest.approx(-ad, rel=1e-9)
    assert float(s.sel(contribution="intrinsic_berry") + s.sel(contribution="side_jump")) == pytest.approx(0, abs=1e-12)
    assert abs(float(s.sel(contribution="total"))) <= float(e.sel(contribution="total"))
    assert float(e.sel(contribution="total")) < 1e-9 * abs(ad)


def test_intrinsic_skew_density_error_estimate_and_gauge():
    """The intrinsic-skew density is gauge invariant, independent of n_imp, and chi_error bounds its error."""
    model = bs.Rashba(1.0, 0.5, dresselhaus=0.2, exchange=(0.05, 0.03, 0.15))
    kw = dict(scattering=("intrinsic_skew",))
    coarse = bs.spin_density(model, 0.4, bs.DeltaCorrelated(0.01, 1.0), n_points=24, **kw)
    gauged = bs.spin_density(model, 0.4, bs.DeltaCorrelated(0.01, 1.0), n_points=24, gauge_seed=3, **kw)
    denser = bs.spin_density(model, 0.4, bs.DeltaCorrelated(0.03, 1.0), n_points=24, **kw)
    isk = coarse.chi.sel(contribution="intrinsic_skew").values
    assert np.abs(isk).max() > 1e-4
    np.testing.assert_allclose(gauged.chi.values, coarse.chi.values, rtol=0, atol=1e-11 * np.abs(coarse.chi).max())
    np.testing.assert_allclose(denser.chi.sel(contribution="intrinsic_skew").values, isk, rtol=0,
                               atol=1e-9 * np.abs(isk).max())
    fine = bs.spin_density(model, 0.4, bs.DeltaCorrelated(0.01, 1.0), n_points=128, **kw)
    true_error = np.abs(coarse.chi.values - fine.chi.values)
    scale = float(np.abs(coarse.chi).max())
    assert np.all(true_error <= coarse.chi_error.values + 1e-12 * scale)
    total = coarse.chi.sel(contribution="total").values
    parts = sum(coarse.chi.sel(contribution=c).values for c in coarse.contribution.values if c != "total")
    np.testing.assert_allclose(total, parts, rtol=0, atol=1e-12 * scale)


def test_lattice_rashba_reproduces_continuum():
    """Near the band bottom LatticeRashba(t) is Rashba(mass=1/(2t)) up to O(k^2) corrections."""
    h, disorder, mu = (0.02, 0.0, 0.04), bs.DeltaCorrelated(0.01, 1.0), 0.06
    cont = bs.spin_density(bs.Rashba(0.5, 0.2, exchange=h), mu, disorder, n_points=32)
    latt = bs.spin_density(bs.LatticeRashba(1.0, 0.2, exchange=h), mu, disorder, n_points=192)
    for name, comp, rtol in (("total", "sy", 0.03), ("intrinsic", "sx", 0.01), ("intrinsic", "sz", 0.02),
                             ("anomalous_distribution", "sx", 0.03)):
        a = float(cont.chi.sel(contribution=name, component=comp, j="x"))
        b = float(latt.chi.sel(contribution=name, component=comp, j="x"))
        assert b == pytest.approx(a, rel=rtol), (name, comp, a, b)


def test_bad_input():
    model = bs.Rashba(1.0, 0.5)
    d = bs.DeltaCorrelated(0.01, 1.0)
    with pytest.raises(ModelError, match="Hermitian"):
        bs.spin_density(model, 0.5, d, observables=[np.array([[0, 1], [0, 0]])], n_points=16)
    with pytest.raises(ModelError, match="not an operator"):
        bs.spin_density(model, 0.5, d, observables=("spin_x",), n_points=16)
    with pytest.raises(ModelError, match="twice"):
        bs.spin_density(model, 0.5, d, observables=("sx", "sx"), n_points=16)
    with pytest.raises(ModelError, match="exchange field"):
        bs.spin_orbit_torque(model, 0.5, d, n_points=16)
    with pytest.raises(ModelError, match="exchange field"):
        bs.spin_orbit_torque(bs.MassiveDirac(1.0, 0.2), 0.5, d, n_points=16)
    with pytest.raises(ModelError, match="parallel"):
        bs.spin_orbit_torque(bs.Rashba(1.0, 0.5, exchange=(0, 0.2, 0)), 0.5, d, n_points=16)
    with pytest.raises(ModelError, match="current"):
        bs.spin_orbit_torque(bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.2)), 0.5, d, current=(0, 0), n_points=16)


def test_power_counting_in_impurity_density():
    """First Born: the Boltzmann part scales as 1/(n_imp u0^2); the other parts do not depend on it."""
    model = bs.Rashba(1.0, 0.5, exchange=(0.05, 0.0, 0.2))
    a = bs.spin_density(model, 0.3, bs.MagneticImpurities(0.01, 0.6, 1.0, scalar=1.0), n_points=32)
    b = bs.spin_density(model, 0.3, bs.MagneticImpurities(0.03, 0.6, 1.0, scalar=1.0), n_points=32)
    scale = float(np.abs(a.chi.sel(contribution="intrinsic")).max())
    for c in ("intrinsic", "extrinsic_coherence", "anomalous_distribution"):
        np.testing.assert_allclose(b.chi.sel(contribution=c).values, a.chi.sel(contribution=c).values,
                                   rtol=0, atol=1e-9 * scale)
    boltzmann = a.chi.sel(contribution="boltzmann").values
    np.testing.assert_allclose(3 * b.chi.sel(contribution="boltzmann").values, boltzmann, rtol=0,
                               atol=1e-9 * np.abs(boltzmann).max())


@pytest.mark.slow
def test_edelstein_finite_temperature():
    """chi_yx is mu-independent above the band crossing, so the Fermi-window average keeps it."""
    ds = bs.spin_density(bs.Rashba(1.0, 0.5), 1.5, bs.DeltaCorrelated(0.01, 1.0), n_points=16, temperature=0.01)
    exact = edelstein(-1.0, 0.5, 0.01, 1.0)
    value = float(ds.chi.sel(contribution="total", component="sy", j="x"))
    assert value == pytest.approx(exact, rel=1e-8)
    assert abs(value - exact) <= float(ds.chi_error.sel(contribution="total", component="sy", j="x")) + 1e-9


def test_skew_scattering_density():
    """Third-order skew scattering (identical impurities, <u^3> = n u^3): a damping-like s_x ~ 1/n_imp when
    only the lower Rashba subband is occupied; none when both are (as for the anomalous Hall effect)."""
    model = bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.2))
    kw = dict(n_points=32, scattering=("skew_scattering",))
    a = bs.spin_density(model, 0.05, bs.DeltaCorrelated(0.01, 1.0), **kw)
    b = bs.spin_density(model, 0.05, bs.DeltaCorrelated(0.02, 1.0), **kw)
    skew = a.chi.sel(contribution="skew_scattering")
    assert abs(float(skew.sel(component="sx", j="x"))) > 0.1
    np.testing.assert_allclose(2 * b.chi.sel(contribution="skew_scattering").values, skew.values, rtol=0,
                               atol=1e-9 * float(np.abs(skew).max()))
    total = a.chi.sel(contribution="total").values
    parts = sum(a.chi.sel(contribution=c).values for c in a.contribution.values if c != "total")
    np.testing.assert_allclose(total, parts, rtol=0, atol=1e-12 * np.abs(total).max())
    both = bs.spin_density(model, 0.6, bs.DeltaCorrelated(0.01, 1.0), **kw)
    assert np.all(np.abs(both.chi.sel(contribution="skew_scattering").values) < 1e-10)


@pytest.mark.parametrize("mu", [0.1, 0.6])
def test_intrinsic_closed_form_rashba_ferromagnet(mu):
    """m = z: chi^int_xx = q h/(8 pi alpha) (1/|d(k_+)| - 1/|d(k_-)|), |d| = sqrt(alpha^2 k^2 + h^2), k_+- the
    Fermi momenta of the upper/lower band (1/|d(k_+)| -> 1/h inside the exchange gap); theory page."""
    from scipy.optimize import brentq

    alpha, h, mass, q = 0.5, 0.2, 1.0, -1.0
    d = lambda k: np.sqrt(alpha**2 * k**2 + h**2)  # noqa: E731
    k_minus = brentq(lambda k: k * k / (2 * mass) - d(k) - mu, 0, 50)
    upper = mu > h
    inv_plus = 1 / d(brentq(lambda k: k * k / (2 * mass) + d(k) - mu, 0, 50)) if upper else 1 / h
    exact = q * h / (8 * np.pi * alpha) * (inv_plus - 1 / d(k_minus))
    ds = bs.spin_density(bs.Rashba(mass, alpha, exchange=(0, 0, h)), mu, bs.DeltaCorrelated(0.01, 1.0), charge=q,
                         n_points=32)
    value = float(ds.chi.sel(contribution="intrinsic", component="sx", j="x"))
    assert value == pytest.approx(exact, rel=1e-9)
    assert abs(value - exact) <= float(ds.chi_error.sel(contribution="intrinsic", component="sx", j="x")) + 1e-15
