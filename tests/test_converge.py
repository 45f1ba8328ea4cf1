"""boltzspin.converge: reads every error estimate, stops within tolerance, refuses when it cannot."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import boltzspin as bs
from boltzspin.responses.convergence import error_estimates


def algebraic(exact, amplitude, order, floor=0.0, with_attr=True):
    """A calculation converging like ``amplitude / n**order`` that reports the honest
    half-resolution difference as ``value_error`` (a bound for order >= 1) and an
    attribute estimate ``n**-order`` (never below ``floor``)."""
    calls = []

    def compute(n_points, scale=1.0):
        calls.append(n_points)
        value = scale * (exact + amplitude / n_points**order)
        half = scale * (exact + amplitude / (n_points / 2) ** order)
        ds = xr.Dataset({"value": (("i",), value), "value_error": (("i",), np.maximum(np.abs(value - half), floor))})
        if with_attr:
            ds.attrs["toy_error_estimate"] = max(float(n_points) ** -order, floor)
        return ds

    return compute, calls


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    exact=st.lists(st.floats(-10, 10), min_size=1, max_size=4),
    amplitude=st.floats(-50, 50),
    order=st.integers(1, 4),
    tol=st.sampled_from([1e-2, 1e-4, 1e-6]),
    rtol=st.sampled_from([0.0, 1e-3]),
)
def test_result_is_within_tolerance_of_the_exact_value(exact, amplitude, order, tol, rtol):
    exact = np.array(exact)
    compute, calls = algebraic(exact, amplitude, order)
    ds = bs.converge(compute, tol=tol, rtol=rtol, start=4, n_max=1 << 28, scale=1.0)
    n = ds.attrs["convergence_history_n_points"]
    assert list(n) == calls and n[-1] == calls[-1]
    assert np.all(np.abs(ds.value - exact) <= tol + rtol * np.abs(ds.value))
    assert ds.attrs["toy_error_estimate"] <= tol
    # and it stopped at the first resolution that met every bound
    if len(calls) > 1:
        previous = compute(calls[-2])
        assert previous.attrs["toy_error_estimate"] > tol or np.any(
            np.abs(previous.value_error) > tol + rtol * np.abs(previous.value))


def test_unreachable_tolerance_raises_with_the_worst_estimate():
    compute, calls = algebraic(np.array([1.0]), 1.0, 2, floor=1e-3)
    with pytest.raises(bs.ConvergenceError, match=r"n_points up to 256.*value_error.*Raise n_max"):
        bs.converge(compute, tol=1e-6, start=16, n_max=256)
    assert calls == [16, 32, 64, 128, 256]


def test_per_estimate_tolerances_and_the_parameter_keyword():
    compute, _ = algebraic(np.array([1.0]), 1.0, 2, floor=1e-3, with_attr=True)

    def by_angles(n_angles):
        return compute(n_angles)

    ds = bs.converge(by_angles, tol=1e-6, tolerances={"value_error": 2e-3, "toy_error_estimate": 2e-3},
                     parameter="n_angles", start=8)
    assert ds.attrs["convergence_parameter"] == "n_angles"
    # value_error at n is 3/n^2 (> 2e-3 at 32), toy estimate 1/n^2
    assert list(ds.attrs["convergence_history_n_angles"]) == [8, 16, 32, 64]


def test_refuses_a_result_without_estimates_and_bad_arguments():
    def silent(n_points):
        return xr.Dataset({"value": ((), 1.0)})

    with pytest.raises(bs.ConvergenceError, match="no error estimate"):
        bs.converge(silent)
    with pytest.raises(bs.ModelError, match="growth"):
        bs.converge(silent, growth=1.0)
    with pytest.raises(bs.ModelError, match="n_points= is set by converge"):
        bs.converge(silent, n_points=64)
    with pytest.raises(bs.ModelError, match="tol"):
        bs.converge(silent, tol=-1.0)


def test_nan_error_is_never_converged():
    def broken(n_points):
        return xr.Dataset({"value": ((), 1.0), "value_error": ((), np.nan)})

    with pytest.raises(bs.ConvergenceError):
        bs.converge(broken, start=8, n_max=16)


def test_lattice_transport_converges_to_the_high_resolution_value():
    """A real k-grid calculation: G = 32 cannot resolve the pocket (FermiSurfaceError, so
    the grid is refined), the relative density-of-states estimate and the absolute
    Fermi-sea estimate then both fall below tol, and the result agrees with G = 256
    to within that tolerance."""
    model, mu, disorder = bs.LatticeRashba(1.0, 0.3, exchange=(0, 0, 0.1)), 0.3, bs.DeltaCorrelated(0.01, 1.0)
    tol = 3e-3
    # rtol: the Boltzmann part (~1/n_imp) carries an absolute sigma_error far above tol
    ds = bs.converge(bs.transport, model, mu, disorder, observable="charge", tol=tol, rtol=1e-3, start=32,
                     n_max=128)
    history = ds.attrs["convergence_history_n_points"]
    assert history[0] == 32 and np.isinf(ds.attrs["convergence_history_fermi_surface_error_estimate"][0])
    assert ds.attrs["fermi_surface_error_estimate"] <= tol and ds.attrs["fermi_sea_error_estimate"] <= tol
    reference = bs.transport(model, mu, disorder, observable="charge", n_points=256)
    dos, dos_ref = float(ds.density_of_states), float(reference.density_of_states)
    assert abs(dos - dos_ref) <= tol * dos_ref
    berry = ds.sigma.sel(contribution="intrinsic_berry")
    assert float(np.abs(berry - reference.sigma.sel(contribution="intrinsic_berry")).max()) <= tol
    attributes, _ = error_estimates(ds)
    assert set(attributes) >= {"fermi_surface_error_estimate", "fermi_sea_error_estimate"}
