"""boltzspin benchmarks: time, peak memory and scaling, side by side with a dense reference.

Run from the repository root::

    python benchmarks/run.py            # full suite (up to N = 1e6; several times the quick run)
    python benchmarks/run.py --quick    # smaller sizes: 4-5 CPU minutes (7-30 min wall on 2 busy cores)

Wall times grow when other jobs share the cores; the k-grid tables also print the
process CPU time (all threads), which does not.

Each case prints N (Fermi points), wall time, peak traced memory (tracemalloc:
NumPy buffers), the fitted exponent of time ~ N^a over the stated range, and
the speed ratio against ``dense_reference.dense_transport`` (dense kernel,
dense N x N x D coordinate shifts, ``numpy.linalg.lstsq``) run in the same
process at the sizes where the dense path fits in memory and time.
Thread count: numba uses ``numba.get_num_threads()`` (all cores unless
``NUMBA_NUM_THREADS`` is set); NumPy's BLAS uses its own default.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numba
import numpy as np

import boltzspin as bs
from boltzspin.responses import response

sys.path.insert(0, str(Path(__file__).parent))
from dense_reference import dense_transport  # noqa: E402

GIB = 2.0**30


def measure(func):
    """Run ``func()``; return (result, seconds, peak traced bytes)."""
    tracemalloc.start()
    start = time.perf_counter()
    out = func()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, elapsed, peak


def exponent(ns, ts):
    """Least-squares slope of log t against log N."""
    if len(ns) < 2:
        return float("nan")
    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


def parabolic_band(mass=1.0):
    return bs.KPModel(
        lambda k: (np.sum(k**2, -1) / (2 * mass))[..., None, None] * np.ones((1, 1)),
        velocity=lambda k: (k / mass)[..., None, None] * np.ones((1, 1)),
        name="parabolic",
    )


def table(title, rows):
    print(f"\n## {title}")
    print(f"{'N':>9} {'time [s]':>10} {'peak mem [MiB]':>15} {'dense [s]':>10} {'speed-up':>9} {'max rel diff':>13}")
    for r in rows:
        dense = f"{r['dense']:10.3f}" if r.get("dense") else f"{'-':>10}"
        ratio = f"{r['dense'] / r['time']:9.1f}" if r.get("dense") else f"{'-':>9}"
        diff = f"{r['diff']:13.2e}" if r.get("diff") is not None else f"{'-':>13}"
        print(f"{r['n']:9d} {r['time']:10.3f} {r['mem'] / 2**20:15.1f} {dense} {ratio} {diff}")


def compare(ds, ref):
    """Largest relative difference of the Fermi-surface contributions."""
    scale = max(np.abs(ds.sigma.sel(contribution=c).values).max() for c in ref)
    return max(np.abs(ds.sigma.sel(contribution=c).values - ref[c]).max() for c in ref) / scale


def scaling_case(title, model, mu, disorder, observable, sizes, dense_sizes, fit_from, method="auto", sheets=1):
    bs.transport(model, mu, disorder, observable=observable, n_points=64, method=method)  # compile
    rows = []
    for n in sizes:
        ds, t, mem = measure(lambda: bs.transport(model, mu, disorder, observable=observable,
                                                  n_points=n // sheets, method=method))
        row = {"n": ds.attrs["n_fermi_points"], "time": t, "mem": mem, "method": ds.attrs["collision_operator"]}
        if n in dense_sizes:
            ref, td, _ = measure(lambda: dense_transport(model, mu, disorder, observable=observable,
                                                         n_points=n // sheets))
            row.update(dense=td, diff=compare(ds, ref))
        rows.append(row)
    table(f"{title} [{rows[-1]['method']}]", rows)
    fit = [(r["n"], r["time"]) for r in rows if r["n"] >= fit_from]
    a = exponent(*zip(*fit)) if len(fit) > 1 else float("nan")
    print(f"fitted exponent time ~ N^a for N >= {fit_from}: a = {a:.3f}")
    return rows, a


def rashba_study(n_points, dense_points):
    """The shipped Rashba null study, run by the study runner at ``2 n_points`` Fermi points."""
    import tempfile

    from boltzspin.studies.study import load_study, run_study

    spec = load_study(Path(__file__).parents[1] / "studies" / "rashba_null.toml")
    spec["transport"]["n_points"] = n_points
    model = bs.Rashba(1.0, 0.5)
    bs.transport(model, 0.6, bs.GaussianCorrelated(0.01, 1.0, 1.5), n_points=64)  # compile
    with tempfile.TemporaryDirectory() as tmp:
        spec["study"]["output"] = f"{tmp}/rashba_null.nc"
        result, t, mem = measure(lambda: run_study(spec, progress=False, executor="serial"))
    n_runs = int(result.failed.size)
    per_point = t / n_runs
    from boltzspin.studies.study import build_disorder

    dense_times, diffs = [], []
    for name in spec["disorder"]:  # the dense reference is too slow for the whole study: mu = 0.6 only
        d = build_disorder(name, spec["disorder"][name])
        ref, td, _ = measure(lambda: dense_transport(model, 0.6, d, n_points=dense_points))
        dense_times.append(td)
        if dense_points == n_points:
            ds = bs.transport(model, 0.6, d, n_points=n_points)
            diffs.append(compare(ds, ref))
    shape = " x ".join(f"{n} {d}" for d, n in result.failed.sizes.items())
    print(f"\n## Rashba null study (studies/rashba_null.toml, serial): {n_runs} runs ({shape}), "
          f"N = {2 * n_points} Fermi points each")
    print(f"total {t:.2f} s including netCDF output, {per_point:.3f} s per run, peak traced memory {mem / 2**20:.1f} MiB")
    print(f"dense reference at N = {2 * dense_points}: {np.mean(dense_times):.2f} s per run "
          f"(mu = 0.6, each disorder); speed-up per run: {np.mean(dense_times) / per_point:.1f}x")
    if diffs:
        print(f"max relative difference vs dense at mu = 0.6: {max(diffs):.2e}")
    worst = float(np.abs(result.sigma.sel(contribution="total", i="x", j="y")).max()) * 8 * np.pi
    print(f"largest |total sigma_xy| over the study: {worst:.2e} x |q|/(8 pi)")


def grid_case(title, model, mu, disorder, observable, grids):
    """Lattice / 3D models on k-grids: cost and error estimates against the grid size G."""
    # warm-up (numba compilation) at the smallest listed grid: a coarser one may be refused by the
    # pocket-resolution check of grid Fermi surfaces (a small pocket needs enough vertices on G and G/2)
    bs.transport(model, mu, disorder, observable=observable, n_points=grids[0])
    print(f"\n## {title} (k-grid; G points per reciprocal axis)")
    print(f"{'G':>6} {'N':>8} {'time [s]':>10} {'CPU [s]':>9} {'peak mem [MiB]':>15} {'FS err est':>11} "
          f"{'sea err est':>12}")
    gs, ts = [], []
    for g in grids:
        # transport keeps the Fermi surface of its last arguments (response._GEOMETRY_CACHE): clear it, or
        # the first grid, just computed by the warm-up, would be timed from the cache
        response._GEOMETRY_CACHE.clear()
        cpu = time.process_time()  # all threads of this process: less sensitive than wall time to other jobs
        ds, t, mem = measure(lambda: bs.transport(model, mu, disorder, observable=observable, n_points=g))
        cpu = time.process_time() - cpu
        print(f"{g:6d} {ds.attrs['n_fermi_points']:8d} {t:10.3f} {cpu:9.2f} {mem / 2**20:15.1f} "
              f"{ds.attrs['fermi_surface_error_estimate']:11.2e} {ds.attrs['fermi_sea_error_estimate']:12.2e}")
        gs.append(g)
        ts.append(t)
    print(f"fitted exponent time ~ G^a: a = {exponent(gs, ts):.3f} (D = {model.dim}; the grid work is ~G^D, "
          "the refined Fermi-sea cells and the N-point kernel ~G^(D-1))")


def kubo_case():
    """Kubo-Streda reference (boltzspin.kubo): one point and the clean-limit extrapolation, 2-band models."""
    print("\n## Kubo-Streda reference (boltzspin.kubo, default resolution: 64 angles, order 12)")
    print(f"{'case':<58} {'time [s]':>9} {'peak mem [MiB]':>15} {'points':>7}")
    cases = [
        ("massive Dirac, ladder, one point", lambda: bs.kubo.conductivity(
            bs.MassiveDirac(1.0, 0.3), 0.5, bs.DeltaCorrelated(0.1, 1.0))),
        ("Rashba, ladder, spin z, one point", lambda: bs.kubo.conductivity(
            bs.Rashba(1.0, 0.5), 0.6, bs.DeltaCorrelated(0.05, 1.0), observable="sz")),
        ("massive Dirac, ladder, clean limit (8 densities)", lambda: bs.kubo.clean_limit(
            bs.MassiveDirac(1.0, 0.3), 0.5, bs.DeltaCorrelated(0.1, 1.0))),
        ("Rashba, ladder, spin z, clean limit (8 densities)", lambda: bs.kubo.clean_limit(
            bs.Rashba(1.0, 0.5), 0.6, bs.DeltaCorrelated(0.05, 1.0), observable="sz")),
    ]
    for name, func in cases:
        ds, t, mem = measure(func)
        print(f"{name:<58} {t:9.2f} {mem / 2**20:15.1f} {ds.attrs['n_points']:7d}")


def compressed_case(quick=False):
    """Long-range disorder on Rashba: on-the-fly O(N^2) against the compressed operator, side by side.

    Gaussian-correlated disorder (compressed: Chebyshev-separable kernel, O(N r n^2)) and screened
    Coulomb (on the fly only: the |q| cusp at q = 0 defeats a separable expansion; the interpolation
    error against the rank is printed as the measured reason).  Times are whole ``transport`` calls
    (Fermi surface, Fermi sea, two collision operators at N and N/2 for the error estimate, solves).
    The compressed sums are BLAS matrix products: on an oversubscribed machine multithreaded
    OpenBLAS slowed them about 5x in our runs (load 14 on 2 cores); ``OPENBLAS_NUM_THREADS=1`` avoids it.
    """
    from boltzspin.collisions.compressed import ChebyshevKernel
    from boltzspin.geometry.fermi import fermi_surface

    model, mu = bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.1)), 0.5
    gauss, coulomb = bs.GaussianCorrelated(0.01, 1.0, 1.0), bs.ScreenedCoulomb(0.01, 1.0, 0.5)
    if quick:
        comp_sizes, fly_sizes, coul_sizes = [2000, 4000, 10000, 20000], [2000, 4000], [2000, 4000]
    else:
        comp_sizes = [2000, 4000, 10000, 20000, 50000, 100000]
        fly_sizes, coul_sizes = [2000, 4000, 10000, 20000], [2000, 4000, 10000, 20000]
    load_start = os.getloadavg()[0]
    run = {}
    for label, disorder, method, sizes in (("gauss", gauss, "compressed", comp_sizes),
                                           ("gauss", gauss, "onthefly", fly_sizes),
                                           ("coulomb", coulomb, "onthefly", coul_sizes)):
        bs.transport(model, mu, disorder, observable="sz", n_points=64, method=method)  # compile
        for n in sizes:
            ds, t, mem = measure(lambda: bs.transport(model, mu, disorder, observable="sz",
                                                      n_points=n // 2, method=method))
            run[label, method, n] = (ds, t, mem)
    ref = bs.transport(model, mu, gauss, observable="sz", n_points=2000, method="dense")
    agree = compare(run["gauss", "compressed", 4000][0], {c: ref.sigma.sel(contribution=c).values
                                                           for c in ref.contribution.values})
    print("\n## Long-range disorder on Rashba (exchange z, spin z): on-the-fly vs compressed, whole transport calls")
    print(f"load average (1 min) at the start and end of this section: {load_start:.1f}, {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'N':>8} {'Gauss onthefly [s]':>19} {'Gauss compressed [s]':>21} {'ratio':>7} {'mem [MiB]':>10} "
          f"{'rate err bound':>15} {'Coulomb onthefly [s]':>21}")
    for n in comp_sizes:
        fly = run.get(("gauss", "onthefly", n))
        ds, t, mem = run["gauss", "compressed", n]
        coul = run.get(("coulomb", "onthefly", n))
        fly_s = f"{fly[1]:19.2f}" if fly else f"{'-':>19}"
        ratio = f"{fly[1] / t:7.1f}" if fly else f"{'-':>7}"
        coul_s = f"{coul[1]:21.2f}" if coul else f"{'-':>21}"
        print(f"{ds.attrs['n_fermi_points']:8d} {fly_s} {t:21.2f} {ratio} {mem / 2**20:10.1f} "
              f"{ds.attrs['sparse_rate_error_bound']:15.2e} {coul_s}")

    def fit(label, method, lo):
        pts = [(k[2], v[1]) for k, v in run.items() if k[:2] == (label, method) and k[2] >= lo]
        return exponent(*zip(*sorted(pts))) if len(pts) > 1 else float("nan")

    big = max(comp_sizes)
    _, t_big, mem_big = run["gauss", "compressed", big]
    lo = 10000 if big >= 100000 else comp_sizes[0]
    print(f"Gaussian compressed: N = {big}: {t_big:.1f} s (target < 30 s), peak traced memory "
          f"{mem_big / GIB:.3f} GiB (target < 2 GiB); exponent {lo}..{big}: {fit('gauss', 'compressed', lo):.2f} "
          f"(target <= 1.2); agreement with dense at N = 4000: {agree:.1e} (target 1e-8)")
    print(f"Gaussian onthefly exponent {min(fly_sizes)}..{max(fly_sizes)}: {fit('gauss', 'onthefly', 0):.2f}; "
          f"screened Coulomb onthefly: {fit('coulomb', 'onthefly', 0):.2f}")
    operator_case(model, mu, gauss, coulomb, comp_sizes, fly_sizes)
    # why screened Coulomb is not compressed: the |q| cusp on the diagonal k' = k
    k = fermi_surface(model, mu, 300).k
    q = k[None, :, :] - k[:, None, :]
    profiles = {"Gaussian": lambda q: np.exp(-np.sum(q**2, -1) / 2),
                "screened Coulomb": lambda q: (2 * np.pi / (np.sqrt(np.sum(q**2, -1)) + 0.5)) ** 2}
    print("max |g - I g| / max g of the Chebyshev-separable kernel on the Fermi points, against m (rank m^2):")
    ms = [6, 12, 24, 48]
    print(f"{'m':>20} " + " ".join(f"{m:>9d}" for m in ms) + f" {'fitted m^-a':>12}")
    for name, g in profiles.items():
        exact = g(q)
        errs = []
        for m in ms:
            kern = ChebyshevKernel(k, g, m)
            approx = kern.apply_real(np.eye(len(k)))
            errs.append(np.abs(approx - exact).max() / exact.max())
        above = [(m, e) for m, e in zip(ms, errs) if e > 1e-12]  # before round-off
        slope = -exponent(*zip(*above[1:])) if len(above) > 2 else float("nan")
        print(f"{name:>20} " + " ".join(f"{e:9.1e}" for e in errs)
              + (f" {slope:12.2f}" if np.isfinite(slope) else f" {'spectral':>12}"))
    print("screened Coulomb: algebraic convergence (the cusp of |k' - k| at k' = k lies inside every block), so "
          "no rank reaches 1e-8; it stays dense/onthefly, O(N^2). A hierarchical (near-field direct, far-field "
          "interpolated) scheme would be needed.")


def operator_case(model, mu, gauss, coulomb, comp_sizes, fly_sizes, matvecs=10):
    """The collision stage alone: operator build (rates, side-jump sums) plus ``matvecs`` 2-column mat-vecs."""
    from boltzspin.collisions.scattering import scattering
    from boltzspin.geometry.fermi import fermi_surface

    sz = model.operators["sz"]

    def stage(fs, disorder, method):
        op = scattering(fs, disorder, model, sz, method=method)
        x = np.ones((fs.n_points, 2))
        for _ in range(matvecs):
            op.matvec(x)
        return op

    print(f"\ncollision stage alone (build + {matvecs} mat-vecs of 2 columns), same sizes; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'N':>8} {'Gauss onthefly [s]':>19} {'Gauss compressed [s]':>21} {'ratio':>7} {'mem [MiB]':>10} "
          f"{'nodes r':>8} {'Coulomb onthefly [s]':>21}")
    rows = []
    for n in comp_sizes:
        fs = fermi_surface(model, mu, n // 2)
        op, tc, mem = measure(lambda: stage(fs, gauss, "compressed"))
        tf = measure(lambda: stage(fs, gauss, "onthefly"))[1] if n in fly_sizes else None
        tq = measure(lambda: stage(fs, coulomb, "onthefly"))[1] if n in fly_sizes else None
        rows.append((fs.n_points, tc, tf, tq))
        print(f"{fs.n_points:8d} " + (f"{tf:19.2f}" if tf else f"{'-':>19}") + f" {tc:21.2f} "
              + (f"{tf / tc:7.1f}" if tf else f"{'-':>7}") + f" {mem / 2**20:10.1f} {op.compressed_ranks[0]:8d} "
              + (f"{tq:21.2f}" if tq else f"{'-':>21}"))
    big = [r for r in rows if r[0] >= 10000] or rows
    fly = [r for r in rows if r[2]]
    print(f"collision stage exponents: compressed {exponent([r[0] for r in big], [r[1] for r in big]):.2f} "
          f"(N >= {big[0][0]}; target <= 1.2), Gaussian onthefly {exponent([r[0] for r in fly], [r[2] for r in fly]):.2f}, "
          f"screened Coulomb onthefly {exponent([r[0] for r in fly], [r[3] for r in fly]):.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (4-5 CPU minutes)")
    args = parser.parse_args(argv)
    print(f"boltzspin benchmarks: numba threads = {numba.get_num_threads()}, numpy {np.__version__}")
    if args.quick:
        rashba_study(500, 500)
        big, dense_sizes, gauss = [10**3, 10**4, 10**5], {1000}, [1000, 2000, 4000]
    else:
        rashba_study(2000, 2000)
        big, dense_sizes, gauss = [10**3, 10**4, 10**5, 3 * 10**5, 10**6], {1000, 4000}, [1000, 2000, 5000, 10000, 20000]
        big = sorted(set(big) | {4000})
    kubo_case()
    results = {}
    results["single"] = scaling_case("delta-correlated, single parabolic band (charge)", parabolic_band(), 0.5,
                                     bs.DeltaCorrelated(0.01, 1.0), "charge", big, dense_sizes, 10**4)
    results["rashba"] = scaling_case("delta-correlated, Rashba with exchange z (spin z)",
                                     bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.1)), 0.5,
                                     bs.DeltaCorrelated(0.01, 1.0), "sz", big, dense_sizes, 10**4, sheets=2)
    results["gauss"] = scaling_case("Gaussian-correlated on the fly, Rashba (spin z)",
                                    bs.Rashba(1.0, 0.5, exchange=(0, 0, 0.1)), 0.5,
                                    bs.GaussianCorrelated(0.01, 1.0, 1.0), "sz", gauss, set(gauss) & {1000, 2000},
                                    gauss[0], method="onthefly", sheets=2)
    # Rashba3D at mu = 0.5 has a small pocket of band 1: grids below G = 40 are refused (too few vertices)
    lattice, cubic = ([128, 256, 512], [40, 48]) if args.quick else ([128, 256, 512, 1024], [40, 48, 64])
    grid_case("LatticeRashba with exchange z, delta + magnetic disorder (spin z)",
              bs.LatticeRashba(1.0, 0.3, exchange=(0, 0, 0.05)), 0.3,
              bs.DeltaCorrelated(0.01, 1.0) + bs.MagneticImpurities(0.005, 0.5, 1.0), "sz", lattice)
    grid_case("Rashba3D with exchange z, delta disorder (spin z)",
              bs.Rashba3D(1.0, 0.5, 0.3, exchange=(0, 0, 0.3)), 0.5, bs.DeltaCorrelated(0.01, 1.0), "sz", cubic)
    compressed_case(args.quick)
    print(f"\nprocess max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
