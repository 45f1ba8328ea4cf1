"""ScreenedCoulomb: U(q) = strength 2 pi/(|q| + q_TF), through every path that evaluates it."""

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad

import boltzspin as bs
from boltzspin.collisions import scattering as scattering_module
from boltzspin.collisions.disorder import PROFILE_SCREENED_COULOMB
from boltzspin.geometry.fermi import fermi_surface
from boltzspin.responses.response import CONTRIBUTIONS
from boltzspin.collisions.scattering import scattering

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from dense_reference import DENSE_CONTRIBUTIONS, dense_transport  # noqa: E402

RTOL = 1e-10
Q = -1.0
DENSITY, STRENGTH, SCREENING = 0.02, 0.7, 0.8
MODEL = bs.Rashba(1.0, 0.5, exchange=(0.02, -0.01, 0.1))
MU = 0.4
N_POINTS = 48


def coulomb_callable(q, strength=STRENGTH, screening=SCREENING):
    """The same U(q) as a generic matrix-valued callable (blocked NumPy path)."""
    f = strength * 2 * np.pi / (np.sqrt(np.sum(q**2, axis=-1)) + screening)
    return f[..., None, None] * np.eye(2)


def relative_disagreement(a, b, contributions):
    """Per contribution: max |a - b| / largest |element| of that contribution.

    Contributions that vanish (below 1e-12 of the largest element of any
    contribution) are scaled by that largest element instead.
    """
    big = max(max(np.abs(a[c]).max(), np.abs(b[c]).max()) for c in contributions)
    out = {}
    for c in contributions:
        scale = max(np.abs(a[c]).max(), np.abs(b[c]).max())
        scale = scale if scale > 1e-12 * big else big
        out[c] = float(np.abs(a[c] - b[c]).max() / scale)
    return out


def sigma_dict(ds, contributions):
    return {c: ds.sigma.sel(contribution=c).values for c in contributions}


def test_repr_and_u_of_q():
    d = bs.ScreenedCoulomb(0.01, 1.5, 0.3)
    assert repr(d) == "ScreenedCoulomb(density=0.01, strength=1.5, screening=0.3)"
    assert "ScreenedCoulomb" in bs.__all__
    q = np.array([[0.3, 0.4], [0.0, 0.0]])
    np.testing.assert_allclose(d.U(q)[0], 1.5 * 2 * np.pi / (0.5 + 0.3) * np.eye(2), rtol=1e-15)
    np.testing.assert_allclose(d.U(q)[1], 1.5 * 2 * np.pi / 0.3 * np.eye(2), rtol=1e-15)
    assert d.U(np.zeros((4, 3, 2)), n=3).shape == (4, 3, 3, 3)
    (ch,) = d.channels(MODEL)
    assert ch.kind == PROFILE_SCREENED_COULOMB == 2 and ch.parameter == 0.3
    assert ch.prefactor == pytest.approx(2 * np.pi * 0.01, rel=1e-15)
    np.testing.assert_array_equal(ch.matrix, 1.5 * np.eye(2))
    mix = d + bs.DeltaCorrelated(0.01, 1.0)
    assert "ScreenedCoulomb(density=0.01" in repr(mix) and len(mix.channels(MODEL)) == 2


@pytest.mark.parametrize(
    "args",
    [(0.0, 1.0, 1.0), (-0.1, 1.0, 1.0), (np.nan, 1.0, 1.0), (0.01, np.inf, 1.0), (0.01, np.nan, 1.0),
     (0.01, 1.0, 0.0), (0.01, 1.0, -1.0), (0.01, 1.0, np.inf), (0.01, "1", 1.0)],
)
def test_bad_parameters(args):
    with pytest.raises(bs.DisorderError):
        bs.ScreenedCoulomb(*args)


def test_operator_choice_never_sparse_or_lowrank(monkeypatch):
    fs = fermi_surface(MODEL, MU, 16)
    sz = MODEL.operators["sz"]
    d = bs.ScreenedCoulomb(DENSITY, STRENGTH, SCREENING)
    assert scattering(fs, d, MODEL, sz).methods == ["dense"]
    with pytest.raises(bs.DisorderError, match="supports Gaussian"):
        scattering(fs, d, MODEL, sz, method="sparse")
    with pytest.raises(bs.DisorderError, match="q-independent"):
        scattering(fs, d, MODEL, sz, method="lowrank")
    monkeypatch.setattr(scattering_module, "DENSE_LIMIT", fs.n_points - 1)
    assert scattering(fs, d, MODEL, sz).methods == ["onthefly"]


@pytest.mark.parametrize("method", ["dense", "onthefly"])
def test_numba_path_matches_generic_callable(method):
    fs = fermi_surface(MODEL, MU, N_POINTS)
    sz = MODEL.operators["sz"]
    fast = scattering(fs, bs.ScreenedCoulomb(DENSITY, STRENGTH, SCREENING), MODEL, sz, method=method)
    generic = scattering(fs, bs.Potential(DENSITY, coulomb_callable), MODEL, sz, method=method)
    assert fast.methods == [method]
    for a, b in [(fast.dense(), generic.dense()), (fast.side_jump_velocity, generic.side_jump_velocity),
                 (fast.side_jump_velocity_s, generic.side_jump_velocity_s)]:
        assert np.abs(a).max() > 0
        np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * np.abs(a).max())
    assert fast.kernel_asymmetry < 1e-14
    # the coordinate shift of a real scalar profile is that of the q-independent matrix
    # weighted by f^2 -- nonzero here because of the magnetized bands
    assert np.abs(fast.side_jump_velocity_s).max() > 1e-8


def test_transport_dense_onthefly_and_dense_reference_agree():
    d = bs.ScreenedCoulomb(DENSITY, STRENGTH, SCREENING)
    runs = {m: bs.transport(MODEL, MU, d, "sz", charge=Q, n_points=N_POINTS, method=m) for m in ("dense", "onthefly")}
    assert runs["dense"].attrs["collision_operator"] == "dense"
    assert runs["onthefly"].attrs["collision_operator"] == "onthefly"
    a, b = (sigma_dict(runs[m], CONTRIBUTIONS) for m in ("dense", "onthefly"))
    rel = relative_disagreement(a, b, CONTRIBUTIONS)
    assert max(rel.values()) < RTOL, rel
    ref = dense_transport(MODEL, MU, d, "sz", charge=Q, n_points=N_POINTS)
    rel = relative_disagreement(ref, sigma_dict(runs["dense"], DENSE_CONTRIBUTIONS), DENSE_CONTRIBUTIONS)
    assert max(rel.values()) < RTOL, rel
    for c in ("boltzmann", "side_jump", "anomalous_distribution"):
        assert np.abs(ref[c]).max() > 1e-6, c


def test_drude_single_parabolic_band_transport_time():
    r"""Isotropic single band: RTA is exact with the transport time.

    ``1/tau_tr = sum_p' w_p' K(theta) (1 - cos theta)`` with ``K = 2 pi n |U|^2`` and
    ``sum_p' w_p' -> m/(2 pi)^2 int dtheta``, so
    ``1/tau_tr = n m/(2 pi) int_0^{2pi} |U(2 k_F sin(theta/2))|^2 (1 - cos theta) dtheta``
    (the delta-correlated limit gives the usual ``n u0^2 m``), and
    ``sigma_xx = q^2 n_e tau_tr/m`` with ``n_e = m mu/(2 pi)``.

    On the uniform grid the discrete rate is the periodic trapezoidal rule of that
    integrand, whose ``|q|`` cusp at ``theta = 0`` (a ``c |theta|^3`` term,
    ``c = -(2 pi strength/q_TF)^2 k_F/q_TF``) limits it to ``O(h^4)``: by the
    generalized Euler-Maclaurin (Navot) expansion the sum exceeds the integral by
    ``2 zeta(-3) c h^4 = c h^4/60``, ``h = 2 pi/N``.  The plain comparison is
    checked to 1e-8, and with that leading correction to 1e-11.
    """
    mass, mu, n_imp, strength, screening, n_points = 0.8, 0.6, 0.02, 0.7, 2.0, 256
    model = bs.KPModel(lambda k: (np.sum(k**2, -1) / (2 * mass))[..., None, None] * np.ones((1, 1)),
                       velocity=lambda k: (k / mass)[..., None, None] * np.ones((1, 1)))
    ds = bs.transport(model, mu, bs.ScreenedCoulomb(n_imp, strength, screening), observable="charge",
                      charge=Q, n_points=n_points)
    k_f = np.sqrt(2 * mass * mu)

    def integrand(theta):
        u = strength * 2 * np.pi / (2 * k_f * np.sin(theta / 2) + screening)
        return u**2 * (1 - np.cos(theta))

    integral = quad(integrand, 0, 2 * np.pi, epsabs=0, epsrel=1e-13, limit=200)[0]
    h = 2 * np.pi / n_points
    cusp = -((2 * np.pi * strength / screening) ** 2) * k_f / screening
    n_e = mass * mu / (2 * np.pi)
    sig = ds.sigma.sel(contribution="total").values
    for integral_used, rtol in [(integral, 1e-8), (integral + cusp * h**4 / 60, 1e-11)]:
        tau_tr = 1 / (n_imp * mass / (2 * np.pi) * integral_used)
        drude = Q**2 * n_e * tau_tr / mass
        np.testing.assert_allclose(sig, drude * np.eye(2), rtol=rtol, atol=1e-13 * drude)
    np.testing.assert_allclose(sig, ds.sigma.sel(contribution="boltzmann").values, rtol=1e-14, atol=1e-14 * drude)


def test_dipole_change_identity_magnetized_rashba():
    ds = bs.transport(MODEL, MU, bs.ScreenedCoulomb(DENSITY, STRENGTH, SCREENING), "sz", charge=Q, n_points=64)
    dip = ds.sigma.sel(contribution="intrinsic_dipole").values
    assert np.abs(dip).max() > 1e-3
    np.testing.assert_allclose(ds.sigma.sel(contribution="dipole_change").values, -dip,
                               rtol=0, atol=RTOL * np.abs(dip).max())
