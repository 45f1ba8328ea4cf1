"""Point files of a study can be truncated, emptied, corrupted, stripped or swapped: none is merged, each is recomputed with a warning."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from boltzspin.studies import point_files, study
from test_study import N_POINTS, TINY, FIGURE_SCRIPT


@pytest.fixture
def finished(tmp_path):
    """A tiny study run once: (spec, result, the per-job point files in job order)."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(out=tmp_path))
    (tmp_path / "tiny_figure.py").write_text(FIGURE_SCRIPT)
    spec = study.load_study(path)
    result = study.run_study(spec, progress=False, executor="serial")
    return spec, result, study.jobs(spec)


def rerun_counting(spec, monkeypatch):
    calls = []
    real = study.compute_point

    def counted(job, threads=None):
        calls.append(job["file"])
        return real(job, threads)

    monkeypatch.setattr(study, "compute_point", counted)
    return study.run_study(spec, progress=False, executor="serial"), calls


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def empty(path):
    path.write_bytes(b"")


def garble(path):
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(7)
    for i in rng.integers(0, len(data), 64):
        data[i] ^= 0xFF
    path.write_bytes(b"\x00" * 16 + bytes(data[16:]))  # and the HDF5 signature is gone


def strip_record(path):
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    del ds.attrs[point_files.INPUTS_ATTR], ds.attrs[point_files.HASH_ATTR]
    ds.to_netcdf(path, engine="h5netcdf")


def forge_record(path):
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    ds.attrs[point_files.INPUTS_ATTR] = ds.attrs[point_files.INPUTS_ATTR].replace("0.01", "0.02", 1)
    ds.to_netcdf(path, engine="h5netcdf")


@pytest.mark.parametrize("damage, reason", [
    (truncate, "cannot be read"), (empty, "cannot be read"), (garble, "cannot be read"),
    (strip_record, "no record of its inputs"), (forge_record, "does not match its own hash"),
])
def test_damaged_point_file_is_recomputed_with_a_warning(finished, monkeypatch, damage, reason):
    spec, result, jobs = finished
    victim = jobs[5]["file"]
    damage(Path(victim))
    with pytest.warns(study.StudyWarning, match=reason):
        again, calls = rerun_counting(spec, monkeypatch)
    assert calls == [victim]  # only the damaged point, and it is recomputed
    xr.testing.assert_allclose(again, result, rtol=1e-12, atol=1e-14)


def test_point_file_of_another_point_copied_over_is_not_merged(finished, monkeypatch):
    spec, result, jobs = finished
    # job 0 and job 1 differ in mu (or density): a valid file in the wrong place
    shutil.copyfile(jobs[0]["file"], jobs[1]["file"])
    with pytest.warns(study.StudyWarning, match="computed for another point"):
        again, calls = rerun_counting(spec, monkeypatch)
    assert calls == [jobs[1]["file"]]
    xr.testing.assert_allclose(again, result, rtol=1e-12, atol=1e-14)


def test_merge_never_uses_a_swapped_file(finished):
    """Even when merging without the runner (study.merge), a swapped file becomes a failed point, not data."""
    spec, result, jobs = finished
    shutil.copyfile(jobs[0]["file"], jobs[1]["file"])
    merged = study.merge(spec, jobs, {})
    assert int(merged.failed.sum()) == 1 and merged.attrs["n_failed"] == 1
    message = [str(e) for e in merged.error.values.ravel() if str(e)]
    assert len(message) == 1 and "another point" in message[0] and "rerun the study" in message[0]


def test_every_point_file_records_its_inputs(finished):
    spec, result, jobs = finished
    assert len(jobs) == N_POINTS
    for job in jobs:
        ds, problem = point_files.read_point(job)
        assert problem is None and ds.attrs[point_files.INPUTS_ATTR] == job["inputs"]
        assert job["file"].endswith(job["inputs_sha256"][:20] + ".nc")
    assert point_files.INPUTS_ATTR not in result.attrs  # per-point records stay in the point files
