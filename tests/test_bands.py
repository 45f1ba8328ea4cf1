"""Band geometry against closed forms and exact identities (THEORY.md section 2)."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.geometry import bands
from boltzspin.models.continuum import PAULI

from conftest import random_hermitian

RTOL = 1e-12


def dirac_points(rng, n=50):
    return rng.normal(size=(n, 2))


def test_dirac_berry_curvature_closed_form(rng):
    v, gap = 0.9, 0.35
    model = bs.MassiveDirac(v, gap)
    k = dirac_points(rng)
    es = bands.eigensystem(model, k)
    energy = np.sqrt(v**2 * np.sum(k**2, -1) + gap**2)
    omega = bands.berry_curvature(es)
    expected_lower = v**2 * gap / (2 * energy**3)
    np.testing.assert_allclose(omega[:, 0, 0, 1], expected_lower, rtol=RTOL)
    np.testing.assert_allclose(omega[:, 1, 0, 1], -expected_lower, rtol=RTOL)
    # antisymmetric tensor, bands sum to zero
    np.testing.assert_allclose(omega[..., 1, 0], -omega[..., 0, 1], rtol=RTOL)
    np.testing.assert_allclose(omega.sum(axis=1), 0, atol=1e-12)


def test_dirac_orbital_moment_closed_form(rng):
    """For s = 1 the s orbital moment is the ordinary one: equal in both bands of a two-band model."""
    v, gap = 0.9, 0.35
    es = bands.eigensystem(bs.MassiveDirac(v, gap), dirac_points(rng))
    m = bands.s_orbital_moment(es, np.eye(2))
    energy = np.sqrt(v**2 * np.sum(es.k**2, -1) + gap**2)
    np.testing.assert_allclose(m[:, 0], m[:, 1], rtol=RTOL)
    np.testing.assert_allclose(np.abs(m[:, 0]), v**2 * gap / (2 * energy**2), rtol=RTOL)


def test_rashba_spin_z_expectation_and_dipole(rng):
    model = bs.Rashba(1.0, 0.5)
    es = bands.eigensystem(model, rng.normal(size=(30, 2)))
    sz = model.operators["sz"]
    np.testing.assert_allclose(bands.expectation(es, sz), 0, atol=1e-15)
    d = bands.s_dipole(es, sz)
    # d^s is azimuthal, |d| = 1/(4 k), and (two-band identity) equal in both bands
    kn = np.linalg.norm(es.k, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(d, axis=-1), np.stack([1 / (4 * kn)] * 2, -1), rtol=1e-10)
    np.testing.assert_allclose(d[:, 0], d[:, 1], atol=1e-12)
    np.testing.assert_allclose(np.sum(d[:, 0] * es.k, -1), 0, atol=1e-12)


def test_charge_dipole_vanishes(rng):
    es = bands.eigensystem(bs.Rashba(1.0, 0.5, exchange=(0.1, 0, 0.2)), rng.normal(size=(10, 2)))
    np.testing.assert_allclose(bands.s_dipole(es, np.eye(2)), 0, atol=1e-14)


def test_conventional_curvature_for_identity_is_berry(rng):
    es = bands.eigensystem(bs.Rashba(1.0, 0.5, exchange=(0.1, 0, 0.2)), rng.normal(size=(10, 2)))
    np.testing.assert_allclose(bands.conventional_berry_curvature(es, np.eye(2)), bands.berry_curvature(es), atol=1e-13)


def test_every_quantity_is_gauge_invariant(rng):
    model = bs.Rashba(0.8, 0.4, dresselhaus=0.1, exchange=(0.05, -0.1, 0.2))
    es = bands.eigensystem(model, rng.normal(size=(25, 2)))
    gauged = es.with_random_gauge(3)
    s = random_hermitian(rng, 2)
    for f in (bands.berry_curvature, lambda e: bands.expectation(e, s), lambda e: bands.s_dipole(e, s),
              lambda e: bands.conventional_berry_curvature(e, s), lambda e: bands.s_orbital_moment(e, s)):
        np.testing.assert_allclose(f(gauged), f(es), atol=1e-12)
    band = rng.integers(0, 2, size=25)
    chi, chi_g = bands.interband_derivative(es, band), bands.interband_derivative(gauged, band)
    phase = np.sum(gauged.vectors.conj() * es.vectors, axis=-2)  # <u'_n|u_n>
    ph = np.take_along_axis(phase, band[:, None], 1)[:, 0]
    np.testing.assert_allclose(chi_g * ph[:, None, None], chi, atol=1e-12)


def test_interband_derivative_equals_projected_finite_difference(rng):
    """|chi_l> = Q_l d|u_l>/dk, checked in a smooth local gauge by finite differences."""
    model = bs.Rashba(1.0, 0.5, exchange=(0.0, 0.0, 0.3))
    k0 = np.array([0.6, -0.3])
    es = bands.eigensystem(model, k0[None])
    h = 1e-6
    for band in (0, 1):
        u0 = es.vectors[0, :, band]
        chi = bands.interband_derivative(es, np.array([band]))[0]
        for i in range(2):
            dk = np.zeros(2)
            dk[i] = h
            up = bands.eigensystem(model, (k0 + dk)[None]).vectors[0, :, band]
            um = bands.eigensystem(model, (k0 - dk)[None]).vectors[0, :, band]
            up = up * np.exp(-1j * np.angle(np.vdot(u0, up)))  # parallel transport gauge
            um = um * np.exp(-1j * np.angle(np.vdot(u0, um)))
            du = (up - um) / (2 * h)
            du -= u0 * np.vdot(u0, du)
            np.testing.assert_allclose(chi[i], du, atol=1e-7)


def test_kramers_degeneracy_has_explicit_message():
    model = bs.KPModel(lambda k: np.sum(k**2, -1)[..., None, None] / 2 * np.eye(2))
    es = bands.eigensystem(model, np.array([[0.5, 0.2]]))
    with pytest.raises(bs.DegenerateBandsError, match="Kramers"):
        es.check_nondegenerate()


def test_pauli_algebra_sanity():
    sx, sy, sz = PAULI
    np.testing.assert_allclose(sx @ sy, 1j * sz)
