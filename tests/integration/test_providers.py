"""Each engine's provider lists and drops schemas on the real engine."""

from __future__ import annotations

import pytest

from framework.config import resolve_settings
from framework.providers import provider_for


def _roundtrip(settings, create_sql: list[str]) -> None:
    with provider_for(settings) as provider:
        provider.drop_schema("zz_provider_test")
        for sql in create_sql:
            provider.execute(sql)
        (info,) = provider.list_schemas("zz_provider")
        assert info.name == "zz_provider_test"
        assert info.relations == 1
        assert provider.query("select count(*) from zz_provider_test.t") == [(2,)]
        provider.drop_schema("zz_provider_test")
        assert provider.list_schemas("zz_provider") == []


def test_duckdb_provider(overclock_home) -> None:
    settings = resolve_settings(target="local", namespace="tester")
    _roundtrip(
        settings,
        ["create schema zz_provider_test", "create table zz_provider_test.t as select * from range(2) r(i)"],
    )


@pytest.mark.postgres
def test_postgres_provider(overclock_home, postgres, monkeypatch) -> None:
    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    settings = resolve_settings(target="postgres", namespace="tester")
    _roundtrip(
        settings,
        [
            "create schema zz_provider_test",
            "create table zz_provider_test.t as select generate_series(1, 2) i",
        ],
    )
    with provider_for(settings) as provider:
        provider.execute("create schema zz_provider_sized")
        provider.execute("create table zz_provider_sized.t as select generate_series(1, 1000) i")
        (info,) = provider.list_schemas("zz_provider_sized")
        assert info.size_bytes and info.size_bytes > 0
        provider.drop_schema("zz_provider_sized")


@pytest.mark.bigquery
def test_bigquery_provider(overclock_home, bigquery, monkeypatch) -> None:
    for key, value in bigquery.env().items():
        monkeypatch.setenv(key, value)
    settings = resolve_settings(target="bigquery", namespace="tester")
    _roundtrip(
        settings,
        [
            "create schema zz_provider_test",
            "create table zz_provider_test.t as select x from unnest([1, 2]) as x",
        ],
    )


def _bookkeeping(settings, timestamp_type: str) -> None:
    """What the backfill state store asks of a provider: its table, rows in and out, partitions listed."""
    from datetime import datetime

    columns = [("name", "text"), ("at", "timestamp"), ("n", "bigint")]
    rows = [
        ("a", datetime(2025, 1, 1, 5), 1),
        ("b", datetime(2025, 1, 1, 7), 2),
        ("c", datetime(2025, 1, 3), 3),
    ]
    with provider_for(settings) as provider:
        provider.drop_schema("zz_bookkeeping")
        assert not provider.table_exists("zz_bookkeeping", "events")
        provider.create_table("zz_bookkeeping", "events", columns)
        provider.create_table("zz_bookkeeping", "events", columns)  # idempotent
        assert provider.table_exists("zz_bookkeeping", "events")
        provider.insert_rows("zz_bookkeeping", "events", ["n", "name", "at"], [(n, a, t) for a, t, n in rows])
        selected = provider.select_rows("zz_bookkeeping", "events", ["name", "n"], {"name": ["a", "c", "zz"]})
        assert sorted(selected) == [("a", 1), ("c", 3)]
        assert len(provider.select_rows("zz_bookkeeping", "events", ["name"])) == 3
        assert provider.list_partitions("zz_bookkeeping", "events", "at", timestamp_type, "day") == [
            (datetime(2025, 1, 1), 2),
            (datetime(2025, 1, 3), 1),
        ]
        provider.drop_schema("zz_bookkeeping")


def test_duckdb_bookkeeping(overclock_home) -> None:
    _bookkeeping(resolve_settings(target="local", namespace="tester"), "timestamp")


@pytest.mark.postgres
def test_postgres_bookkeeping(overclock_home, postgres, monkeypatch) -> None:
    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    _bookkeeping(resolve_settings(target="postgres", namespace="tester"), "timestamp")


@pytest.mark.bigquery
def test_bigquery_bookkeeping(overclock_home, bigquery, monkeypatch) -> None:
    for key, value in bigquery.env().items():
        monkeypatch.setenv(key, value)
    # sqlglot's neutral `timestamp` is BigQuery's DATETIME (no time zone).
    _bookkeeping(resolve_settings(target="bigquery", namespace="tester"), "datetime")
