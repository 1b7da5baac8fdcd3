"""The documentation site builds with warnings as errors, gallery included.

The build runs on a copy of ``docs/`` and ``examples/`` in a temporary folder,
so the checkout gets no generated files. Skips when the ``docs`` extra
(Sphinx, pydata-sphinx-theme, numpydoc, sphinx-gallery, MyST) is missing.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

for _module in ("sphinx", "pydata_sphinx_theme", "numpydoc", "sphinx_gallery"):
    pytest.importorskip(_module)
pytest.importorskip("myst_parser")
pytest.importorskip("matplotlib")

import sknn  # noqa: E402

pytestmark = pytest.mark.slow  # a whole Sphinx build

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
PUBLIC = sorted(name for name in sknn.__all__ if not name.startswith("__"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site once; return (source copy, html folder, build result)."""
    work = tmp_path_factory.mktemp("site")
    shutil.copytree(
        ROOT / "docs", work / "docs", ignore=shutil.ignore_patterns("_build")
    )
    shutil.copytree(ROOT / "examples", work / "examples")
    (work / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / "README.md", work / "benchmarks" / "README.md")
    for generated in ("generated", "auto_examples"):
        shutil.rmtree(work / "docs" / generated, ignore_errors=True)
    env = dict(os.environ, MPLBACKEND="Agg", SKNN_EXAMPLES_OUTPUT=str(work))
    html = work / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(work / "docs"),
            str(html),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    return work / "docs", html, result


def test_site_builds_without_warnings(site):
    _, html, result = site
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == ""
    for page in (
        "index",
        "user_guide",
        "tabular",
        "api",
        "architecture",
        "performance",
        "benchmarks",
        "auto_examples/index",
    ):
        assert (html / f"{page}.html").is_file(), page


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_object_has_an_api_page(site, name):
    _, html, result = site
    page = html / "generated" / f"sknn.{name}.html"
    assert page.is_file(), result.stdout + result.stderr
    text = page.read_text(encoding="utf-8")
    assert f"<h1>{name}" in text
    if isinstance(getattr(sknn, name), type):
        # numpydoc rendered the class docstring's Parameters section
        assert '>Parameters<span class="colon">:</span></dt>' in text


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_plot_example_makes_a_figure(site, example):
    source, html, result = site
    images = sorted(
        (source / "auto_examples" / "images").glob(f"sphx_glr_{example}_*.png")
    )
    assert images, f"{example} drew no figure\n{result.stdout}{result.stderr}"
    page = (html / "auto_examples" / f"{example}.html").read_text(encoding="utf-8")
    assert images[0].name in page
