"""Dagster code location over the Overclock project: `dagster dev -m dagster_defs`."""

from dagster_defs.definitions import build_definitions

defs = build_definitions()
