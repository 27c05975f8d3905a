"""The search-indexing feed on generated demo data: built once (with its dbt data tests), then checked against
a tick-by-tick reference implementation, for batch limits, big-guild routing, and the exported NDJSON."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from framework.demo_data import search as search_data
from framework.search_feed import SearchFeedError, export_search_feed
from tests.integration.documentation_support import undocumented
from tests.integration.search_support import (
    SearchWarehouse,
    assert_built,
    built_actions,
    patched_environ,
    simulate_feed,
)

MAX_DOCUMENTS = 200
MAX_BYTES = 40_000
TICK_MINUTES = 720  # twelve-hour feed ticks: bigger batches and fewer files than the hourly default
VARIABLES = {
    "search_batch_max_documents": MAX_DOCUMENTS,
    "search_batch_max_bytes": MAX_BYTES,
    "search_tick_minutes": TICK_MINUTES,
}

# One worker builds the module's warehouse once (make test runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("search-feed")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> SearchWarehouse:
    root = tmp_path_factory.mktemp("search-feed")
    data_dir = root / "data"
    search_data.generate(data_dir / "search", scale=1, seed=11)
    built = SearchWarehouse(home=root / "home", data_dir=data_dir)
    assert_built(built.build(variables=VARIABLES))  # models and every dbt data test of the domain
    return built


def test_docs_generate_and_every_model_and_column_is_described(warehouse: SearchWarehouse) -> None:
    assert_built(warehouse.build("docs generate"))
    models, problems = undocumented(warehouse.home / "target")
    assert {"model.overclock.fct_search_index_actions", "model.overclock.fct_search_index_batches"} <= set(
        models
    )
    assert problems == []


def test_feed_matches_the_tick_by_tick_reference(warehouse: SearchWarehouse) -> None:
    with warehouse.connect() as connection:
        expected = simulate_feed(connection, tick_minutes=TICK_MINUTES)
        actual = built_actions(connection)
    assert len(actual) > 10_000
    assert actual == expected, (
        f"only in the models: {sorted(actual - expected)[:5]}; only in the reference: {sorted(expected - actual)[:5]}"
    )


def test_every_kind_of_action_occurs(warehouse: SearchWarehouse) -> None:
    reasons = dict(
        warehouse.rows(
            "select action || '/' || action_reason, count(*) from marts.fct_search_index_actions group by 1"
        )
    )
    for kind in ("index/live", "index/backfill", "index/reindex_request", "index/routing_change"):
        assert reasons.get(kind, 0) > 0, reasons
    for kind in ("delete/live", "delete/routing_change"):
        assert reasons.get(kind, 0) > 0, reasons


def test_duplicates_and_late_deliveries_are_in_the_input(warehouse: SearchWarehouse) -> None:
    ((deliveries, events, late),) = warehouse.rows(
        "select count(*), count(distinct event_id), "
        "count(*) filter (where ingested_at > event_at + interval 1 hour) "
        "from staging.stg_search__message_events"
    )
    assert 0.01 < (deliveries - events) / events < 0.04
    assert late / deliveries > 0.01


def test_batches_respect_limits_and_hold_every_action_once(warehouse: SearchWarehouse) -> None:
    ((batches, largest, heaviest, in_batches),) = warehouse.rows(
        "select count(*), max(document_count), max(byte_count), sum(document_count) "
        "from marts.fct_search_index_batches"
    )
    ((actions, distinct_actions, without_batch),) = warehouse.rows(
        "select count(*), count(distinct action_id), count(*) filter (where batch_id is null) "
        "from marts.fct_search_index_actions"
    )
    assert largest <= MAX_DOCUMENTS and heaviest <= MAX_BYTES
    assert largest == MAX_DOCUMENTS, "the document limit should bind for the biggest backfills"
    assert heaviest > 0.95 * MAX_BYTES, "batches cut on bytes should be nearly full"
    assert actions == distinct_actions == in_batches and without_batch == 0
    assert batches < actions
    # Batches never mix destinations or ticks.
    (mixed,) = warehouse.rows(
        "select count(*) from (select batch_id from marts.fct_search_index_actions group by batch_id "
        "having count(distinct cluster_name || '/' || index_name || '/' || tick_at) > 1)"
    )
    assert mixed == (0,)


def test_big_guilds_get_a_dedicated_index_with_several_shards(warehouse: SearchWarehouse) -> None:
    rows = warehouse.rows(
        "select guild_id, document_count, has_dedicated_index, index_name, primary_shards "
        "from marts.dim_search_index_routing where routing_scope = 'guild'"
    )
    big = [row for row in rows if row[2]]
    assert big, "the Zipf-sized demo data has guilds past the cap"
    assert all(row[1] > 3000 and row[3] == f"guild-{row[0]}-messages" and row[4] == 6 for row in big)
    assert all(row[1] <= 3000 and row[3].startswith("guild-messages-") for row in rows if not row[2])
    # A big guild's documents went to the shared index before its promotion and to its own index after.
    promoted = warehouse.rows(
        "select r.guild_id, "
        "count(*) filter (where a.index_name = r.shared_index_name and a.tick_at < r.promoted_tick_at), "
        "count(*) filter (where a.index_name = r.dedicated_index_name and a.tick_at >= r.promoted_tick_at), "
        "count(*) filter (where a.index_name = r.dedicated_index_name and a.tick_at < r.promoted_tick_at) "
        "from intermediate.int_search__guild_routing r join marts.fct_search_index_actions a using (guild_id) "
        "where r.is_big group by 1"
    )
    assert any(before > 0 and after > 0 for _, before, after, _ in promoted)
    assert all(wrong == 0 for *_, wrong in promoted)


def test_dm_messages_route_by_channel(warehouse: SearchWarehouse) -> None:
    rows = warehouse.rows(
        "select distinct routing_key = cast(channel_id as varchar), index_name like 'dm-messages-%' "
        "from marts.fct_search_index_actions where guild_id is null"
    )
    assert rows == [(True, True)]


def test_idle_guilds_are_not_fed(warehouse: SearchWarehouse) -> None:
    (never_searched_fed,) = warehouse.rows(
        "select count(*) from marts.fct_search_index_actions a where a.guild_id is not null and not exists "
        "(select 1 from intermediate.int_search__guild_activity g where g.guild_id = a.guild_id)"
    )
    assert never_searched_fed == (0,)


def test_export_writes_valid_bulk_ndjson_per_destination(warehouse: SearchWarehouse, tmp_path: Path) -> None:
    out = tmp_path / "feed"
    with patched_environ(warehouse.environ()):
        from framework.config import resolve_settings

        export = export_search_feed(resolve_settings(production=True), out)
    (expected_batches, expected_actions, expected_bytes) = warehouse.rows(
        "select count(*), sum(document_count), sum(byte_count) from marts.fct_search_index_batches"
    )[0]
    files = sorted(out.rglob("*.ndjson"))
    assert len(files) == len(export.batches) == expected_batches
    assert export.documents == expected_actions and export.bytes == expected_bytes
    destinations = set(
        warehouse.rows("select distinct cluster_name, index_name from marts.fct_search_index_actions")
    )
    assert {(f.parent.parent.name, f.parent.name) for f in files} == destinations
    total_actions = 0
    for path in files:
        body = path.read_bytes()
        assert body.endswith(b"\n") and len(body) <= MAX_BYTES
        lines = [json.loads(line) for line in body.decode("utf-8").splitlines()]  # every line is JSON
        ids: Counter[str] = Counter()
        position = 0
        while position < len(lines):
            action_line = lines[position]
            assert len(action_line) == 1, action_line
            ((action, meta),) = action_line.items()
            assert action in ("index", "delete")
            assert meta["_index"] == path.parent.name
            assert meta["version_type"] == "external_gte" and isinstance(meta["version"], int)
            ids[meta["_id"]] += 1
            position += 1
            if action == "index":
                source = lines[position]
                assert "index" not in source and "delete" not in source
                assert source["message_id"] == meta["_id"] and isinstance(source["content"], str)
                position += 1
            total_actions += 1
        assert max(ids.values()) == 1, f"{path} has a document twice"
        assert sum(ids.values()) <= MAX_DOCUMENTS
    assert total_actions == expected_actions
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["batches"]) == expected_batches
    # Exporting again into the same folder gives the same files (a retried batch is the same batch).
    first = {p.relative_to(out): p.read_bytes() for p in files}
    with patched_environ(warehouse.environ()):
        from framework.config import resolve_settings

        export_search_feed(resolve_settings(production=True), out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.ndjson")} == first


def test_export_command_and_its_errors(warehouse: SearchWarehouse, tmp_path: Path) -> None:
    from framework.cli import main

    def run(*args: str) -> int:
        with patched_environ(warehouse.environ()), pytest.raises(SystemExit) as exit_info:
            main(["export", "search-feed", *args])
        return int(exit_info.value.code or 0)

    assert run("--prod", "--out", str(tmp_path / "ok")) == 0
    assert (tmp_path / "ok" / "manifest.json").is_file()
    # Not built in this namespace: a one-line error, exit code 2.
    assert run("--namespace", "someone_else", "--out", str(tmp_path / "nope")) == 2
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert run("--prod", "--out", str(tmp_path / "busy")) == 2
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


def test_export_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    empty = SearchWarehouse(home=tmp_path / "home", data_dir=tmp_path / "data")
    with patched_environ(empty.environ()):
        from framework.config import resolve_settings

        with pytest.raises(SearchFeedError, match="overclock build -s \\+fct_search_index_batches"):
            export_search_feed(resolve_settings(production=True), tmp_path / "out")
    assert not empty.path.exists()


def test_export_again_replaces_only_its_own_files_and_survives_an_interrupted_move(
    warehouse: SearchWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framework.config import resolve_settings
    from framework.search_feed import export as export_module

    out = tmp_path / "feed"

    def export() -> None:
        with patched_environ(warehouse.environ()):
            export_search_feed(resolve_settings(production=True), out)

    export()
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.ndjson")}
    some_destination = next(iter(first)).parent
    # Someone's notes beside the files, and a batch of an earlier export that the next one no longer has.
    (out / some_destination / "notes.txt").write_text("mine")
    (out / "README").write_text("mine too")
    gone = Path("es-old/old-index/old-batch.ndjson")
    (out / gone).parent.mkdir(parents=True)
    (out / gone).write_bytes(b'{"delete": {}}\n')
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["batches"].append({**manifest["batches"][0], "batch_id": "old-batch", "file": gone.as_posix()})
    (out / "manifest.json").write_text(json.dumps(manifest))

    # The move into place fails halfway: an error, and every file of the earlier export is still there.
    real_replace, moves = os.replace, []

    def failing_replace(source: object, target: object) -> None:
        moves.append(target)
        if len(moves) > len(first) // 2:
            raise OSError(28, "No space left on device")
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(export_module.os, "replace", failing_replace)
    with pytest.raises(SearchFeedError, match=r"cannot write the export .*No space left"):
        export()
    assert all((out / entry["file"]).is_file() for entry in manifest["batches"])
    monkeypatch.setattr(export_module.os, "replace", real_replace)

    export()
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.ndjson")} == first
    assert not (out / "es-old").exists() and not (out / ".partial").exists()
    assert (out / some_destination / "notes.txt").read_text() == "mine"
    assert (out / "README").read_text() == "mine too"
    assert len(json.loads((out / "manifest.json").read_text())["batches"]) == len(first)


def test_export_into_a_folder_left_by_an_interrupted_first_export(
    warehouse: SearchWarehouse, tmp_path: Path
) -> None:
    from framework.config import resolve_settings

    out = tmp_path / "feed"
    (out / ".partial" / "es-a" / "index").mkdir(parents=True)  # killed while staging: nothing was in place
    (out / ".partial" / "es-a" / "index" / "half.ndjson").write_bytes(b'{"index"')
    with patched_environ(warehouse.environ()):
        export = export_search_feed(resolve_settings(production=True), out)
    assert sorted(out.rglob("*.ndjson")) == sorted(batch.path for batch in export.batches)
