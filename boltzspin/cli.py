"""Command line: ``boltzspin run STUDY.toml``."""

from __future__ import annotations

import argparse
import sys
import time

from .errors import BoltzspinError


def main(argv=None):
    parser = argparse.ArgumentParser(prog="boltzspin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a study file, save netCDF and figure, print a table")
    run.add_argument("study", help="path to a study TOML file, e.g. studies/rashba_null.toml")
    run.add_argument("--no-figure", action="store_true", help="skip the figure")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    args = parser.parse_args(argv)

    from .plot import plot_contributions
    from .study import format_table, load_study, run_study

    try:
        start = time.perf_counter()
        spec = load_study(args.study)
        result = run_study(spec, progress=not args.quiet)
        elapsed = time.perf_counter() - start
        figure = spec["study"].get("figure")
        if figure and not args.no_figure:
            plot_contributions(result, figure)
        if not args.quiet:
            print(format_table(result))
            print(f"\nwrote {spec['study']['output']}" + (f" and {figure}" if figure and not args.no_figure else ""))
            print(f"elapsed {elapsed:.1f} s")
    except BoltzspinError as exc:
        print(f"boltzspin: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
