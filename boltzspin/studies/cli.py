"""Command line: ``boltzspin run STUDY.toml`` and ``boltzspin figures``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import __version__
from ..errors import BoltzspinError


def _run(args):
    from .report import check_report, format_table, make_figure
    from .study import jobs, load_study, run_study

    start = time.perf_counter()
    spec = load_study(args.study)
    check_report(spec)  # a bad component or figure_script fails before any work
    executor = "serial" if args.serial else args.scheduler
    every = jobs(spec)
    missing = sum(not Path(j["file"]).exists() for j in every)
    result = run_study(spec, progress=not args.quiet, executor=executor, workers=args.workers)
    elapsed = time.perf_counter() - start
    if not args.quiet and "i" in result.dims:  # the table first: a failing figure script cannot hide the result
        print(format_table(result, component=spec["study"].get("component")))  # (tensor quantities only)
    figure = None if args.no_figure else make_figure(spec, result)
    if not args.quiet:
        total = len(every)
        print(f"\n{missing} of {total} points computed now, {total - missing} reused; "
              f"{result.attrs['n_failed']} failed")
        print(f"wrote {spec['study']['output']}" + (f" and {figure}" if figure else ""))
        print(f"elapsed {elapsed:.1f} s")
    return 1 if result.attrs["n_failed"] else 0


def _figures(args):
    from .report import make_figure
    from .study import load_study

    made, failed = 0, 0
    for path in sorted(Path(args.studies).glob("*.toml")):
        try:
            spec = load_study(path)
            if not Path(spec["study"]["output"]).exists():
                print(f"skip {path}: {spec['study']['output']} not computed yet (boltzspin run {path})")
                continue
            figure = make_figure(spec)
        except BoltzspinError as exc:
            print(f"boltzspin: error: {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        if figure:
            print(f"{path} -> {figure}")
            made += 1
    print(f"{made} figures written" + (f", {failed} studies failed" if failed else ""))
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="boltzspin", description=__doc__)
    parser.add_argument("--version", action="version", version=f"boltzspin {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a study file, save netCDF and figure, print a table")
    run.add_argument("study", help="path to a study TOML file, e.g. studies/rashba_null.toml")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None,
                       help="address of a dask scheduler (default: [study] scheduler, else a LocalCluster)")
    where.add_argument("--serial", action="store_true", help="run in this process, no dask")
    run.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: one per core)")
    run.add_argument("--no-figure", action="store_true", help="skip the figure")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    figs = sub.add_parser("figures", help="regenerate the figure of every study whose results exist")
    figs.add_argument("--studies", default="studies", help="folder of study files (default: studies)")
    args = parser.parse_args(argv)
    try:
        return _run(args) if args.command == "run" else _figures(args)
    except BoltzspinError as exc:
        print(f"boltzspin: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
