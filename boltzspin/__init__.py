"""boltzspin: conserved currents of nonconserved quantities in disordered metals.

Semiclassical first-Born Boltzmann theory of the conserved s-current
(C. Xiao and Q. Niu, arXiv:2009.12058).  Conventions: hbar = 1, carrier
charge ``q`` explicit (electrons ``q = -1``).  Entry point: :func:`transport`.
"""

from .collisions.disorder import (
    BinaryAlloy,
    DeltaCorrelated,
    GaussianCorrelated,
    MagneticImpurities,
    Potential,
    ScreenedCoulomb,
    StrengthDistribution,
)
from .errors import (
    BoltzspinError,
    ConvergenceError,
    DegenerateBandsError,
    DisorderError,
    FermiSurfaceError,
    ModelError,
    ResourceError,
    SolverError,
)
from . import progress, resources
from .responses.convergence import converge
from .responses.equilibrium import equilibrium_current, magnetization
from .models.continuum import KPModel, MassiveDirac, Rashba
from .responses.response import CONTRIBUTIONS, transport
from .models.superconductivity import BdG, ChiralD, ChiralP, CustomPairing, DWave, SWave
from .responses.thermal_hall import thermal_hall
from .responses.spin_density import SPIN_DENSITY_CONTRIBUTIONS, spin_density
from .responses.torque import spin_orbit_torque
from .responses import kubo
from .models.tight_binding import (LatticeRashba, QiWuZhang, Rashba3D, SquareLattice, TightBinding, from_pythtb,
                            from_tbmodels)
from .models.wannier90 import read_hr_dat, read_tb_dat, write_hr_dat, write_tb_dat

__version__ = "0.1.0"

__all__ = [
    "transport",
    "converge",
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
    "spin_density",
    "spin_orbit_torque",
    "SPIN_DENSITY_CONTRIBUTIONS",
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
    "StrengthDistribution",
    "BinaryAlloy",
    "BoltzspinError",
    "ConvergenceError",
    "DegenerateBandsError",
    "DisorderError",
    "FermiSurfaceError",
    "ModelError",
    "ResourceError",
    "SolverError",
]
