"""The search domain's demo data: deterministic, scalable, and shaped like the write-up says."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pytest

from framework.demo_data import search

FILES = (
    "channels.parquet",
    "guilds.parquet",
    "index_clusters.parquet",
    "message_events.parquet",
    "reindex_requests.parquet",
    "search_activity.parquet",
)

# One worker generates the module's data once (make test runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("search-demo-data")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("search-demo")
    return folder, search.generate(folder, scale=1, seed=3)


def digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}


def test_same_seed_same_bytes_other_seed_other_data(
    generated: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    folder, rows = generated
    assert sorted(rows) == sorted(FILES)
    again = search.generate(tmp_path / "again", scale=1, seed=3)
    assert again == rows and digests(tmp_path / "again") == digests(folder)
    search.generate(tmp_path / "other", scale=1, seed=4)
    assert digests(tmp_path / "other")["message_events.parquet"] != digests(folder)["message_events.parquet"]


def test_scale_two_roughly_doubles(generated: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    _, rows = generated
    doubled = search.generate(tmp_path / "double", scale=2, seed=3)
    for name in ("guilds.parquet", "channels.parquet", "message_events.parquet", "reindex_requests.parquet"):
        assert 1.8 <= doubled[name] / rows[name] <= 2.2, name


def test_snowflakes_carry_their_time() -> None:
    milliseconds = np.array([search.START_MS, search.END_MS - 1], dtype=np.int64)
    ids = search.snowflake(milliseconds, np.array([0, 4_194_303]))
    assert list(search.snowflake_milliseconds(ids)) == list(milliseconds)
    # 2015-01-01 is time zero: the first id of that millisecond is the sequence itself.
    assert int(search.snowflake(np.array([search.DISCORD_EPOCH_MS]), np.array([7]))[0]) == 7


def test_events_are_realistic(generated: tuple[Path, dict[str, int]]) -> None:
    folder, _ = generated
    events = f"read_parquet('{folder / 'message_events.parquet'}')"
    channels = f"read_parquet('{folder / 'channels.parquet'}')"
    with duckdb.connect() as connection:
        ((deliveries, distinct_events, messages, edits, deletes, late),) = connection.execute(
            f"""
            select
                count(*),
                count(distinct event_id),
                count(distinct message_id),
                count(distinct event_id) filter (where event_type = 'edit'),
                count(distinct event_id) filter (where event_type = 'delete'),
                count(*) filter (where ingested_at > epoch_ms((event_id >> 22) + {search.DISCORD_EPOCH_MS})
                    + interval 5 minute)
            from {events}
            """
        ).fetchall()
        # At-least-once delivery: about 2% twice; a few percent late.
        assert 0.01 < deliveries / distinct_events - 1 < 0.03
        assert 0.015 < late / deliveries < 0.06
        assert 0.10 < edits / messages < 0.25 and 0.04 < deletes / messages < 0.08
        # Out of order: some events are delivered before an earlier event of the same message.
        ((overtaken,),) = connection.execute(
            f"""
            select count(*) from (
                select event_id, lag(event_id) over (partition by message_id order by ingested_at, event_id) as before
                from {events}
            ) where before > event_id
            """
        ).fetchall()
        assert overtaken > 100
        # Every event happens at or after its message's creation.
        ((early,),) = connection.execute(
            f"select count(*) from {events} where event_id >> 22 < message_id >> 22"
        ).fetchall()
        assert early == 0
        # DMs: no guild, and their channels are DM channels.
        ((dm_messages, dm_in_guild_channels),) = connection.execute(
            f"""
            select count(distinct e.message_id), count(*) filter (where c.guild_id is not null)
            from {events} e join {channels} c using (channel_id) where e.guild_id is null
            """
        ).fetchall()
        assert dm_messages > 0 and dm_in_guild_channels == 0
        # Zipf-like guild sizes: the biggest guild holds a large share, most guilds are small.
        sizes = [
            count
            for (count,) in connection.execute(
                f"select count(distinct message_id) from {events} where guild_id is not null group by guild_id order by 1 desc"
            ).fetchall()
        ]
        assert sizes[0] > 0.1 * sum(sizes) and sizes[0] > 3000
        assert sorted(sizes)[len(sizes) // 2] < 50
