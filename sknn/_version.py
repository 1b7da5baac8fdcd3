"""The installed version of sknn.

This is the only place the version is written: pyproject.toml reads it from
here (``[tool.setuptools.dynamic]``), so the package's metadata and
``sknn.__version__`` cannot disagree. Keep it a plain string literal, which
setuptools reads without importing sknn.
"""

__version__ = "0.1.0"
