"""Long single calls offer progress reporting: thermal_hall, like transport and magnetization."""

import logging

import boltzspin as bs


def test_thermal_hall_reports_progress_and_is_silent_by_default(capsys, caplog):
    """Long single calls offer progress (issue: a silent 49 s BdG call): thermal_hall too."""
    model = bs.MassiveDirac(1.0, 0.3)
    with caplog.at_level(logging.WARNING, logger="boltzspin"):
        quiet = bs.thermal_hall(model, 0.0, 0.05, 32, energy_step=1.0)
    assert capsys.readouterr().err == "" and caplog.text == ""
    with caplog.at_level(logging.DEBUG, logger="boltzspin"):
        loud = bs.thermal_hall(model, 0.0, 0.05, 32, energy_step=1.0, progress=True)
    assert "thermal_hall" in capsys.readouterr().err and "thermal_hall mu=0 T=0.05 finished in" in caplog.text
    assert loud.kappa_xy.item() == quiet.kappa_xy.item()
