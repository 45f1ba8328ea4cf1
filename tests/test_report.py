"""The report of a study: the default figure, the figure-script contract and the terminal table."""

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from boltzspin.studies import report
from boltzspin.studies.cli import main
from boltzspin.studies.study import StudyError, load_study

# Magnetized Rashba: sigma_xx (Boltzmann, ~1/n_imp) and sigma_xy (Hall-like parts) both nonzero.
TINY = """
[study]
name = "tiny_report"
output = "{out}/tiny.nc"
figure = "{out}/tiny.png"
{extra}

[model]
type = "Rashba"
mass = 1.0
alpha = 0.5
exchange = [0.0, 0.0, 0.1]

[transport]
observable = "sz"
n_points = 32

[sweep]
mu = [0.2, 0.4, 0.6]
"disorder.density" = [0.01]

[disorder.delta]
type = "DeltaCorrelated"
density = 0.01
strength = 1.0

[disorder.gaussian_impurities]
type = "GaussianCorrelated"
density = 0.01
strength = 1.0
length = 1.0
"""


def write_study(folder, extra=""):
    path = Path(folder) / "tiny.toml"
    path.write_text(TINY.format(out=folder, extra=extra))
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny study (3 points x 2 disorders, serial), run once through the CLI without a figure script."""
    out = tmp_path_factory.mktemp("report")
    path = write_study(out)
    assert main(["run", str(path), "--serial", "--quiet"]) == 0
    return path, xr.load_dataset(out / "tiny.nc", engine="h5netcdf")


def test_study_without_figure_script_writes_the_default_figure(tiny):
    path, ds = tiny
    png = path.parent / "tiny.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    png.unlink()
    assert report.make_figure(load_study(path)) == str(png) and png.exists()  # from the saved result too


def test_table_shows_every_disorder_full_names_and_the_dataset_values(tiny):
    _, ds = tiny
    table = report.format_table(ds)
    for name in ("delta", "gaussian_impurities", "disorder_density", "dipole_change", "anomalous_distribution",
                 "intrinsic_berry", "conventional_intrinsic", "total_error_estimate"):
        assert name in table
    assert "dip_change" not in table.replace("dipole_change", "") and "disorder_den " not in table
    assert "GaussianCorrelated(density=0.01, strength=1.0, length=1.0)" in table
    # the largest component of this study is the Boltzmann sigma_xx ~ 1/n_imp
    assert table.splitlines()[0].startswith("sigma_xx (chosen as the largest |sigma_ij| of this study")
    scale = 1 / (8 * np.pi)
    block = table.split("disorder = gaussian_impurities")[1].splitlines()
    head = block[1].split()
    row = next(line.split() for line in block if line.split()[:1] == ["0.4"])
    assert len(row) == len(head)
    point = ds.sel(disorder="gaussian_impurities", mu=0.4, disorder_density=0.01, i="x", j="x")
    for c in ds.contribution.values:
        np.testing.assert_allclose(float(row[head.index(str(c))]), point.sigma.sel(contribution=c) / scale,
                                   rtol=1e-3, atol=1e-20)
    np.testing.assert_allclose(float(row[head.index("total_error_estimate")]),
                               point.sigma_error.sel(contribution="total") / scale, rtol=1e-3)


def test_table_component_can_be_chosen_and_bad_components_are_refused(tiny):
    _, ds = tiny
    both = report.format_table(ds, component=["xx", "xy"])
    assert both.count("disorder = delta") == 2 and "sigma_xx" in both and "sigma_xy" in both
    assert report.format_table(ds, i="y", j="x").splitlines()[0] == "sigma_yx"
    with pytest.raises(StudyError, match="not a component of this 2D result; have xx, xy, yx, yy"):
        report.format_table(ds, component="xz")
    with pytest.raises(StudyError, match="give two of x, y, z"):
        report.format_table(ds, component="sigma_xy")
    with pytest.raises(StudyError, match="both i and j"):
        report.format_table(ds, i="x")


def test_bad_component_key_fails_before_any_work_and_the_remedy_works(tmp_path, capsys):
    path = write_study(tmp_path, 'component = "x-y"')
    assert main(["run", str(path), "--serial", "--quiet"]) == 2
    assert "[study] component = 'x-y' is not a tensor component" in capsys.readouterr().err
    assert not (tmp_path / "tiny.nc.points").exists()
    path = write_study(tmp_path, 'component = ["xy"]')  # the remedy the message names
    report.check_report(load_study(path))


def synthetic(xy, yx):
    """A transport-like result with given sigma_xy, sigma_yx of every contribution (others zero)."""
    sigma = np.zeros((2, 7, 2, 2))
    sigma[:, :, 0, 1], sigma[:, :, 1, 0] = xy, yx
    contributions = ["intrinsic_berry", "intrinsic_dipole", "boltzmann", "side_jump", "dipole_change",
                     "anomalous_distribution", "total"]
    return xr.Dataset({"sigma": (("mu", "contribution", "i", "j"), sigma),
                       "sigma_conventional_intrinsic": (("mu", "i", "j"), sigma[:, 0]),
                       "failed": ("mu", [False, True])},
                      coords={"mu": [0.1, 0.2], "contribution": contributions, "i": ["x", "y"], "j": ["x", "y"]},
                      attrs={"charge": -1.0, "units": "q*[s]/hbar"})


def test_automatic_component_is_the_largest_and_round_off_ties_go_to_xy():
    assert report.table_components(synthetic(1.0, -1.0 * (1 + 1e-14))) == [("x", "y")]  # antisymmetric Hall
    assert report.table_components(synthetic(1.0, -2.0)) == [("y", "x")]
    assert report.table_components(synthetic(np.nan, 0.5)) == [("y", "x")]  # failed points are NaN
    table = report.format_table(synthetic(1.0, -1.0))
    assert "failed" in table.splitlines()[-1] and "disorder" not in table


def test_long_blocks_show_evenly_spaced_points_including_the_last(tiny):
    _, ds = tiny
    table = report.format_table(ds, max_rows=2)
    rows = [line.split()[0] for line in table.split("disorder = delta")[1].split("disorder =")[0].splitlines()[2:4]]
    assert rows == ["0.2", "0.6"] and "showing 2 of 3 points" in table


MAGNETIZATION_VARS = ("magnetization", "local", "global")


def magnetization_result():
    rng = np.random.default_rng(3)
    dims = ("model", "model_chemical_potential", "temperature")
    shape = (2, 3, 2)
    data = {n: (dims, rng.normal(size=shape), {"units": "q/hbar"}) for n in MAGNETIZATION_VARS}
    data.update({f"{n}_error_estimate": (dims, 1e-3 * np.ones(shape)) for n in ("local", "global", "fermi_sea")})
    data["failed"] = (dims, np.zeros(shape, dtype=bool))
    return xr.Dataset(data, coords={"model": ["d", "s"], "model_chemical_potential": [-1.0, 0.0, 1.0],
                                    "temperature": [0.0, 0.1]},
                      attrs={"quantity": "magnetization", "units": "q/hbar", "study": "m",
                             "sweep_keys": '["model.chemical_potential", "temperature"]'})


def test_magnetization_default_figure_and_table_one_block_per_model(tmp_path):
    ds = magnetization_result()
    path = report.default_figure(ds, tmp_path / "m.png")
    assert path.stat().st_size > 20_000
    table = report.format_table(ds)
    assert table.count("model = ") == 2 and "fermi_sea_error_estimate" in table and "model_chemical_potential" in table
    row = table.split("model = s")[1].splitlines()[2].split()
    np.testing.assert_allclose(float(row[2]), ds.magnetization.sel(model="s").values[0, 0], rtol=1e-3)


def test_axis_labels_carry_units():
    ds = magnetization_result()
    assert report.axis_label(ds, "temperature") == "temperature (model energy units, k_B = 1)"
    ds["temperature"].attrs["units"] = "K"
    assert report.axis_label(ds, "temperature") == "temperature (K)"  # the Dataset's own units win


@pytest.mark.parametrize("script, match", [
    ("def draw(ds, path):\n    pass\n", "defines no function make_figure"),
    ("def make_figure(ds, path):\n    return path\n", "wrote no file at"),
])
def test_figure_script_contract_is_enforced(tiny, tmp_path, script, match):
    _, ds = tiny
    (tmp_path / "fig.py").write_text(script)
    path = write_study(tmp_path, 'figure_script = "fig.py"')
    with pytest.raises(StudyError, match=match):
        report.make_figure(load_study(path), ds)


def test_figure_script_without_figure_or_missing_is_refused(tmp_path):
    path = write_study(tmp_path, 'figure_script = "missing.py"')
    with pytest.raises(StudyError, match="missing.py does not exist"):
        report.check_report(load_study(path))
    text = path.read_text().replace(f'figure = "{tmp_path}/tiny.png"\n', "")
    path.write_text(text)
    with pytest.raises(StudyError, match="but no figure path"):
        report.check_report(load_study(path))


def test_shipped_studies_pass_the_report_checks():
    for path in sorted(Path(__file__).parent.parent.joinpath("studies").glob("*.toml")):
        report.check_report(load_study(path))



def test_split_at_interrupts_lines_only_between_points_on_either_side_of_a_break():
    from boltzspin.studies.plot import split_at

    x, y = split_at([-0.1, -0.001, 0.001, 0.5], [1.0, 2.0, 3.0, 4.0], [0.0])
    np.testing.assert_array_equal(x, [-0.1, -0.001, np.nan, 0.001, 0.5])
    np.testing.assert_array_equal(y, [1.0, 2.0, np.nan, 3.0, 4.0])
    x, y = split_at([-1.0, 0.0, 1.0], [1.0, 2.0, 3.0], [0.0])  # a computed point at the break: no gap
    np.testing.assert_array_equal(x, [-1.0, 0.0, 1.0])
    x, _ = split_at([0.1, 0.2, 0.6, 0.9], [1.0, 2.0, 3.0, 4.0], [0.5, 0.15])
    np.testing.assert_array_equal(x, [0.1, np.nan, 0.2, np.nan, 0.6, 0.9])


def test_shipped_rashba_null_figure_script_runs_on_a_small_run(tmp_path):
    """studies/rashba_null_figure.py on the shipped study cut to 3 mu x 2 densities at n_points = 32."""
    root = Path(__file__).parent.parent / "studies"
    text = (root / "rashba_null.toml").read_text()
    text = re.sub(r'output = ".*"', f'output = "{tmp_path}/null.nc"', text)
    text = re.sub(r'figure = ".*"', f'figure = "{tmp_path}/null.png"', text)
    text = re.sub(r"n_points = \d+", "n_points = 32", text)
    text = re.sub(r"\nmu = \[.*\]", "\nmu = [-0.05, 0.3, 0.6]", text)
    text = re.sub(r'"disorder.density" = \[.*\]', '"disorder.density" = [0.005, 0.01]', text)
    (tmp_path / "null.toml").write_text(text)
    (tmp_path / "rashba_null_figure.py").write_text((root / "rashba_null_figure.py").read_text())
    assert len(load_study(tmp_path / "null.toml")["axes"]["mu"]) == 3
    assert main(["run", str(tmp_path / "null.toml"), "--serial", "--quiet"]) == 0
    assert (tmp_path / "null.png").stat().st_size > 50_000


def test_default_figure_of_a_study_whose_points_all_failed_is_refused(tmp_path):
    ds = magnetization_result()
    ds["failed"][:] = True
    with pytest.raises(StudyError, match="every point of the study failed"):
        report.default_figure(ds, tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()
