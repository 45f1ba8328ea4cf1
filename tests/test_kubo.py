"""boltzspin.kubo: the disorder-averaged Kubo-Streda reference against closed forms and boltzspin.transport."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import boltzspin as bs
from boltzspin.responses import kubo as K

from conftest import random_hermitian

Q = -1.0
FAST = {"n_angles": 16, "order": 12}  # isotropic models: the angular integrands are low trigonometric polynomials


def yx(ds, c="total"):
    return float(ds.sigma.sel(contribution=c, i="y", j="x"))


def parabolic(mass):
    return bs.KPModel(lambda k: (np.sum(k**2, -1) / (2 * mass))[..., None, None] * np.ones((1, 1)),
                      velocity=lambda k: (k / mass)[..., None, None] * np.ones((1, 1)), name="parabolic")


def single_band_sxx(mu, gamma, q=Q):
    """Exact bubble of one parabolic band with the constant broadening Gamma (any Gamma, any mass)."""
    s = mu * (2 * mu / (mu**2 + gamma**2) + (2 / gamma) * (np.arctan(mu / gamma) + np.pi / 2))
    return q**2 / (8 * np.pi**2) * (s + 2 * gamma**2 / (mu**2 + gamma**2))


def dirac_targets(e_f, gap, v, n_imp, u0):
    x = (e_f**2 - gap**2) / (e_f**2 + 3 * gap**2)
    sxx = Q**2 * v**2 * (e_f**2 - gap**2) / (np.pi * n_imp * u0**2 * (e_f**2 + 3 * gap**2))
    ladder = gap / (4 * np.pi * e_f) * (1 + 4 * x + 3 * x**2)
    return sxx, ladder, x


# ------------------------------------------------------------------------------------------------
# the Fermi-sea energy integral in closed form
# ------------------------------------------------------------------------------------------------

@settings(derandomize=True, max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31), mu=st.floats(-2.0, 2.0), n=st.sampled_from([2, 3]),
       near_degenerate=st.booleans())
def test_sea_closed_form_equals_energy_quadrature(seed, mu, n, near_degenerate):
    """(1/2pi) Re int_{-inf}^{mu} Tr[J R j R' - J R' j R] de from eigenvalues of H - i Gamma vs scipy.quad."""
    rng = np.random.default_rng(seed)
    h = random_hermitian(rng, n)
    if near_degenerate:  # eigenvalues 1e-3 apart: the series branch of Phi
        w, u = np.linalg.eigh(h)
        w[1] = w[0] + 1e-3
        h = (u * w) @ u.conj().T
    a = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    gamma = 0.05 * a @ a.conj().T + 0.01 * np.eye(n)
    o1 = np.stack([random_hermitian(rng, n) for _ in range(2)])
    o2 = np.stack([random_hermitian(rng, n) for _ in range(2)])
    got = K._fermi_sea(h[None], gamma, mu, o2[None], o1[None])[0]

    def f(e, i, j):
        r = np.linalg.inv(e * np.eye(n) - h + 1j * gamma)
        rp = -r @ r
        return np.real(np.trace(o1[i] @ r @ o2[j] @ rp - o1[i] @ rp @ o2[j] @ r)) / (2 * np.pi)

    for i in range(2):
        for j in range(2):
            lo = min(np.linalg.eigvalsh(h).min(), mu) - 5
            ref = quad(f, -np.inf, lo, args=(i, j), epsabs=1e-12, epsrel=1e-10, limit=200)[0]
            ref += quad(f, lo, mu, args=(i, j), epsabs=1e-12, epsrel=1e-10, limit=400,
                        points=np.linalg.eigvalsh(h)[np.linalg.eigvalsh(h) < mu])[0]
            assert got[i, j] == pytest.approx(ref, rel=1e-7, abs=1e-9)


# ------------------------------------------------------------------------------------------------
# one parabolic band: exact at any disorder
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mass,mu,n_imp,u0", [(0.8, 0.6, 0.05, 0.7), (1.3, 0.2, 0.3, 1.0)])
def test_single_band_exact_at_finite_disorder(mass, mu, n_imp, u0):
    ds = bs.kubo.conductivity(parabolic(mass), mu, bs.DeltaCorrelated(n_imp, u0), charge=Q, **FAST)
    gamma = n_imp * u0**2 * mass / 2  # pi n u0^2 rho, rho = m / (2 pi)
    assert ds.gamma.values[0, 0].real == pytest.approx(gamma, rel=1e-12)
    exact = single_band_sxx(mu, gamma)
    sig = ds.sigma.sel(contribution="total")
    assert float(sig.sel(i="x", j="x")) == pytest.approx(exact, rel=1e-10)
    assert float(sig.sel(i="y", j="y")) == pytest.approx(exact, rel=1e-10)
    assert abs(float(sig.sel(i="x", j="y"))) < 1e-12 * exact
    # scalar disorder and one band: no vertex correction, no Streda term
    assert np.all(np.abs(ds.sigma.sel(contribution=["ladder", "fermi_sea"])) < 1e-12 * exact)
    assert float(ds.sigma_error.sel(contribution="total", i="x", j="x")) < 1e-9 * exact


def test_error_estimate_bounds_true_error_at_low_resolution():
    mass, mu, n_imp, u0 = 0.8, 0.6, 0.02, 0.7
    gamma = n_imp * u0**2 * mass / 2
    exact = single_band_sxx(mu, gamma)
    for order in (6, 7, 8):
        ds = bs.kubo.conductivity(parabolic(mass), mu, bs.DeltaCorrelated(n_imp, u0), n_angles=8, order=order)
        err = abs(float(ds.sigma.sel(contribution="total", i="x", j="x")) - exact)
        est = float(ds.sigma_error.sel(contribution="total", i="x", j="x"))
        assert err <= est, (order, err, est)
        assert est < 1e-3 * exact  # and the estimate is not vacuous
    # Dirac in the gap (no Fermi surface; Fermi-sea tail to the cutoff): exact sign(gap)/(4 pi)
    for cutoff in (20.0, 200.0):
        ds = bs.kubo.conductivity(bs.MassiveDirac(1.0, 0.3), 0.1, bs.DeltaCorrelated(0.1, 1.0), n_angles=8,
                                  order=6, cutoff=cutoff)
        err = abs(yx(ds) - 1 / (4 * np.pi))
        assert err <= float(ds.sigma_error.sel(contribution="total", i="y", j="x")), cutoff


def test_self_consistent_born_fixed_point():
    """One parabolic band: Gamma = (n u0^2 m / 2 pi) (pi/2 + arctan(mu/Gamma)) (Lorentzian-broadened DOS)."""
    mass, mu, n_imp, u0 = 1.0, 0.3, 0.2, 1.0
    ds = bs.kubo.conductivity(parabolic(mass), mu, bs.DeltaCorrelated(n_imp, u0), self_consistent=True, **FAST)
    g = ds.gamma.values[0, 0].real
    assert g == pytest.approx(n_imp * u0**2 * mass / (2 * np.pi) * (np.pi / 2 + np.arctan(mu / g)), rel=1e-9)
    assert g < n_imp * u0**2 * mass / 2  # the band edge's missing states below
    assert float(ds.sigma.sel(contribution="total", i="x", j="x")) == pytest.approx(single_band_sxx(mu, g),
                                                                                      rel=1e-8)


# ------------------------------------------------------------------------------------------------
# massive Dirac: Sinitsyn et al. PRB 75, 045315 (2007)
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gap", [0.3, -0.2])
def test_dirac_in_gap_half_quantized(gap):
    for diagrams in ("bubble", "ladder"):
        ds = bs.kubo.conductivity(bs.MassiveDirac(0.7, gap), 0.1, bs.DeltaCorrelated(0.1, 1.0), diagrams=diagrams,
                                  **FAST)
        target = np.sign(gap) / (4 * np.pi)
        err = float(ds.sigma_error.sel(contribution="total", i="y", j="x"))
        assert abs(yx(ds) - target) <= err and err < 1e-4 * abs(target)
        assert yx(ds, "fermi_sea") == yx(ds)
        assert np.all(ds.sigma.sel(contribution="bubble") == 0) and np.all(ds.gamma == 0)
        assert float(ds.sigma.sel(contribution="total", i="x", j="y")) == pytest.approx(-target, rel=1e-12)


def test_dirac_cutoff_independence():
    """The result at cutoff Lambda and at 1e4 x the model's extent agree within the errors."""
    model, dis = bs.MassiveDirac(1.0, 0.3), bs.DeltaCorrelated(0.1, 1.0)
    runs = [bs.kubo.conductivity(model, 0.5, dis, cutoff=c, **FAST) for c in (30.0, 300.0, None)]
    for a in runs:
        for b in runs:
            diff = np.abs(a.sigma.sel(contribution="total") - b.sigma.sel(contribution="total"))
            bound = a.sigma_error.sel(contribution="total") + b.sigma_error.sel(contribution="total")
            assert np.all(diff <= bound)
    assert float(runs[-1].sigma_error.sel(contribution="total", i="y", j="x")) < 1e-4 * abs(yx(runs[-1]))
    assert runs[-1].attrs["cutoff"] > 1e3


def test_dirac_weak_disorder_limit_sxx_and_ladder_hall():
    v, gap, e_f, n_imp, u0 = 1.0, 0.3, 0.5, 0.1, 1.0
    sxx, ladder, x = dirac_targets(e_f, gap, v, n_imp, u0)
    model, dis = bs.MassiveDirac(v, gap), bs.DeltaCorrelated(n_imp, u0)
    ds = bs.kubo.clean_limit(model, e_f, dis, observable="charge", charge=Q, diagrams="ladder", **FAST)
    a = ds.inverse_density_term.sel(i="x", j="x")
    a_err = float(ds.inverse_density_term_error.sel(i="x", j="x"))
    assert abs(float(a) - sxx) <= a_err and a_err < 1e-7 * sxx
    tr = bs.transport(model, e_f, dis, observable="charge", charge=Q, n_points=64)
    assert abs(float(a) - float(tr.sigma.sel(contribution="boltzmann", i="x", j="x"))) <= a_err
    # the ladder anomalous Hall conductivity, sigma_yx (same sign convention as transport's first-Born parts)
    hall, hall_err = float(ds.sigma.sel(i="y", j="x")), float(ds.sigma_error.sel(i="y", j="x"))
    assert abs(hall - ladder) <= hall_err and hall_err < 1e-5 * ladder
    first_born = sum(float(tr.sigma.sel(contribution=c, i="y", j="x"))
                     for c in ("intrinsic_berry", "side_jump", "anomalous_distribution"))
    assert first_born == pytest.approx(gap / (4 * np.pi * e_f) * (1 + 4 * x), rel=1e-9)
    # ladder - first Born = the intrinsic skew scattering 3x^2 Delta/(4 pi e_F), far outside the error
    assert hall - first_born == pytest.approx(3 * x**2 * gap / (4 * np.pi * e_f), abs=2 * hall_err)
    assert abs(float(ds.inverse_density_term.sel(i="y", j="x"))) <= float(
        ds.inverse_density_term_error.sel(i="y", j="x"))
    cmp = bs.kubo.compare(ds, tr)
    assert float(cmp.difference.sel(i="y", j="x")) == pytest.approx(hall - float(tr.sigma.sel(
        contribution="total", i="y", j="x")), rel=1e-12)
    assert not bool(cmp.agree.sel(i="y", j="x"))  # the intrinsic skew term is beyond first Born
    assert bool(cmp.inverse_density_agree.all())
    assert float(cmp.inverse_density_difference_error.sel(i="x", j="x")) < 1e-7 * sxx
    # with boltzspin's fourth-order intrinsic skew scattering (Gaussian disorder: binary alloy) the totals agree
    isk = bs.transport(model, e_f, bs.BinaryAlloy(n_imp, u0), observable="charge", charge=Q, n_points=64,
                       scattering=("intrinsic_skew",))
    assert bool(bs.kubo.compare(ds, isk).agree.sel(i="y", j="x"))


@pytest.mark.slow
def test_dirac_self_consistent_born_same_weak_disorder_limit():
    """Self-consistency changes Gamma at relative O(n_imp log cutoff): A_xx and the Hall B are unchanged.

    With self-consistent Born the vertex equation is exactly singular (Ward identity); the
    minimum-norm solution is used."""
    v, gap, e_f, n_imp, u0 = 1.0, 0.3, 0.5, 0.1, 1.0
    sxx, ladder, _ = dirac_targets(e_f, gap, v, n_imp, u0)
    ds = bs.kubo.clean_limit(bs.MassiveDirac(v, gap), e_f, bs.DeltaCorrelated(n_imp, u0), self_consistent=True,
                             **FAST)
    assert ds.attrs["self_consistent_iterations"] > 1
    a_err = float(ds.inverse_density_term_error.sel(i="x", j="x"))
    assert abs(float(ds.inverse_density_term.sel(i="x", j="x")) - sxx) <= a_err and a_err < 1e-6 * sxx
    err = float(ds.sigma_error.sel(i="y", j="x"))
    assert abs(float(ds.sigma.sel(i="y", j="x")) - ladder) <= err and err < 1e-4 * ladder


# ------------------------------------------------------------------------------------------------
# Rashba
# ------------------------------------------------------------------------------------------------

def test_rashba_conventional_spin_hall_vanishes_with_ladder():
    """Inoue, Bauer, Molenkamp PRB 70, 041303 (2004): the vertex correction cancels the intrinsic value."""
    model, dis, mu = bs.Rashba(1.0, 0.5), bs.DeltaCorrelated(0.05, 1.0), 0.6
    tr = bs.transport(model, mu, dis, observable="sz", charge=Q, n_points=64)
    intrinsic = float(tr.sigma_conventional_intrinsic.sel(i="x", j="y"))
    assert intrinsic == pytest.approx(Q / (8 * np.pi), rel=1e-10)
    ladder = bs.kubo.clean_limit(model, mu, dis, observable="sz", diagrams="ladder", **FAST)
    err = float(ladder.sigma_error.sel(i="x", j="y"))
    assert abs(float(ladder.sigma.sel(i="x", j="y"))) <= err and err < 1e-6 * abs(intrinsic)
    # at finite disorder: bubble ~ intrinsic, vertex correction ~ -intrinsic
    one = bs.kubo.conductivity(model, mu, dis, observable="sz", **FAST)
    assert float(one.sigma.sel(contribution="bubble", i="x", j="y")) == pytest.approx(intrinsic, rel=0.01)
    assert float(one.sigma.sel(contribution="ladder", i="x", j="y")) == pytest.approx(-intrinsic, rel=0.05)


@pytest.mark.slow
def test_rashba_below_band_crossing_spin_hall_null_and_sxx():
    """mu below the band crossing (an annulus of the lower band): sxx = Boltzmann, ladder spin Hall = 0."""
    model, dis, mu = bs.Rashba(1.0, 0.5), bs.DeltaCorrelated(0.02, 1.0), -0.05
    tr = bs.transport(model, mu, dis, observable="charge", charge=Q, n_points=128)
    boltz = float(tr.sigma.sel(contribution="boltzmann", i="x", j="x"))
    ds = bs.kubo.clean_limit(model, mu, dis, observable="charge", charge=Q, **FAST)
    a_err = float(ds.inverse_density_term_error.sel(i="x", j="x"))
    assert abs(float(ds.inverse_density_term.sel(i="x", j="x")) - boltz) <= a_err and a_err < 1e-6 * boltz
    spin = bs.kubo.clean_limit(model, mu, dis, observable="sz", charge=Q, **FAST)
    err = float(spin.sigma_error.sel(i="x", j="y"))
    assert abs(float(spin.sigma.sel(i="x", j="y"))) <= err and err < 1e-4 / (8 * np.pi)


@pytest.mark.slow
def test_rashba_conventional_spin_hall_bubble_is_intrinsic():
    model, dis, mu = bs.Rashba(1.0, 0.5), bs.DeltaCorrelated(0.05, 1.0), 0.6
    tr = bs.transport(model, mu, dis, observable="sz", charge=Q, n_points=64)
    intrinsic = float(tr.sigma_conventional_intrinsic.sel(i="x", j="y"))
    bubble = bs.kubo.clean_limit(model, mu, dis, observable="sz", diagrams="bubble", **FAST)
    err = float(bubble.sigma_error.sel(i="x", j="y"))
    assert abs(float(bubble.sigma.sel(i="x", j="y")) - intrinsic) <= err and err < 1e-5 * abs(intrinsic)


@pytest.mark.parametrize("model,disorder", [
    (bs.Rashba(1.0, 0.5), bs.DeltaCorrelated(0.05, 1.0)),
    pytest.param(bs.Rashba(1.0, 0.5), bs.MagneticImpurities(0.05, 0.7, 1.0), marks=pytest.mark.slow),
    pytest.param(bs.Rashba(1.0, 0.5, dresselhaus=0.2), bs.DeltaCorrelated(0.05, 1.0), marks=pytest.mark.slow),
], ids=["delta", "magnetic", "rashba-dresselhaus"])
def test_rashba_sxx_weak_disorder_limit_equals_boltzmann(model, disorder):
    mu = 0.6
    options = FAST if model.dresselhaus == 0 else {}  # the anisotropic model needs the default 64 angles
    ds = bs.kubo.clean_limit(model, mu, disorder, observable="charge", charge=Q, **options)
    tr = bs.transport(model, mu, disorder, observable="charge", charge=Q, n_points=128)
    for i, j in (("x", "x"), ("y", "y"), ("x", "y")):
        boltz = float(tr.sigma.sel(contribution="boltzmann", i=i, j=j))
        a = float(ds.inverse_density_term.sel(i=i, j=j))
        a_err = float(ds.inverse_density_term_error.sel(i=i, j=j))
        assert abs(a - boltz) <= a_err + float(tr.sigma_error.sel(contribution="boltzmann", i=i, j=j))
        assert a_err < 1e-6 * float(tr.sigma.sel(contribution="boltzmann", i="x", j="x"))


# ------------------------------------------------------------------------------------------------
# conventions and refusals
# ------------------------------------------------------------------------------------------------

def test_charge_conventions():
    model, dis = bs.MassiveDirac(1.0, 0.3), bs.DeltaCorrelated(0.1, 1.0)
    a = bs.kubo.conductivity(model, 0.5, dis, charge=-1.0, **FAST)
    b = bs.kubo.conductivity(model, 0.5, dis, charge=2.0, **FAST)
    np.testing.assert_allclose(b.sigma.values, 4 * a.sigma.values, rtol=1e-12, atol=1e-15)
    c = bs.kubo.conductivity(model, 0.5, dis, observable=-1.0 * np.eye(2), charge=-1.0, **FAST)
    np.testing.assert_allclose(c.sigma.values, a.sigma.values, rtol=1e-12, atol=1e-15)
    s = bs.kubo.conductivity(model, 0.5, dis, observable="sz", charge=2.0, **FAST)
    t = bs.kubo.conductivity(model, 0.5, dis, observable="sz", charge=-1.0, **FAST)
    np.testing.assert_allclose(s.sigma.values, -2 * t.sigma.values, rtol=1e-12, atol=1e-15)
    assert list(a.sigma.dims) == ["contribution", "i", "j"]
    assert list(a.contribution.values) == ["bubble", "ladder", "fermi_sea", "total"]
    for key in ("units", "charge", "observable", "current", "diagrams", "cutoff", "model", "disorder"):
        assert key in a.attrs
    assert a.attrs["charge"] == -1.0 and a.attrs["observable"] == "charge"
    np.testing.assert_allclose(a.sigma.sel(contribution="total"), a.sigma.sel(
        contribution=["bubble", "ladder", "fermi_sea"]).sum("contribution"), rtol=1e-14)
    bub = bs.kubo.conductivity(model, 0.5, dis, diagrams="bubble", **FAST)
    assert list(bub.contribution.values) == ["bubble", "fermi_sea", "total"]


@pytest.mark.parametrize("kwargs,error,match", [
    ({"current": "conserved"}, bs.ModelError, "not implemented"),
    ({"diagrams": "all"}, bs.ModelError, "crossed"),
    ({"diagrams": "crossed"}, bs.ModelError, "must be"),
    ({"n_angles": 7}, bs.ModelError, "n_angles"),
    ({"cutoff": -1.0}, bs.ModelError, "cutoff"),
    ({"disorder": bs.GaussianCorrelated(0.1, 1.0, 1.0)}, bs.DisorderError, "momentum-independent"),
    ({"model": bs.QiWuZhang(1.0)}, bs.ModelError, "continuum"),
])
def test_refusals(kwargs, error, match):
    args = {"model": bs.MassiveDirac(1.0, 0.3), "mu": 0.5, "disorder": bs.DeltaCorrelated(0.1, 1.0)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        bs.kubo.conductivity(**args)
    with pytest.raises(bs.ModelError, match="factors"):
        bs.kubo.clean_limit(bs.MassiveDirac(1.0, 0.3), 0.5, bs.DeltaCorrelated(0.1, 1.0), factors=(1.0, 0.5))


@pytest.mark.slow
@settings(derandomize=True, max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_random_two_band_kp_sxx_equals_boltzmann(seed):
    """H = k^2/2m + sum_ia c_ia k_i sigma_a + h.sigma with random c, h (no symmetry): the 1/n_imp term of the
    Kubo conductivity tensor equals boltzspin's Boltzmann contribution."""
    rng = np.random.default_rng(seed)
    c = 0.3 * rng.normal(size=(2, 3))
    h = 0.1 * rng.normal(size=3)
    pauli = np.array(bs.models.continuum.PAULI)

    def ham(k):
        kin = np.sum(k**2, -1)[..., None, None] / 2 * np.eye(2)
        return kin + np.einsum("...i,ia,abc->...bc", k, c, pauli) + np.einsum("a,abc->bc", h, pauli)

    def vel(k):
        return (k[..., :, None, None] * np.eye(2) + np.einsum("ia,abc->ibc", c, pauli)
                + 0 * k[..., :, None, None])

    model = bs.KPModel(ham, velocity=vel, operators={"sz": pauli[2] / 2}, name="random")
    mu, dis = 1.0, bs.DeltaCorrelated(0.05, 1.0)
    ds = bs.kubo.clean_limit(model, mu, dis, observable="charge", charge=Q)
    tr = bs.transport(model, mu, dis, observable="charge", charge=Q, n_points=128)
    scale = float(tr.sigma.sel(contribution="boltzmann", i="x", j="x"))
    for i in ("x", "y"):
        for j in ("x", "y"):
            a = float(ds.inverse_density_term.sel(i=i, j=j))
            a_err = float(ds.inverse_density_term_error.sel(i=i, j=j))
            boltz = float(tr.sigma.sel(contribution="boltzmann", i=i, j=j))
            assert abs(a - boltz) <= a_err + float(tr.sigma_error.sel(contribution="boltzmann", i=i, j=j))
            assert a_err < 1e-5 * scale


def test_refuses_fermi_pockets_off_the_origin():
    """A Fermi line not enclosing k = 0 (shifted parabolic band) is refused, not integrated badly."""
    model = bs.KPModel(lambda k: (np.sum((k - np.array([2.0, 0.0]))**2, -1) / 2)[..., None, None] * np.ones((1, 1)),
                       velocity=lambda k: (k - np.array([2.0, 0.0]))[..., None, None] * np.ones((1, 1)),
                       name="shifted")
    with pytest.raises(bs.FermiSurfaceError, match="enclose k = 0"):
        bs.kubo.conductivity(model, 0.5, bs.DeltaCorrelated(0.05, 1.0), **FAST)


# ------------------------------------------------------------------------------------------------
# magnetized Rashba: anomalous Hall effect, Kubo ladder vs Boltzmann with intrinsic skew scattering
# ------------------------------------------------------------------------------------------------

MAG_RASHBA = dict(mass=1.0, alpha=0.5, exchange=(0.0, 0.0, 0.2))
GAUSSIAN = bs.BinaryAlloy(0.02, 1.0)  # Born rates of DeltaCorrelated(0.02, 1), no third moment


def _mag_rashba_pair(mu, diagrams="ladder"):
    p = MAG_RASHBA
    model = bs.Rashba(p["mass"], p["alpha"], exchange=p["exchange"])
    kubo = bs.kubo.clean_limit(model, mu, GAUSSIAN, observable="charge", charge=Q, diagrams=diagrams, **FAST)
    tr = bs.transport(model, mu, GAUSSIAN, observable="charge", charge=Q, n_points=128,
                      scattering=("intrinsic_skew",))
    return kubo, tr


def _tr(tr, c, i="y", j="x"):
    return float(tr.sigma.sel(contribution=c, i=i, j=j)), float(tr.sigma_error.sel(contribution=c, i=i, j=j))


@pytest.mark.parametrize("mu", [0.0, 0.6], ids=["one_subband", "two_subbands"])
def test_magnetized_rashba_ladder_hall_equals_boltzmann_with_intrinsic_skew(mu):
    """Rashba(1, 0.5, exchange=(0, 0, 0.2)) with Gaussian disorder (symmetric binary alloy): the ladder Kubo
    sigma_yx equals boltzspin's total with scattering=('intrinsic_skew',) (intrinsic + side jump + dipole change +
    anomalous distribution + intrinsic skew); without the intrinsic skew term it does not (one subband).  With
    both subbands occupied both vanish (Nunner et al., PRB 76, 235312 (2007)).  sigma_xx's 1/n_imp term equals
    the Boltzmann contribution."""
    kubo, tr = _mag_rashba_pair(mu)
    k, k_err = float(kubo.sigma.sel(i="y", j="x")), float(kubo.sigma_error.sel(i="y", j="x"))
    total, total_err = _tr(tr, "total")
    assert abs(k - total) <= k_err + total_err
    assert k_err < 1e-5 * abs(_tr(tr, "intrinsic_berry")[0])
    cmp = bs.kubo.compare(kubo, tr)
    assert bool(cmp.agree.sel(i="y", j="x")) and bool(cmp.inverse_density_agree.sel(i="x", j="x"))
    if mu == 0.0:
        first_born = total - _tr(tr, "intrinsic_skew")[0]
        assert abs(k - first_born) > 100 * (k_err + total_err)
    else:
        assert abs(k) <= k_err and abs(total) <= total_err


@pytest.mark.slow
@pytest.mark.parametrize("mu", [0.0, 0.6], ids=["one_subband", "two_subbands"])
def test_magnetized_rashba_bubble_and_vertex_classes(mu):
    """Class by class.  Both subbands occupied (spin-independent Born broadening): the bare bubble is the
    intrinsic (Berry) term and the ladder vertex correction is side jump + dipole change + anomalous
    distribution + intrinsic skew.  One subband: the broadening has a sigma_z part, and the bubble already
    contains part of the extrinsic terms (bubble != intrinsic); only the totals map."""
    bubble, tr = _mag_rashba_pair(mu, diagrams="bubble")
    ladder, _ = _mag_rashba_pair(mu)
    b, b_err = float(bubble.sigma.sel(i="y", j="x")), float(bubble.sigma_error.sel(i="y", j="x"))
    lad, lad_err = float(ladder.sigma.sel(i="y", j="x")), float(ladder.sigma_error.sel(i="y", j="x"))
    intr, intr_err = _tr(tr, "intrinsic_berry")
    extrinsic = sum(_tr(tr, c)[0] for c in ("side_jump", "dipole_change", "anomalous_distribution", "intrinsic_skew"))
    ext_err = sum(_tr(tr, c)[1] for c in ("side_jump", "dipole_change", "anomalous_distribution", "intrinsic_skew"))
    if mu == 0.6:
        assert abs(b - intr) <= b_err + intr_err
        assert abs((lad - b) - extrinsic) <= lad_err + b_err + ext_err
    else:
        assert abs(b - intr) > 100 * (b_err + intr_err)


def _random_one_subband_model(seed):
    """H = k^2/2 + (c^T k + h).sigma with random anisotropic c (2 x 3) and h mostly normal to the plane of c's
    rows: h_perp opens a gap at the band touching, so mu = 0 has one subband occupied, around k = 0."""
    rng = np.random.default_rng(seed)
    c = 0.3 * rng.normal(size=(2, 3))
    normal = np.cross(c[0], c[1])
    normal /= np.linalg.norm(normal)
    h = rng.uniform(0.15, 0.3) * rng.choice([-1, 1]) * normal \
        + 0.05 * rng.normal(size=2) @ (c / np.linalg.norm(c, axis=1, keepdims=True))
    pauli = np.array(bs.models.continuum.PAULI)

    def ham(k):
        kin = np.sum(k**2, -1)[..., None, None] / 2 * np.eye(2)
        return kin + np.einsum("...i,ia,abc->...bc", k, c, pauli) + np.einsum("a,abc->bc", h, pauli)

    def vel(k):
        return k[..., :, None, None] * np.eye(2) + np.einsum("ia,abc->ibc", c, pauli) + 0 * k[..., :, None, None]

    return bs.KPModel(ham, velocity=vel, name="random")


@pytest.mark.slow
@settings(derandomize=True, max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_random_two_band_kp_hall_equals_boltzmann_with_intrinsic_skew(seed):
    """Random anisotropic magnetized 2-band k.p models, one subband occupied, Gaussian disorder (binary alloy):
    the 1/n_imp term of the Kubo tensor equals the Boltzmann contribution, and the Hall (antisymmetric) part of
    the weak-disorder limit equals boltzspin's total with intrinsic skew scattering; the first-Born total misses
    it.  (The symmetric n_imp^0 term is not universal: it depends on the treatment of the self-energy.)"""
    model, mu, dis = _random_one_subband_model(seed), 0.0, bs.BinaryAlloy(0.05, 1.0)
    ds = bs.kubo.clean_limit(model, mu, dis, observable="charge", charge=Q)
    tr = bs.transport(model, mu, dis, observable="charge", charge=Q, n_points=128, scattering=("intrinsic_skew",))
    scale = float(tr.sigma.sel(contribution="boltzmann", i="x", j="x"))
    for i in ("x", "y"):
        for j in ("x", "y"):
            a = float(ds.inverse_density_term.sel(i=i, j=j))
            a_err = float(ds.inverse_density_term_error.sel(i=i, j=j))
            boltz, boltz_err = _tr(tr, "boltzmann", i, j)
            assert abs(a - boltz) <= a_err + boltz_err
            assert a_err < 1e-5 * scale

    def hall(x):
        return 0.5 * (float(x.sel(i="x", j="y")) - float(x.sel(i="y", j="x")))

    def hall_err(x):
        return 0.5 * (float(x.sel(i="x", j="y")) + float(x.sel(i="y", j="x")))

    kubo, kubo_err = hall(ds.sigma), hall_err(ds.sigma_error)
    total = hall(tr.sigma.sel(contribution="total"))
    total_err = hall_err(tr.sigma_error.sel(contribution="total"))
    first_born = total - hall(tr.sigma.sel(contribution="intrinsic_skew"))
    intrinsic = hall(tr.sigma.sel(contribution="intrinsic_berry"))
    assert abs(kubo - total) <= kubo_err + total_err
    assert kubo_err < 1e-3 * abs(intrinsic)
    assert abs(kubo - first_born) > 100 * (kubo_err + total_err)
