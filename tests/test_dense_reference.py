"""Cross-check boltzspin.transport against the dense reference in benchmarks/."""

import sys
from pathlib import Path

import numpy as np
import pytest

import boltzspin as bs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from dense_reference import DENSE_CONTRIBUTIONS, dense_transport, dense_memory_estimate  # noqa: E402

RTOL = 1e-10
Q = -1.0
N_POINTS = 48


def _u_matrix(q):
    """A phase-changing matrix potential with U(-q) = U(q)^dagger (exercises dU/dq)."""
    f = np.exp(-np.sum(q**2, axis=-1) / 4)[..., None, None]
    return f * (np.eye(2) + 0.3j * np.diag([1.0, -1.0]) * q[..., 0, None, None]
                + 0.2j * np.array([[0.0, 1.0], [1.0, 0.0]]) * q[..., 1, None, None])


CASES = {
    "rashba_mixture": (
        bs.Rashba(1, 0.5, exchange=(0, 0, 0.1)), 0.5,
        bs.DeltaCorrelated(0.01, 1.0) + bs.GaussianCorrelated(0.01, 1.0, 1.0)
        + bs.MagneticImpurities(0.01, 1, 1),
        "sz",
    ),
    "dirac_charge": (bs.MassiveDirac(1, 0.3), 0.5, bs.DeltaCorrelated(0.01, 1.0), "charge"),
    "rashba_callable": (
        bs.Rashba(1, 0.5, exchange=(0, 0, 0.1)), 0.5,
        bs.DeltaCorrelated(0.01, 1.0) + bs.Potential(0.01, _u_matrix, name="u_matrix"),
        "sz",
    ),
}


def max_relative_disagreement(ref, ds):
    """Per contribution: max |ref - package| / largest |element| of that contribution.

    A contribution whose elements are all below 1e-12 of the largest element of
    any contribution (e.g. the dipole of s = q) is scaled by that largest element.
    """
    big = max(np.abs(ref[c]).max() for c in DENSE_CONTRIBUTIONS)
    out = {}
    for c in DENSE_CONTRIBUTIONS:
        pkg = ds.sigma.sel(contribution=c).values
        scale = max(np.abs(ref[c]).max(), np.abs(pkg).max())
        scale = scale if scale > 1e-12 * big else big
        out[c] = float(np.abs(ref[c] - pkg).max() / scale)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_dense_reference_matches_transport(name):
    model, mu, disorder, observable = CASES[name]
    ref = dense_transport(model, mu, disorder, observable, charge=Q, n_points=N_POINTS)
    ds = bs.transport(model, mu, disorder, observable, charge=Q, n_points=N_POINTS)
    assert set(ref) == set(DENSE_CONTRIBUTIONS)
    rel = max_relative_disagreement(ref, ds)
    assert max(rel.values()) < RTOL, rel
    # the comparison has teeth: every Fermi-surface part except the s = q dipole is nonzero
    for c in ("boltzmann", "side_jump", "anomalous_distribution"):
        assert np.abs(ref[c]).max() > 1e-6


def test_dense_reference_rashba_null():
    """Plain Rashba: dipole -q/(8 pi), dipole change +q/(8 pi), s-carrying parts zero."""
    unit = Q / (8 * np.pi)
    disorder = bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(0.01, 1, 1)
    ref = dense_transport(bs.Rashba(1, 0.5), 0.5, disorder, charge=Q, n_points=N_POINTS)
    assert ref["intrinsic_dipole"][0, 1] == pytest.approx(-unit, rel=RTOL)
    assert ref["dipole_change"][0, 1] == pytest.approx(unit, rel=RTOL)
    np.testing.assert_allclose(ref["dipole_change"], -ref["intrinsic_dipole"], rtol=0, atol=RTOL * abs(unit))
    for c in ("boltzmann", "side_jump", "anomalous_distribution"):
        assert np.abs(ref[c]).max() < 1e-12 * abs(unit)


def test_dense_reference_dipole_identity_with_exchange():
    """J_dp = -J_d holds for any disorder with symmetric rates, also with s_n != 0."""
    model, mu, disorder, observable = CASES["rashba_mixture"]
    ref = dense_transport(model, mu, disorder, observable, charge=Q, n_points=N_POINTS)
    scale = np.abs(ref["intrinsic_dipole"]).max()
    np.testing.assert_allclose(ref["dipole_change"], -ref["intrinsic_dipole"], rtol=0, atol=RTOL * scale)


def test_dense_reference_insulator_and_memory_estimate():
    ref = dense_transport(bs.MassiveDirac(1, 0.3), 0.1, bs.DeltaCorrelated(0.01, 1.0), "charge", n_points=16)
    assert all(np.all(v == 0) for v in ref.values())
    assert dense_memory_estimate(2000) > dense_memory_estimate(1000) > 8 * 1000**2
