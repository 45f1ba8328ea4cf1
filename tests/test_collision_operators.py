"""The collision-operator kinds agree on the same problem (issue: scale)."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.geometry.fermi import fermi_surface
from boltzspin.collisions.scattering import scattering

AGREE_RTOL = 1e-10

MODEL = bs.Rashba(1.0, 0.5, dresselhaus=0.1, exchange=(0.02, -0.01, 0.1))


def rel_diff(a, b):
    return float(np.abs(a.sigma - b.sigma).max() / np.abs(b.sigma).max())


def test_lowrank_onthefly_dense_agree_for_q_independent_disorder(rng):
    m = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    disorder = (bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(0.01, 0.7, 1.0)
                + bs.DeltaCorrelated(0.005, 0.5, matrix=m + m.conj().T))
    runs = {meth: bs.transport(MODEL, 0.4, disorder, n_points=64, method=meth)
            for meth in ("dense", "lowrank", "onthefly")}
    assert runs["lowrank"].attrs["collision_operator"] == "lowrank,lowrank,lowrank,lowrank,lowrank"
    bs_auto = bs.transport(MODEL, 0.4, disorder, n_points=64)
    assert set(bs_auto.attrs["collision_operator"].split(",")) == {"lowrank"}
    for meth in ("lowrank", "onthefly"):
        assert rel_diff(runs[meth], runs["dense"]) < AGREE_RTOL, meth
    for c in runs["dense"].contribution.values:
        if c in ("side_jump", "anomalous_distribution", "boltzmann"):
            assert np.abs(runs["dense"].sigma.sel(contribution=c)).max() > 1e-6  # a real check


def test_dense_onthefly_sparse_agree_for_gaussian_disorder():
    disorder = bs.GaussianCorrelated(0.01, 1.0, 6.0) + bs.DeltaCorrelated(0.005, 0.5)
    runs = {meth: bs.transport(MODEL, 0.4, disorder, n_points=96, method=meth)
            for meth in ("dense", "onthefly", "sparse")}
    assert runs["sparse"].attrs["collision_operator"] == "sparse,lowrank"
    assert 0 < runs["sparse"].attrs["sparse_rate_error_bound"] < 1e-12
    for meth in ("onthefly", "sparse"):
        assert rel_diff(runs[meth], runs["dense"]) < AGREE_RTOL, meth


def test_sparse_tolerance_bounds_the_rate_error():
    """A loose tolerance: the measured rate error stays below the reported bound."""
    fs = fermi_surface(MODEL, 0.4, 96)
    disorder = bs.GaussianCorrelated(0.01, 1.0, 3.0)
    exact = scattering(fs, disorder, MODEL, MODEL.operators["sz"], method="dense")
    for tol in (1e-2, 1e-4, 1e-8):
        approx = scattering(fs, disorder, MODEL, MODEL.operators["sz"], method="sparse", sparse_tol=tol)
        error = np.max(np.abs(approx.out_rate - exact.out_rate) / exact.out_rate)
        assert error <= approx.error_bound
        assert approx.error_bound <= 10 * tol * exact.out_rate.max() / exact.out_rate.min() * 10


def test_auto_choice_and_override():
    fs = fermi_surface(MODEL, 0.4, 48)
    sz = MODEL.operators["sz"]
    assert scattering(fs, bs.GaussianCorrelated(0.01, 1.0, 0.5), MODEL, sz).methods == ["dense"]
    assert scattering(fs, bs.GaussianCorrelated(0.01, 1.0, 20.0), MODEL, sz).methods == ["sparse"]
    assert scattering(fs, bs.GaussianCorrelated(0.01, 1.0, 0.5), MODEL, sz, method="onthefly").methods == ["onthefly"]
    with pytest.raises(bs.DisorderError, match="lowrank"):
        scattering(fs, bs.GaussianCorrelated(0.01, 1.0, 0.5), MODEL, sz, method="lowrank")
    with pytest.raises(bs.DisorderError, match="method"):
        scattering(fs, bs.DeltaCorrelated(0.01, 1.0), MODEL, sz, method="fast")


def test_iteration_count_is_nearly_independent_of_n():
    disorder = bs.GaussianCorrelated(0.01, 1.0, 1.0)
    its = [bs.transport(MODEL, 0.4, disorder, n_points=n).attrs["solver_iterations"] for n in (64, 256, 1024)]
    assert max(its) <= 1.5 * min(its) + 5


def test_callable_potential_on_the_fly_agrees_with_dense():
    sx, sy = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]])

    def spin_orbit_impurity(q):  # Hermitian in real space: U(-q) = U(q)^dagger
        g = np.exp(-np.sum(q**2, -1) / 4)[..., None, None]
        return g * (np.eye(2) + 0.6j * (q[..., 0, None, None] * sy - q[..., 1, None, None] * sx))

    disorder = bs.Potential(0.02, spin_orbit_impurity)
    dense = bs.transport(MODEL, 0.4, disorder, n_points=48, method="dense")
    lazy = bs.transport(MODEL, 0.4, disorder, n_points=48, method="onthefly")
    assert lazy.attrs["collision_operator"] == "onthefly"
    assert rel_diff(lazy, dense) < AGREE_RTOL
