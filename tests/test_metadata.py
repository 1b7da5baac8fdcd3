"""The installed distribution describes the package it installed.

sknn/_version.py is the one place the version is written (pyproject.toml reads
it through ``[tool.setuptools.dynamic]``), so the installed metadata and
``sknn.__version__`` must agree; a mismatch means a stale install (re-run
``python -m pip install .``) or a second, hand-written version somewhere.
"""

import importlib.metadata
from pathlib import Path

import pytest

import sknn

# The checkout's root when the tests run from a source tree; an installed copy
# of the tests has no pyproject.toml beside it.
ROOT = Path(__file__).resolve().parent.parent

URL_LABELS = ("Homepage", "Documentation", "Source", "Issues", "Changelog")


def _metadata():
    try:
        return importlib.metadata.metadata("sknn")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        pytest.fail("sknn is importable but not installed: pip install . first")


def test_installed_version_is_the_package_version():
    assert importlib.metadata.version("sknn") == sknn.__version__


def test_installed_metadata_has_a_license():
    metadata = _metadata()
    # Metadata 2.4 (PEP 639) writes License-Expression; older tools License.
    license_text = metadata.get("License-Expression") or metadata.get("License")
    assert license_text, "the installed metadata names no license"
    assert "BSD-3-Clause" in license_text
    # No "License ::" classifier next to an SPDX expression (PEP 639).
    classifiers = metadata.get_all("Classifier") or []
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_installed_metadata_has_the_project_urls():
    entries = _metadata().get_all("Project-URL") or []
    urls = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        urls[label.strip()] = url.strip()
    for label in URL_LABELS:
        assert label in urls, f"no {label} URL in {sorted(urls)}"
        assert urls[label].startswith("https://"), (label, urls[label])


def test_license_file_is_at_the_repository_root():
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("the tests run from an installed copy, not the source tree")
    license_file = ROOT / "LICENSE"
    assert license_file.is_file(), "no LICENSE next to pyproject.toml"
    text = license_file.read_text(encoding="utf-8")
    assert "BSD 3-Clause License" in text
    assert "2026, the sknn developers" in text
