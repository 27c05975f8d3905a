"""Dagster code location over the Overclock project: `dagster dev -m dagster_defs`."""

import gc

# Loading creates a few million long-lived objects (Dagster's and dbt's modules, one asset spec per model);
# every automatic collection during the load rescans all of them and finds almost no garbage. Pausing the
# cyclic collector for the load takes about a fifth off it at 2,500 models (benchmarks/dagster_load).
_collector_was_enabled = gc.isenabled()
gc.disable()
try:
    from dagster_defs.definitions import build_definitions

    defs = build_definitions()
    # Resolved here (and cached on `defs`) so that Dagster's loader, which asks for it next, finds it built
    # within the same pause, and so that a broken definition fails the import with Dagster's own message.
    defs.get_repository_def()
finally:
    if _collector_was_enabled:
        gc.enable()
