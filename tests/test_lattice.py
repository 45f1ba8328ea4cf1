"""Lattice and 3D models through the whole pipeline: grid Fermi surfaces and Brillouin-zone integrals."""

import numpy as np
import pytest

import boltzspin as bs
from boltzspin.geometry.brillouin import grid_fermi_surface, grid_sea_integral
from boltzspin.responses.equilibrium import equilibrium_current, magnetization
from boltzspin.models.continuum import KPModel
from boltzspin.models.tight_binding import LatticeRashba, QiWuZhang, Rashba3D, TightBinding

Q = -1.0
UNIT = abs(Q) / (8 * np.pi)
NULL_ATOL = 1e-12 * UNIT  # exact identities (round-off)
CHERN_ATOL = 1e-9  # insulating Berry integral on a 64^2 grid (spectral)
LATTICE_ATOL = 0.02 * UNIT  # lattice vs continuum near the band bottom (O(k_F^2) corrections)
SUPERCELL_RTOL = 1e-3  # two second-order discretizations of one physical system
DRUDE_RTOL = 1e-4


def _continuum_parabolic_3d(mass=1.0):
    return KPModel(lambda k: (np.sum(k * k, axis=-1) / (2 * mass))[..., None, None].astype(complex),
                   velocity=lambda k: (k / mass)[..., None, None].astype(complex), dim=3, name="parabolic3d")


def _supercell_x2(model):
    """The same lattice model written on a 2x1 supercell, sites at x = 0 and x = 1 (positions)."""
    n = model.n_bands
    table = {}
    for (rx, ry), hop in model.hoppings.items():
        for a in (0, 1):
            x = a + rx
            blk = table.setdefault((x // 2, ry), np.zeros((2 * n, 2 * n), complex))
            blk[a * n:(a + 1) * n, (x % 2) * n:(x % 2 + 1) * n] += hop
    ops = {k: np.kron(np.eye(2), v) for k, v in model.operators.items()}
    return TightBinding(np.diag([2.0, 1.0]), table, positions=[[0.0, 0.0]] * n + [[0.5, 0.0]] * n,
                        operators=ops, name="supercell")


@pytest.mark.parametrize("mu", [0.05, 0.3])
def test_lattice_rashba_null_result(mu):
    """No exchange: s_z = 0 on every state; dipole parts cancel exactly, total 0."""
    ds = bs.transport(LatticeRashba(1.0, 0.3), mu, bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(
        0.005, 0.5, 1.0), "sz", charge=Q, n_points=128)
    xy = ds.sigma.sel(i="x", j="y")
    assert abs(xy.sel(contribution="total").item()) < NULL_ATOL
    # near the band bottom the dipole part approaches the continuum -q/(8 pi)
    assert xy.sel(contribution="intrinsic_dipole").item() == pytest.approx(-Q / (8 * np.pi), rel=5e-3)
    # relative DOS estimate: 3x the largest Richardson estimate of G/2, 2G/3, 3G/4 (true error 1.8e-3 at 0.05)
    assert ds.attrs["fermi_surface_error_estimate"] < 2e-2


def test_lattice_rashba_reproduces_the_continuum_near_the_band_bottom():
    h = (0.0, 0.0, 0.05)
    disorder = bs.DeltaCorrelated(0.01, 1.0)
    lattice = bs.transport(LatticeRashba(1.0, 0.2, exchange=h), 0.085, disorder, "sz", charge=Q, n_points=256)
    continuum = bs.transport(bs.Rashba(0.5, 0.2, exchange=h), 0.085, disorder, "sz", charge=Q, n_points=128)
    np.testing.assert_allclose(lattice.sigma.sel(i="x", j="y"), continuum.sigma.sel(i="x", j="y"),
                               rtol=0, atol=LATTICE_ATOL)
    assert abs(continuum.sigma.sel(contribution="side_jump", i="x", j="y").item()) > 0.05 * UNIT


def test_qi_wu_zhang_hall_conductivity_is_quantized_in_the_gap():
    """sigma_xy = -q^2 C / (2 pi) with Chern number C = 1 for 0 < -m < 2 (hbar = 1)."""
    for mass, chern in ((-1.0, 1), (1.0, -1), (-3.0, 0)):
        ds = bs.transport(QiWuZhang(mass), 0.0, bs.DeltaCorrelated(0.01, 1.0), "charge", charge=Q, n_points=64)
        assert ds.attrs["state"] == "insulator"
        value = ds.sigma.sel(contribution="total", i="x", j="y").item()
        assert value == pytest.approx(-Q**2 * chern / (2 * np.pi), abs=CHERN_ATOL)


def test_qi_wu_zhang_metallic_values_converge():
    values = []
    for g in (64, 128, 256):
        ds = bs.transport(QiWuZhang(-1.0), 1.2, bs.DeltaCorrelated(0.01, 1.0), "charge", charge=Q, n_points=g)
        values.append(ds.sigma.sel(i="x", j="y").values)
    first, second = np.abs(values[1] - values[0]).max(), np.abs(values[2] - values[1]).max()
    assert second < first / 3  # second order: each halving of the spacing gains ~4
    assert np.abs(values[2] - values[1]).max() < 1e-3 * np.abs(values[2]).max()
    # side jump = anomalous distribution for delta disorder, both nonzero
    sj, ad = (values[2][list(bs.CONTRIBUTIONS).index(c)] for c in ("side_jump", "anomalous_distribution"))
    assert abs(sj) > 1e-3 and sj == pytest.approx(ad, rel=1e-10)


def test_streda_relation_on_the_qi_wu_zhang_model():
    """Inside the gap q dM/dmu equals the Hall conductivity (letter Eq. 12)."""
    step = 1e-3
    up, down = (magnetization(QiWuZhang(-1.0), m, "charge", charge=Q, n_grid=64) for m in (step, -step))
    slope = (up.magnetization - down.magnetization).item() / (2 * step)
    assert Q * slope == pytest.approx(-Q**2 / (2 * np.pi), rel=1e-8)


def test_conserved_equilibrium_current_vanishes_on_a_lattice():
    """Letter Eq. 5 on a k-grid: zero within the quadrature error estimates (converges as ~h^2)."""
    ds = equilibrium_current(LatticeRashba(1.0, 0.4, exchange=(0.1, 0.05, 0.2)), 0.7, "sy", n_grid=256)
    assert np.abs(ds.conventional.values).max() > 1e-4
    bound = 3 * (ds.attrs["conventional_error_estimate"] + ds.attrs["torque_dipole_error_estimate"])
    np.testing.assert_allclose(ds.conserved.values, 0.0, atol=bound)
    assert bound < 0.02 * np.abs(ds.conventional.values).max()


@pytest.mark.parametrize("g", [32, 64])
def test_3d_parabolic_band_density_of_states_and_drude(g):
    mu, mass, density, strength = 0.5, 1.0, 0.01, 1.0
    kf = np.sqrt(2 * mass * mu)
    dos = mass * kf / (2 * np.pi**2)
    n = kf**3 / (6 * np.pi**2)
    tau = 1 / (2 * np.pi * density * strength**2 * dos)
    ds = bs.transport(_continuum_parabolic_3d(mass), mu, bs.DeltaCorrelated(density, strength), "charge",
                      charge=Q, n_points=g)
    assert list(ds.i.values) == ["x", "y", "z"]
    est = ds.attrs["fermi_surface_error_estimate"]
    assert abs(ds.density_of_states.item() / dos - 1) < 2 * est  # the estimate bounds the error
    drude = Q**2 * n * tau / mass
    np.testing.assert_allclose(np.diag(ds.sigma.sel(contribution="total").values), drude, rtol=DRUDE_RTOL)
    # the Fermi sea holds n electrons
    value, error = grid_sea_integral(_continuum_parabolic_3d(mass), mu, lambda es: np.ones(es.energies.shape), g)
    assert value == pytest.approx(n, rel=max(4 * error / n, 1e-12))


def test_3d_spin_orbit_model_dipole_identity_and_convergence():
    model = Rashba3D(1.0, 0.5, 0.3, exchange=(0.0, 0.0, 0.3))
    disorder = bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(0.005, 0.5, 1.0)
    runs = [bs.transport(model, 0.8, disorder, "sz", charge=Q, n_points=g) for g in (24, 48)]
    for ds in runs:
        s = ds.sigma
        np.testing.assert_allclose(s.sel(contribution="dipole_change"), -s.sel(contribution="intrinsic_dipole"),
                                   rtol=0, atol=1e-12 * float(np.abs(s).max()))
    smooth = ["intrinsic_berry", "intrinsic_dipole", "side_jump", "anomalous_distribution"]
    a, b = (ds.sigma.sel(contribution=smooth, i="x", j="y").values for ds in runs)
    assert np.abs(a - b).max() < 0.02 * np.abs(b).max()
    assert runs[1].attrs["fermi_surface_error_estimate"] < runs[0].attrs["fermi_surface_error_estimate"] / 2


def test_orbital_positions_supercell_equals_primitive_cell():
    """One physical system on a primitive cell and on a 2x1 supercell with orbital positions.

    Site impurities of the primitive cell (density n, strength u) are two species on
    the supercell (density n/2 each, one per site), with strength u * 2 (cell area).
    """
    primitive = LatticeRashba(1.0, 0.4, exchange=(0.05, 0.0, 0.1))
    supercell = _supercell_x2(primitive)
    n, u = 0.01, 1.0
    site = [np.kron(np.diag(p), np.eye(2)) for p in ([1, 0], [0, 1])]
    split = bs.DeltaCorrelated(n / 2, 2 * u, site[0]) + bs.DeltaCorrelated(n / 2, 2 * u, site[1])
    for observable in ("sx", "sz", "charge"):
        a = bs.transport(primitive, 0.4, bs.DeltaCorrelated(n, u), observable, charge=Q, n_points=256).sigma
        b = bs.transport(supercell, 0.4, split, observable, charge=Q, n_points=256).sigma
        np.testing.assert_allclose(b, a, rtol=0, atol=SUPERCELL_RTOL * float(np.abs(a).max()), err_msg=observable)
    with pytest.raises(bs.DisorderError, match="different positions"):
        bs.transport(supercell, 0.4, bs.DeltaCorrelated(n, u), "sz", n_points=64)


def test_lattice_gauge_invariance():
    model = LatticeRashba(1.0, 0.4, exchange=(0.05, -0.02, 0.1))
    disorder = bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(0.005, 0.5, 1.0)
    a = bs.transport(model, 0.4, disorder, "sz", n_points=96).sigma
    b = bs.transport(model, 0.4, disorder, "sz", n_points=96, gauge_seed=5).sigma
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * float(np.abs(a).max()))


def _square(tx, ty):
    table = {(0, 0): np.zeros((1, 1))}
    for r, t in (((1, 0), tx), ((-1, 0), tx), ((0, 1), ty), ((0, -1), ty)):
        table[r] = np.array([[-t]], dtype=complex)
    return TightBinding(np.eye(2), table)


def _square_lattice_exact(tx, ty, mu):
    """Electron count and density of states of e = -2 tx cos kx - 2 ty cos ky by 1D quadrature.

    For each kx the occupied ky satisfy cos ky > c = -(mu + 2 tx cos kx) / (2 ty), an
    interval of length 2 acos(clip(c)), so N(mu) = int dkx 2 acos(clip(c)) / (2 pi)^2,
    and the density of states is dN/dmu (central difference, step 1e-4: error ~1e-8).
    """
    from scipy.integrate import quad

    def count(m):
        c = lambda kx: -(m + 2 * tx * np.cos(kx)) / (2 * ty)  # noqa: E731
        return quad(lambda kx: 2 * np.arccos(np.clip(c(kx), -1, 1)), -np.pi, np.pi,
                    limit=1000, epsabs=1e-13, epsrel=1e-12)[0] / (2 * np.pi) ** 2

    step = 1e-4
    return (count(mu + step) - count(mu - step)) / (2 * step), count(mu)


@pytest.mark.parametrize("tx, ty, mu", [(1.0, 0.2, 0.9), (1.0, 1.0, 3.2), (1.0, 1.0, -1.0)])
def test_density_of_states_and_count_on_the_square_lattice(tx, ty, mu):
    """Open orbits (anisotropic), a pocket split by the zone corners, and a closed pocket."""
    model = _square(tx, ty)
    dos, count = _square_lattice_exact(tx, ty, mu)
    fs, error = grid_fermi_surface(model, mu, 256)
    assert error < 1e-3
    assert fs.density_of_states == pytest.approx(dos, rel=3 * error)  # the estimate bounds the error
    value, sea_error = grid_sea_integral(model, mu, lambda es: np.ones(es.energies.shape), 256)
    assert value == pytest.approx(count, abs=max(3 * sea_error, 1e-12))
    assert sea_error < 1e-5


def test_kramers_degenerate_model_is_refused():
    base = _square(1.0, 1.0)
    doubled = TightBinding(np.eye(2), {r: np.kron(t, np.eye(2)) for r, t in base.hoppings.items()})
    with pytest.raises(bs.DegenerateBandsError, match="Kramers"):
        bs.transport(doubled, 0.5, bs.DeltaCorrelated(0.01, 1.0), "charge", n_points=32)


def test_q_dependent_continuum_disorder_is_refused_on_a_lattice():
    with pytest.raises(bs.DisorderError, match="periodic in the reciprocal lattice"):
        bs.transport(LatticeRashba(1.0, 0.3), 0.3, bs.GaussianCorrelated(0.01, 1.0, 1.0), "sz", n_points=32)


@pytest.mark.parametrize("dim", [2, 3])
def test_occupied_fraction_is_the_cdf_of_a_sum_of_uniforms(dim):
    """The box-spline fraction against Monte Carlo (fixed seed; 4e5 samples: error ~1e-3)."""
    from boltzspin.geometry.brillouin import occupied_fraction

    rng = np.random.default_rng(17)
    widths = rng.random((6, 1, dim)) + 0.01
    widths[0, 0, 0] = 1e-9  # a direction where the band is flat across the cell
    x = (rng.random((6, 1)) - 0.5) * widths.sum(-1)
    samples = rng.random((400_000, dim)) - 0.5
    for i in range(6):
        mc = np.mean(samples @ widths[i, 0] < x[i, 0])
        assert occupied_fraction(x[i:i + 1], widths[i:i + 1])[0, 0] == pytest.approx(mc, abs=3e-3)
    assert occupied_fraction(np.array([[5.0]]), np.ones((1, 1, dim)))[0, 0] == 1.0
    assert occupied_fraction(np.array([[-5.0]]), np.ones((1, 1, dim)))[0, 0] == 0.0


def test_continuum_3d_box_errors():
    model = _continuum_parabolic_3d()
    with pytest.raises(bs.FermiSurfaceError, match="beyond the box"):
        grid_fermi_surface(model, 0.5, 16, k_max=0.5)  # k_F = 1 lies outside
    inverted = KPModel(lambda k: (-np.sum(k * k, axis=-1) / 2)[..., None, None].astype(complex),
                       velocity=lambda k: (-k)[..., None, None].astype(complex), dim=3, name="hole3d")
    with pytest.raises(bs.FermiSurfaceError, match="filled to infinity"):
        grid_sea_integral(inverted, -0.5, lambda es: np.ones(es.energies.shape), 16, k_max=2.0)


def test_pockets_the_grid_cannot_resolve_are_refused():
    """Silently dropping or crudely sampling a tiny pocket would be a wrong number."""
    model = LatticeRashba(1.0, 0.3, exchange=(0.0, 0.0, 0.05))  # upper band bottom 0.05 at Gamma
    with pytest.raises(bs.FermiSurfaceError, match="resolved by only"):
        grid_fermi_surface(model, 0.1, 64)  # Gamma is a grid point: a 4-vertex pocket
    shifted = _square(1.0, 1.0)  # band minimum -4 at Gamma; an odd grid misses Gamma
    with pytest.raises(bs.FermiSurfaceError, match="smaller than the k-grid spacing"):
        grid_fermi_surface(shifted, -4.0 + 1e-4, 33)
    fs, _ = grid_fermi_surface(model, 0.1, 512)  # resolved at a finer grid
    assert fs.n_points > 40
