"""Backfills: planner (partitions x sub-DAG), state store, executor (workers, retries, resume).

Modules, in the order data flows: `intervals` (grains and partition arithmetic), `selection` and `models`
(which models, their partitioning and fingerprints, from the manifest), `state` (what is done, in the
warehouse), `planner` (what is due, in batches), `scheduler` (which batch next), `executor` (dbt, workers,
retries), `runs` (the API below, which the CLI and Dagster call) and `progress` (rich rendering, CLI only).
"""

from __future__ import annotations

from framework.backfill.executor import BackfillObserver, BackfillResult, ExecutionOptions
from framework.backfill.models import BackfillError
from framework.backfill.runs import (
    BackfillRequest,
    PreparedBackfill,
    RunStatus,
    backfill_status,
    cancel_backfill,
    list_runs,
    plan_backfill_run,
    resume_backfill,
    run_backfill,
)

__all__ = [
    "BackfillError",
    "BackfillObserver",
    "BackfillRequest",
    "BackfillResult",
    "ExecutionOptions",
    "PreparedBackfill",
    "RunStatus",
    "backfill_status",
    "cancel_backfill",
    "list_runs",
    "plan_backfill_run",
    "resume_backfill",
    "run_backfill",
]
