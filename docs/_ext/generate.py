"""Pages generated from the code at build time, so that nobody edits them by hand.

* ``api/generated/*.rst``: the top-level API (every name in ``boltzspin.__all__``)
  and one page per module of every subpackage (every name in the module's
  ``__all__`` that is defined there).  A new public function appears on the
  next build without anyone editing the documentation.
* ``guide/generated/study_types.md``: the constructors a study file can name
  (``type = "..."``), with their parameters and defaults, read from the
  registries of :mod:`boltzspin.studies.study_file`.
* ``gallery/generated/figures.md``: every shipped study that names a figure,
  with the study's leading comment block as the caption.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import shutil
import tomllib
from pathlib import Path

import boltzspin

SUBPACKAGES = ("models", "geometry", "collisions", "responses", "studies")


def _kind(obj):
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "exception"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


DIRECTIVE = {"exception": "autoexception", "class": "autoclass", "function": "autofunction", "data": "autodata"}
HEADINGS = {"function": "Functions", "class": "Classes", "exception": "Exceptions", "data": "Constants"}


def _title(text, char="="):
    return f"{text}\n{char * len(text)}\n"


def _members(module):
    """Names of ``module.__all__`` grouped by kind; re-exports of another module are listed separately."""
    groups, reexports = {k: [] for k in HEADINGS}, []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        kind = _kind(obj)
        home = getattr(obj, "__module__", module.__name__) if kind != "data" else module.__name__
        if kind != "data" and home != module.__name__:
            reexports.append((name, home))
        else:
            groups[kind].append(name)
    return groups, reexports


def _module_page(module):
    groups, reexports = _members(module)
    lines = [_title(f"``{module.__name__}``"), f".. automodule:: {module.__name__}", "   :no-members:", ""]
    for kind, names in groups.items():
        if not names:
            continue
        lines += [_title(HEADINGS[kind], "-")]
        for name in names:
            options = ["   :members:", "   :show-inheritance:"] if kind in ("class", "exception") else []
            lines += [f".. {DIRECTIVE[kind]}:: {module.__name__}.{name}", *options, ""]
    if reexports:
        lines += [_title("Also available here", "-")]
        lines += [f"* ``{name}`` -- see :py:obj:`{home}.{name}`" for name, home in reexports] + [""]
    return "\n".join(lines)


def _top_level_page():
    groups, _ = {k: [] for k in HEADINGS}, None
    for name in boltzspin.__all__:
        groups[_kind(getattr(boltzspin, name))].append(name)
    lines = [
        _title("Top-level API: ``import boltzspin as bs``"),
        "Every name in ``boltzspin.__all__``, generated from the package at build time.",
        "Units follow the package conventions: hbar = 1, k_B = 1, the carrier charge ``q``",
        "explicit (electrons ``q = -1``), momenta and energies in the model's own units.",
        "",
        ".. currentmodule:: boltzspin",
        "",
    ]
    for kind, names in groups.items():
        if not names:
            continue
        lines += [_title(HEADINGS[kind], "-"), ".. autosummary::", ""]
        lines += [f"   {name}" for name in names] + [""]
        for name in names:
            options = ["   :members:", "   :show-inheritance:"] if kind in ("class", "exception") else []
            lines += [f".. {DIRECTIVE[kind]}:: {name}", *options, ""]
    return "\n".join(lines)


def _submodules():
    for sub in SUBPACKAGES:
        package = importlib.import_module(f"boltzspin.{sub}")
        names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))
        yield package, [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def write_api(outdir):
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "boltzspin.rst").write_text(_top_level_page())
    index = [_title("Modules by pipeline stage"),
             "models -> geometry -> collisions -> responses -> studies: a stage never imports a later one.", "",
             ".. toctree::", "   :maxdepth: 1", ""]
    for name in ("boltzspin.errors", "boltzspin.data", "boltzspin.resources", "boltzspin.progress"):
        (outdir / f"{name}.rst").write_text(_module_page(importlib.import_module(name)))
        index.append(f"   {name}")
    for package, modules in _submodules():
        for module in modules:
            (outdir / f"{module.__name__}.rst").write_text(_module_page(module))
            index.append(f"   {module.__name__}")
    (outdir / "modules.rst").write_text("\n".join(index) + "\n")


def _signature_rows(registry):
    rows = []
    for type_name, cls in registry.items():
        params = []
        for p in inspect.signature(cls).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            default = "required" if p.default is p.empty else f"``{p.default!r}``"
            params.append(f"``{p.name}`` ({default})")
        target = f"{{py:class}}`{type_name} <{cls.__module__}.{cls.__qualname__}>`"
        rows.append(f"| `\"{type_name}\"` | {target} | {', '.join(params) or '--'} |")
    return rows


def write_study_types(path):
    study_file = importlib.import_module("boltzspin.studies.study_file")
    lines = ["# Types a study file can name", "",
             "Generated from the registries of `boltzspin.studies.study_file` at build time: every",
             "`type = \"...\"` a `[model]`, nested model/pairing table or `[disorder.NAME]` table accepts,",
             "with the constructor's keyword arguments and their defaults (\"required\" has none).",
             "Units are the constructors' (see their API pages).", ""]
    for title, attr in (("Models (`[model]`, `[model.NAME]`, nested `normal = {...}`)", "MODEL_TYPES"),
                        ("Gap functions (nested `pairing = {...}`)", "PAIRING_TYPES"),
                        ("Disorder species (`[disorder.NAME]`, `[[disorder.NAME.species]]`)", "DISORDER_TYPES")):
        registry = getattr(study_file, attr, None)
        if not registry:
            continue
        lines += [f"## {title}", "", "| `type` | constructor | keyword arguments (default) |", "|---|---|---|"]
        lines += _signature_rows(registry) + [""]
    quantities = getattr(study_file, "QUANTITIES", {})
    if quantities:
        lines += ["## Quantities (`[study] quantity = ...`)", "",
                  "| `quantity` | function called per point | its keyword table |", "|---|---|---|"]
        for name, fn in quantities.items():
            lines.append(f"| `\"{name}\"` | {{py:func}}`{fn.__module__}.{fn.__name__}` | `[{name}]` |")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def _leading_comment(toml_path):
    lines = []
    for line in toml_path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    text = " ".join(lines)
    return re.sub(r"\s+", " ", text).strip()


def write_gallery(root, path):
    images = path.parent / "images"
    images.mkdir(parents=True, exist_ok=True)
    lines = ["# Figure gallery", "",
             "Every shipped study (`studies/*.toml`) that names a figure, as committed in `figures/`.",
             "The caption is the study file's own description.  Regenerate a figure with",
             "`boltzspin run studies/NAME.toml` (or all of them from saved results with `boltzspin figures`).", ""]
    for toml_path in sorted((root / "studies").glob("*.toml")):
        spec = tomllib.loads(toml_path.read_text())
        figure = spec.get("study", {}).get("figure")
        if not figure or not (root / figure).exists():
            continue
        shutil.copy2(root / figure, images / Path(figure).name)
        name = spec["study"].get("name", toml_path.stem)
        caption = _leading_comment(toml_path) or name
        lines += [f"## `{name}`", "", f"```{{figure}} images/{Path(figure).name}", f":alt: {name}", ":width: 100%", "",
                  f"{caption} (`studies/{toml_path.name}`)", "```", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def _expand_rest(app, docname, source):
    """In an ``index`` page, replace a toctree line ``*`` by the pages of its folder not listed before it.

    Like ``:glob:``, but keeps the explicit order first and does not warn when nothing is left.
    """
    if not docname.endswith("index") or "\n*\n" not in source[0]:
        return
    folder = Path(app.srcdir) / Path(docname).parent
    listed = set(re.findall(r"^([\w/.-]+)$", source[0], flags=re.M))
    rest = sorted(p.stem for p in folder.glob("*.md") if p.stem != "index" and p.stem not in listed)
    source[0] = source[0].replace("\n*\n", "\n" + "".join(f"{name}\n" for name in rest))


def generate(app):
    src = Path(app.srcdir)
    write_api(src / "api" / "generated")
    write_study_types(src / "guide" / "generated" / "study_types.md")
    write_gallery(src.parent, src / "gallery" / "generated" / "figures.md")


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("source-read", _expand_rest)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
