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
from .models import KPModel, MassiveDirac, Rashba
from .response import CONTRIBUTIONS, transport

__version__ = "0.1.0"

__all__ = [
    "transport",
    "CONTRIBUTIONS",
    "Rashba",
    "MassiveDirac",
    "KPModel",
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
