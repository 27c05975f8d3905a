"""The incremental action feed built in several increments, as the data arrives, equals one full refresh.

Arrival is simulated by rewriting the raw files with what was delivered up to each cut-off (the way the
files grow in production); every build uses the same vars, so dbt parses the project once. The `as_of`
var, which cuts the sources at a moment instead, must give what had arrived by then.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from framework.demo_data import search as search_data
from tests.integration.search_support import SearchWarehouse, assert_built

# Cut-offs that fall inside feed ticks on purpose: only closed ticks may be processed.
CUT_OFFS = ("2025-01-20 13:37:00", "2025-02-26 08:05:30")
TICK_MINUTES = 180
VARIABLES = {"search_tick_minutes": TICK_MINUTES}
TIME_COLUMNS = {
    "message_events.parquet": "ingested_at",
    "search_activity.parquet": "searched_at",
    "reindex_requests.parquet": "requested_at",
}
COMPARED = {
    "marts.fct_search_index_actions": "action_id",
    "marts.fct_search_index_batches": "batch_id",
}


def deliver(full: Path, arrived: Path, cut_off: str | None) -> None:
    """Make `arrived` hold what `full` holds, cut at `cut_off` (None: everything)."""
    arrived.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        for source in sorted(full.glob("*.parquet")):
            column = TIME_COLUMNS.get(source.name)
            where = f"where {column} <= timestamp '{cut_off}'" if column and cut_off else ""
            connection.execute(
                f"copy (select * from read_parquet('{source}') {where}) to '{arrived / source.name}' (format parquet)"
            )


def snapshot(warehouse: SearchWarehouse, table: str, key: str) -> list[tuple[object, ...]]:
    return warehouse.rows(f"select * from {table} order by {key}")


def progress(warehouse: SearchWarehouse) -> tuple[int, object]:
    ((count, last_tick),) = warehouse.rows(
        "select count(*), max(tick_at) from marts.fct_search_index_actions"
    )
    return int(count), last_tick


@pytest.mark.slow
def test_increments_equal_a_full_refresh(tmp_path: Path) -> None:
    generated = tmp_path / "generated" / "search"
    search_data.generate(generated, scale=1, seed=5)
    data_dir = tmp_path / "arrived"
    stepwise = SearchWarehouse(home=tmp_path / "stepwise", data_dir=data_dir)

    deliver(generated, data_dir / "search", CUT_OFFS[0])
    assert_built(stepwise.build("run", VARIABLES, full_refresh=True))
    first = progress(stepwise)
    # Only closed ticks were sent: the tick open at the cut-off has deliveries, none of them sent yet.
    ((open_deliveries,),) = stepwise.rows(
        "select count(*) from staging.stg_search__message_events "
        f"where ingested_at >= timestamp '{first[1]}' + interval {TICK_MINUTES} minute"
    )
    assert str(first[1]) <= CUT_OFFS[0] and open_deliveries > 0

    deliver(generated, data_dir / "search", CUT_OFFS[1])
    assert_built(stepwise.build("run", VARIABLES))
    second = progress(stepwise)
    second_rows = snapshot(stepwise, "marts.fct_search_index_actions", "action_id")

    deliver(generated, data_dir / "search", None)
    assert_built(stepwise.build("run", VARIABLES))
    third = progress(stepwise)
    assert 0 < first[0] < second[0] < third[0]
    assert first[1] < second[1] < third[1]  # type: ignore[operator]

    # Running again with nothing new changes nothing.
    final_rows = snapshot(stepwise, "marts.fct_search_index_actions", "action_id")
    assert_built(stepwise.build("run", VARIABLES))
    assert snapshot(stepwise, "marts.fct_search_index_actions", "action_id") == final_rows

    # One full refresh over the same files, in the same warehouse (same profile: dbt need not re-parse).
    stepwise_tables = {table: snapshot(stepwise, table, key) for table, key in COMPARED.items()}
    assert_built(stepwise.build("run", VARIABLES, full_refresh=True))
    for table, key in COMPARED.items():
        assert snapshot(stepwise, table, key) == stepwise_tables[table], table

    # `as_of` on the complete files gives what had arrived by the cut-off; incrementally, it rewinds the feed.
    assert_built(stepwise.build("run", {**VARIABLES, "as_of": CUT_OFFS[1]}))
    assert snapshot(stepwise, "marts.fct_search_index_actions", "action_id") == second_rows
    assert_built(stepwise.build("run", {**VARIABLES, "as_of": CUT_OFFS[1]}, full_refresh=True))
    assert snapshot(stepwise, "marts.fct_search_index_actions", "action_id") == second_rows
