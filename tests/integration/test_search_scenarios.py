"""The search feed on a small hand-made event log whose every expected action is written out below:
last event wins (out-of-order deliveries, same-millisecond ties), duplicate deliveries, stale late events,
deletes (including messages deleted before they were ever indexed), lazy backfill, reindex requests,
promotion of a big guild to a dedicated index, DM routing, the watermark, and batch limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.integration.search_support import (
    SearchWarehouse,
    assert_built,
    built_actions,
    simulate_feed,
    snowflake,
    write_raw_search_data,
)

DAY0 = datetime(2025, 1, 1)
GUILD_A, GUILD_B, GUILD_C = 1001, 1002, 1003  # A searched from the start; B idle until day 2; C grows big
CHANNEL_A, CHANNEL_B, CHANNEL_C, DM_CHANNEL = 2001, 2002, 2003, 2009
FIRST_FIVE = ("c1", "c2", "c3", "c4", "c5")
VARIABLES = {"search_big_guild_document_cap": 5, "search_batch_max_documents": 2}

# One worker builds the module's warehouse once (make test runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("search-scenarios")


def at(day: int, hour: int, minute: int, second: int = 0, millisecond: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, hours=hour, minutes=minute, seconds=second, milliseconds=millisecond)


class Log:
    """Builds the raw event log; ids are snowflakes of the event (or creation) time."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.messages: dict[str, tuple[int, int, int | None]] = {}  # name -> (id, channel, guild)
        self.event_ids: dict[str, int] = {}
        self.sequence = 0

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    def message(self, name: str, created: datetime, channel: int, guild: int | None) -> None:
        self.messages[name] = (snowflake(created, self._next()), channel, guild)

    def event(
        self, name: str, message: str, kind: str, happened: datetime, *delivered: datetime, content: str = ""
    ) -> None:
        message_id, channel, guild = self.messages[message]
        event_id = snowflake(happened, self._next())
        self.event_ids[name] = event_id
        for ingested in delivered:
            self.events.append(
                {
                    "event_id": event_id,
                    "message_id": message_id,
                    "guild_id": guild,
                    "channel_id": channel,
                    "event_type": kind,
                    "content": None if kind == "delete" else (content or f"text of {name}"),
                    "ingested_at": ingested,
                }
            )


def scenario() -> Log:
    log = Log()
    # Guild A: active from 00:05 on day 0.
    log.message("m1", at(0, 0, 20), CHANNEL_A, GUILD_A)
    log.event("m1.create", "m1", "create", at(0, 0, 20), at(0, 0, 40))
    log.event("m1.edit", "m1", "edit", at(0, 0, 25), at(0, 0, 30), content="edited before its create arrived")
    log.message("m2", at(0, 0, 21), CHANNEL_A, GUILD_A)
    log.event("m2.create", "m2", "create", at(0, 0, 21), at(0, 0, 22), at(0, 3, 10))  # delivered twice
    log.message("m3", at(0, 0, 30), CHANNEL_A, GUILD_A)
    log.event("m3.create", "m3", "create", at(0, 0, 30), at(0, 0, 31))
    log.event("m3.old_edit", "m3", "edit", at(0, 0, 35), at(0, 5, 0), content="stale")  # arrives hours late
    log.event("m3.edit", "m3", "edit", at(0, 0, 40), at(0, 0, 41), content="newest")
    log.message("m4", at(0, 0, 50), CHANNEL_A, GUILD_A)
    log.event("m4.create", "m4", "create", at(0, 0, 50), at(0, 0, 51))
    log.event("m4.delete", "m4", "delete", at(0, 1, 30), at(0, 1, 31), at(0, 6, 0))  # delete delivered twice
    log.message("m7", at(0, 2, 0), CHANNEL_A, GUILD_A)
    log.event("m7.create", "m7", "create", at(0, 2, 0), at(0, 2, 0, 1))
    # Two edits in the same millisecond, delivered in reverse order: the larger event id wins.
    log.event("m7.edit_a", "m7", "edit", at(0, 2, 10), at(0, 2, 12), content="tie a")
    log.event("m7.edit_b", "m7", "edit", at(0, 2, 10), at(0, 2, 11), content="tie b")
    # Guild B: idle until a search on day 2 at 10:00.
    log.message("m5", at(0, 0, 10), CHANNEL_B, GUILD_B)
    log.event("m5.create", "m5", "create", at(0, 0, 10), at(0, 0, 11))
    log.event("m5.delete", "m5", "delete", at(0, 0, 20), at(0, 0, 21))
    log.message("m6", at(0, 0, 15), CHANNEL_B, GUILD_B)
    log.event("m6.create", "m6", "create", at(0, 0, 15), at(0, 0, 16))
    # Guild C: active from the start; its 6th message (cap 5) arrives at 03:01 and promotes it.
    for number, minute in ((1, 0), (2, 10), (3, 20), (4, 30), (5, 40)):
        log.message(f"c{number}", at(0, 1, minute), CHANNEL_C, GUILD_C)
        log.event(f"c{number}.create", f"c{number}", "create", at(0, 1, minute), at(0, 1, minute + 1))
    log.message("c6", at(0, 3, 0), CHANNEL_C, GUILD_C)
    log.event("c6.create", "c6", "create", at(0, 3, 0), at(0, 3, 1))
    # A DM, always fed, routed by channel.
    log.message("m8", at(0, 4, 0), DM_CHANNEL, None)
    log.event("m8.create", "m8", "create", at(0, 4, 0), at(0, 4, 1))
    # The last delivery sets the watermark; its own tick is not closed yet, so it is not sent.
    log.message("m9", at(4, 0, 0), DM_CHANNEL, None)
    log.event("m9.create", "m9", "create", at(4, 0, 0), at(4, 0, 0, 1))
    return log


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[SearchWarehouse, Log]:
    root = tmp_path_factory.mktemp("search-scenario")
    log = scenario()
    write_raw_search_data(
        root / "data",
        guilds=[GUILD_A, GUILD_B, GUILD_C],
        channels=[(CHANNEL_A, GUILD_A), (CHANNEL_B, GUILD_B), (CHANNEL_C, GUILD_C), (DM_CHANNEL, None)],
        events=sorted(log.events, key=lambda e: (e["ingested_at"], e["event_id"])),
        searches=[(GUILD_A, at(0, 0, 5)), (GUILD_C, at(0, 0, 5)), (GUILD_B, at(2, 10, 0))],
        reindex_requests=[(GUILD_A, at(3, 12, 30))],
    )
    warehouse = SearchWarehouse(home=root / "home", data_dir=root / "data")
    assert_built(warehouse.build(variables=VARIABLES))
    return warehouse, log


def test_every_expected_action_and_nothing_else(built: tuple[SearchWarehouse, Log]) -> None:
    warehouse, log = built
    routing = {
        guild: (shared, dedicated)
        for guild, shared, dedicated in warehouse.rows(
            "select guild_id, shared_index_name, dedicated_index_name from intermediate.int_search__guild_routing"
        )
    }
    (dm_index,) = warehouse.rows("select index_name from intermediate.int_search__dm_channel_routing")[0]
    shared_a, shared_b, shared_c = routing[GUILD_A][0], routing[GUILD_B][0], routing[GUILD_C][0]
    dedicated_c = routing[GUILD_C][1]
    ids = {name: str(message_id) for name, (message_id, _, _) in log.messages.items()}
    version = log.event_ids
    expected = {
        # tick 00:00 — live: m1's edit wins over its later-delivered create; m2 once; m3's newest edit.
        (at(0, 0, 0), shared_a, ids["m1"], "index", version["m1.edit"], "live"),
        (at(0, 0, 0), shared_a, ids["m2"], "index", version["m2.create"], "live"),
        (at(0, 0, 0), shared_a, ids["m3"], "index", version["m3.edit"], "live"),
        (at(0, 0, 0), shared_a, ids["m4"], "index", version["m4.create"], "live"),
        # tick 01:00 — m4 deleted; guild C's first five messages in its shared index.
        (at(0, 1, 0), shared_a, ids["m4"], "delete", version["m4.delete"], "live"),
        *((at(0, 1, 0), shared_c, ids[c], "index", version[f"{c}.create"], "live") for c in FIRST_FIVE),
        # tick 02:00 — same-millisecond edits: the larger event id wins.
        (at(0, 2, 0), shared_a, ids["m7"], "index", version["m7.edit_b"], "live"),
        # tick 03:00 — guild C passes the cap: everything moves to its dedicated index.
        *(
            (at(0, 3, 0), dedicated_c, ids[c], "index", version[f"{c}.create"], "routing_change")
            for c in FIRST_FIVE
        ),
        (at(0, 3, 0), dedicated_c, ids["c6"], "index", version["c6.create"], "live"),
        *(
            (at(0, 3, 0), shared_c, ids[c], "delete", version[f"{c}.create"], "routing_change")
            for c in FIRST_FIVE
        ),
        # tick 04:00 — a DM.
        (at(0, 4, 0), dm_index, ids["m8"], "index", version["m8.create"], "live"),
        # day 2, 10:00 — guild B searched: its history is backfilled; m5 (deleted before) is not sent.
        (at(2, 10, 0), shared_b, ids["m6"], "index", version["m6.create"], "backfill"),
        # day 3, 12:00 — reindex request for A: every live document again, the deleted m4 not.
        (at(3, 12, 0), shared_a, ids["m1"], "index", version["m1.edit"], "reindex_request"),
        (at(3, 12, 0), shared_a, ids["m2"], "index", version["m2.create"], "reindex_request"),
        (at(3, 12, 0), shared_a, ids["m3"], "index", version["m3.edit"], "reindex_request"),
        (at(3, 12, 0), shared_a, ids["m7"], "index", version["m7.edit_b"], "reindex_request"),
    }
    actual = set(
        warehouse.rows(
            "select tick_at, index_name, document_id, action, document_version, action_reason "
            "from marts.fct_search_index_actions"
        )
    )
    assert actual == expected


def test_sources_carry_the_latest_content(built: tuple[SearchWarehouse, Log]) -> None:
    warehouse, log = built
    contents = dict(
        warehouse.rows(
            "select document_version, json_extract_string(source_line, '$.content') "
            "from marts.fct_search_index_actions where action = 'index'"
        )
    )
    assert contents[log.event_ids["m1.edit"]] == "edited before its create arrived"
    assert contents[log.event_ids["m3.edit"]] == "newest"
    assert contents[log.event_ids["m7.edit_b"]] == "tie b"
    assert log.event_ids["m3.old_edit"] not in contents
    deletes = warehouse.rows("select source_line from marts.fct_search_index_actions where action = 'delete'")
    assert deletes and all(source is None for (source,) in deletes)


def test_routing_and_batches(built: tuple[SearchWarehouse, Log]) -> None:
    warehouse, _ = built
    rows = warehouse.rows(
        "select guild_id, has_dedicated_index, primary_shards, document_count from marts.dim_search_index_routing "
        "where routing_scope = 'guild' order by guild_id"
    )
    assert rows == [(GUILD_A, False, 2, 5), (GUILD_B, False, 2, 2), (GUILD_C, True, 6, 6)]
    (largest,) = warehouse.rows("select max(document_count) from marts.fct_search_index_batches")[0]
    assert largest == 2
    # The six index actions into C's dedicated index at 03:00 travel in three batches of two.
    batches = warehouse.rows(
        "select batch_id, count(*) from marts.fct_search_index_actions "
        "where index_name like 'guild-1003-%' group by batch_id order by batch_id"
    )
    assert [count for _, count in batches] == [2, 2, 2]


def test_reference_agrees_on_the_scenario(built: tuple[SearchWarehouse, Log]) -> None:
    warehouse, _ = built
    with warehouse.connect() as connection:
        assert built_actions(connection) == simulate_feed(connection, cap=5)
