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
