"""Sample input files shipped with boltzspin.

``rashba_square_hr.dat``
    A Wannier90 ``seedname_hr.dat`` of a two-orbital (spin up, spin down)
    square lattice, lattice constant 3 Angstrom, nearest-neighbour hopping
    1 eV, Rashba coupling 0.3 eV and exchange field ``h_z = 0.1`` eV (the
    hopping table of ``LatticeRashba(1.0, 0.3, exchange=(0, 0, 0.1))``).
    Energies in eV, lengths in Angstrom; read it with
    ``read_hr_dat(sample_path("rashba_square_hr.dat"), 3.0 * np.eye(2))``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["sample_path"]


def sample_path(name):
    """Path of a sample file shipped in ``boltzspin/data``.

    Parameters
    ----------
    name : str
        File name, e.g. ``"rashba_square_hr.dat"``.

    Returns
    -------
    pathlib.Path
        The installed file.

    Raises
    ------
    FileNotFoundError
        If no sample of that name ships; the message lists the ones that do.
    """
    path = Path(str(files(__name__) / name))
    if not path.is_file():
        available = sorted(p.name for p in Path(str(files(__name__))).iterdir() if p.suffix == ".dat")
        raise FileNotFoundError(f"no sample file {name!r} in boltzspin/data; available: {available}")
    return path
