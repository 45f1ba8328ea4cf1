"""Third-order skew scattering: third moments, the antisymmetric rate, and its conductivity.

Closed form (derived on the theory page "Skew scattering", our conventions, hbar = 1):
massive Dirac ``H = v k.sigma + Delta sigma_z``, identical short-range impurities with
``<u^2>`` and ``<u^3>`` at density ``n``, ``e_F > |Delta|``, ``D = e_F^2 + 3 Delta^2``:

    sigma_yx(skew) = q^2 Delta (e_F^2 - Delta^2)^2 <u^3> / (2 pi n <u^2>^2 D^2)

(N. A. Sinitsyn et al., PRB 75, 045315 (2007): the ``V1^3 / (n_imp V0^4)`` scaling).
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import boltzspin as bs
from boltzspin.collisions.disorder import BinaryAlloy, StrengthDistribution
from boltzspin.collisions.skew import skew_scattering
from boltzspin.geometry.fermi import fermi_surface
from boltzspin.responses.response import CONTRIBUTIONS

from conftest import random_hermitian

SKEW = ("skew_scattering",)
Q = -1.0


def dirac_skew(delta, e_f, density, m2, m3, v=1.0, q=Q):
    d = e_f**2 + 3 * delta**2
    return q**2 * delta * (e_f**2 - delta**2) ** 2 * m3 / (2 * np.pi * density * m2**2 * d**2) / v**0


def sk(ds, i="y", j="x", name="sigma"):
    return float(ds[name].sel(contribution="skew_scattering", i=i, j=j))


# --- closed forms -------------------------------------------------------------------------

@pytest.mark.parametrize("delta, e_f, density, u", [(0.4, 1.0, 0.01, 1.0), (0.4, 1.0, 0.01, -1.0),
                                                    (-0.3, 0.8, 0.03, 0.5), (0.9, 1.0, 0.02, 2.0),
                                                    (0.1, 2.0, 0.005, 1.5)])
def test_massive_dirac_third_order_skew_equals_the_closed_form(delta, e_f, density, u):
    ds = bs.transport(bs.MassiveDirac(1.0, delta), e_f, bs.DeltaCorrelated(density, u), "charge", charge=Q,
                      n_points=64, scattering=SKEW)
    exact = dirac_skew(delta, e_f, density, u**2, u**3)
    assert sk(ds) == pytest.approx(exact, rel=1e-10)
    assert abs(sk(ds) - exact) <= sk(ds, name="sigma_error")  # the estimate bounds the true error
    assert sk(ds, "x", "y") == pytest.approx(-exact, rel=1e-10)  # isotropic: antisymmetric tensor
    assert abs(sk(ds, "x", "x")) < 1e-12 * abs(exact)  # no longitudinal skew part
    total = ds.sigma.sel(i="y", j="x")
    assert float(total.sel(contribution="total")) == pytest.approx(float(total.drop_sel(contribution="total").sum()))


def test_skew_scaling_is_third_moment_over_density_times_second_moment_squared():
    """``<u^2>`` and ``<u^3>`` varied independently: exactly ``<u^3>/(n <u^2>^2)``."""
    model = bs.MassiveDirac(1.0, 0.5)
    for density, m2, m3 in [(0.01, 1.0, 1.0), (0.02, 1.0, 1.0), (0.01, 2.0, 1.0), (0.01, 1.0, -3.0),
                            (0.04, 0.5, 0.2)]:
        ds = bs.transport(model, 1.2, StrengthDistribution(density, m2, m3), "charge", charge=Q, n_points=64,
                          scattering=SKEW)
        assert sk(ds) == pytest.approx(dirac_skew(0.5, 1.2, density, m2, m3), rel=1e-10)


def test_velocity_and_charge_enter_as_the_closed_form_says():
    for v, q in [(2.0, -1.0), (0.5, 2.0)]:
        ds = bs.transport(bs.MassiveDirac(v, 0.4), 1.0, bs.DeltaCorrelated(0.01, 1.0), "charge", charge=q,
                          n_points=64, scattering=SKEW)
        # k_F scales as 1/v but (v k_F) does not: sigma(skew) is independent of v
        assert sk(ds) == pytest.approx(dirac_skew(0.4, 1.0, 0.01, 1.0, 1.0, q=q), rel=1e-10)


def test_in_the_gap_there_is_no_skew_scattering():
    ds = bs.transport(bs.MassiveDirac(1.0, 0.4), 0.1, bs.DeltaCorrelated(0.01, 1.0), "charge", charge=Q,
                      n_points=64, scattering=SKEW)
    assert ds.attrs["state"] == "insulator" and sk(ds) == 0.0


def test_symmetric_binary_alloy_and_pure_exchange_impurities_have_no_third_order_skew():
    model = bs.MassiveDirac(1.0, 0.4)
    alloy = bs.transport(model, 1.0, BinaryAlloy(0.01, 1.0), "charge", charge=Q, n_points=64, scattering=SKEW)
    delta = bs.transport(model, 1.0, bs.DeltaCorrelated(0.01, 1.0), "charge", charge=Q, n_points=64, scattering=SKEW)
    assert sk(alloy) == 0.0 and sk(delta) > 1.0
    assert alloy.attrs["skew_operator"].startswith("none")
    # first-Born parts identical to the identical-impurity ones (same <u^2>)
    born = [c for c in CONTRIBUTIONS if c != "total"]
    np.testing.assert_allclose(alloy.sigma.sel(contribution=born), delta.sigma.sel(contribution=born), rtol=1e-12,
                               atol=1e-15)
    magnetic = bs.transport(bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.2)), 0.0, bs.MagneticImpurities(0.01, 0.5, 1.0),
                            "charge", charge=Q, n_points=64, scattering=SKEW)
    assert sk(magnetic, "x", "y") == 0.0


def test_born_output_is_unchanged_by_default():
    model, d = bs.MassiveDirac(1.0, 0.4), bs.DeltaCorrelated(0.01, 1.0)
    a = bs.transport(model, 1.0, d, "charge", charge=Q, n_points=64)
    b = bs.transport(model, 1.0, d, "charge", charge=Q, n_points=64, scattering="born")
    assert list(a.contribution.values) == list(CONTRIBUTIONS) == list(b.contribution.values)
    np.testing.assert_array_equal(a.sigma, b.sigma)
    assert a.attrs["scattering"] == "born"
    c = bs.transport(model, 1.0, d, "charge", charge=Q, n_points=64, scattering=SKEW)
    np.testing.assert_allclose(c.sigma.sel(contribution=list(CONTRIBUTIONS[:-1])),
                               a.sigma.sel(contribution=list(CONTRIBUTIONS[:-1])), rtol=0, atol=1e-15)


# --- the antisymmetric rate against a brute-force triple sum ------------------------------

def brute_force_rate(fs, matrices_list, weights):
    """``W^a[p', p] = sum_t c_t sum_p'' w_p'' Im(A_pp' B_p'p'' C_p''p)`` by explicit sums."""
    u = np.take_along_axis(fs.eigensystem.vectors, fs.band[:, None, None], axis=2)[:, :, 0]
    w = fs.weight
    total = np.zeros((len(w), len(w)))
    for c, (a, b, cc) in zip(weights, matrices_list):
        va, vb, vc = (u.conj() @ m @ u.T for m in (a, b, cc))
        prod = np.einsum("ij,jk,k,ki->ji", va, vb, w, vc)  # [p'=j, p=i]
        total += c * prod.imag
    return total


@settings(derandomize=True, deadline=None, max_examples=8)
@given(st.integers(0, 2**31 - 1))
def test_low_rank_dense_and_brute_force_rates_agree_for_random_matrices(seed):
    rng = np.random.default_rng(seed)
    model = bs.Rashba(rng.uniform(0.5, 2), rng.uniform(0.2, 0.8), dresselhaus=rng.uniform(-0.2, 0.2),
                      exchange=tuple(rng.normal(scale=0.05, size=3)))
    fs = fermi_surface(model, rng.uniform(0.2, 0.6), 24)
    m = random_hermitian(rng, 2)
    disorder = bs.DeltaCorrelated(rng.uniform(0.005, 0.05), rng.uniform(-2, 2), matrix=m)
    low = skew_scattering(fs, disorder, model, method="lowrank")
    dense = skew_scattering(fs, disorder, model, method="dense")
    mm = disorder.strength * m
    ref = brute_force_rate(fs, [(mm, mm, mm)], [(2 * np.pi) ** 2 * disorder.density])
    scale = np.abs(ref).max()
    assert scale > 0
    np.testing.assert_allclose(low.matrix(), ref, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(dense.matrix(), ref, rtol=0, atol=1e-12 * scale)
    # exact identities: antisymmetric for identical impurities, no antisymmetric out-scattering
    np.testing.assert_allclose(ref, -ref.T, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(fs.weight @ ref, 0.0, rtol=0, atol=1e-12 * scale * fs.weight.sum())
    # the operator is S_p[x] = sum_p' w_p' W^a_{pp'} x_p', in both forms
    x = rng.normal(size=(fs.n_points, 2))
    np.testing.assert_allclose(low.matvec(x), ref @ (fs.weight[:, None] * x), rtol=0,
                               atol=1e-12 * scale * fs.weight.sum() * np.abs(x).max())
    np.testing.assert_allclose(dense.matvec(x), low.matvec(x), rtol=0,
                               atol=1e-12 * scale * fs.weight.sum() * np.abs(x).max())


def test_magnetic_impurity_with_scalar_part_is_the_orientation_average():
    """The six orientations +-x, +-y, +-z average every moment up to the third exactly."""
    model = bs.Rashba(1.0, 0.5, exchange=(0.0, 0.0, 0.2))
    fs = fermi_surface(model, 0.05, 24)
    u0, j, spin, n = 0.7, 0.4, 1.5, 0.01
    species = bs.MagneticImpurities(n, j, spin, scalar=u0)
    mats, weights = [], []
    for axis in range(3):
        for sign in (1, -1):
            direction = np.zeros(3)
            direction[axis] = sign
            um = species.U(np.zeros((1, 2)), orientation=direction, model=model)[0]
            mats.append((um, um, um))
            weights.append((2 * np.pi) ** 2 * n / 6)
    ref = brute_force_rate(fs, mats, weights)
    got = skew_scattering(fs, species, model).matrix()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    assert np.abs(ref).max() > 0
    # and the first-Born channels are the orientation average of |V|^2 too
    from boltzspin.collisions.scattering import scattering
    kern = scattering(fs, species, model, model.operators["sz"]).dense()
    u = np.take_along_axis(fs.eigensystem.vectors, fs.band[:, None, None], axis=2)[:, :, 0]
    ref_k = sum(w / (2 * np.pi) * np.abs(u.conj() @ m[0] @ u.T) ** 2 for m, w in zip(mats, weights))  # 2 pi n/6
    np.testing.assert_allclose(kern, ref_k, rtol=1e-12, atol=1e-15)


def test_q_dependent_third_moments_dense_agree_with_an_explicit_potential():
    model = bs.MassiveDirac(1.0, 0.4)
    fs = fermi_surface(model, 1.0, 32)
    gauss = bs.GaussianCorrelated(0.01, 1.3, 0.7)
    pot = bs.Potential(0.01, lambda q: gauss.U(q, 2).astype(complex))
    a, b = skew_scattering(fs, gauss, model).matrix(), skew_scattering(fs, pot, model).matrix()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(a).max())
    with pytest.raises(bs.DisorderError, match="low-rank"):
        skew_scattering(fs, gauss, model, method="lowrank")


# --- identities and symmetries of the conductivity ----------------------------------------

@pytest.mark.parametrize("disorder", [
    bs.DeltaCorrelated(0.01, 1.0),
    bs.MagneticImpurities(0.01, 0.5, 1.0),
    bs.MagneticImpurities(0.01, 0.5, 1.0, scalar=1.0),
    bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(0.02, 0.3, 1.0, scalar=-0.7),
    bs.GaussianCorrelated(0.01, 1.0, 0.8),
], ids=["scalar", "magnetic", "scalar+magnetic site", "mixture", "gaussian"])
def test_rashba_null_result_survives_skew_scattering(disorder):
    ds = bs.transport(bs.Rashba(1.0, 0.5), 0.6, disorder, "sz", charge=Q, n_points=64, scattering=SKEW)
    unit = 1 / (8 * np.pi)
    total = ds.sigma.sel(contribution="total")
    assert np.abs(total).max() < 1e-12 * unit
    assert abs(sk(ds, "x", "y")) < 1e-12 * unit  # s_n = 0 on every Rashba state
    assert float(ds.sigma.sel(contribution="intrinsic_dipole", i="x", j="y")) == pytest.approx(-Q * unit)


@pytest.mark.parametrize("mu, disorder", [
    (0.0, bs.DeltaCorrelated(0.01, 1.0)),
    (0.1, bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(0.01, 0.4, 1.0, scalar=0.6)),
    (0.3, bs.GaussianCorrelated(0.02, 1.0, 0.6)),
])
def test_dipole_change_is_minus_the_dipole_part_with_the_full_rates(mu, disorder):
    model = bs.Rashba(1.0, 0.5, dresselhaus=0.1, exchange=(0.02, 0.0, 0.2))
    ds = bs.transport(model, mu, disorder, "sz", charge=Q, n_points=64, scattering=SKEW)
    dp, d = ds.sigma.sel(contribution="dipole_change"), ds.sigma.sel(contribution="intrinsic_dipole")
    scale = float(np.abs(d).max())
    assert scale > 1e-4 and np.abs(sk(ds, "x", "y")) > 1e-3
    np.testing.assert_allclose(dp, -d, rtol=0, atol=1e-10 * scale)


def test_skew_is_gauge_invariant_and_onsager_reciprocal():
    d = bs.DeltaCorrelated(0.01, 1.0) + bs.GaussianCorrelated(0.01, 0.5, 0.7)
    kw = dict(observable="charge", charge=Q, n_points=64, scattering=SKEW)
    plus = bs.transport(bs.MassiveDirac(1.0, 0.4), 1.0, d, **kw)
    gauge = bs.transport(bs.MassiveDirac(1.0, 0.4), 1.0, d, gauge_seed=3, **kw)
    np.testing.assert_allclose(gauge.sigma, plus.sigma, rtol=1e-10, atol=1e-14)
    # time reversal flips Delta: sigma_ij(Delta) = sigma_ji(-Delta)
    minus = bs.transport(bs.MassiveDirac(1.0, -0.4), 1.0, d, **kw)
    assert sk(minus, "x", "y") == pytest.approx(sk(plus, "y", "x"), rel=1e-10)
    # magnetized Rashba with a tilted exchange field: reciprocity with -h
    kw["n_points"] = 48
    h = (0.05, -0.03, 0.2)
    a = bs.transport(bs.Rashba(1.0, 0.5, exchange=h), 0.05, bs.DeltaCorrelated(0.01, 1.0), **kw)
    b = bs.transport(bs.Rashba(1.0, 0.5, exchange=tuple(-x for x in h)), 0.05, bs.DeltaCorrelated(0.01, 1.0), **kw)
    np.testing.assert_allclose(a.sigma.sel(contribution="skew_scattering").values,
                               b.sigma.sel(contribution="skew_scattering").values.T, rtol=1e-8, atol=1e-12)


def test_both_rashba_subbands_occupied_have_no_skew_scattering():
    """Borunda et al., PRL 99, 066604 (2007): for delta impurities the third-order skew AHE of the
    magnetized Rashba gas vanishes once both subbands are occupied; with one it does not."""
    model = bs.Rashba(1.0, 0.5, exchange=(0.0, 0.0, 0.2))
    d = bs.DeltaCorrelated(0.01, 1.0)
    one = bs.transport(model, 0.0, d, "charge", charge=Q, n_points=64, scattering=SKEW)
    both = bs.transport(model, 0.6, d, "charge", charge=Q, n_points=64, scattering=SKEW)
    assert abs(sk(one)) > 0.5
    assert abs(sk(both)) < 1e-12 * abs(sk(one))


def test_gaussian_skew_converges_and_its_error_estimate_bounds_the_error():
    model, d = bs.MassiveDirac(1.0, 0.4), bs.GaussianCorrelated(0.01, 1.0, 1.5)
    kw = dict(observable="charge", charge=Q, scattering=SKEW)
    reference = sk(bs.transport(model, 1.5, d, n_points=256, **kw))
    for n in (16, 32, 64):
        ds = bs.transport(model, 1.5, d, n_points=n, **kw)
        assert abs(sk(ds) - reference) <= sk(ds, name="sigma_error")
    assert abs(sk(ds) - reference) < 1e-10 * abs(reference)


def test_lattice_skew_converges_with_the_grid_within_its_estimate():
    model, d = bs.QiWuZhang(-1.0), bs.DeltaCorrelated(0.01, 1.0)
    fine = bs.transport(model, -2.0, d, "charge", charge=Q, n_points=192, scattering=SKEW)
    for g in (48, 96):
        ds = bs.transport(model, -2.0, d, "charge", charge=Q, n_points=g, scattering=SKEW)
        assert abs(sk(ds) - sk(fine)) <= sk(ds, name="sigma_error")
    assert abs(sk(fine)) > 0.1


def test_rashba3d_and_temperature_run_with_skew():
    ds = bs.transport(bs.Rashba3D(1.0, 0.5, 0.5, exchange=(0, 0, 0.3)), 0.2, bs.DeltaCorrelated(0.01, 1.0),
                      "charge", charge=Q, n_points=40, scattering=SKEW)
    assert "skew_scattering" in ds.contribution.values and abs(sk(ds, "x", "y")) > 0.01
    model, d = bs.MassiveDirac(1.0, 0.4), bs.DeltaCorrelated(0.01, 1.0)
    warm = bs.transport(model, 1.0, d, "charge", charge=Q, n_points=32, temperature=0.01, scattering=SKEW)
    exact = dirac_skew(0.4, 1.0, 0.01, 1.0, 1.0)
    # Sommerfeld: sigma(T) - sigma(0) = (pi^2/6) T^2 sigma''(mu) ~ 1e-4 relative here
    assert sk(warm) == pytest.approx(exact, rel=1e-3)
    assert "skew_scattering" in warm.alpha.contribution.values


# --- refusals -------------------------------------------------------------------------------

def test_bad_skew_inputs_are_refused_with_a_remedy():
    with pytest.raises(bs.DisorderError, match="negative variance"):
        StrengthDistribution(0.01, -1.0, 0.0)
    with pytest.raises(bs.DisorderError, match="second_moment"):
        StrengthDistribution(0.01, 0.0, 1.0)  # a third moment without a second
    with pytest.raises(bs.DisorderError, match="nonzero"):
        BinaryAlloy(0.01, 0.0)
    model, d = bs.MassiveDirac(1.0, 0.4), bs.DeltaCorrelated(0.01, 1.0)
    with pytest.raises(bs.ModelError, match="includes pair_skew.*skew_scattering"):
        bs.transport(model, 1.0, d, "charge", scattering="skew")
    with pytest.raises(bs.ModelError, match="not computed"):
        bs.transport(model, 1.0, d, "charge", scattering=("skew_scattering", "pair_skew"))
    with pytest.raises(bs.ModelError, match="not one of"):
        bs.transport(model, 1.0, d, "charge", scattering=("skew",))
    with pytest.raises(bs.ModelError, match="not 'born'"):
        bs.transport(model, 1.0, d, "charge", scattering="third")

    class Custom(bs.DeltaCorrelated):
        third_moments = bs.collisions.disorder.Disorder.third_moments

    with pytest.raises(bs.DisorderError, match="third moment"):
        bs.transport(model, 1.0, Custom(0.01, 1.0), "charge", scattering=SKEW)
    assert bs.transport(model, 1.0, Custom(0.01, 1.0), "charge", n_points=16).attrs["scattering"] == "born"


def test_a_dense_skew_operator_that_cannot_fit_is_refused_before_allocating():
    model = bs.MassiveDirac(1.0, 0.4)
    with bs.resources.budget(memory_gib=0.5):
        with pytest.raises(bs.ResourceError, match="skew scattering"):
            bs.transport(model, 1.0, bs.GaussianCorrelated(0.01, 1.0, 1.0), "charge", n_points=2048,
                         method="onthefly", scattering=SKEW)
