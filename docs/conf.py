"""Sphinx configuration for the gdlinreg documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (after
``pip install ".[docs]"``). Neither the build nor the built site reaches the network: no
intersphinx inventories are fetched, the gallery examples use data shipped with gdlinreg and
scikit-learn, and MathJax is served from the site itself (sphinx-mathjax-offline copies
MathJax 3 into ``_static/mathjax``), not from a CDN. After the build, every script and
stylesheet that a page loads is checked to be a file of the site (see ``_check_offline``).

The API reference is generated from the docstrings: one page per public module of the
installed package (every module whose name does not start with an underscore), documenting the
names in its ``__all__``. A new public module or name therefore appears without editing here.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from pathlib import Path

from sphinx.util import logging

import gdlinreg

os.environ.setdefault("MPLBACKEND", "Agg")

HERE = Path(__file__).parent

project = "gdlinreg"
author = "The gdlinreg developers"
copyright = "2026, The gdlinreg developers"
release = gdlinreg.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    # Sets mathjax_path to _static/mathjax/tex-chtml.js and copies MathJax there.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples/GALLERY_HEADER.rst", "**.ipynb_checkpoints"]
html_theme = "alabaster"
# alabaster's 940 px page leaves code blocks some 80 characters; the code in these pages and
# the docstrings is up to 100 (the project's line length): widen the page to hold them.
html_theme_options = {"page_width": "1100px"}
html_title = f"gdlinreg {release}"
html_static_path: list[str] = []

# MyST: $...$ and $$...$$ maths, and anchors for headings (the README links to them).
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# autodoc + numpydoc: members in each module's __all__, documented once, in source order.
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
# Every public function and class carries an Examples section (run as doctests by
# tests/test_docstrings.py); the build fails on one without. Exempt: methods and attributes
# of classes, module constants (see _exempt below), and the names listed here.
numpydoc_validation_checks = {"EX01"}
numpydoc_validation_exclude = set()

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    # The film of plot_descent_film.py plays in the page as JavaScript frames (jshtml needs no
    # ffmpeg, unlike html5 video).
    "matplotlib_animations": (True, "jshtml"),
    "within_subsection_order": "FileNameSortKey",
    # The computation-times pages load jQuery, DataTables and Bootstrap from CDNs.
    "write_computation_times": False,
    # Only what an example prints: no "Out: Text(0.5, 1.0, ...)", "<...Legend object>" or
    # "<...Colorbar object>" under the last plotting call of a block.
    "capture_repr": (),
}


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn adds set_{method}_request to every estimator for metadata routing; its
    # docstrings point into scikit-learn's own glossary. They are documented there.
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


_ASSET = re.compile(r"<(?:script|link)\b[^>]*?\b(?:src|href)=[\"']([^\"']+)[\"']", re.IGNORECASE)


def _check_offline(app, exc):
    """Warn (an error under -W) for any script or stylesheet a page loads that is not a file
    of the built site: a CDN URL, or a path that was not copied."""
    if exc is not None or app.builder.format != "html":
        return
    logger = logging.getLogger(__name__)
    out = Path(app.outdir)
    for page in sorted(out.rglob("*.html")):
        for target in _ASSET.findall(page.read_text(encoding="utf-8")):
            path = target.split("?", 1)[0].split("#", 1)[0]
            if not path or path.startswith("data:"):  # the page itself, or inline data
                continue
            local = (page.parent / path).resolve()
            if re.match(r"^([a-z][a-z0-9+.-]*:|//)", path, re.IGNORECASE) or not local.is_file():
                logger.warning(
                    "%s loads %s, which is not a file of the site: the page would need the network",
                    page.relative_to(out),
                    target,
                )


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    # After sphinx-mathjax-offline's own build-finished handler has copied MathJax.
    app.connect("build-finished", _check_offline, priority=900)


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.iter_modules(gdlinreg.__path__):
        if not info.name.startswith("_"):
            names.append(f"gdlinreg.{info.name}")
    return sorted(names)


def _write_api_pages() -> None:
    """One page per public submodule, under api/ (not tracked: the build writes it)."""
    out = HERE / "api"
    out.mkdir(exist_ok=True)
    modules = _public_modules()
    for name in modules:
        title = f"``{name}``"
        text = f"{title}\n{'=' * len(title)}\n\n.. automodule:: {name}\n"
        path = out / f"{name}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    for stale in out.glob("*.rst"):
        if stale.stem not in modules:
            stale.unlink()


def _exempt() -> set[str]:
    """Names exempt from the Examples check: module constants in ``__all__`` (registries,
    defaults; documented by a comment) and the members of public classes."""
    found = set()
    for name in ["gdlinreg", *_public_modules()]:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr, None)
            if isinstance(obj, type):
                found.add("^" + re.escape(f"{name}.{attr}.") + r"\w+$")
            elif not callable(obj):
                found.add("^" + re.escape(f"{name}.{attr}") + "$")
    return found


_write_api_pages()
numpydoc_validation_exclude |= _exempt()
