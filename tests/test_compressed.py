"""The compressed (Chebyshev-separable) collision operator for Gaussian-correlated disorder."""

import numpy as np
import pytest
from hypothesis import given, reject, settings, strategies as st

import boltzspin as bs
from boltzspin.collisions import compressed
from boltzspin.collisions.compressed import _chebyshev_points, _lagrange
from boltzspin.collisions.scattering import COMPRESSED_FACTOR, _choose, scattering
from boltzspin.geometry.fermi import fermi_surface

MODEL = bs.Rashba(1.0, 0.5, dresselhaus=0.1, exchange=(0.02, -0.01, 0.1))


def rel_diff(a, b):
    return float(np.abs(a.sigma - b.sigma).max() / np.abs(b.sigma).max())


@pytest.mark.parametrize("a", [0.05, 0.5, 2.0, 8.0])
def test_axis_bound_bounds_the_two_sided_interpolation_error(a):
    """exp(-a (t - t')^2) interpolated in t and t' on [-1, 1]^2: the a-priori bound holds and is not vacuous."""
    x = np.linspace(-1, 1, 1201)
    exact = np.exp(-a * (x[:, None] - x[None, :]) ** 2)
    checked = 0
    for m in range(3, 40, 3):
        t, wts = _chebyshev_points(m)
        ell = _lagrange(x, t, wts)
        approx = ell @ np.exp(-a * (t[:, None] - t[None, :]) ** 2) @ ell.T
        err = np.abs(approx - exact).max()
        roundoff = 2 * m * np.finfo(float).eps * np.abs(ell).sum(axis=1).max() ** 2  # as ChebyshevKernel.roundoff
        bound = compressed._axis_error(a, m)
        assert err <= bound + roundoff, (m, err, bound)
        if err > 1e-13:  # above round-off the bound is within a few decades of the error
            assert bound < 1e4 * err, (m, err, bound)
            checked += 1
    assert checked >= 2


def test_agrees_with_dense_for_every_contribution():
    disorder = bs.GaussianCorrelated(0.01, 1.0, 0.8) + bs.DeltaCorrelated(0.005, 0.5)
    runs = {meth: bs.transport(MODEL, 0.4, disorder, n_points=96, method=meth) for meth in ("dense", "compressed")}
    assert runs["compressed"].attrs["collision_operator"] == "compressed,lowrank"
    assert 0 < runs["compressed"].attrs["sparse_rate_error_bound"] < 1e-8
    assert rel_diff(runs["compressed"], runs["dense"]) < 1e-11
    for c in ("side_jump", "dipole_change", "anomalous_distribution", "boltzmann"):
        assert np.abs(runs["dense"].sigma.sel(contribution=c)).max() > 1e-8, c  # a real check


def test_operator_pieces_agree_with_dense():
    fs = fermi_surface(MODEL, 0.4, 80)
    sz = MODEL.operators["sz"]
    disorder = bs.GaussianCorrelated(0.02, 1.3, 1.2)
    exact = scattering(fs, disorder, MODEL, sz, method="dense")
    approx = scattering(fs, disorder, MODEL, sz, method="compressed")
    assert approx.methods == ["compressed"] and approx.compressed_ranks == [approx.compressed_ranks[0]]
    kd = exact.stored_kernel()
    assert np.abs(approx.dense() - kd).max() <= 1e-12 * kd.max()
    assert np.abs(approx.dense() - approx.dense().T).max() <= 1e-13 * kd.max()
    np.testing.assert_allclose(approx.diagonal(), exact.diagonal(), rtol=1e-13)
    for name in ("side_jump_velocity_s", "side_jump_velocity"):
        a, b = getattr(approx, name), getattr(exact, name)
        assert np.abs(a - b).max() <= 1e-11 * np.abs(b).max(), name
    a, b = approx.dipole_change_velocity(), exact.dipole_change_velocity()
    assert np.abs(a - b).max() <= 1e-11 * np.abs(b).max()
    x = np.random.default_rng(3).normal(size=(fs.n_points, 3))
    assert np.abs(approx.matvec(x) - kd @ x).max() <= 1e-12 * np.abs(kd @ x).max()


@settings(derandomize=True, max_examples=12, deadline=None)
@given(
    alpha=st.floats(0.1, 0.9),
    dresselhaus=st.floats(-0.3, 0.3),
    bz=st.floats(-0.2, 0.2),
    mu=st.floats(0.2, 1.0),
    length=st.floats(0.3, 2.5),
    tol=st.sampled_from([1e-2, 1e-4, 1e-7, 1e-10]),
    obs=st.sampled_from(["sx", "sz"]),
)
def test_reported_bound_bounds_the_rate_error_on_random_models(alpha, dresselhaus, bz, mu, length, tol, obs):
    """Against the dense operator: every total rate's relative error is below ``error_bound``,
    every kernel element's error below ``pref ||M||^2 delta``, and the bound is not vacuous."""
    model = bs.Rashba(1.0, alpha, dresselhaus=dresselhaus, exchange=(0.0, 0.0, bz))
    try:
        fs = fermi_surface(model, mu, 40)
    except bs.DegenerateBandsError:  # alpha = |dresselhaus| without exchange: degenerate lines
        reject()
    disorder = bs.GaussianCorrelated(0.01, 1.0, length)
    s = model.operators[obs]
    exact = scattering(fs, disorder, model, s, method="dense")
    try:
        approx = scattering(fs, disorder, model, s, method="compressed", sparse_tol=tol)
    except bs.DisorderError as err:  # refused, never silently wrong: only past the node limit
        assert "interpolation nodes" in str(err)
        return
    error = np.max(np.abs(approx.out_rate - exact.out_rate) / exact.out_rate)
    assert error <= approx.error_bound
    weight_sum = fs.weight.sum()
    pref = 2 * np.pi * 0.01
    delta = approx.error_bound * exact.out_rate.min() / (pref * weight_sum)  # per-element bound (||M|| = 1)
    assert np.abs(approx.dense() - exact.stored_kernel()).max() <= pref * delta
    # m is chosen so that the interpolation bound is below tol; the floating-point term of the
    # bound (ChebyshevKernel.roundoff, ~1e-11 for 729 nodes) comes on top and no m removes it
    kernels = [v for part in approx.parts for v in vars(part).values() if isinstance(v, compressed.ChebyshevKernel)]
    assert delta <= tol * (1 + 1e-12) + sum(k.roundoff() for k in kernels)


def test_refusals_name_a_working_remedy():
    fs = fermi_surface(MODEL, 0.4, 32)
    sz = MODEL.operators["sz"]
    with pytest.raises(bs.DisorderError, match="cusp.*'onthefly'"):
        scattering(fs, bs.ScreenedCoulomb(0.01, 1.0, 0.5), MODEL, sz, method="compressed")
    with pytest.raises(bs.DisorderError, match="'onthefly'"):
        scattering(fs, bs.Potential(0.01, lambda q: np.exp(-np.sum(q**2, -1))[..., None, None] * np.eye(2)),
                   MODEL, sz, method="compressed")
    with pytest.raises(bs.DisorderError, match="interpolation nodes.*'sparse'"):
        scattering(fs, bs.GaussianCorrelated(0.01, 1.0, 40.0), MODEL, sz, method="compressed")
    # a q-independent channel is exact in low rank
    assert scattering(fs, bs.DeltaCorrelated(0.01, 1.0), MODEL, sz, method="compressed").methods == ["lowrank"]
    with pytest.raises(bs.ModelError, match="compressed"):
        bs.transport(MODEL, 0.4, bs.DeltaCorrelated(0.01, 1.0), n_points=16, method="compress")


def test_auto_picks_compressed_beyond_the_crossover_only():
    gauss = bs.GaussianCorrelated(0.01, 1.0, 0.5).channels(MODEL)[0]
    coulomb = bs.ScreenedCoulomb(0.01, 1.0, 0.5).channels(MODEL)[0]
    small = fermi_surface(MODEL, 0.4, 64).k
    large = fermi_surface(MODEL, 0.4, 1500).k
    m = compressed.gaussian_degree(0.5, (large.max(0) - large.min(0)) / 2, 1e-14)
    assert COMPRESSED_FACTOR * m**2 < len(large)
    assert _choose("auto", gauss, large, 1e-14) == "compressed"
    assert _choose("auto", gauss, small, 1e-14) == "dense"
    assert _choose("auto", coulomb, large, 1e-14) == "dense"
    long_range = bs.GaussianCorrelated(0.01, 1.0, 20.0).channels(MODEL)[0]
    assert _choose("auto", long_range, large, 1e-14) == "sparse"


def test_resource_estimate_bounds_the_measured_peak():
    import tracemalloc

    from boltzspin import resources

    model = bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.1))
    sz, disorder = model.operators["sz"], bs.GaussianCorrelated(0.01, 1.0, 1.0)
    for n in (500, 3000):
        fs = fermi_surface(model, 0.5, n)
        tracemalloc.start()
        op = scattering(fs, disorder, model, sz, method="compressed")
        op.matvec(np.ones((fs.n_points, 4)))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        est = resources.estimate_collisions(fs.n_points, 2, 2, ["compressed"], nodes=op.compressed_ranks[0])
        assert peak <= est.bytes <= 3 * peak, (n, peak, est.bytes)
        assert resources.estimate_collisions(fs.n_points, 2, 2, ["compressed"]).bytes >= est.bytes  # default: max nodes
