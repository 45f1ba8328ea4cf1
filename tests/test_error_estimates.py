"""Error estimates of every reported number: honest (>= the true error) on random models,
gauge, basis and rotation invariant, round-off included; error messages whose remedy works."""

import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import boltzspin as bs
from boltzspin.geometry import bands
from boltzspin.models.continuum import PAULI
from boltzspin.responses.convergence import error_estimates
from boltzspin.responses.error_estimates import window_error
from boltzspin.responses.response import fermi_window

DELTA = bs.DeltaCorrelated(0.01, 1.0)
SURFACE = ["intrinsic_dipole", "boltzmann", "side_jump", "dipole_change", "anomalous_distribution"]


def random_two_band(seed, rotation=0.0, unitary=None):
    """A random 2-band k.p model ``k^2/2m + d(k).sigma`` (d linear in k plus a constant),
    optionally with k rotated by ``rotation`` and the basis rotated by ``unitary``.
    Returns ``(model, s_matrix)`` with ``s = sz`` in the rotated basis."""
    rng = np.random.default_rng(seed)
    mass = rng.uniform(0.5, 2.0)
    lin = rng.normal(scale=0.4, size=(3, 2))
    const = rng.normal(scale=0.15, size=3)
    c, s = np.cos(rotation), np.sin(rotation)
    rot = np.array([[c, -s], [s, c]])
    u = np.eye(2) if unitary is None else unitary

    def hamiltonian(k):
        k = k @ rot  # H'(k) = H(R^T k)
        d = k @ lin.T + const
        h = (np.sum(k * k, -1) / (2 * mass))[..., None, None] * np.eye(2)
        h = h + sum(d[..., a, None, None] * PAULI[a] for a in range(3))
        return u @ h @ u.conj().T

    sz = u @ (PAULI[2] / 2) @ u.conj().T
    return bs.KPModel(hamiltonian, operators={"sz": sz}, name=f"random{seed}"), sz


def random_unitary(rng):
    z = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    q, r = np.linalg.qr(z)
    return q * (np.diagonal(r) / np.abs(np.diagonal(r)))


def random_disorder(rng):
    a = bs.DeltaCorrelated(rng.uniform(0.005, 0.05), rng.uniform(0.5, 2.0))
    if rng.random() < 0.5:
        return a
    return a + bs.GaussianCorrelated(rng.uniform(0.005, 0.05), rng.uniform(0.5, 2.0), rng.uniform(0.3, 1.5))


# --- issue 10 item 4: symmetric Berry components are round-off / gap^2 -------------------

def test_berry_curvature_is_exactly_antisymmetric_in_any_gauge_near_a_touching():
    model = bs.Rashba(1.0, 0.5, dresselhaus=0.2)
    es = bands.eigensystem(model, np.array([[1e-9, 2e-9], [1e-7, -3e-7], [0.3, 0.1]]))
    for seed in (None, 1, 2, 3):
        e = es if seed is None else es.with_random_gauge(seed)
        omega = bands.berry_curvature(e)
        assert np.array_equal(omega, -np.swapaxes(omega, -1, -2))


def test_scalar_kinetic_energy_does_not_swamp_the_eigenvectors():
    """Rashba at mu = 1e12: the spin texture is resolved (s_n = 0 to round-off, not 1e-10)."""
    model = bs.Rashba(1.0, 0.5)
    k = np.sqrt(2e12) * np.array([[0.6, 0.8]])
    s = bands.expectation(bands.eigensystem(model, k), PAULI[2] / 2)
    assert np.abs(s).max() < 1e-14


@settings(derandomize=True, deadline=None, max_examples=4)
@given(st.integers(0, 10**6))
def test_gauge_basis_and_k_rotation_give_the_same_outcome(seed):
    """Random gauges, random unitary bases and rotated k: same success and same values."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    mu = rng.uniform(0.05, 0.5)
    base, _ = random_two_band(seed)
    variants = [(base, dict(gauge_seed=None)), (base, dict(gauge_seed=int(rng.integers(100)))),
                (random_two_band(seed, unitary=random_unitary(rng))[0], {}),
                (random_two_band(seed, rotation=angle)[0], {})]
    outcomes = []
    for model, extra in variants:
        try:
            outcomes.append(bs.transport(model, mu, DELTA, "sz", n_points=32, **extra))
        except bs.BoltzspinError as exc:
            outcomes.append(type(exc))
    kinds = [o if isinstance(o, type) else "ok" for o in outcomes]
    assert len(set(kinds)) == 1, kinds
    if kinds[0] != "ok":
        return
    ref = outcomes[0]
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    for i, ds in enumerate(outcomes[1:], 1):
        sigma = ds.sigma.values
        if i == 3:  # sigma' = R sigma R^T under k -> R k
            sigma = np.einsum("ai,cij,bj->cab", rot.T, sigma, rot.T)
        err = ref.sigma_error.values + ds.sigma_error.values
        scale = 1e-9 * np.abs(ref.sigma.values).max()
        assert np.all(np.abs(sigma - ref.sigma.values) <= 2 * err + scale)


# --- every reported number carries an error estimate ------------------------------------

def test_every_variable_has_an_error_variable_and_converge_reads_them():
    ds = bs.transport(bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.1)), 0.6, DELTA, "sz", n_points=32, temperature=0.02,
                      energy_step=0.5)
    for name in ("sigma", "alpha", "sigma_conventional_intrinsic", "density_of_states"):
        assert ds[name + "_error"].dims == ds[name].dims
        assert np.all(ds[name + "_error"].values >= 0)
    _, variables = error_estimates(ds)
    assert {"sigma_error", "alpha_error", "sigma_conventional_intrinsic_error"} <= set(variables)
    assert ds.attrs["max_fermi_window_error"] >= 0


def test_window_error_vanishes_for_a_polynomial_and_bounds_a_kink():
    energies, weights, x = fermi_window(0.0, 1.0)
    exact = np.pi**2 / 3  # int (-f0') x^2 dx
    assert abs(weights @ x**2 - exact) <= window_error(x**2, weights) < 1e-4
    kink = np.maximum(x, 0.0)
    exact = np.log(2.0)  # int (-f0') max(x, 0) dx
    assert abs(weights @ kink - exact) <= window_error(kink, weights)


def reference_errors(model, mu, disorder, n, n_ref):
    ds = bs.transport(model, mu, disorder, "sz", n_points=n)
    ref = bs.transport(model, mu, disorder, "sz", n_points=n_ref)
    # the reference is known only to its own estimate (its round-off is not zero)
    return np.abs(ds.sigma.values - ref.sigma.values), ds.sigma_error.values + ref.sigma_error.values, ref


def _honesty_rate(n_examples, n, n_ref, seed0):
    held, total, skipped = 0, 0, 0
    for i in range(n_examples):
        rng = np.random.default_rng(seed0 + i)
        model, _ = random_two_band(seed0 + i)
        mu = rng.uniform(0.05, 0.6)
        try:
            true, estimate, ref = reference_errors(model, mu, random_disorder(rng), n, n_ref)
        except bs.BoltzspinError:
            skipped += 1
            continue
        floor = 1e-12 * max(np.abs(ref.sigma.values).max(), 1.0)
        total += 1
        held += bool(np.all(true <= estimate + floor))
    return held, total, skipped


def test_error_estimates_bound_the_true_error_on_random_models():
    """estimate >= |value - high-resolution reference| on >= 95 % of random 2-band models."""
    held, total, _ = _honesty_rate(10, 64, 256, 1000)
    assert total >= 7
    assert held >= 0.95 * total, (held, total)


@pytest.mark.slow
def test_error_estimates_bound_the_true_error_on_many_random_models():
    held, total, _ = _honesty_rate(120, 64, 512, 5000)
    assert total >= 80
    assert held >= 0.95 * total, (held, total)


# --- issue 10 item 7: round-off -------------------------------------------------------

@pytest.mark.parametrize("mu", [1e6, 1e12])
def test_rashba_null_result_at_huge_mu_is_within_its_estimate(mu):
    ds = bs.transport(bs.Rashba(1.0, 0.5), mu, DELTA, "sz", n_points=64)
    total = ds.sigma.sel(contribution="total").values
    assert np.all(np.abs(total) <= ds.sigma_error.sel(contribution="total").values)
    assert np.abs(total).max() < 0.1 / (8 * np.pi)  # was 3513 q/(8 pi) at mu = 1e12 before the trace shift


def test_dilute_disorder_round_off_is_reported():
    """Boltzmann part ~ 1/n_imp times s_p = 0 + round-off: the estimate covers it (or it refuses)."""
    try:
        ds = bs.transport(bs.Rashba(1.0, 0.5), 0.6, bs.DeltaCorrelated(1e-14, 1.0), "sz", n_points=64)
    except bs.BoltzspinError as exc:
        assert "round-off" in str(exc) and "density" in str(exc)
        return
    err = ds.sigma_error.sel(contribution="total").values
    assert np.all(np.abs(ds.sigma.sel(contribution="total").values) <= err)
    assert ds.attrs["max_roundoff_error"] > 0


# --- issue 11 item 4: the Fermi-sea error names a remedy that works ---------------------

def test_fermi_sea_error_names_a_working_remedy():
    r = bs.Rashba(1.0, 0.5, dresselhaus=0.4)
    model = bs.KPModel(r.hamiltonian, r.velocity, operators=r.operators)
    with pytest.raises(bs.FermiSurfaceError, match="raise n_points to") as info:
        bs.transport(model, 0.6, DELTA, "sz", n_points=128)
    n = int(re.search(r"raise n_points to (\d+)", str(info.value)).group(1))
    ds = bs.transport(model, 0.6, DELTA, "sz", n_points=n)
    assert ds.attrs["fermi_sea_error_estimate"] < 1e-2


# --- issue 10 item 6: honest estimates on k-grids (lattice 2D and 3D) ------------------

def test_grid_error_is_the_largest_richardson_estimate_of_the_coarse_grids():
    from boltzspin.geometry.brillouin import GRID_SAFETY, coarse_grids, grid_error

    assert coarse_grids(96) == [(48, 2.0), (64, 1.5), (72, 4 / 3)]
    assert coarse_grids(9) == [(4, 9 / 4), (6, 1.5)]  # 9/(4/3) = 6.75 -> 6, a duplicate
    assert coarse_grids(5) == [] and coarse_grids(6, 2) == [(3, 2.0), (4, 1.5)]
    # exact second order X(G) = X* + C/G^2: every term is exactly S |C| / G^2
    exact, c = 0.7, -3.0
    value = lambda g: exact + c / g**2  # noqa: E731
    est = grid_error(value(96), [(value(g), r) for g, r in coarse_grids(96)])
    assert est == pytest.approx(GRID_SAFETY * abs(c) / 96**2, rel=1e-9)
    # an error constant that scatters with the grid: the coarse grid that happens to match
    # G/2's Richardson prediction is outvoted by the others
    scatter = {96: 1.2, 48: 0.3, 64: 0.2, 72: 1.0}
    est = grid_error(scatter[96] / 96**2, [(scatter[g] / g**2, r) for g, r in coarse_grids(96)])
    assert est >= scatter[96] / 96**2 > abs(scatter[96] - 4 * scatter[48]) / 96**2
    assert grid_error(2.0, []) == 2.0
    # a tensor: an element whose coarse values happen to agree gets the tensor's relative estimate
    est = grid_error(np.diag([1.0, 10.0]), [(np.diag([1.0, 10.3]), 2.0)])
    np.testing.assert_allclose(est, np.diag([0.03, 0.3]), rtol=1e-12)


def random_lattice_model(rng, dim):
    """Random lattice models and chemical potentials inside their bands, with an observable."""
    from boltzspin.models.tight_binding import LatticeRashba, QiWuZhang, Rashba3D, SquareLattice, TightBinding

    kind = int(rng.integers(4))
    if dim == 3:
        if kind < 2:
            model = Rashba3D(1.0, rng.uniform(0.3, 1.0), rng.uniform(0.1, 0.6),
                             exchange=tuple(rng.uniform(-0.3, 0.3, size=3)))
            return model, rng.uniform(1.0, 3.0), "sz"  # both pockets resolved at G/2 = 10
        # one anisotropic band with next-nearest hopping (charge current only)
        t = rng.uniform(0.5, 1.5, size=3)
        table = {(0, 0, 0): np.zeros((1, 1), dtype=complex)}
        for a in range(3):
            r = tuple(int(i == a) for i in range(3))
            table[r] = table[tuple(-x for x in r)] = np.array([[-t[a]]], dtype=complex)
        tp = rng.uniform(-0.2, 0.2)
        table[(1, 1, 0)] = table[(-1, -1, 0)] = np.array([[tp]], dtype=complex)
        e_min = -2 * t.sum() + 2 * tp
        return TightBinding(np.eye(3), table), e_min + rng.uniform(0.5, 3.0), "charge"
    if kind == 0:
        return LatticeRashba(1.0, rng.uniform(0.1, 0.6), exchange=tuple(rng.uniform(-0.3, 0.3, size=3))), \
            rng.uniform(-3.0, 1.0), "sz"
    if kind == 1:
        mass = rng.uniform(-2.5, 2.5)
        return QiWuZhang(mass), rng.choice([-1, 1]) * rng.uniform(abs(mass) * 0 + 0.2, 3.0), "sz"
    if kind == 2:
        return SquareLattice(1.0), rng.uniform(-3.7, 3.7), "charge"
    # random two-band model with nearest and one next-nearest neighbour hopping
    herm = lambda s: (lambda a: (a + a.conj().T) / 2)(rng.normal(scale=s, size=(2, 2))  # noqa: E731
                                                      + 1j * rng.normal(scale=s, size=(2, 2)))
    table = {(0, 0): herm(0.5)}
    for r in ((1, 0), (0, 1), (1, 1)):
        t = rng.normal(scale=0.3, size=(2, 2)) + 1j * rng.normal(scale=0.3, size=(2, 2)) - np.eye(2)
        table[r], table[(-r[0], -r[1])] = t, t.conj().T
    model = TightBinding(np.eye(2), table, operators={"sz": PAULI[2] / 2})
    e = bands.eigensystem(model, rng.uniform(-np.pi, np.pi, size=(400, 2))).energies
    return model, rng.uniform(np.quantile(e[:, 0], 0.3), np.quantile(e[:, 1], 0.7)), "sz"


def _lattice_honesty(seed, dim, n, n_ref):
    """``True``/``False``: the estimate at ``n`` bounds the error against ``n_ref``; ``None``: refused."""
    rng = np.random.default_rng(seed)
    model, mu, observable = random_lattice_model(rng, dim)
    disorder = bs.DeltaCorrelated(rng.uniform(0.005, 0.05), rng.uniform(0.5, 2.0))
    if rng.random() < 0.5 and observable == "sz":
        disorder = disorder + bs.MagneticImpurities(rng.uniform(0.002, 0.02), rng.uniform(0.2, 1.0), 1.0)
    try:
        ds = bs.transport(model, float(mu), disorder, observable, n_points=n)
        ref = bs.transport(model, float(mu), disorder, observable, n_points=n_ref)
    except bs.BoltzspinError:
        return None
    true = np.abs(ds.sigma.values - ref.sigma.values)
    # the reference is known only to its own estimate
    return bool(np.all(true <= ds.sigma_error.values + ref.sigma_error.values))


@settings(derandomize=True, deadline=None, max_examples=4)
@given(st.integers(0, 10**6))
def test_lattice_estimates_bound_the_true_error(seed):
    """2D lattice models (LatticeRashba, Qi-Wu-Zhang, square lattice, random two-band): G = 48
    against G = 144.  Each example must hold (the 95 % rate is measured by the slow test)."""
    assert _lattice_honesty(seed, 2, 48, 144) is not False


def test_qwz_skew_estimate_at_48_bounds_the_error():
    """The case that started the rework: one coarse grid (G/2) understated the skew part 3.4x at G = 96."""
    model, d = bs.QiWuZhang(-1.0), bs.DeltaCorrelated(0.01, 1.0)
    ds = bs.transport(model, -2.0, d, "charge", n_points=96, scattering=("skew_scattering",))
    ref = bs.transport(model, -2.0, d, "charge", n_points=288, scattering=("skew_scattering",))
    assert np.all(np.abs(ds.sigma.values - ref.sigma.values) <= ds.sigma_error.values + ref.sigma_error.values)


def test_3d_estimate_bounds_the_true_error_on_a_random_band():
    """One random anisotropic cubic band: G = 16 against G = 40 (Rashba3D in the slow test)."""
    rng = np.random.default_rng(3)
    while True:
        model, mu, observable = random_lattice_model(rng, 3)
        if observable == "charge":
            break
    ds = bs.transport(model, mu, DELTA, observable, n_points=16)
    ref = bs.transport(model, mu, DELTA, observable, n_points=40)
    assert np.all(np.abs(ds.sigma.values - ref.sigma.values) <= ds.sigma_error.values + ref.sigma_error.values)


@pytest.mark.slow
@pytest.mark.parametrize("dim, n, n_ref, count", [(2, 64, 256, 40), (3, 20, 40, 12)])
def test_lattice_estimates_bound_the_true_error_on_many_random_models(dim, n, n_ref, count):
    """estimate >= |value - reference| on >= 95 % of random lattice examples (2D and 3D).

    At G = 48 (against 192) 2 of 26 judged 2D examples missed: grids still pre-asymptotic
    (documentation: Theory, "Numerics")."""
    outcomes = [_lattice_honesty(7000 + i, dim, n, n_ref) for i in range(count)]
    judged = [o for o in outcomes if o is not None]
    assert len(judged) >= 0.6 * count
    assert sum(judged) >= 0.95 * len(judged), (sum(judged), len(judged))


@pytest.mark.parametrize("case", ["gaussian, no exchange", "in-plane exchange, magnetic"])
def test_vanishing_charge_side_jump_parts_are_within_their_round_off_estimate(case):
    """Shrunk from the random campaign (seeds 1 and 2): the charge side jump of Rashba models that
    vanishes by symmetry came out as 2e-18..5e-18, up to 35x its round-off estimate, and so did the
    anomalous distribution part.  The sums over p' of W dr cancel; their round-off scale is
    out-rate x |A| |s|."""
    if case.startswith("gaussian"):
        model = bs.Rashba(1.6685932163465165, 0.9673037855604738, dresselhaus=-0.2028291926957901)
        mu, disorder = 0.8266612641741318, bs.GaussianCorrelated(0.059, 1.4226, 0.5192) + bs.GaussianCorrelated(
            0.00265, 1.7132, 0.2815)
    else:
        model = bs.Rashba(0.627411458144334, 0.5938222383918939, dresselhaus=-0.07507887286590505,
                          exchange=(0.0, -0.09361621531378328, 0.0))
        mu, disorder = 0.3405555858153585, bs.MagneticImpurities(0.0862, 0.9495, 0.5) + bs.DeltaCorrelated(
            0.00309, 1.3893)
    ds = bs.transport(model, mu, disorder, "charge", n_points=64)
    for part in ("side_jump", "anomalous_distribution"):  # the anomalous source cancels the same way
        value = ds.sigma.sel(contribution=part).values
        assert np.abs(value).max() < 1e-15  # zero in theory
        assert np.all(np.abs(value) <= ds.sigma_error.sel(contribution=part).values)
