"""Study files, resumable runs, the CLI and the figure."""

import numpy as np
import pytest
import xarray as xr

import boltzspin.study as study
from boltzspin.cli import main

TINY = """
[study]
name = "tiny"
output = "{out}/tiny.nc"
figure = "{out}/tiny.png"

[model]
type = "Rashba"
mass = 1.0
alpha = 0.5

[transport]
observable = "sz"
n_points = 32

[sweep]
mu = [-0.05, 0.3, 0.6]

[disorder.delta]
type = "DeltaCorrelated"
density = 0.01
strength = 1.0

[disorder.mix]
[[disorder.mix.species]]
type = "GaussianCorrelated"
density = 0.01
strength = 1.0
length = 1.0
[[disorder.mix.species]]
type = "MagneticImpurities"
density = 0.01
exchange = 1.0
spin = 1.0
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(out=tmp_path))
    return path


def test_cli_run_writes_dataset_figure_and_table(tiny, tmp_path, capsys):
    assert main(["run", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "total" in out and "0.6000" in out
    ds = xr.open_dataset(tmp_path / "tiny.nc", engine="h5netcdf")
    assert ds.sigma.dims == ("disorder", "mu", "contribution", "i", "j")
    assert list(ds.disorder.values) == ["delta", "mix"]
    np.testing.assert_allclose(ds.mu.values, [-0.05, 0.3, 0.6])
    assert np.all(np.abs(ds.sigma.sel(contribution="total")) < 1e-10 / (8 * np.pi))
    assert ds.attrs["charge"] == -1.0 and "hbar = 1" in ds.attrs["units"]
    assert (tmp_path / "tiny.png").stat().st_size > 10_000


def test_interrupted_study_resumes_with_identical_result(tiny, tmp_path, monkeypatch):
    spec = study.load_study(tiny)
    real = study.transport
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 4:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the fourth point
        return real(*args, **kwargs)

    monkeypatch.setattr(study, "transport", flaky)
    with pytest.raises(KeyboardInterrupt):
        study.run_study(spec, progress=False)
    points = list((tmp_path / "tiny.nc.points").glob("*.nc"))
    assert len(points) == 3
    assert not list((tmp_path / "tiny.nc.points").glob("*.tmp"))

    calls.clear()
    resumed = study.run_study(spec, progress=False)
    assert len(calls) == 3  # only the missing points were computed
    monkeypatch.setattr(study, "transport", real)
    for p in (tmp_path / "tiny.nc.points").glob("*.nc"):
        p.unlink()
    fresh = study.run_study(spec, progress=False)
    xr.testing.assert_identical(resumed, fresh)


def test_changed_parameters_do_not_reuse_old_points(tiny, tmp_path):
    spec = study.load_study(tiny)
    study.run_study(spec, progress=False)
    spec["transport"]["n_points"] = 40
    before = set((tmp_path / "tiny.nc.points").glob("*.nc"))
    study.run_study(spec, progress=False)
    after = set((tmp_path / "tiny.nc.points").glob("*.nc"))
    assert len(after - before) == 6


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda s: s.replace('type = "Rashba"', 'type = "Graphene"'), "model type"),
        (lambda s: s.replace("[sweep]", "[nosweep]"), r"\[sweep\]"),
        (lambda s: s.replace('type = "DeltaCorrelated"', 'type = "Delta"'), "disorder type"),
        (lambda s: s.replace("alpha = 0.5", "alpha = 0.5\nbeta = 1"), "bad arguments"),
        (lambda s: s + "\n[[[", "not valid TOML"),
    ],
)
def test_bad_study_files_are_rejected_before_any_work(tiny, mutate, match):
    tiny.write_text(mutate(tiny.read_text()))
    with pytest.raises(study.StudyError, match=match):
        study.load_study(tiny)


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
