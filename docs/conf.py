"""Sphinx configuration: API reference from the docstrings, guides in Markdown (MyST).

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (needs the ``docs``
extra). ``-W`` turns every warning into an error: a reference to a spikegraph name that does
not exist, a docstring that does not parse, a results file that is missing.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
# The checkout's package, not whatever an environment has installed under the same name.
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(DOCS / "_ext"))

import spikegraph  # noqa: E402

project = "spikegraph"
author = "spikegraph developers"
copyright = "spikegraph developers"
release = spikegraph.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "api_pages",  # docs/_ext: the API pages, written from the package on every build
    "results_tables",  # docs/_ext: tables generated from results/*.json
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# --- API reference ---
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = False  # torch's forward() docstring is not ours to show
autosummary_generate = False  # the pages come from docs/_ext/api_pages.py
add_module_names = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes:" as fields: dataclass fields are documented once
napoleon_custom_sections = ["Shapes"]  # a rubric over the docstring's own bullet list

# Every reference to a spikegraph name must resolve. Names of other projects (torch, PyG,
# numpy, the standard library) are not checked: the docs are built without network access, so
# there is no inventory of them to link to. Anything else that does not resolve fails the build.
_EXTERNAL = (
    "torch|torch_geometric|torch_sparse|torch_scatter|numpy|scipy|ogb|matplotlib|tqdm"
    "|pathlib|os|collections|argparse|typing|typing_extensions|dataclasses|json|random"
    "|Tensor|Module|nn\\.Module|SparseTensor|Data"  # bare names from type hints of those packages
)
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", rf"({_EXTERNAL})(\..*)?")]

# --- Markdown ---
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# The environment the docs are built in; in CI, the one the tests just ran in (guides/install.md).
myst_substitutions = {
    "built_python": platform.python_version(),
    "built_torch": _version("torch"),
    "built_pyg": _version("torch-geometric"),
    "built_scatter": _version("torch-scatter"),
    "built_sparse": _version("torch-sparse"),
    "built_ogb": _version("ogb"),
}

# --- HTML ---
html_theme = "furo"
html_title = f"spikegraph {release}"
html_static_path = []
