"""The installed version of sknn."""

__version__ = "0.1.0"
