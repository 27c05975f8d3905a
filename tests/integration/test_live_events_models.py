"""The live-event recommendation models on a small generated warehouse (DuckDB, production schemas).

One module fixture generates the domain's data and builds it (models and their dbt tests); every test that
changes data or rebuilds works on its own copy, so the tests are independent of each other and of order.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from framework.config import Settings, resolve_settings
from framework.dbt import run_dbt_subprocess
from framework.demo_data import live_events
from tests.integration.documentation_support import undocumented

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("live_events")]

SELECTION = "staging.live_events intermediate.live_events marts.live_events"
# Every model downstream of staging: what "the same rows" compares.
MODELS = (
    "intermediate.int_live_event_clock",
    "intermediate.int_live_event_schedule_changes_deduped",
    "intermediate.int_live_event_state",
    "intermediate.int_live_event_segment_title_scores",
    "intermediate.int_live_event_devices",
    "marts.fct_live_event_recommendations",
    "marts.fct_live_event_prefetch_plan",
    "marts.fct_live_event_broadcast_triggers",
    "marts.fct_live_event_device_prefetches",
    "marts.fct_live_event_broadcast_acks",
    "marts.fct_live_event_prefetch_coverage",
    "marts.fct_live_event_broadcast_delivery",
)


@dataclass(frozen=True)
class Warehouse:
    """A data folder and an Overclock home (warehouse file, dbt artifacts) of its own."""

    home: Path
    data: Path

    @property
    def path(self) -> Path:
        return self.home / "warehouse.duckdb"

    def settings(self) -> Settings:
        env = {
            **os.environ,
            "OVERCLOCK_HOME": str(self.home),
            "OVERCLOCK_DATA_DIR": str(self.data),
            "DBT_TARGET_PATH": str(self.home / "target"),
        }
        return resolve_settings(production=True, env=env)

    def dbt(self, command: str, *extra: str) -> None:
        # In a child process: dbt-duckdb keeps the warehouse file open in the process that ran it.
        done = run_dbt_subprocess(self.settings(), command.split(), ["--select", SELECTION, *extra])
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]

    def query(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql, list(parameters)).fetchall()

    def copy(self, root: Path) -> Warehouse:
        shutil.copytree(self.home, root / "home")
        shutil.copytree(self.data, root / "data")
        return Warehouse(root / "home", root / "data")

    def rewrite(self, source: str, sql: str) -> None:
        """Replace a raw file with the result of `sql`, which reads the current one as `raw`."""
        path = self.data / "live_events" / f"{source}.parquet"
        staged = path.with_suffix(".new.parquet")
        with duckdb.connect() as connection:
            connection.execute(f"create view raw as select * from read_parquet('{path}')")
            connection.execute(f"copy ({sql}) to '{staged}' (format parquet)")
        staged.replace(path)

    def clock(self) -> datetime:
        return self.query("select evaluated_at from intermediate.int_live_event_clock")[0][0]

    def triggers(self) -> dict[tuple[int, str], tuple[datetime, str, str]]:
        rows = self.query(
            "select event_id, to_state, trigger_at, idempotency_key, delivery_status"
            " from marts.fct_live_event_broadcast_triggers"
        )
        return {(event, state): (at, key, status) for event, state, at, key, status in rows}

    def payload_versions(self) -> dict[tuple[str, int], str]:
        rows = self.query(
            "select distinct segment_id, event_id, payload_version from marts.fct_live_event_recommendations"
        )
        return {(segment, event): version for segment, event, version in rows}


@dataclass(frozen=True)
class Changes:
    """What the `changed` warehouse changed in the demo's data."""

    delayed: int
    delay: timedelta
    cancelled: int
    decided_at: datetime
    new_artwork_title: int  # a recommended title whose hero image was replaced (payload content)
    new_synopsis_title: int  # a title nobody is shown whose synopsis changed (not payload content)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The domain generated small and built once: models, dbt tests and unit tests."""
    root = tmp_path_factory.mktemp("live_events")
    warehouse = Warehouse(root / "home", root / "data")
    live_events.generate(warehouse.data / "live_events", scale=0.1, seed=11)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("OVERCLOCK_DUCKDB_PATH", raising=False)
        patch.setenv("DBT_LOG_PATH", str(root / "logs"))
        warehouse.dbt("build")
        yield warehouse


@pytest.fixture(scope="module")
def changed(demo: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Changes]:
    """A copy of the demo after new data arrived and one incremental run: a delay and a cancellation of the
    next two scheduled events (decided and received just before the clock, so the clock stays put), new hero
    artwork for a recommended title, and a new synopsis for a title no payload shows."""
    world = demo.copy(tmp_path_factory.mktemp("live_events_changed"))
    (delayed, start, end), (cancelled, _, _) = world.query(
        "select event_id, effective_start_at, effective_end_at from intermediate.int_live_event_state"
        " where state = 'scheduled' order by effective_start_at, event_id limit 2"
    )
    ((new_artwork_title,),) = world.query(
        "select title_id from marts.fct_live_event_recommendations where hero_url is not null"
        " and title_id not in (select title_id from marts.fct_live_event_recommendations"
        f" where event_id in ({delayed}, {cancelled})) group by title_id order by count(*), title_id limit 1"
    )
    ((new_synopsis_title,),) = world.query(
        "select title_id from staging.stg_live_events__titles"
        " where title_id not in (select title_id from marts.fct_live_event_recommendations)"
        " order by title_id limit 1"
    )
    changes = Changes(
        delayed,
        timedelta(minutes=30),
        cancelled,
        world.clock() - timedelta(minutes=2),
        new_artwork_title,
        new_synopsis_title,
    )
    decided, received = (
        f"timestamp '{changes.decided_at}'",
        f"timestamp '{changes.decided_at}' + interval 1 minute",
    )
    world.rewrite(
        "schedule_changes",
        f"""
        select * from raw
        union all select max(change_id) + 1, {delayed}, 'delay', timestamp '{start + changes.delay}',
            timestamp '{end + changes.delay}', 'test', {decided}, {received} from raw
        union all select max(change_id) + 2, {cancelled}, 'cancel', null, null, 'test', {decided}, {received}
        from raw
        """,
    )
    world.rewrite(
        "artwork",
        f"select * replace (case when title_id = {new_artwork_title} and image_type = 'hero'"
        " then url || '?v=2' else url end as url) from raw",
    )
    world.rewrite(
        "titles",
        f"select * replace (case when title_id = {new_synopsis_title} then 'A new synopsis.'"
        " else synopsis end as synopsis) from raw",
    )
    world.dbt("run")
    return world, changes


@pytest.fixture(scope="module")
def rebuilt_in_increments(demo: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The demo's data built again from nothing, in runs at increasing `as_of`, then one without it."""
    increments = Warehouse(tmp_path_factory.mktemp("live_events_increments") / "home", demo.data)
    clock = demo.clock()
    for as_of in (clock - timedelta(hours=30), clock - timedelta(hours=7)):
        increments.dbt("run", "--vars", f"{{as_of: '{as_of}'}}")
    increments.dbt("run")
    return increments


def test_delay_moves_the_pending_triggers(demo: Warehouse, changed: tuple[Warehouse, Changes]) -> None:
    world, changes = changed
    before, after = demo.triggers(), world.triggers()
    ((start, end),) = demo.query(
        "select effective_start_at, effective_end_at from intermediate.int_live_event_state where event_id = ?",
        changes.delayed,
    )
    for state, scheduled in (("live", start), ("ended", end)):
        at, key, status = after[(changes.delayed, state)]
        assert before[(changes.delayed, state)][0] == scheduled
        assert (at, status) == (scheduled + changes.delay, "pending")
        assert key != before[(changes.delayed, state)][1]  # a moved trigger is a new message
    # ... and with it the prefetch windows, but not the payload.
    assert world.query(
        "select distinct prefetch_opens_at - ? from marts.fct_live_event_prefetch_plan where event_id = ?",
        changes.delay,
        changes.delayed,
    ) == demo.query(
        "select distinct prefetch_opens_at from marts.fct_live_event_prefetch_plan where event_id = ?",
        changes.delayed,
    )
    assert {k: v for k, v in world.payload_versions().items() if k[1] == changes.delayed} == {
        k: v for k, v in demo.payload_versions().items() if k[1] == changes.delayed
    }


def test_cancellation_withdraws_the_pending_triggers(
    demo: Warehouse, changed: tuple[Warehouse, Changes]
) -> None:
    world, changes = changed
    before, after = demo.triggers(), world.triggers()
    assert {key for key in before if key[0] == changes.cancelled} == {
        (changes.cancelled, "live"),
        (changes.cancelled, "ended"),
    }
    assert {key for key in after if key[0] == changes.cancelled} == {(changes.cancelled, "cancelled")}
    assert after[(changes.cancelled, "cancelled")][0::2] == (changes.decided_at, "due")
    assert [k for k in demo.payload_versions() if k[1] == changes.cancelled]
    assert not [k for k in world.payload_versions() if k[1] == changes.cancelled]


def test_triggers_of_unchanged_events_keep_their_times_and_keys(
    demo: Warehouse, changed: tuple[Warehouse, Changes]
) -> None:
    world, changes = changed
    before, after = demo.triggers(), world.triggers()
    untouched = {key for key in before if key[0] not in (changes.delayed, changes.cancelled)}
    assert untouched and {key: after[key] for key in untouched} == {key: before[key] for key in untouched}


def test_payload_version_changes_exactly_when_payload_content_changes(
    demo: Warehouse, changed: tuple[Warehouse, Changes]
) -> None:
    world, changes = changed
    before = {k: v for k, v in demo.payload_versions().items() if k[1] != changes.cancelled}
    after = world.payload_versions()
    showing_new_artwork = {
        (segment, event)
        for segment, event in demo.query(
            "select segment_id, event_id from marts.fct_live_event_recommendations where title_id = ?",
            changes.new_artwork_title,
        )
    }
    assert after.keys() == before.keys()
    assert {key for key in before if after[key] != before[key]} == showing_new_artwork
    assert 0 < len(showing_new_artwork) < len(before)


def test_rebuilding_from_nothing_gives_the_same_payload_versions_and_idempotency_keys(
    demo: Warehouse, rebuilt_in_increments: Warehouse
) -> None:
    assert rebuilt_in_increments.payload_versions() == demo.payload_versions()
    assert rebuilt_in_increments.triggers() == demo.triggers()
    assert demo.triggers() and demo.payload_versions()


def test_several_increments_give_the_same_rows_as_one_full_refresh(
    demo: Warehouse, rebuilt_in_increments: Warehouse
) -> None:
    with duckdb.connect() as connection:
        connection.execute(f"attach '{demo.path}' as full_refresh (read_only)")
        connection.execute(f"attach '{rebuilt_in_increments.path}' as incremental (read_only)")
        for model in MODELS:
            rows = connection.execute(f"select count(*) from full_refresh.{model}").fetchone()
            assert rows is not None and rows[0] > 0, model
            for left, right in (("full_refresh", "incremental"), ("incremental", "full_refresh")):
                difference = connection.execute(
                    f"select count(*) from (select * from {left}.{model} except all select * from {right}.{model})"
                ).fetchone()
                assert difference == (0,), f"{model}: rows in {left} and not in {right}"


def test_docs_generate_and_every_model_and_column_is_described(demo: Warehouse) -> None:
    demo.dbt("docs generate")
    models, problems = undocumented(demo.home / "target")
    assert {
        "model.overclock.int_live_event_state",
        "model.overclock.fct_live_event_recommendations",
        "model.overclock.fct_live_event_prefetch_coverage",
    } <= set(models)
    assert problems == []


def test_demo_devices_hold_the_versions_and_keys_the_models_compute(demo: Warehouse) -> None:
    """The generator serves what the models compute (it mirrors the ranking and both hashes), so coverage
    and delivery are meaningful: a device that prefetched today holds its segment's current version."""
    ((matching, other),) = demo.query(
        """
        select
            count(*) filter (where prefetches.payload_version = plan.payload_version),
            count(*) filter (where prefetches.payload_version <> plan.payload_version)
        from marts.fct_live_event_device_prefetches as prefetches
        inner join intermediate.int_live_event_devices as devices using (device_id)
        inner join marts.fct_live_event_prefetch_plan as plan
            on plan.event_id = prefetches.event_id
            and plan.segment_id = devices.segment_id
            and plan.device_cohort_id = devices.device_cohort_id
        cross join intermediate.int_live_event_clock as clock
        where prefetches.prefetched_at >= clock.viewing_window_end_at
        """
    )
    assert matching > 0 and other == 0
    ((current,),) = demo.query("select sum(devices_current) from marts.fct_live_event_prefetch_coverage")
    assert current > 0
    ((unknown_keys,),) = demo.query(
        "select count(*) from marts.fct_live_event_broadcast_acks"
        " where idempotency_key not in (select idempotency_key from marts.fct_live_event_broadcast_triggers)"
    )
    assert unknown_keys == 0
    ((acked, repeats),) = demo.query(
        "select sum(devices_acked), sum(repeat_deliveries) from marts.fct_live_event_broadcast_delivery"
    )
    assert acked > 0 and repeats > 0


def test_demo_change_log_arrives_out_of_order_and_twice(tmp_path: Path) -> None:
    """At demo scale the change log exercises what the state model must handle."""
    live_events.generate(tmp_path, scale=1, seed=42)
    ((redelivered, overtaken),) = duckdb.sql(
        f"""
        with log as (select * from read_parquet('{tmp_path}/schedule_changes.parquet'))
        select
            (select count(*) from (select change_id from log group by change_id having count(*) > 1)),
            (select count(*) from (
                select changed_at < lag(changed_at) over (partition by event_id order by received_at) as overtaken
                from (select distinct * exclude (received_at), min(received_at) as received_at from log
                      group by all)
            ) where overtaken)
        """
    ).fetchall()
    assert redelivered > 0 and overtaken > 0
