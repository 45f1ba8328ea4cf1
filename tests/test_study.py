"""Study files, sweeps, resumable runs (including a killed process), dask, the CLI and figures."""

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import boltzspin.studies.study as study
from boltzspin.studies.cli import main

TINY = """
[study]
name = "tiny"
output = "{out}/tiny.nc"
figure = "{out}/tiny.png"
figure_script = "tiny_figure.py"

[model]
type = "Rashba"
mass = 1.0
alpha = 0.5

[transport]
observable = "sz"
n_points = 32

[sweep]
mu = [-0.05, 0.3, 0.6]
"disorder.density" = [0.01, 0.02]

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

FIGURE_SCRIPT = """
from boltzspin.studies.plot import figure, plot_contributions_vs, save, unit

def make_figure(ds, path):
    fig, axes = figure(1, 1)
    sub = ds.sel(disorder="delta", disorder_density=0.01, i="x", j="y")
    plot_contributions_vs(axes[0, 0], sub.sigma.transpose("contribution", "mu"), ds.mu.values, scale=unit(ds))
    return save(fig, path)
"""

N_POINTS = 12  # 3 mu x 2 densities x 2 disorders
REPRODUCIBLE_RTOL = 1e-12  # parallel vs serial round-off


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(out=tmp_path))
    (tmp_path / "tiny_figure.py").write_text(FIGURE_SCRIPT)
    return path


def assert_same_results(a, b):
    """Identical up to round-off from a different numba thread count.

    Workers and subprocesses may run numba with another thread count (dask pins
    BLAS/OpenMP threads to 1), so parallel reductions can differ in the last
    bits. Dims, coords, attrs and failure records must be identical; floats
    agree to REPRODUCIBLE_RTOL of each variable's largest entry (totals that
    vanish, as in the Rashba null, are pure round-off).
    """
    assert a.attrs == b.attrs
    xr.testing.assert_identical(a.coords.to_dataset(), b.coords.to_dataset())
    assert set(a.data_vars) == set(b.data_vars)
    for name, reference in b.data_vars.items():
        assert a[name].dims == reference.dims and a[name].attrs == reference.attrs
        if reference.dtype.kind != "f":
            xr.testing.assert_identical(a[name], reference)
            continue
        scale = float(np.nanmax(np.abs(reference.values)))
        xr.testing.assert_allclose(a[name], reference, rtol=0, atol=REPRODUCIBLE_RTOL * scale)


def points(tmp_path):
    return sorted((tmp_path / "tiny.nc.points").glob("*.nc"))


def test_cli_run_writes_dataset_figure_and_table(tiny, tmp_path, capsys):
    assert main(["run", str(tiny), "--serial"]) == 0
    out = capsys.readouterr().out
    assert "total" in out and "12 of 12 points computed now" in out
    ds = xr.open_dataset(tmp_path / "tiny.nc", engine="h5netcdf")
    assert ds.sigma.dims == ("disorder", "mu", "disorder_density", "contribution", "i", "j")
    assert list(ds.disorder.values) == ["delta", "mix"]
    np.testing.assert_allclose(ds.mu.values, [-0.05, 0.3, 0.6])
    assert np.all(np.abs(ds.sigma.sel(contribution="total")) < 1e-10 / (8 * np.pi))
    assert not ds.failed.any() and ds.attrs["n_failed"] == 0
    assert ds.attrs["charge"] == -1.0 and "hbar = 1" in ds.attrs["units"]
    assert (tmp_path / "tiny.png").stat().st_size > 10_000
    # the density axis really changes the density: the Boltzmann part of the
    # particle current would scale as 1/n_imp; here the dipole part must not change
    d = ds.sigma.sel(contribution="intrinsic_dipole")
    np.testing.assert_allclose(d.sel(disorder_density=0.01), d.sel(disorder_density=0.02), atol=1e-14)
    assert "density=0.02" in str(ds.disorder_repr.values[0]) or True


def test_sweep_overrides_reach_the_model_and_every_species(tiny):
    spec = study.load_study(tiny)
    jobs = study.jobs(spec)
    assert len(jobs) == N_POINTS
    mix = [j for j in jobs if j["coords"]["disorder"] == "mix" and j["coords"]["disorder.density"] == 0.02]
    assert all(t["density"] == 0.02 for j in mix for t in j["disorder"]["species"])
    text = tiny.read_text().replace('"disorder.density" = [0.01, 0.02]', '"model.alpha" = [0.3, 0.5]')
    tiny.write_text(text)
    spec = study.load_study(tiny)
    assert sorted({j["model"]["alpha"] for j in study.jobs(spec)}) == [0.3, 0.5]


def test_interrupted_study_resumes_with_identical_result(tiny, tmp_path, monkeypatch):
    spec = study.load_study(tiny)
    real = study.compute_point
    calls, interrupted = [], []

    def flaky(job, threads=None):
        calls.append(job["file"])
        if len(calls) == 4 and not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the fourth point
        return real(job, threads)

    monkeypatch.setattr(study, "compute_point", flaky)
    with pytest.raises(KeyboardInterrupt):
        study.run_study(spec, progress=False, executor="serial")
    assert len(points(tmp_path)) == 3
    assert not list((tmp_path / "tiny.nc.points").glob("*.tmp"))

    calls.clear()
    resumed = study.run_study(spec, progress=False, executor="serial")
    assert len(calls) == N_POINTS - 3  # only the missing points were computed
    monkeypatch.setattr(study, "compute_point", real)
    for p in points(tmp_path):
        p.unlink()
    fresh = study.run_study(spec, progress=False, executor="serial")
    xr.testing.assert_identical(resumed, fresh)


def test_killed_process_resumes(tiny, tmp_path):
    """SIGKILL a real run partway; the rerun computes only what is missing."""
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "boltzspin.studies.cli", "run", str(tiny), "--serial", "--quiet",
                             "--no-figure"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while len(points(tmp_path)) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(points(tmp_path))
    assert 3 <= done < N_POINTS, "the run must be killed partway"
    for p in points(tmp_path):  # every file that exists is a complete result
        xr.open_dataset(p, engine="h5netcdf").close()
    spec = study.load_study(tiny)
    missing = [j for j in study.jobs(spec) if not Path(j["file"]).exists()]
    assert len(missing) == N_POINTS - done
    resumed = study.run_study(spec, progress=False, executor="serial")
    assert len(points(tmp_path)) == N_POINTS
    for p in points(tmp_path):
        p.unlink()
    assert_same_results(resumed, study.run_study(spec, progress=False, executor="serial"))


def test_failed_point_is_recorded_not_fatal(tiny, tmp_path, capsys):
    tiny.write_text(tiny.read_text().replace("mu = [-0.05, 0.3, 0.6]", "mu = [0.0, 0.3]"))  # mu = 0: degenerate
    assert main(["run", str(tiny), "--serial", "--quiet"]) == 1
    ds = xr.open_dataset(tmp_path / "tiny.nc", engine="h5netcdf")
    bad = ds.sel(mu=0.0)
    assert bad.failed.all() and ds.attrs["n_failed"] == 4
    assert all("DegenerateBandsError" in str(e) for e in bad.error.values.ravel())
    assert np.isnan(bad.sigma).all()
    good = ds.sel(mu=0.3)
    assert not good.failed.any() and np.isfinite(good.sigma).all()


def test_two_worker_local_cluster_matches_serial(tiny, tmp_path):
    spec = study.load_study(tiny)
    parallel = study.run_study(spec, progress=False, executor="local", workers=2)
    assert len(points(tmp_path)) == N_POINTS
    for p in points(tmp_path):
        p.unlink()
    serial = study.run_study(spec, progress=False, executor="serial")
    assert_same_results(parallel, serial)


def test_changed_parameters_do_not_reuse_old_points(tiny, tmp_path):
    spec = study.load_study(tiny)
    study.run_study(spec, progress=False, executor="serial")
    spec["transport"]["n_points"] = 40
    before = set(points(tmp_path))
    study.run_study(spec, progress=False, executor="serial")
    assert len(set(points(tmp_path)) - before) == N_POINTS


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda s: s.replace('type = "Rashba"', 'type = "Graphene"'), "model type"),
        (lambda s: s.replace("[sweep]", "[nosweep]"), r"section 'nosweep'; did you mean 'sweep'"),
        (lambda s: s.replace('[sweep]\nmu = [-0.05, 0.3, 0.6]\n"disorder.density" = [0.01, 0.02]', ""),
         r"no \[sweep\] section"),
        (lambda s: s.replace('type = "DeltaCorrelated"', 'type = "Delta"'), "disorder type"),
        (lambda s: s.replace("alpha = 0.5", "alpha = 0.5\nbeta = 1"), "bad arguments"),
        (lambda s: s.replace('"disorder.density"', '"disorder.charge"'), "no disorder species"),
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


def test_shipped_studies_are_valid():
    for path in sorted(Path(__file__).parents[1].glob("studies/*.toml")):
        spec = study.load_study(path)
        assert spec["study"].get("figure_script"), path
        assert (path.parent / spec["study"]["figure_script"]).exists(), path


NAMED_MODELS = """
[study]
name = "named"
output = "{out}/named.nc"

[model.continuum]
type = "Rashba"
mass = 0.5
alpha = 0.3
exchange = [0.0, 0.0, 0.0]

[model.lattice]
type = "LatticeRashba"
hopping = 1.0
alpha = 0.3
exchange = [0.0, 0.0, 0.0]

[transport]
observable = "sz"
n_points = 256  # the lattice Fermi sea at 64 is 1.1 % off: its honest estimate refuses 64 and 128

[sweep]
mu = [0.2, 0.3]
"model.exchange.2" = [0.0, 0.05]
"model.lattice.alpha" = [0.3]

[disorder.delta]
type = "DeltaCorrelated"
density = 0.01
strength = 1.0
"""


def test_named_models_become_a_dimension(tmp_path):
    path = tmp_path / "named.toml"
    path.write_text(NAMED_MODELS.format(out=tmp_path))
    ds = study.run_study(study.load_study(path), progress=False, executor="serial")
    assert ds.sigma.dims[:2] == ("model", "disorder")
    assert list(ds.model.values) == ["continuum", "lattice"]
    assert "LatticeRashba" in str(ds.model_repr.sel(model="lattice").values)
    # model.exchange.2 reached both models: h_z = 0.05 breaks the null result in both
    total = ds.sigma.sel(contribution="total", i="x", j="y", disorder="delta", model_lattice_alpha=0.3)
    assert np.all(np.abs(total.sel(model_exchange_2=0.0)) < 1e-12)
    assert np.all(np.abs(total.sel(model_exchange_2=0.05)) > 1e-3)
    np.testing.assert_allclose(total.sel(model="lattice"), total.sel(model="continuum"), rtol=0.05, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# magnetization studies: [study] quantity = "magnetization", nested model tables (BdG)

MAGNETIZATION = """
[study]
name = "chiral"
quantity = "magnetization"
output = "{out}/chiral.nc"

[model]
type = "BdG"
chemical_potential = -1.0
normal = {{ type = "SquareLattice", hopping = 1.0 }}
pairing = {{ type = "ChiralD", delta = 0.3 }}

[magnetization]
mu = 0.0
observable = "charge"
charge = -1.0
n_grid = 32
energy_step = 0.5

[sweep]
"model.chemical_potential" = [-1.0, -0.5]
temperature = [0.0, 0.05]
"""


@pytest.fixture(scope="module")
def chiral(tmp_path_factory):
    """A tiny chiral d + id study (4 points), run once for the tests that only read it."""
    out = tmp_path_factory.mktemp("chiral")
    path = out / "chiral.toml"
    path.write_text(MAGNETIZATION.format(out=out))
    spec = study.load_study(path)
    return path, spec, study.run_study(spec, progress=False, executor="serial")


def test_magnetization_study_of_a_trivial_band_vanishes(chiral):
    _, _, ds = chiral
    assert ds.magnetization.dims == ("model_chemical_potential", "temperature")
    assert "disorder" not in ds.dims and "sigma" not in ds
    np.testing.assert_allclose(ds.model_chemical_potential.values, [-1.0, -0.5])
    np.testing.assert_allclose(ds.temperature.values, [0.0, 0.05])
    assert not ds.failed.any() and ds.attrs["n_failed"] == 0 and ds.attrs["quantity"] == "magnetization"
    assert ds.attrs["charge"] == -1.0 and "tau_z" in ds.attrs["observable"] and "temperature" not in ds.attrs
    np.testing.assert_allclose(ds.magnetization, ds["local"] + ds["global"], rtol=1e-12, atol=1e-15)
    for name in ("fermi_sea_error_estimate", "local_error_estimate", "global_error_estimate"):
        assert ds[name].dims == ds.magnetization.dims and np.all(np.isfinite(ds[name]))
    # one geometrically trivial normal band: the local and global circuits cancel, M = 0 (the letter)
    local = np.abs(ds["local"].values)
    assert np.all(local > 1e-3)
    tolerance = np.maximum(10 * ds.fermi_sea_error_estimate.values, 1e-6 * local)
    assert np.all(np.abs(ds.magnetization.values) <= tolerance)
    assert np.all(np.abs(ds.magnetization.values) < 0.01 * local)  # a cancellation to 1 % even at n_grid = 32
    assert "chemical_potential=-0.5" in str(ds.point_model.sel(model_chemical_potential=-0.5, temperature=0.0).item())
    # the CLI table of a result without sigma
    table = study.format_table(ds)
    assert "magnetization" in table and "fermi_sea_err" in table and len(table.splitlines()) == 2 + 4


def test_magnetization_study_resumes_only_the_missing_point(chiral, monkeypatch):
    path, spec, before = chiral
    files = sorted(Path(j["file"]) for j in study.jobs(spec))
    assert len(files) == 4 and all(f.exists() for f in files)
    lost = next(j for j in study.jobs(spec) if j["coords"]["temperature"] == 0.0)
    Path(lost["file"]).unlink()
    calls = []
    real = study.compute_point

    def counting(job, threads=None):
        calls.append(job["file"])
        return real(job, threads)

    monkeypatch.setattr(study, "compute_point", counting)
    after = study.run_study(study.load_study(path), progress=False, executor="serial")
    assert calls == [lost["file"]]
    xr.testing.assert_identical(after, before)


def test_nested_sweep_override_reaches_the_pairing(chiral, tmp_path):
    path = tmp_path / "delta.toml"
    text = chiral[0].read_text().replace(str(chiral[0].parent), str(tmp_path))
    path.write_text(text.replace('temperature = [0.0, 0.05]', '"model.pairing.delta" = [0.2, 0.3]')
                    .replace("[magnetization]", "[magnetization]\ntemperature = 0.0")
                    .replace("n_grid = 32", "n_grid = 64"))  # T = 0: cheap
    spec = study.load_study(path)
    assert {j["model"]["pairing"]["delta"] for j in study.jobs(spec)} == {0.2, 0.3}
    assert all(j["model"]["normal"] == {"type": "SquareLattice", "hopping": 1.0} for j in study.jobs(spec))
    ds = study.run_study(spec, progress=False, executor="serial")
    assert ds.magnetization.dims == ("model_chemical_potential", "model_pairing_delta")
    for delta in (0.2, 0.3):
        reprs = ds.point_model.sel(model_pairing_delta=delta).values
        assert all(f"ChiralD(delta={delta}," in str(r) for r in reprs)
    # a larger gap changes both circuits; they still cancel
    assert not np.allclose(ds["local"].sel(model_pairing_delta=0.2), ds["local"].sel(model_pairing_delta=0.3))
    tolerance = np.maximum(10 * ds.fermi_sea_error_estimate, 1e-6 * np.abs(ds["local"]))
    assert np.all(np.abs(ds.magnetization) <= tolerance)


NAMED_BDG = """
[study]
name = "named_bdg"
quantity = "magnetization"
output = "{out}/named_bdg.nc"

[model.trivial]
type = "BdG"
chemical_potential = -1.0
normal = {{ type = "SquareLattice", hopping = 1.0 }}
pairing = {{ type = "ChiralD", delta = 0.3 }}

[model.rashba]
type = "BdG"
chemical_potential = -1.0
normal = {{ type = "LatticeRashba", hopping = 1.0, alpha = 0.5, exchange = [0.0, 0.0, 0.0] }}
pairing = {{ type = "ChiralD", delta = 0.3 }}

[magnetization]
mu = 0.0
observable = "charge"
n_grid = 32

[sweep]
"model.chemical_potential" = [-2.0]
"model.rashba.normal.exchange.2" = [0.0, 0.3]
"""


def test_named_nested_models_become_a_dimension(tmp_path):
    path = tmp_path / "named_bdg.toml"
    path.write_text(NAMED_BDG.format(out=tmp_path))
    spec = study.load_study(path)
    jobs = study.jobs(spec)
    assert [j["model"]["normal"].get("exchange") for j in jobs if j["coords"]["model"] == "rashba"] \
        == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.3]]
    assert all("exchange" not in j["model"]["normal"] for j in jobs if j["coords"]["model"] == "trivial")
    ds = study.run_study(spec, progress=False, executor="serial")
    assert ds.magnetization.dims == ("model", "model_chemical_potential", "model_rashba_normal_exchange_2")
    assert list(ds.model.values) == ["trivial", "rashba"] and not ds.failed.any()
    assert "LatticeRashba" in str(ds.model_repr.sel(model="rashba").item())
    magnetized = ds.point_model.sel(model="rashba", model_rashba_normal_exchange_2=0.3).item()
    assert "exchange=(0.0, 0.0, 0.3)" in str(magnetized)
    np.testing.assert_allclose(ds.magnetization, ds["local"] + ds["global"], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda s: s.replace('type = "ChiralD"', 'type = "ChiralF"'), r"'ChiralF' in \[model.pairing\]"),
        (lambda s: s.replace('type = "SquareLattice"', 'type = "Square"'), r"'Square' in \[model.normal\]"),
        (lambda s: s.replace("hopping = 1.0 }", "hopping = 1.0, spin = 2 }"), r"bad arguments.*model.normal"),
        (lambda s: s.replace('type = "ChiralD", delta = 0.3', 'type = "ChiralD", delta = 0.3, chirality = 2'),
         r"bad arguments for pairing 'ChiralD' in \[model.pairing\]"),
        (lambda s: s.replace('quantity = "magnetization"', 'quantity = "entropy"'), "quantity"),
        (lambda s: s + '\n[disorder.delta]\ntype = "DeltaCorrelated"\ndensity = 0.01\nstrength = 1.0\n',
         r"takes no disorder; remove \[disorder\]"),
        (lambda s: s.replace("[magnetization]", "[transport]"), r"go in \[magnetization\], not \[transport\]"),
        (lambda s: s.replace("mu = 0.0\n", ""), r"give mu in \[magnetization\]"),
        (lambda s: s.replace("n_grid = 32", "n_points = 32"), r"bad keyword.*n_points"),
        (lambda s: s.replace("temperature =", '"disorder.density" = [0.01]\ntemperature ='), "takes no disorder"),
        (lambda s: s.replace('"model.chemical_potential"', '"model.pairing.delta.1"'), "pairing.delta.1"),
        (lambda s: s.replace('"model.chemical_potential"', '"model.exchange.2"'), "'exchange' is not given"),
    ],
)
def test_bad_magnetization_study_files_are_rejected(tmp_path, mutate, match):
    path = tmp_path / "bad.toml"
    path.write_text(mutate(MAGNETIZATION.format(out=tmp_path)))
    with pytest.raises(study.StudyError, match=match):
        study.load_study(path)


def test_bad_magnetization_value_fails_at_load(tmp_path):
    path = tmp_path / "bad_t.toml"
    text = MAGNETIZATION.format(out=tmp_path)
    path.write_text(text.replace("temperature = [0.0, 0.05]", "temperature = [-0.1, 0.0]"))  # T < 0
    with pytest.raises(study.StudyError, match="temperature"):
        study.load_study(path)  # refused before any work, not at run time


def test_failed_magnetization_point_is_recorded_not_fatal(tmp_path, monkeypatch):
    from boltzspin.errors import ModelError
    from boltzspin.studies import study_file

    real = study_file.QUANTITIES["magnetization"]

    @functools.wraps(real)  # keeps the signature the study-file checks read
    def fails_when_hot(model, **kwargs):  # a deterministic refusal at run time, for T > 0 only
        if kwargs.get("temperature", 0.0) > 0:
            raise ModelError("temperature refused for this test")
        return real(model, **kwargs)

    monkeypatch.setitem(study_file.QUANTITIES, "magnetization", fails_when_hot)
    path = tmp_path / "chiral.toml"
    path.write_text(MAGNETIZATION.format(out=tmp_path))
    with pytest.warns(study.StudyWarning, match="2 point.*failed.*ModelError"):
        ds = study.run_study(study.load_study(path), progress=False, executor="serial")
    bad, good = ds.sel(temperature=0.05), ds.sel(temperature=0.0)
    assert bad.failed.all() and ds.attrs["n_failed"] == 2
    assert all("ModelError" in str(e) and "temperature" in str(e) for e in bad.error.values)
    assert np.isnan(bad.magnetization).all() and np.isnan(bad.fermi_sea_error_estimate).all()
    assert not good.failed.any() and np.isfinite(good.magnetization).all()
    assert "tau_z" in ds.attrs["observable"] and ds.attrs["units"]
