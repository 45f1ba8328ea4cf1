r"""Memory and work estimates of each stage of a calculation, checked before allocating.

A resolution that does not fit the machine must be refused at once, with the numbers and a
remedy, not discovered after minutes of swapping or a killed process.  Each stage of
:func:`boltzspin.transport` has an estimate here (bytes at its peak, and CPU seconds):

=======================  ===============================================================
stage                    dominant arrays
=======================  ===============================================================
rays (2D continuum)      coarse radial scan ``M x R`` (``M = min(n_points, 128)`` rays,
                         ``R = 2 radial_samples + 1``), eigen-data of the ``n_points x K``
                         Fermi points and of the Fermi-sea nodes
                         (:func:`~boltzspin.geometry.fermi.sea_angles` rays x radial
                         Gauss nodes)
k-grid (lattice, 3D)     band energies on the ``(G+1)^D`` grid, eigen-data in blocks
collisions               ``8 N^2`` bytes for a dense kernel, the kept pairs of a sparse
                         one, ``O(N)`` otherwise; ``N^2`` pair evaluations per mat-vec
                         for the on-the-fly operator; ``8 r^2`` bytes and ``O(N r n^2)``
                         work per mat-vec for a compressed one with ``r`` nodes
Fermi window (T > 0)     one T = 0 calculation per energy node
=======================  ===============================================================

The estimates are upper-bound-minded (within a factor of about two of the measured peak
of the NumPy allocations), and cheap: closed forms in the input sizes, evaluated before any
array is allocated.  A calculation is refused with :class:`~boltzspin.errors.ResourceError`
when its estimate exceeds the budget:

* memory: :data:`MEMORY_FRACTION` of the memory available now (``MemAvailable`` of
  ``/proc/meminfo``, else ``os.sysconf``), or ``BOLTZSPIN_MEMORY_GIB``, or
  :func:`set_budget`;
* work: :data:`WORK_SECONDS` of estimated CPU time (``BOLTZSPIN_WORK_SECONDS``,
  :func:`set_budget`); the CPU-time model is :data:`SECONDS_PER_PAIR` per pair
  evaluation and :data:`SECONDS_PER_POINT` per k-point diagonalization (2 bands), as
  measured on a 2-core machine.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from .errors import ResourceError

__all__ = ["Estimate", "available_memory", "memory_budget", "work_budget", "set_budget", "budget",
           "estimate_geometry", "estimate_sea", "estimate_collisions", "estimate_fermi_window", "integer_remedy", "check", "GIB"]

GIB = float(2**30)
#: Fraction of the currently available memory a calculation may use by default.
MEMORY_FRACTION = 0.5
#: Default budget of estimated CPU time (seconds).
WORK_SECONDS = 8 * 3600.0
#: Cost model: seconds per first-Born pair evaluation (2 bands; scales as n^2).
SECONDS_PER_PAIR = 1e-8
#: Cost model: seconds per k-point diagonalization with eigen-data (2 bands; scales as n^3).
SECONDS_PER_POINT = 4e-6
#: Cost model: seconds per k-point of a band-energy scan (eigenvalues only, 2 bands).
SECONDS_PER_ENERGY = 4e-7
#: Refined Fermi-sea points of a k-grid per band and per G^(D-1) (measured: 2D lattice Rashba, 3D Rashba).
REFINED = {1: 50, 2: 200, 3: 1000}
#: Mat-vecs assumed per Boltzmann solve (CG iterations plus refinement, all right-hand sides at once).
MATVECS = 60
#: Per-energy bytes kept by a T > 0 calculation (one small Dataset per Fermi-window node).
BYTES_PER_ENERGY = 64 * 1024

_settings = {"memory_gib": None, "work_seconds": None}


def available_memory():
    """Bytes of memory available now.

    Returns
    -------
    float
        ``MemAvailable`` of ``/proc/meminfo`` (Linux), else the available pages of
        ``os.sysconf``, else 4 GiB.
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES")) * float(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4 * GIB


def memory_budget():
    """The memory budget of one calculation.

    Returns
    -------
    float
        Bytes: as set by :func:`set_budget`, else ``BOLTZSPIN_MEMORY_GIB`` (GiB), else
        :data:`MEMORY_FRACTION` of :func:`available_memory`.
    """
    if _settings["memory_gib"] is not None:
        return _settings["memory_gib"] * GIB
    env = os.environ.get("BOLTZSPIN_MEMORY_GIB")
    if env:
        return float(env) * GIB
    return MEMORY_FRACTION * available_memory()


def work_budget():
    """The budget of estimated CPU time of one calculation.

    Returns
    -------
    float
        Seconds: as set by :func:`set_budget`, else ``BOLTZSPIN_WORK_SECONDS``, else
        :data:`WORK_SECONDS`.
    """
    if _settings["work_seconds"] is not None:
        return _settings["work_seconds"]
    env = os.environ.get("BOLTZSPIN_WORK_SECONDS")
    return float(env) if env else WORK_SECONDS


def _positive_or_none(name, value):
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ResourceError(f"{name}={value!r} must be a positive finite number (or None for the default)")
    return value


def set_budget(memory_gib=None, work_seconds=None):
    """Set the memory (GiB) and work (estimated CPU seconds) budgets; ``None`` restores a default.

    Parameters
    ----------
    memory_gib : float, optional
        Largest estimated peak memory of one calculation, in GiB.  Default:
        :data:`MEMORY_FRACTION` of the memory available at the time of the call.
    work_seconds : float, optional
        Largest estimated CPU time of one calculation, in seconds (default :data:`WORK_SECONDS`).

    Raises
    ------
    ResourceError
        For a budget that is not a positive finite number.
    """
    _settings["memory_gib"] = _positive_or_none("memory_gib", memory_gib)
    _settings["work_seconds"] = _positive_or_none("work_seconds", work_seconds)


@contextlib.contextmanager
def budget(memory_gib=None, work_seconds=None):
    """Context manager: :func:`set_budget` inside the block, the previous budgets after it.

    Parameters
    ----------
    memory_gib, work_seconds : float, optional
        As in :func:`set_budget`.

    Yields
    ------
    None
        The budgets are in force inside the ``with`` block.
    """
    old = dict(_settings)
    set_budget(memory_gib, work_seconds)
    try:
        yield
    finally:
        _settings.update(old)


@dataclass
class Estimate:
    """Peak bytes and estimated CPU seconds of one stage.

    Parameters
    ----------
    stage : str
        Name of the stage (``"rays"``, ``"k-grid"``, ``"collisions"``, ...).
    bytes : float
        Estimated peak memory in bytes.
    seconds : float
        Estimated CPU time in seconds.
    detail : str
        The input sizes the estimate was computed from (quoted in a refusal).
    remedies : list of callable
        Each ``fits -> str or None``: given the predicate "this estimate is within the
        budgets", returns the text of a change of inputs that fits, or None.
    """

    stage: str
    bytes: float
    seconds: float
    detail: str
    remedies: list = field(default_factory=list)

    def __add__(self, other):
        """Two stages alive together: bytes add (an upper bound on the common peak), seconds add."""
        return Estimate(f"{self.stage} + {other.stage}", self.bytes + other.bytes, self.seconds + other.seconds,
                        f"{self.detail}; {other.detail}", self.remedies + other.remedies)

    def as_attrs(self):
        """The estimate as Dataset attributes.

        Returns
        -------
        dict
            ``{"estimated_memory_gib": ..., "estimated_cpu_seconds": ...}``.
        """
        return {"estimated_memory_gib": float(self.bytes / GIB), "estimated_cpu_seconds": float(self.seconds)}


def integer_remedy(knob, current, build, minimum=8):
    """A remedy that lowers an integer input until the estimate fits.

    Parameters
    ----------
    knob : str
        Name of the input, as the user passes it (e.g. ``"n_points"``).
    current : int
        Its value now.
    build : callable
        ``build(value) -> Estimate`` at another value of the input.
    minimum : int
        Smallest value worth proposing.

    Returns
    -------
    callable
        ``fits -> str or None``: ``"knob <= v"`` with the largest fitting ``v``, or None.
    """
    def remedy(fits):
        best = _largest_fitting(build, current, fits, minimum)
        return None if best is None or best >= current else f"{knob} <= {best}"
    return remedy


def _eigen_bytes(n, dim):
    """Bytes per k-point of eigen-data: H, dH/dk, vectors, projected velocity (complex), temporaries."""
    return 1.5 * 16 * n * n * (2 + 2 * dim) + 16 * n


def _point_seconds(n, energies_only=False):
    return (SECONDS_PER_ENERGY if energies_only else SECONDS_PER_POINT) * max(n / 2, 1) ** 3


def estimate_geometry(model, n_points, radial_samples=512, sea_order=16, grid=None):
    """Estimate of the Fermi-surface and Fermi-sea stage (rays or k-grid) before it runs.

    The dominant arrays are listed in the module table; the CPU model is
    :data:`SECONDS_PER_POINT` per diagonalization with eigen-data (2 bands, scaling as
    ``n^3``) and :data:`SECONDS_PER_ENERGY` per band-energy evaluation.

    Parameters
    ----------
    model : Model
        Only ``dim``, ``n_bands`` and whether it uses a k-grid are read.
    n_points, radial_samples, sea_order : int
        As in :func:`boltzspin.transport`.
    grid : bool, optional
        Force the k-grid (True) or ray (False) estimate; by default as ``transport`` chooses.

    Returns
    -------
    Estimate
        With a remedy lowering ``n_points`` (and ``radial_samples`` for rays).
    """
    from .geometry.brillouin import BLOCK, uses_grid
    from .geometry.fermi import COARSE_RAYS, sea_angles

    n, dim = int(model.n_bands), int(model.dim)
    per_point = _eigen_bytes(n, dim)
    g = int(n_points)
    if uses_grid(model) if grid is None else grid:
        nodes = float(g + 1) ** dim
        grid_bytes = nodes * (16 * dim + 8 * n + 8) * 2.5  # fractional and cartesian k, energies, masks
        sea_bytes = float(g) ** dim * 8 * dim * 1.5 + 2 * BLOCK * (per_point + 64 * n * dim * dim)
        fermi = 4.0 * n * float(g) ** (dim - 1)  # Fermi points: ~4 per grid line crossing, per band
        total = grid_bytes + sea_bytes + fermi * per_point * 2
        # band energies of the surface grids at G and G/2; eigen-data of the sea at G and G/2 (+refinement)
        # the adaptive refinement adds ~REFINED[dim] n G^(D-1) points near the Fermi surface and small gaps
        sea_points = float(g) ** dim * 2.5 + REFINED[dim] * n * float(g) ** (dim - 1)
        seconds = nodes * 1.25 * _point_seconds(n, True) + sea_points * _point_seconds(n)
        est = Estimate("k-grid", total, seconds,
                       f"k-grid {g}^{dim} ({nodes:.3g} grid points, ~{fermi:.3g} Fermi points)")
        est.remedies.append(integer_remedy(
            "n_points", g, lambda v: estimate_geometry(model, v, radial_samples, sea_order, grid)))
        return est
    sheets = max(n, 1)
    rays = min(g, COARSE_RAYS)
    samples = 2.0 * radial_samples + 1
    scan_bytes = rays * samples * (16 + 24 * n)
    fermi = float(g) * sheets
    sea_rays = sea_angles(g)
    sea_nodes = sea_rays * (17 + 2 * sheets + 4) * 2 * sea_order
    sea_bytes = sea_nodes * (per_point + 16 * n * dim * dim) + min(sea_rays, COARSE_RAYS) * samples * (16 + 24 * n)
    # 1.25: measured peaks (tracemalloc) reach 1.04x the bare count at n_points = 2048
    total = 1.25 * (fermi * (per_point + 200) + max(scan_bytes, sea_bytes))
    seconds = (2 * rays * samples + 32 * 4096) * _point_seconds(n, True) \
        + (fermi * 3 + sea_nodes * 1.25) * _point_seconds(n)
    est = Estimate("rays", total, seconds,
                   f"{g} rays x ~{sheets} sheets = ~{fermi:.3g} Fermi points, {rays} rays x {samples:.3g} "
                   f"radial samples, {sea_nodes:.3g} Fermi-sea nodes")
    est.remedies.append(integer_remedy(
        "n_points", g, lambda v: estimate_geometry(model, v, radial_samples, sea_order, grid)))
    est.remedies.append(integer_remedy(
        "radial_samples", int(radial_samples), lambda v: estimate_geometry(model, n_points, v, sea_order, grid), 16))
    return est


def estimate_sea(model, n_grid=128, n_angles=128, order=16):
    """Estimate of a Fermi-sea integral alone (:func:`boltzspin.magnetization`, equilibrium currents).

    Parameters
    ----------
    model : Model
        Only ``dim``, ``n_bands`` and whether it uses a k-grid are read.
    n_grid : int
        k-grid points per axis (lattice and 3D models): as :func:`estimate_geometry` at
        ``n_points = n_grid``.
    n_angles : int
        Rays of a 2D continuum model.
    order : int
        Gauss-Legendre nodes per radial panel.

    Returns
    -------
    Estimate
        With a remedy lowering ``n_grid`` or ``n_angles``.
    """
    from .geometry.brillouin import uses_grid

    if uses_grid(model):
        est = estimate_geometry(model, n_grid, grid=True)
        est.remedies = [integer_remedy("n_grid", int(n_grid), lambda v: estimate_sea(model, v, n_angles, order))]
        return est
    from .geometry.fermi import COARSE_RAYS, RADIAL_SAMPLES

    n, dim, rays = int(model.n_bands), int(model.dim), float(n_angles)
    nodes = rays * (17 + 2 * n + 4) * 2 * int(order)
    samples = 2.0 * RADIAL_SAMPLES + 1
    total = 1.25 * (nodes * (_eigen_bytes(n, dim) + 16 * n * dim * dim) + min(rays, COARSE_RAYS) * samples * (16 + 24 * n))
    seconds = rays * samples * _point_seconds(n, True) + nodes * 1.25 * _point_seconds(n)
    est = Estimate("Fermi sea", total, seconds, f"{n_angles} rays x ~{nodes / rays:.3g} radial nodes")
    est.remedies = [integer_remedy("n_angles", int(n_angles), lambda v: estimate_sea(model, n_grid, v, order))]
    return est


#: CPU seconds per point, interpolation node and real matrix parameter of a compressed sum
#: (two real matrix products of ``N x r`` by ``r x n^2``), measured on a 2-core machine.
SECONDS_PER_NODE = 4e-10


def estimate_collisions(n_fermi, n_bands, dim, kinds, kept_fraction=1.0, nodes=None):
    """Estimate of the collision operator and the Boltzmann solve on ``n_fermi`` points.

    Parameters
    ----------
    n_fermi : float
        Number of Fermi points ``N``.
    n_bands : int
        Bands of the model (the pair cost scales as ``n^2``).
    dim : int
        Spatial dimension.
    kinds : sequence of str
        Operator kind of each disorder channel: ``"dense"`` (``8 N^2`` bytes),
        ``"sparse"`` (the kept pairs), ``"lowrank"`` or ``"onthefly"`` (``O(N)``),
        ``"compressed"`` (``8 r^2`` bytes and ``O(N)`` chunk buffers).
    kept_fraction : float
        Fraction of the ``N^2`` pairs a sparse part keeps.
    nodes : int, optional
        Interpolation nodes ``r`` of a compressed part (default: the largest allowed,
        :data:`boltzspin.collisions.compressed.MAX_NODES`).

    Returns
    -------
    Estimate
        Memory of the operator and its Fermi-point data; CPU time of building it and of
        :data:`MATVECS` mat-vecs.
    """
    n_fermi = float(n_fermi)
    pairs = n_fermi * n_fermi
    per_point = 16 * n_bands * (2 + 2 * dim) * 3 + 8 * 2 * dim * 14 + _eigen_bytes(n_bands, dim)
    total = n_fermi * per_point
    pair_cost = SECONDS_PER_PAIR * max(n_bands / 2, 1) ** 2
    seconds = 0.0
    kinds = list(kinds)
    if "dense" in kinds:
        total += 9 * pairs  # the kernel, plus the boolean coupling graph in chunks
        seconds += pairs * pair_cost * kinds.count("dense") + MATVECS * pairs * 2e-10
    for kind in kinds:
        if kind == "sparse":
            kept = kept_fraction * pairs
            total += 56 * kept  # pair list, CSR rows/cols/order/data
            seconds += kept * pair_cost + MATVECS * kept * 1e-9
        elif kind == "onthefly":
            seconds += (1 + MATVECS) * pairs * pair_cost
        elif kind == "lowrank":
            seconds += (1 + MATVECS) * n_fermi * n_bands * n_bands * 1e-8
        elif kind == "compressed":
            from .collisions.compressed import MAX_NODES

            r = float(MAX_NODES if nodes is None else nodes)
            cols = (2 * dim + 1) * n_bands**2  # real columns of the side-jump sums
            buffers = 3 * 8 * min(n_fermi * r ** ((dim - 1) / dim) * cols, 2.0**22)
            total += 8 * r * r * (dim + 2) + buffers  # node differences (r, r, D) while forming G + n_fermi * 8 * (dim * r ** (1 / dim) + 6 * cols)
            seconds += (2 * dim + 1 + MATVECS) * n_fermi * r * n_bands**2 * SECONDS_PER_NODE
    return Estimate("collisions", total, seconds,
                    f"{n_fermi:.3g} Fermi points, collision operator {','.join(kinds) or 'none'}")


def estimate_fermi_window(n_energies, per_energy):
    """Estimate of a T > 0 calculation, one T = 0 calculation per Fermi-window energy.

    Parameters
    ----------
    n_energies : int
        Energies of the Fermi-window rule.
    per_energy : Estimate
        Estimate of one T = 0 calculation (its arrays are freed between energies).

    Returns
    -------
    Estimate
        Peak memory of one energy plus the kept per-energy results; total CPU time.
    """
    n_energies = float(n_energies)
    return Estimate("Fermi window", per_energy.bytes + n_energies * (BYTES_PER_ENERGY + 64),
                    n_energies * per_energy.seconds,
                    f"{n_energies:.3g} Fermi-window energies, each: {per_energy.detail}")


def _largest_fitting(build, value, fits, minimum=8):
    """Largest integer ``minimum <= v <= value`` whose estimate fits (bisection; estimates grow with v)."""
    lo, hi = int(minimum), int(value)
    if hi <= lo or not fits(build(lo)):
        return None
    while hi - lo > max(1, lo // 64):
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(build(mid)) else (lo, mid)
    return lo


def check(estimate):
    """Raise :class:`~boltzspin.errors.ResourceError` if ``estimate`` exceeds a budget; return it otherwise.

    Parameters
    ----------
    estimate : Estimate
        The estimate of the stage about to run.

    Returns
    -------
    Estimate
        ``estimate`` itself, if it is within both budgets.

    Raises
    ------
    ResourceError
        With the estimate and the budget, the inputs that would fit (from the estimate's
        remedies) and how to raise the budget.
    """
    mem, work = memory_budget(), work_budget()

    def fits(e):
        return e.bytes <= mem and e.seconds <= work

    if fits(estimate):
        return estimate
    what = []
    if estimate.bytes > mem:
        what.append(f"about {estimate.bytes / GIB:.3g} GiB of memory (budget {mem / GIB:.3g} GiB)")
    if estimate.seconds > work:
        what.append(f"about {estimate.seconds / 3600:.3g} hours of CPU time (budget {work / 3600:.3g} hours)")
    remedies = [text for text in (r(fits) for r in estimate.remedies) if text]
    fix = "Use " + " or ".join(remedies) + ", which fits; or " if remedies else "Use a smaller resolution, or "
    raise ResourceError(
        f"the {estimate.stage} stage would need " + " and ".join(what) + f" [{estimate.detail}]. " + fix
        + "raise the budget with boltzspin.resources.set_budget(memory_gib=..., work_seconds=...) (or the "
        "environment variables BOLTZSPIN_MEMORY_GIB, BOLTZSPIN_WORK_SECONDS) if the machine really has it."
    )
