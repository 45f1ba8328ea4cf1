"""Sphinx configuration of the boltzspin documentation.

Build (warnings are errors, tutorials are executed):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing is downloaded: no intersphinx, MathJax is served from the build
(``sphinx-mathjax-offline``), the theme is a local package.
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))  # the package of this checkout, also when not installed

import boltzspin  # noqa: E402

project = "boltzspin"
author = "the boltzspin developers"
copyright = "the boltzspin developers"
release = version = boltzspin.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "numpydoc",
    "myst_nb",
    "generate",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
exclude_patterns = ["_build", "_ext", "**/.ipynb_checkpoints", "jupyter_execute", "guide/generated"]
templates_path = []
html_theme = "furo"
html_title = f"boltzspin {release}"
html_static_path = []
pygments_style = "sphinx"

# --- API reference ---------------------------------------------------------------
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = False
# Every documented object is validated; a failure is a build warning, hence an error
# under -W.  Checks left out: See Also / Examples / extended summary on every object
# (useful, not mandatory), summary-line style details and the Returns-name form.
numpydoc_validate = True
numpydoc_validation_checks = {
    "all",
    "ES01",  # no extended summary
    "EX01",  # no Examples section
    "SA01",  # no See Also section
    "SA04",  # See Also entry without description
    "RT02",  # first line of Returns is a type only
    "RT03",  # Returns has no description (namedtuple-like fields documented inline)
    "SS05",  # summary starts with an infinitive verb
    "SS06",  # summary longer than one line
    "GL01",  # docstring text on the opening-quote line
    "GL02",  # closing quotes on their own line
    "PR08",  # parameter description starts with a capital
    "PR09",  # parameter description ends with a period
    "RT04",
    "RT05",
    "YD01",
}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.__repr__$",
    r"\.__call__$",
    # Strict validation covers the public API: every name of ``boltzspin.__all__`` (documented
    # under ``boltzspin.NAME``), ``boltzspin.errors``, ``boltzspin.data`` and ``converge``.
    # The module pages of the pipeline stages are rendered but not yet validated.
    r"^boltzspin\.(models|geometry|collisions|studies)\.",
    r"^boltzspin\.responses\.(response|equilibrium|thermal_hall)\.",
}

# --- executed tutorials (MyST-NB) ------------------------------------------------
nb_execution_mode = "force"  # run every tutorial on every build: they cannot rot
nb_execution_raise_on_error = True
nb_execution_timeout = 900
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]
