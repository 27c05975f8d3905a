"""Each incremental strategy on each engine: a backfill over a range, then plain incremental runs as data keeps
arriving, give the same rows as a full refresh — on DuckDB, PostgreSQL and the BigQuery emulator.

The fixture's events arrive up to two days late (`as_of` cuts what has arrived) and some are updated later,
so partition_replace must re-replace recent partitions, merge_dedupe must keep the newest version of an event
and append_lookback must pick up late arrivals without appending anything twice. events_latest_by_day uses a
strategy the fixture assembles itself from the compound macros (macros/replace_latest.sql).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.backfill import BackfillRequest, ExecutionOptions, run_backfill
from tests.integration.backfill_support import (
    EXCLUDE,
    FIRST_DAY,
    PARTITIONED,
    SELECT_ALL,
    assert_same_tables,
    copy_fixture,
    dbt_build,
    settings_for,
)

pytestmark = pytest.mark.slow

ENGINES = [
    pytest.param("local", id="duckdb", marks=pytest.mark.xdist_group("strategies_duckdb")),
    pytest.param(
        "postgres", id="postgres", marks=[pytest.mark.postgres, pytest.mark.xdist_group("strategies_pg")]
    ),
    pytest.param(
        "bigquery", id="bigquery", marks=[pytest.mark.bigquery, pytest.mark.xdist_group("strategies_bq")]
    ),
]
FIRST_CUT = "2025-01-07 00:00:00"  # what has arrived when the backfill runs
LATER_CUTS = (
    "2025-01-09 00:00:00",
    "2025-01-11 05:00:00",
    None,
)  # the incremental runs that follow (None: all)


@pytest.mark.parametrize("target", ENGINES)
def test_backfill_then_incremental_runs_equal_a_full_refresh(
    target: str,
    tmp_path: Path,
    overclock_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if target != "local":
        server = request.getfixturevalue("postgres" if target == "postgres" else "bigquery")
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
    project = copy_fixture(tmp_path)
    full = settings_for(project, target, "strategies_full")
    stepwise = settings_for(project, target, "strategies_inc")

    dbt_build(full, ["raw_events", "stg_events", *PARTITIONED], full_refresh=True)

    dbt_build(stepwise, ["raw_events", "stg_events"], as_of=FIRST_CUT)
    result = run_backfill(
        stepwise,
        BackfillRequest(
            select=SELECT_ALL,
            exclude=EXCLUDE,
            start=FIRST_DAY,
            end="2025-01-06",
            batch_size=4,
            vars={"as_of": FIRST_CUT},
        ),
        # Engines with concurrent writers run batches on two worker processes; DuckDB runs them one by one.
        options=ExecutionOptions(workers=1 if target == "local" else 2, retry_delay=0.5),
    )
    assert result.exit_code == 0, result.failures
    assert result.count("done") == len(PARTITIONED) * 6
    # The workers' dbt target folders go with their pool.
    assert not list((stepwise.project.home / "backfill").glob("target-*worker-*"))

    for cut in LATER_CUTS:
        dbt_build(stepwise, ["stg_events", *PARTITIONED], as_of=cut)

    counts = assert_same_tables(full, stepwise)
    assert counts == {
        "events_daily": 93,
        "daily_totals": 12,
        "events_latest": 288,
        "event_versions": 412,
        "events_latest_by_day": 288,
    }
