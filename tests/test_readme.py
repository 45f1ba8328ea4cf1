"""Every Python example of README.md runs (in a temporary directory), so the README cannot rot."""

import re
import textwrap
from pathlib import Path

import matplotlib
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# Fenced blocks may be indented (inside a list item): capture the indent and remove it.
BLOCKS = [
    textwrap.dedent(body)
    for _, body in re.findall(r"^([ \t]*)```python\n(.*?)^[ \t]*```", README.read_text(), flags=re.S | re.M)
]


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_example_runs(index, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples may write files (rashba.nc)
    exec(compile(BLOCKS[index], f"README.md python block {index + 1}", "exec"), {"__name__": "__readme__"})
