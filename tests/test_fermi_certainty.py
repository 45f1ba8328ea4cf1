"""Fermi sheets found with certainty on the continuum, and honest Fermi-sea error estimates.

Each regression test below reproduces a defect of the ray-only sheet search
(missed pockets, stalled extremum search, fake sheets at a band bottom, a
Fermi sea blind to n_points) and fails on that version.
"""

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import boltzspin as bs
from boltzspin.geometry import bands, fermi, sheets
from boltzspin.models.continuum import PAULI

DELTA = bs.DeltaCorrelated(0.01, 1.0)
DOS_RTOL = 1e-10  # closed-form DOS of parabolic pockets (spectral rays)


def parabolas(*pockets):
    """Diagonal model; band energies are the sorted ``|k - c|^2 / 2 + e0`` for ``(c, e0)`` in ``pockets``."""
    centres = np.array([c for c, _ in pockets], dtype=float)
    offsets = np.array([e for _, e in pockets], dtype=float)

    def h(k):
        d = k[..., None, :] - centres
        return np.einsum("...n,nm->...nm", 0.5 * np.sum(d * d, -1) + offsets, np.eye(len(offsets))).astype(complex)

    def v(k):
        d = k[..., None, :] - centres  # (..., n, 2)
        return np.einsum("...ni,nm->...inm", d, np.eye(len(offsets))).astype(complex)

    return bs.KPModel(h, v, name="parabolas")


def rotate(model, angle):
    """The model rotated by ``angle`` in k-space: H'(k) = H(R^-1 k)."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return bs.KPModel(lambda k: model.hamiltonian(k @ rot),
                      lambda k: np.einsum("ij,...jnm->...inm", rot, model.velocity(k @ rot)), name="rotated")


# --- issue 10, item 1: missed pockets ------------------------------------------------------


def test_small_off_centre_pocket_of_a_two_band_model_is_a_metal():
    """Rotated by 2 pi / 32 the pocket lies between the rays: it used to be reported as an insulator."""
    model = rotate(parabolas(((0.9, 0.0), -1e-4), ((0.0, 0.0), 5.0)), 2 * np.pi / 32 + 0.01)
    ds = bs.transport(model, 0.0, DELTA, "charge", -1.0, n_points=64)
    assert ds.attrs["state"] == "metal"
    assert ds.density_of_states.item() == pytest.approx(1 / (2 * np.pi), rel=DOS_RTOL)
    info = json.loads(ds.attrs["fermi_sheets"])
    assert len(info) == 1 and info[0]["parametrization"].startswith("rays from its own centre")
    np.testing.assert_allclose(info[0]["centre"], [0.9 * np.cos(2 * np.pi / 32 + 0.01),
                                                   0.9 * np.sin(2 * np.pi / 32 + 0.01)], atol=1e-6)


def test_extremum_search_does_not_stall_at_a_zero_coordinate():
    """A start on the ray at pi/2 has x = 6e-17; the default simplex then never moved x."""
    model = parabolas(((0.02, 1.0), 0.0))
    energy, k = fermi.band_extremum(model, 0, (np.cos(np.pi / 2), 1.0), 1)
    assert energy == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(k, [0.02, 1.0], atol=1e-6)


@pytest.mark.parametrize("angle", [np.pi / 2, np.pi, 3 * np.pi / 2])
def test_pocket_next_to_an_axis_ray_is_found(angle):
    model = rotate(parabolas(((1.0, 0.01), -1e-4)), angle)
    fs = fermi.fermi_surface(model, 0.0, 64)
    assert fs.density_of_states == pytest.approx(1 / (2 * np.pi), rel=DOS_RTOL)


def test_satellite_pocket_of_a_band_the_rays_already_cross():
    """Band 0 = min of two parabolas: the main sheet about k = 0 and a satellite far out between the rays."""
    model = parabolas(((0.0, 0.0), 0.0), ((1.6, 0.1), 0.5 - 4e-4))
    fs = fermi.fermi_surface(model, 0.5, 64)
    assert fs.n_sheets == 2 and set(fs.band) == {0}
    assert fs.density_of_states == pytest.approx(2 / (2 * np.pi), rel=DOS_RTOL)
    value, err = fermi.fermi_sea_integral(model, 0.5, lambda es: np.ones(es.energies.shape), 64)
    area = np.pi * 2 * 0.5 + np.pi * 2 * 4e-4  # k_F^2 = 2 (mu - e0)
    assert value == pytest.approx(area / (2 * np.pi) ** 2, rel=1e-12)
    assert err < 1e-12


def test_raising_n_points_resolves_two_close_pockets():
    """Two satellites 0.1 apart: a coarse scan cannot separate them and says so; more n_points can."""
    model = parabolas(((0.0, 0.0), 0.0), ((1.6, 0.05), 0.5 - 2e-4), ((1.6, -0.05), 0.5 - 2e-4))
    with pytest.raises(bs.FermiSurfaceError, match="n_points"):
        fermi.fermi_surface(model, 0.5, 64)
    fs = fermi.fermi_surface(model, 0.5, 1024)
    assert fs.n_sheets == 3
    assert fs.density_of_states == pytest.approx(3 / (2 * np.pi), rel=DOS_RTOL)


def test_plane_scan_grows_with_n_points():
    assert sheets.plane_grid(256) > sheets.plane_grid(128) > sheets.plane_grid(64) // 2


def test_shifted_dirac_pocket_through_transport():
    """A gapped Dirac cone centred off the origin: every part equals the centred cone's."""
    k0 = np.array([1.5, 0.4])

    def h(k):
        q = k - k0
        return q[..., 0, None, None] * PAULI[0] + q[..., 1, None, None] * PAULI[1] + PAULI[2]

    def v(k):
        return np.broadcast_to(np.stack([PAULI[0], PAULI[1]]), k.shape[:-1] + (2, 2, 2))

    ef = 1.2
    shifted = bs.transport(bs.KPModel(h, v), ef, DELTA, "charge", -1.0, n_points=64)
    centred = bs.transport(bs.MassiveDirac(1.0, 1.0), ef, DELTA, "charge", -1.0, n_points=64)
    assert shifted.density_of_states.item() == pytest.approx(ef / (2 * np.pi), rel=1e-12)
    scale = 1 / (8 * np.pi)
    np.testing.assert_allclose(shifted.sigma, centred.sigma, rtol=0, atol=1e-12 * scale)
    assert shifted.sigma.sel(contribution="intrinsic_berry", i="y", j="x").item() == pytest.approx(
        1 / (4 * np.pi * ef), rel=1e-10)


# --- issue 10, item 2: fake sheets at a band bottom ----------------------------------------


def rotated_basis_parabola(mass=2.5):
    """A parabolic band bottom at -0.2 in a random basis: eigvalsh round-off near the bottom."""
    from scipy.stats import unitary_group

    u = unitary_group.rvs(2, random_state=3)  # this basis gave 2 to 4 fake sheets

    def h(k):
        return u @ ((np.sum(k * k, -1) / (2 * mass) + 0.1)[..., None, None] * np.eye(2) + 0.3 * PAULI[2]) @ u.conj().T

    return bs.KPModel(h, lambda k: (k[..., :, None, None] / mass) * np.eye(2))


@pytest.mark.parametrize("ulps", range(-2, 12))
def test_no_fake_sheets_at_a_band_bottom(ulps):
    """mu within round-off of the bottom: one sheet with DOS m / 2 pi, or none; never 2 to 4 fake ones."""
    mass = 2.5
    mu = -0.2 + ulps * 2e-17
    fs = fermi.fermi_surface(rotated_basis_parabola(mass), mu, 64)
    assert fs.n_sheets <= 1
    if fs.n_sheets:
        assert fs.density_of_states == pytest.approx(mass / (2 * np.pi), rel=1e-9)
    if ulps >= 6:  # clearly above the bottom (beyond the eigvalsh round-off)
        assert fs.n_sheets == 1


def test_rashba_upper_band_bottom_dos():
    """Exchange gap: upper band bottom at B with mass 1/(1/m + alpha^2/B); mu at it to round-off."""
    m, a, b = 1.0, 0.5, 0.2
    model = bs.Rashba(m, a, exchange=(0.0, 0.0, b))
    mu = b * (1 + 4e-16)
    fs = fermi.fermi_surface(model, mu, 128)
    lower = fs.density_of_states - fs.weight[fs.band == 1].sum()
    upper = fs.weight[fs.band == 1].sum()
    assert fs.n_sheets == 2
    assert upper == pytest.approx(1 / (1 / m + a * a / b) / (2 * np.pi), rel=1e-6)
    assert lower > 0


# --- issue 10, item 6: Fermi-sea resolution and honest estimates --------------------------


def test_sea_rays_grow_with_n_points():
    assert fermi.sea_angles(256) > fermi.sea_angles(128)
    a = bs.transport(bs.Rashba(1.0, 0.5, dresselhaus=0.3), 0.6, DELTA, "sz", -1.0, n_points=128)
    b = bs.transport(bs.Rashba(1.0, 0.5, dresselhaus=0.3), 0.6, DELTA, "sz", -1.0, n_points=256)
    assert a.attrs["fermi_sea_error_estimate"] != b.attrs["fermi_sea_error_estimate"]


def berry_spin(es):
    sz = PAULI[2] / 2
    return bands.berry_curvature(es)[..., 0, 1] * np.real(bands.expectation(es, sz))


def test_sea_estimate_does_not_grow_with_n_points():
    """A band touching moved into the Fermi sea (in-plane exchange): the largest per-ray radial
    difference grew 170-fold from 256 to 1024 rays (a ray passing ever closer to the peak)."""
    model = bs.Rashba(1.0, 0.5, dresselhaus=0.2, exchange=(0.1, 0.05, 3e-3))
    est = [fermi.fermi_sea_integral(model, 0.6, berry_spin, n)[1] for n in (256, 512, 1024)]
    assert max(est[1:]) <= 2 * est[0]
    # and it still bounds the error at 256 rays (reference: 4096 rays, order 32, is -0.0397817)
    value = fermi.fermi_sea_integral(model, 0.6, berry_spin, 256)[0]
    assert abs(value + 0.0397817) <= est[0]


def random_rashba(draw):
    m = draw(st.floats(0.3, 3.0))
    a = draw(st.floats(0.05, 1.0))
    d = draw(st.floats(-0.9, 0.9)) * a
    ex = tuple(draw(st.floats(-0.3, 0.3)) for _ in range(3))
    mu = draw(st.floats(0.05, 1.5))
    return bs.Rashba(m, a, dresselhaus=d, exchange=ex), mu


#: Absolute floor of the comparison: the integrals are O(1e-2) (units q/8 pi), so 1e-16
#: is round-off (an exactly vanishing integral, e.g. without exchange, gives 1e-28 noise).
ROUNDOFF_ATOL = 1e-16


def estimate_campaign(max_examples, n_angles, ref_angles):
    """Fraction of random models with estimate >= |I(n_angles) - I_ref| (and the worst ratio)."""
    results = []

    @settings(derandomize=True, deadline=None, max_examples=max_examples)
    @given(st.data())
    def one(data):
        model, mu = random_rashba(data.draw)
        try:
            value, err = fermi.fermi_sea_integral(model, mu, berry_spin, n_angles)
        except bs.BoltzspinError:
            return
        ref, _ = fermi.fermi_sea_integral(model, mu, berry_spin, ref_angles, order=24)
        results.append((abs(value - ref), err))

    one()
    true, est = np.array(results).T
    return np.mean(true <= est + ROUNDOFF_ATOL), len(results)


def test_sea_estimate_bounds_the_true_error():
    """estimate(64 rays) >= |I - I_ref| (512 rays, order 24) on random models.

    16 examples cannot resolve a 95 % rate (one miss is 93.75 %): at most one violation is
    allowed here; the slow 300-model campaign below asserts the 95 % rate itself.
    """
    rate, count = estimate_campaign(16, 64, 512)
    assert count >= 12 and rate * count >= count - 1


@pytest.mark.slow
def test_sea_estimate_bounds_the_true_error_campaign():
    """The same on 300 random models (the rate is quoted in docs/theory/fermi_surface.md)."""
    rate, count = estimate_campaign(300, 64, 1024)
    print(f"sea estimate >= true error on {rate:.3f} of {count} random models")
    assert count >= 250 and rate >= 0.95


@settings(derandomize=True, deadline=None, max_examples=15)
@given(st.data())
def test_random_pockets_are_all_found_or_refused(data):
    """1 to 3 separated parabolic pockets of one band, anywhere: DOS = count / 2 pi, or a clear refusal."""
    count = data.draw(st.integers(1, 3))
    pockets = []
    while len(pockets) < count:
        c = np.array([data.draw(st.floats(-2, 2)), data.draw(st.floats(-2, 2))])
        r = data.draw(st.floats(0.005, 0.5))
        if all(np.linalg.norm(c - c2) > r + r2 + 0.2 for c2, r2 in pockets):
            pockets.append((c, r))
        else:
            count -= 1
    model = parabolas(*[(tuple(c), -r * r / 2) for c, r in pockets])
    try:
        fs = fermi.fermi_surface(model, 0.0, 64)
    except bs.FermiSurfaceError as exc:
        assert "n_points" in str(exc) or "origin=" in str(exc)
        return
    assert fs.density_of_states == pytest.approx(len(pockets) / (2 * np.pi), rel=1e-9)
