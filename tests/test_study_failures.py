"""A failing point: a deterministic refusal is tried once, an unexpected error `retries` + 1 times,
and each distinct reason is reported once (also with --serial), never as a raw traceback."""

import warnings

import pytest

from boltzspin.errors import ModelError
from boltzspin.studies import study
from boltzspin.studies.cli import main

from test_study import FIGURE_SCRIPT, TINY


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(out=tmp_path).replace('figure_script = "tiny_figure.py"\n', "")
                    .replace('figure = "' + str(tmp_path) + '/tiny.png"\n', ""))
    (tmp_path / "tiny_figure.py").write_text(FIGURE_SCRIPT)
    return path


def test_refusals_are_not_retried_other_errors_are_and_each_reason_is_reported_once(tiny, monkeypatch, capsys):
    calls = {}

    def fake(job, threads=None):
        calls[job["file"]] = calls.get(job["file"], 0) + 1
        if job["coords"]["disorder"] == "delta":
            raise ModelError("refused: deterministic")
        raise RuntimeError("flaky worker")

    monkeypatch.setattr(study, "compute_point", fake)
    spec = study.load_study(tiny)
    retries = spec["study"].get("retries", 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["run", str(tiny), "--serial", "--quiet"]) == 1
    jobs = study.jobs(spec)
    for job in jobs:
        expected = 1 if job["coords"]["disorder"] == "delta" else retries + 1
        assert calls[job["file"]] == expected, job["coords"]
    messages = [str(w.message) for w in caught if issubclass(w.category, study.StudyWarning)]
    assert len(messages) == 2  # one per distinct reason, with the count and the first point
    assert any("6 point(s) failed" in m and "ModelError: refused: deterministic" in m for m in messages)
    assert any("6 point(s) failed" in m and "RuntimeError: flaky worker" in m for m in messages)
    assert "Traceback" not in capsys.readouterr().err


def test_a_worker_returns_a_refusal_as_a_message_instead_of_raising(tiny, monkeypatch):
    def refuse(job, threads=None):
        raise ModelError("no")

    monkeypatch.setattr(study, "compute_point", refuse)
    job = study.jobs(study.load_study(tiny))[0]
    assert study._attempt(job) == "ModelError: no"  # dask sees a result: no retry, no worker traceback
