"""README's main job, `boltzspin run studies/rashba_null.toml`, regenerates the committed figure."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from boltzspin.studies.cli import main

ROOT = Path(__file__).resolve().parents[1]
#: The third row plots |total|, pure round-off (~1e-15 |q|/8pi), which moves with the machine's
#: arithmetic (BLAS, thread count); the rest of the figure must be identical.
MAX_CHANGED_PIXELS = 0.01


@pytest.mark.slow
def test_main_command_regenerates_the_committed_figure(tmp_path, monkeypatch):
    from PIL import Image

    shutil.copytree(ROOT / "studies", tmp_path / "studies")
    monkeypatch.chdir(tmp_path)  # the README command runs in the repository root: same relative paths
    assert main(["run", "studies/rashba_null.toml", "--serial", "--quiet"]) == 0
    ds = xr.load_dataset("results/rashba_null.nc", engine="h5netcdf")
    assert not ds.failed.any()
    total = np.abs(ds.sigma.sel(contribution="total")).max()
    assert total < ds.sigma_error.sel(contribution="total").max() and total * 8 * np.pi < 1e-10
    new = np.asarray(Image.open("figures/rashba_null.png").convert("RGB"), dtype=int)
    old = np.asarray(Image.open(ROOT / "figures" / "rashba_null.png").convert("RGB"), dtype=int)
    assert new.shape == old.shape
    changed = np.any(new != old, axis=-1)
    assert changed.mean() < MAX_CHANGED_PIXELS
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size:  # only inside the |total| row (the lower third, above the legend)
        assert rows.min() > 0.6 * new.shape[0], rows.min()
