"""Sphinx configuration: numpydoc API pages and a gallery of examples/."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "probmodels"
author = "probmodels developers"
copyright = "2026, probmodels developers"

from probmodels import __version__ as release  # noqa: E402

version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

autosummary_generate = True
templates_path = ["_templates"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
}

intersphinx_mapping = {}  # no network at build time

html_theme = "pydata_sphinx_theme"
html_title = "probmodels"
html_theme_options = {"navigation_with_keys": False}


def _skip_metadata_requests(app, what, name, obj, skip, options):
    # sklearn generates set_*_request methods (metadata routing) whose
    # docstrings point into sklearn's own glossary.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
