"""Helpers shared by the search-indexing tests: build the search models into a throwaway DuckDB warehouse,
write hand-made raw files, and a reference implementation of the feed that processes ticks one by one.

The reference (`simulate_feed`) is written from the definitions, not from the SQL: it walks the feed ticks in
order and keeps, per message, the newest version seen and where the document lives in Elasticsearch. The
SQL derives the same decisions with window functions over all ticks at once; agreement of the two is the
test that the derivation is right.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import subprocess
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from framework.config import resolve_settings
from framework.dbt import run_dbt_subprocess

SEARCH_SELECTION = (
    "path:../models/staging/search",
    "path:../models/intermediate/search",
    "path:../models/marts/search",
)
DISCORD_EPOCH_MS = 1_420_070_400_000


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class SearchWarehouse:
    """An isolated Overclock home whose warehouse holds the search models built from `data_dir`."""

    home: Path
    data_dir: Path
    # dbt's artifacts; warehouses that share one reuse dbt's partial parse state between their builds.
    target_path: Path | None = None

    @property
    def path(self) -> Path:
        return self.home / "warehouse.duckdb"

    def environ(self) -> dict[str, str | None]:
        return {
            "OVERCLOCK_HOME": str(self.home),
            "DBT_TARGET_PATH": str(self.target_path or self.home / "target"),
            "DBT_LOG_PATH": str(self.home / "logs"),
            "OVERCLOCK_DATA_DIR": str(self.data_dir),
            "OVERCLOCK_DUCKDB_PATH": None,
            "OVERCLOCK_NAMESPACE": None,
            "OVERCLOCK_TARGET": None,
        }

    def build(
        self,
        command: str = "build",
        variables: Mapping[str, Any] | None = None,
        full_refresh: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run dbt in a child process: dbt-duckdb keeps its connection to the warehouse open in the process
        that ran it, and DuckDB then refuses the read-only connections the checks and the export use."""
        extra = ["--select", *SEARCH_SELECTION]
        if variables:
            extra += ["--vars", json.dumps(dict(variables))]
        if full_refresh:
            extra.append("--full-refresh")
        with patched_environ(self.environ()):
            settings = resolve_settings(production=True)
            return run_dbt_subprocess(settings, command.split(), extra, timeout=600)

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=True)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.connect() as connection:
            return connection.execute(sql).fetchall()


def assert_built(process: subprocess.CompletedProcess[str]) -> None:
    failures = [line for line in process.stdout.splitlines() if " FAIL " in line or "ERROR" in line]
    assert process.returncode == 0, (
        "\n".join(failures[:10] or process.stdout.splitlines()[-20:]) + process.stderr
    )


# --- hand-made raw data ---------------------------------------------------------------------------------


def snowflake(at: datetime, sequence: int) -> int:
    milliseconds = int((at - datetime(1970, 1, 1)).total_seconds() * 1000)
    return ((milliseconds - DISCORD_EPOCH_MS) << 22) | sequence


def write_raw_search_data(
    data_dir: Path,
    *,
    guilds: list[int],
    channels: list[tuple[int, int | None]],
    events: list[dict[str, Any]],
    searches: list[tuple[int, datetime]],
    reindex_requests: list[tuple[int, datetime]] = (),  # type: ignore[assignment]
) -> None:
    """Raw files in the generator's schema. Events need event_id, message_id, guild_id, channel_id,
    event_type, content, ingested_at (author defaults to 1)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = data_dir / "search"
    folder.mkdir(parents=True, exist_ok=True)
    clusters = {
        "cluster_name": ["es-a-guilds-1", "es-a-guilds-2", "es-a-dms-1"],
        "cell_name": ["cell-a", "cell-a", "cell-a"],
        "serves": ["guilds", "guilds", "dms"],
    }
    pq.write_table(pa.table(clusters), folder / "index_clusters.parquet")
    pq.write_table(
        pa.table(
            {
                "guild_id": pa.array(guilds, pa.int64()),
                "guild_name": [f"guild {g}" for g in guilds],
                "owner_id": pa.array([1] * len(guilds), pa.int64()),
                "preferred_locale": ["en-US"] * len(guilds),
            }
        ),
        folder / "guilds.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "channel_id": pa.array([c for c, _ in channels], pa.int64()),
                "guild_id": pa.array([g for _, g in channels], pa.int64()),
                "channel_type": ["text" if g is not None else "dm" for _, g in channels],
                "channel_name": [f"channel-{c}" if g is not None else None for c, g in channels],
            }
        ),
        folder / "channels.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "event_id": pa.array([e["event_id"] for e in events], pa.int64()),
                "message_id": pa.array([e["message_id"] for e in events], pa.int64()),
                "guild_id": pa.array([e["guild_id"] for e in events], pa.int64()),
                "channel_id": pa.array([e["channel_id"] for e in events], pa.int64()),
                "author_id": pa.array([e.get("author_id", 1) for e in events], pa.int64()),
                "event_type": pa.array([e["event_type"] for e in events], pa.string()),
                "content": pa.array([e["content"] for e in events], pa.string()),
                "ingested_at": pa.array([e["ingested_at"] for e in events], pa.timestamp("ms")),
            }
        ),
        folder / "message_events.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "search_id": pa.array([snowflake(at, i) for i, (_, at) in enumerate(searches)], pa.int64()),
                "guild_id": pa.array([g for g, _ in searches], pa.int64()),
                "user_id": pa.array([2] * len(searches), pa.int64()),
                "searched_at": pa.array([at for _, at in searches], pa.timestamp("ms")),
                "query_term_count": pa.array([1] * len(searches), pa.int32()),
            }
        ),
        folder / "search_activity.parquet",
    )
    requests = list(reindex_requests)
    pq.write_table(
        pa.table(
            {
                "request_id": pa.array(
                    [snowflake(at, 1000 + i) for i, (_, at) in enumerate(requests)], pa.int64()
                ),
                "guild_id": pa.array([g for g, _ in requests], pa.int64()),
                "requested_at": pa.array([at for _, at in requests], pa.timestamp("ms")),
                "reason": pa.array(["mapping_change"] * len(requests), pa.string()),
                "requested_by": pa.array(["ops-1"] * len(requests), pa.string()),
            }
        ),
        folder / "reindex_requests.parquet",
    )


# --- the reference feed -----------------------------------------------------------------------------------

Action = tuple[datetime, str, str, str, str, int]  # tick, cluster, index, document id, action, version


def simulate_feed(
    connection: duckdb.DuckDBPyConnection,
    tick_minutes: int = 60,
    window_days: int = 14,
    cap: int = 3000,
    as_of: datetime | None = None,
) -> set[Action]:
    """The actions the feed must send, computed tick by tick from the staging views of a built warehouse.

    Destination names come from the routing models (how a guild is placed is not what this checks); when a
    guild is promoted and whether it is fed is decided here from the raw facts.
    """
    tick = timedelta(minutes=tick_minutes)
    window = timedelta(days=window_days)
    epoch = datetime(1970, 1, 1)

    def tick_of(at: datetime) -> datetime:
        return epoch + ((at - epoch) // tick) * tick

    deliveries = connection.execute(
        "select event_id, message_id, guild_id, channel_id, event_type, event_at, ingested_at "
        "from staging.stg_search__message_events"
    ).fetchall()
    events: dict[int, tuple[Any, ...]] = {}
    for row in deliveries:  # the first delivery of each event counts
        if row[0] not in events or row[6] < events[row[0]][6]:
            events[row[0]] = row
    activity: dict[int, list[datetime]] = defaultdict(list)
    reindex_ticks: dict[int, set[datetime]] = defaultdict(set)
    for guild, at in connection.execute(
        "select guild_id, searched_at from staging.stg_search__search_activity"
    ).fetchall():
        activity[guild].append(at)
    for guild, at in connection.execute(
        "select guild_id, requested_at from staging.stg_search__reindex_requests"
    ).fetchall():
        activity[guild].append(at)
        reindex_ticks[guild].add(tick_of(at))
    for times in activity.values():
        times.sort()

    def active_at(guild: int, at: datetime) -> bool:
        times = activity.get(guild, [])
        position = bisect.bisect_right(times, at)
        return position > 0 and times[position - 1] > at - window

    # Promotion: when the guild's (cap + 1)-th message reached the pipeline.
    first_seen: dict[int, tuple[datetime, int, int]] = {}
    for _event_id, message, guild, _channel, _type, _at, ingested in events.values():
        if guild is not None and (message not in first_seen or ingested < first_seen[message][0]):
            first_seen[message] = (ingested, message, guild)
    per_guild: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for ingested, message, guild in first_seen.values():
        per_guild[guild].append((ingested, message))
    promoted_tick: dict[int, datetime] = {}
    for guild, messages in per_guild.items():
        if len(messages) > cap:
            promoted_tick[guild] = tick_of(sorted(messages)[cap][0])

    shared = {
        guild: (cluster, index)
        for guild, cluster, index in connection.execute(
            "select guild_id, shared_cluster_name, shared_index_name from intermediate.int_search__guild_routing"
        ).fetchall()
    }
    dedicated = {
        guild: (cluster, index)
        for guild, cluster, index in connection.execute(
            "select guild_id, dedicated_cluster_name, dedicated_index_name from intermediate.int_search__guild_routing"
        ).fetchall()
    }
    dm = {
        channel: (cluster, index)
        for channel, cluster, index in connection.execute(
            "select channel_id, cluster_name, index_name from intermediate.int_search__dm_channel_routing"
        ).fetchall()
    }

    triggers: dict[int, set[datetime]] = defaultdict(set)
    for guild, times in activity.items():
        previous: datetime | None = None
        for at in times:
            if previous is None or previous <= at - window:
                triggers[guild].add(tick_of(at))
            previous = at
        triggers[guild] |= reindex_ticks[guild]
    for guild, start in promoted_tick.items():
        if any(start - window < at < start + tick for at in activity.get(guild, [])):
            triggers[guild].add(start)

    watermark = as_of or max(row[6] for row in events.values())
    live_by_tick: dict[datetime, list[tuple[Any, ...]]] = defaultdict(list)
    guild_events: dict[int, list[tuple[datetime, tuple[Any, ...]]]] = defaultdict(list)
    for row in events.values():
        event_tick = tick_of(row[6])
        if row[2] is None or active_at(row[2], row[6]):
            live_by_tick[event_tick].append(row)
        if row[2] is not None:
            guild_events[row[2]].append((event_tick, row))
    for rows in guild_events.values():
        rows.sort(key=lambda item: item[0])
    triggered_by_tick: dict[datetime, list[int]] = defaultdict(list)
    for guild, ticks in triggers.items():
        for trigger_tick in ticks:
            triggered_by_tick[trigger_tick].append(guild)

    seen: dict[int, tuple[datetime, int]] = {}  # message -> newest (event_at, event_id) considered
    location: dict[int, tuple[str, str]] = {}  # message -> where its document lives
    actions: set[Action] = set()
    for current in sorted(set(live_by_tick) | set(triggered_by_tick)):
        if current + tick > watermark:
            continue
        pool: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in live_by_tick.get(current, []):
            pool[row[1]].append(row)
        reindexed = set()
        for guild in triggered_by_tick.get(current, []):
            if current in reindex_ticks[guild]:
                reindexed.add(guild)
            for event_tick, row in guild_events[guild]:
                if event_tick > current:
                    break
                pool[row[1]].append(row)
        for message, rows in pool.items():
            winner = max(rows, key=lambda r: (r[5], r[0]))
            version = (winner[5], winner[0])
            guild, channel, kind = winner[2], winner[3], winner[4]
            if guild is None:
                destination = dm[channel]
            elif guild in promoted_tick and current >= promoted_tick[guild]:
                destination = dedicated[guild]
            else:
                destination = shared[guild]
            newer = message not in seen or version > seen[message]
            document = str(message)
            if kind == "delete":
                if newer:
                    if message in location:
                        cluster, index = location.pop(message)
                        actions.add((current, cluster, index, document, "delete", winner[0]))
                    seen[message] = version
                continue
            was_deleted = message in seen and message not in location
            moving = message in location and location[message] != destination
            if newer or (not was_deleted and (guild in reindexed or moving)):
                actions.add((current, *destination, document, "index", winner[0]))
                if moving:
                    cluster, index = location[message]
                    actions.add((current, cluster, index, document, "delete", winner[0]))
                location[message] = destination
                if newer:
                    seen[message] = version
    return actions


def built_actions(connection: duckdb.DuckDBPyConnection) -> set[Action]:
    rows = connection.execute(
        "select tick_at, cluster_name, index_name, document_id, action, document_version "
        "from marts.fct_search_index_actions"
    ).fetchall()
    return {tuple(row) for row in rows}  # type: ignore[misc]
