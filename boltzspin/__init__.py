"""boltzspin: conserved currents of nonconserved quantities in disordered metals.

Semiclassical first-Born Boltzmann theory of the conserved s-current
(C. Xiao and Q. Niu, arXiv:2009.12058).  Conventions: hbar = 1, carrier
charge ``q`` explicit (electrons ``q = -1``).  Entry point: :func:`transport`.
"""

from .disorder import (
    DeltaCorrelated,
    GaussianCorrelated,
    MagneticImpurities,
    Potential,
    ScreenedCoulomb,
)
from .errors import (
    BoltzspinError,
    DegenerateBandsError,
    DisorderError,
    FermiSurfaceError,
    ModelError,
    SolverError,
)
from .equilibrium import equilibrium_current, magnetization
from .models import KPModel, MassiveDirac, Rashba
from .response import CONTRIBUTIONS, transport
from .superconductivity import BdG, ChiralD, ChiralP, CustomPairing, DWave, SWave
from .thermal_hall import thermal_hall
from .tight_binding import (LatticeRashba, QiWuZhang, Rashba3D, SquareLattice, TightBinding, from_pythtb,
                            from_tbmodels)
from .wannier90 import read_hr_dat, read_tb_dat, write_hr_dat, write_tb_dat

__version__ = "0.1.0"

__all__ = [
    "transport",
    "magnetization",
    "equilibrium_current",
    "CONTRIBUTIONS",
    "Rashba",
    "MassiveDirac",
    "KPModel",
    "TightBinding",
    "SquareLattice",
    "BdG",
    "SWave",
    "DWave",
    "ChiralD",
    "ChiralP",
    "CustomPairing",
    "thermal_hall",
    "LatticeRashba",
    "QiWuZhang",
    "Rashba3D",
    "from_pythtb",
    "from_tbmodels",
    "read_hr_dat",
    "read_tb_dat",
    "write_hr_dat",
    "write_tb_dat",
    "DeltaCorrelated",
    "GaussianCorrelated",
    "MagneticImpurities",
    "Potential",
    "ScreenedCoulomb",
    "BoltzspinError",
    "DegenerateBandsError",
    "DisorderError",
    "FermiSurfaceError",
    "ModelError",
    "SolverError",
]
