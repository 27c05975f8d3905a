"""Overclock: a dbt-compatible transformation platform for large teams."""

__version__ = "0.1.0"
