"""Sphinx configuration of sknn's documentation site.

Build it from the repository root with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The pages are Markdown (MyST); the API reference is generated from the
docstrings (autosummary + numpydoc); the gallery runs ``examples/`` with
sphinx-gallery and keeps every figure they draw.
"""

import os
import sys
import warnings

# The checkout's package, whether or not it is installed.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import sknn  # noqa: E402

project = "sknn"
author = "the sknn developers"
copyright = "2026, the sknn developers"
release = sknn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
# Long signatures (the estimators have 30+ parameters) one per line.
maximum_signature_line_length = 88

# MyST: headings get anchors so `page.md#section` links resolve.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# API reference: one page per public object, written from its docstring.
autosummary_generate = True
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Gallery: run every example, keep its figures and printed output.
os.environ.setdefault("MPLBACKEND", "Agg")
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    # "Examples using X" at the end of each API page.
    "doc_module": ("sknn",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sknn": None},
}
# Examples select the Agg backend themselves; matplotlib warns about it under
# sphinx-gallery's own backend, which is noise for the built page.
warnings.filterwarnings("ignore", message=".*non-interactive.*", category=UserWarning)

# Methods inherited from scikit-learn (``score``, ``get_metadata_routing``)
# keep its docstrings, which cite labels of scikit-learn's own site: link them
# there instead of leaving dangling references.
SKLEARN_LABELS = {
    "accuracy_score": "modules/model_evaluation.html#accuracy-score",
    "r2_score": "modules/model_evaluation.html#r2-score",
    "metadata_routing": "metadata_routing.html",
}


def _link_sklearn_label(app, env, node, contnode):
    """Resolve a reference to one of scikit-learn's labels to its page."""
    target = node.get("reftarget")
    if node.get("refdomain") != "std" or target not in SKLEARN_LABELS:
        return None
    from docutils import nodes

    url = "https://scikit-learn.org/stable/" + SKLEARN_LABELS[target]
    text = contnode.astext() if contnode is not None else target
    return nodes.reference(text, text, internal=False, refuri=url)


def setup(app):
    app.connect("missing-reference", _link_sklearn_label)


html_theme = "pydata_sphinx_theme"
html_title = f"sknn {release}"
# The right-hand "On this page" lists methods as ``fit()``, not
# ``MLPClassifierNN.fit()``.
toc_object_entries_show_parents = "hide"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
# pages without sub-pages get no (empty) section navigation on the left
html_sidebars = {
    page: []
    for page in (
        "index", "user_guide", "tabular", "performance", "benchmarks",
        "architecture",
    )
}  # fmt: skip
html_show_sourcelink = False
html_static_path = []
