"""Exceptions raised by boltzspin.

Every error names the problem and the fix.  None of them is raised after a
partial result has been written: the study runner writes points atomically.
"""


class BoltzspinError(Exception):
    """Base class of every boltzspin error."""


class ModelError(BoltzspinError, ValueError):
    """A model is malformed: wrong shapes, non-Hermitian, NaN parameters."""


class DegenerateBandsError(BoltzspinError):
    """Two bands are degenerate where a non-degenerate band is required."""


class FermiSurfaceError(BoltzspinError):
    """The Fermi surface cannot be found or discretized reliably."""


class DisorderError(BoltzspinError, ValueError):
    """A disorder specification is malformed or does not fit the model."""


class SolverError(BoltzspinError):
    """The linearized Boltzmann equation could not be solved to tolerance."""


class ConvergenceError(BoltzspinError):
    """A resolution limit was reached before the error estimates met their tolerance."""


class ResourceError(BoltzspinError):
    """A calculation would exceed the memory or CPU-time budget (:mod:`boltzspin.resources`).

    Raised before anything large is allocated, with the estimate, the budget and inputs that fit.
    """
