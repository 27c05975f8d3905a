"""Crash safety: SIGKILL `overclock backfill` at different points, `resume` it, and nothing is lost or doubled.

The backfill runs as a user runs it (a subprocess of the `overclock` script) with one partition per batch, so
that a kill lands anywhere: while dbt loads, inside a batch's transaction, between a batch and its record.
After `overclock backfill resume RUN_ID` the tables equal a full refresh row for row (duplicates counted) and
the state says every interval is done.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from framework.backfill import backfill_status
from framework.backfill.intervals import Grain, Interval, is_covered, partitions
from framework.backfill.state import StateStore
from framework.config import Settings
from framework.providers import provider_for
from tests.integration.backfill_support import (
    EXCLUDE,
    FIRST_DAY,
    LAST_DAY,
    PARTITIONED,
    SELECT_ALL,
    Workspace,
    assert_same_tables,
    duckdb_workspace,
    project_args,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("backfill_crash")]

OVERCLOCK = str(Path(sys.executable).with_name("overclock"))
SEEDS = (11, 22, 33)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with duckdb_workspace(tmp_path_factory.mktemp("backfill-crash")) as created:
        yield created


def start_backfill(settings: Settings) -> tuple[subprocess.Popen[str], str]:
    """Start the backfill; return the process and its run id once it is recorded (printed)."""
    arguments = [OVERCLOCK, "backfill", *project_args(settings), "-s", *SELECT_ALL, "--exclude", *EXCLUDE]
    arguments += ["--start", FIRST_DAY, "--end", LAST_DAY, "--batch-size", "1"]
    process = subprocess.Popen(
        arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 600
    for line in process.stdout:
        if line.startswith("run "):
            return process, line.split()[1].rstrip(":")
        assert time.monotonic() < deadline, "no run id printed"
    raise AssertionError(f"backfill ended without a run id (exit {process.wait()})")


def partition_rows(settings: Settings, model: str) -> list[tuple[datetime, int]]:
    field = "arrived_date" if model == "events_latest" else "event_date"
    with provider_for(settings) as provider:
        return provider.list_partitions(settings.namespace.name, model, field, "date", "day")


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_then_resume_equals_a_full_refresh(workspace: Workspace, seed: int) -> None:
    reference = workspace.reference
    settings = workspace.fresh("crash")

    process, run_id = start_backfill(settings)
    time.sleep(random.Random(seed).uniform(1.0, 15.0))
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the backfill finished before it could be killed"
    interrupted = backfill_status(settings, run_id)
    assert interrupted.state == "interrupted"

    resumed = subprocess.run(
        [OVERCLOCK, "backfill", "resume", run_id, *project_args(settings)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert_same_tables(reference, settings)  # row for row, duplicates counted
    for name in PARTITIONED:  # and partition for partition: no day missing, none doubled
        assert partition_rows(settings, name) == partition_rows(reference, name), name
    status = backfill_status(settings, run_id)
    assert status.state == "finished"
    with StateStore(settings) as store:
        models = [f"model.backfill_fixture.{name}" for name in PARTITIONED]
        recorded = store.recorded_intervals(models)
    days = partitions(Interval(datetime(2025, 1, 1), datetime(2025, 1, 15)), Grain.DAY)
    for model, by_fingerprint in recorded.items():
        (done,) = by_fingerprint.values()  # one fingerprint: the model did not change
        assert all(is_covered(day, done) for day in days), model
