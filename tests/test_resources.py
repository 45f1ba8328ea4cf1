"""Resource guards (boltzspin.resources) and progress reporting (boltzspin.progress).

A resolution that cannot fit is refused before anything large is allocated, with the
estimate, the budget and a remedy; the remedy is followed here and works.  The memory
estimates are compared with the peak that tracemalloc measures.
"""

import logging
import re
import time
import tracemalloc

import numpy as np
import pytest

import boltzspin as bs
from boltzspin import resources
from boltzspin.errors import ModelError, ResourceError

RASHBA = bs.Rashba(1.0, 0.5)
DELTA = bs.DeltaCorrelated(0.01, 1.0)


@pytest.mark.parametrize("kwargs, stage", [
    (dict(n_points=10**9), "rays"),
    (dict(n_points=10**7), "rays"),
    (dict(radial_samples=10**9), "rays"),
    (dict(temperature=0.01, energy_step=1e-9), "Fermi window"),
])
def test_huge_inputs_are_refused_at_once(kwargs, stage):
    t = time.perf_counter()
    with pytest.raises(ResourceError, match=rf"the {stage} stage would need about .* GiB of memory") as exc:
        bs.transport(RASHBA, 1.0, DELTA, **kwargs)
    assert time.perf_counter() - t < 2.0  # refused before allocating, not after swapping
    assert "which fits" in str(exc.value) and "set_budget" in str(exc.value)


def _remedy(message, knob):
    found = re.search(rf"{knob} (<=|>=) ([0-9.e+-]+)", message)
    assert found, message
    return float(found.group(2))


def test_n_points_remedy_works():
    with resources.budget(memory_gib=0.06):
        with pytest.raises(ResourceError) as exc:
            bs.transport(RASHBA, 1.0, DELTA, n_points=4096)
        n = int(_remedy(str(exc.value), "n_points"))
        assert 16 <= n < 4096
        ds = bs.transport(RASHBA, 1.0, DELTA, n_points=n)
    assert ds.attrs["estimated_memory_gib"] <= 0.06


def test_energy_step_remedy_works():
    with resources.budget(work_seconds=6.0):
        with pytest.raises(ResourceError, match="CPU time") as exc:
            bs.transport(RASHBA, 1.0, DELTA, n_points=64, temperature=0.05, energy_step=0.01)
        step = _remedy(str(exc.value), "energy_step")
        ds = bs.transport(RASHBA, 1.0, DELTA, n_points=64, temperature=0.05, energy_step=step)
    assert np.isfinite(ds.sigma).all()


def test_dense_kernel_remedy_names_onthefly():
    gauss = bs.GaussianCorrelated(0.01, 1.0, 1.0)
    with resources.budget(memory_gib=0.45):  # the rays fit (~0.26 GiB), the 0.5 GiB kernel does not
        with pytest.raises(ResourceError, match="the collisions stage .*method='onthefly'"):
            bs.transport(RASHBA, 1.0, gauss, n_points=4096, method="dense")


@pytest.mark.parametrize("memory_gib, work_seconds", [(-1.0, None), (0.0, None), (None, float("inf")),
                                                      ("lots", None)])
def test_bad_budgets_are_refused(memory_gib, work_seconds):
    with pytest.raises(ResourceError, match="must be a positive finite number"):
        resources.set_budget(memory_gib, work_seconds)


def test_budget_from_environment(monkeypatch):
    monkeypatch.setenv("BOLTZSPIN_MEMORY_GIB", "0.001")
    with pytest.raises(ResourceError, match=r"budget 0.001 GiB"):
        bs.transport(RASHBA, 1.0, DELTA, n_points=256)


@pytest.mark.parametrize("name, model, mu, disorder, kwargs", [
    ("rays", RASHBA, 1.0, DELTA, dict(n_points=1024)),
    ("rays, dense kernel", RASHBA, 1.0, bs.GaussianCorrelated(0.01, 1.0, 1.0), dict(n_points=512, method="dense")),
    ("2D k-grid", bs.LatticeRashba(1.0, 0.3, exchange=(0, 0, 0.1)), 0.3, DELTA, dict(n_points=128)),
])
def test_memory_estimate_bounds_the_measured_peak(name, model, mu, disorder, kwargs):
    """The estimate is an upper bound of the traced peak, and not absurdly pessimistic."""
    tracemalloc.start()
    try:
        ds = bs.transport(model, mu, disorder, **kwargs)
        peak = tracemalloc.get_traced_memory()[1] / resources.GIB
    finally:
        tracemalloc.stop()
    estimate = ds.attrs["estimated_memory_gib"]
    assert peak <= estimate <= 10 * peak, (name, peak, estimate)


def test_progress_bar_and_log(capsys, caplog):
    with caplog.at_level(logging.DEBUG, logger="boltzspin"):
        bs.transport(RASHBA, 1.0, DELTA, n_points=64, progress=True)
    err = capsys.readouterr().err
    assert "transport" in err and "stage" in err  # the tqdm bar
    text = caplog.text
    assert "Fermi surface and Fermi sea done" in text and "finished in" in text
    assert [r.levelno for r in caplog.records if "finished in" in r.getMessage()] == [logging.INFO]


def test_silent_by_default(capsys, caplog):
    with caplog.at_level(logging.WARNING, logger="boltzspin"):
        bs.transport(RASHBA, 1.0, DELTA, n_points=64)
        bs.magnetization(RASHBA, 1.0, n_angles=64)
    assert capsys.readouterr().err == "" and caplog.text == ""


def test_progress_of_windowed_and_equilibrium_calls(capsys, caplog):
    lattice = bs.LatticeRashba(1.0, 0.3, exchange=(0, 0, 0.1))
    with caplog.at_level(logging.DEBUG, logger="boltzspin"):
        bs.magnetization(lattice, 0.3, n_grid=16, progress=True)
        bs.equilibrium_current(RASHBA, 1.0, n_angles=64, temperature=0.05, progress=True)
    err = capsys.readouterr().err
    assert "magnetization" in err and "equilibrium_current" in err
    assert "k-grid Fermi sea: level 0" in caplog.text  # the inner stage of a long single call
    # only the outermost call logs at INFO
    assert all(r.levelno == logging.DEBUG for r in caplog.records if "transport" in r.getMessage())


def test_failed_call_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="boltzspin"), pytest.raises(ModelError):
        bs.transport(RASHBA, 1.0, DELTA, n_points=64, observable="no such observable")


@pytest.mark.parametrize("model, kwargs, knob", [
    (RASHBA, dict(n_angles=10**8), "n_angles"),
    (bs.LatticeRashba(1.0, 0.3, exchange=(0, 0, 0.1)), dict(n_grid=10**5), "n_grid"),
])
def test_fermi_sea_calls_are_guarded(model, kwargs, knob):
    t = time.perf_counter()
    with pytest.raises(ResourceError, match=rf"{knob} <= \d+"):
        bs.magnetization(model, 0.3, **kwargs)
    with pytest.raises(ResourceError, match=rf"{knob} <= \d+"):
        bs.equilibrium_current(model, 0.3, **kwargs)
    assert time.perf_counter() - t < 2.0
