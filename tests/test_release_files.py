"""The files a release carries agree with each other: LICENSE, CITATION.cff, CHANGELOG, version."""

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import boltzspin

ROOT = Path(__file__).resolve().parents[1]


def test_license_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"]["text"] == "BSD-3-Clause"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License") and "Neither the name of the copyright holder" in text


def test_one_version_everywhere():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert boltzspin.__version__ == meta["version"] == importlib.metadata.version("boltzspin")
    cff = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^version: (\S+)$", cff, re.M).group(1) == boltzspin.__version__
    assert "arXiv:2009.12058" in cff
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{boltzspin.__version__}]" in changelog and "## [Unreleased]" in changelog


def test_command_line_version():
    out = subprocess.run([sys.executable, "-m", "boltzspin", "--version"], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == f"boltzspin {boltzspin.__version__}"
