"""`python benchmarks/run.py --quick` runs to the end (every section, including the 3D k-grid one)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_benchmarks_run_to_the_end():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"], capture_output=True,
                         text=True, timeout=3600)
    assert out.returncode == 0, out.stderr[-3000:]
    for section in ("Rashba null study", "single parabolic band", "Gaussian-correlated on the fly",
                    "LatticeRashba", "Rashba3D", "process max RSS"):
        assert section in out.stdout, section
    # the grid timings are real computations, not the geometry cache of the warm-up call
    rows = [line.split() for line in out.stdout.split("## Rashba3D")[1].splitlines() if line.strip()[:2].isdigit()]
    assert len(rows) >= 2 and all(float(r[2]) > 0.5 for r in rows), rows
