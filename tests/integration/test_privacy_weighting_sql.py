"""Parallel = sequential: the weighting SQL equals a plain reference loop, on DuckDB, PostgreSQL and the
BigQuery emulator, however the input is split.

Per (user, item) the bounded weights are equal bit for bit (each is 1/√d or 1/d, computed identically
everywhere); summed per item they agree to 1e-12 (engines add in different orders).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from framework.privacy.bounding import contribution_hash
from framework.privacy.sql import DIALECTS, contribution_weights_sql, item_weights_sql
from framework.privacy.weighting import reference_contribution_weights, reference_item_weights

TOLERANCE = 1e-12
AWKWARD_ITEMS = ["it's", "a:b", "über", "日本", "🙂", "", " ", "x y", "Zebra", "apple", "'; drop table t; --"]


def random_pairs(seed: int, strings: bool, rows: int = 600) -> list[tuple[object, object]]:
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 40, rows) ** 2  # a few heavy users, many light ones
    items = np.minimum(rng.zipf(1.3, rows), 400)
    if not strings:
        return [(int(u), int(i)) for u, i in zip(users, items, strict=True)]
    pairs: list[tuple[object, object]] = [(f"user {u}", f"w{i}") for u, i in zip(users, items, strict=True)]
    pairs += [("user 0", item) for item in AWKWARD_ITEMS] + [("user 1", item) for item in AWKWARD_ITEMS[:5]]
    return pairs


def released_subset(pairs: list[tuple[object, object]], seed: int) -> list[object]:
    rng = np.random.default_rng(seed)
    items = sorted({item for _, item in pairs}, key=str)
    return [item for item in items if rng.random() < 0.2]


def arrow(pairs: list[tuple[object, object]]) -> pa.Table:
    users, items = zip(*pairs, strict=True)
    return pa.table({"user_id": list(users), "item": list(items)})


def duckdb_weights(
    pairs: list[tuple[object, object]],
    released: list[object] | None = None,
    threads: int = 2,
    **options: object,
) -> dict[object, float]:
    connection = duckdb.connect(config={"threads": threads})
    connection.register("contributions", arrow(pairs))
    if released is not None:
        item_type = arrow(pairs).schema.field("item").type
        connection.register("released_items", pa.table({"item": pa.array(released, item_type)}))
    sql = item_weights_sql(
        "contributions", released="released_items" if released is not None else None, **options
    )  # type: ignore[arg-type]
    return dict(connection.sql(sql).fetchall())


def assert_close(got: dict[object, float], expected: dict[object, float]) -> None:
    assert set(got) == set(expected)
    worst = max((abs(got[key] - expected[key]) / max(1.0, expected[key]) for key in expected), default=0.0)
    assert worst <= TOLERANCE


CASES = [
    pytest.param(
        seed,
        strings,
        max_items,
        norm,
        with_released,
        id=f"{seed}-{'str' if strings else 'int'}-{max_items}-{norm}-{'r2' if with_released else 'r1'}",
    )
    for seed, strings in ((1, False), (2, True), (3, True))
    for max_items in (1, 3, 10, 1000)
    for norm in ("l2", "l1")
    for with_released in (False, True)
]


@pytest.mark.parametrize(("seed", "strings", "max_items", "norm", "with_released"), CASES)
def test_duckdb_equals_the_reference_loop(
    seed: int, strings: bool, max_items: int, norm: str, with_released: bool
) -> None:
    pairs = random_pairs(seed, strings)
    released = released_subset(pairs, seed) if with_released else None
    expected = reference_item_weights(pairs, max_items, norm, exclude=released or ())  # type: ignore[arg-type]
    assert_close(duckdb_weights(pairs, released, max_items=max_items, norm=norm), expected)


def test_bounded_weights_are_bit_identical_per_user_and_item() -> None:
    pairs = random_pairs(4, strings=True)
    expected = reference_contribution_weights(pairs, 5)
    connection = duckdb.connect()
    connection.register("contributions", arrow(pairs))
    rows = connection.sql(contribution_weights_sql("contributions", max_items=5)).fetchall()
    got: dict[object, dict[object, float]] = {}
    for user, item, weight in rows:
        got.setdefault(user, {})[item] = weight
    assert got == expected  # exact float equality, and the same kept items


def test_kept_items_are_the_first_by_seeded_md5() -> None:
    pairs = [("u", f"item{n}") for n in range(30)]
    kept = set(reference_contribution_weights(pairs, 4, seed="s")["u"])
    by_hash = sorted((contribution_hash("s", "u", item), item) for _, item in pairs)
    assert kept == {item for _, item in by_hash[:4]}
    # Another seed, another sample; another user with the same items, another sample.
    assert set(reference_contribution_weights(pairs, 4, seed="t")["u"]) != kept
    others = [("v", item) for _, item in pairs]
    assert set(reference_contribution_weights(others, 4, seed="s")["v"]) != kept


@pytest.mark.parametrize("chunks", [2, 7])
def test_any_split_of_the_input_gives_the_same_weights(chunks: int) -> None:
    pairs = random_pairs(5, strings=False, rows=3000)
    whole = duckdb_weights(pairs, max_items=4, threads=1)
    rng = np.random.default_rng(chunks)
    # Rows split at random into chunks, read back in a shuffled order, on several threads.
    assignment = rng.integers(0, chunks, len(pairs))
    connection = duckdb.connect(config={"threads": 4})
    for chunk in range(chunks):
        connection.register(
            f"chunk_{chunk}", arrow([p for p, a in zip(pairs, assignment, strict=True) if a == chunk])
        )
    union = " union all ".join(f"select * from chunk_{c}" for c in rng.permutation(chunks))
    connection.execute(f"create view contributions as {union}")
    assert_close(dict(connection.sql(item_weights_sql("contributions", max_items=4)).fetchall()), whole)
    # Users partitioned into shards, each shard weighted on its own, the per-item sums added up.
    shard_of = {user: int(rng.integers(0, chunks)) for user in sorted({u for u, _ in pairs})}
    shards: dict[object, float] = {}
    for shard in set(shard_of.values()):
        part = [(u, i) for u, i in pairs if shard_of[u] == shard]
        for item, weight in duckdb_weights(part, max_items=4).items():
            shards[item] = shards.get(item, 0.0) + weight
    assert_close(shards, whole)
    assert_close(whole, reference_item_weights(pairs, 4))


def test_nulls_and_duplicates_are_ignored() -> None:
    pairs: list[tuple[object, object]] = [
        ("a", "x"),
        ("a", "x"),
        ("a", "y"),
        ("b", "x"),
        ("b", None),
        (None, "z"),
    ]
    assert_close(duckdb_weights(pairs, max_items=10), {"x": 2**-0.5 + 1.0, "y": 2**-0.5})


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_sql_parses_in_every_dialect(dialect: str) -> None:
    for released in (None, "released_items"):
        sql = item_weights_sql("warehouse.contributions", dialect=dialect, max_items=7, released=released)
        parsed = sqlglot.parse_one(sql, read=dialect)
        assert parsed.find(exp.Window) is not None
        assert ("TO_HEX(" in sql) == (dialect == "bigquery")


# --- real engines ------------------------------------------------------------------------------------------


def values_table(rows: list[tuple[object, ...]], columns: list[str], dialect: str) -> str:
    """A literal table; on BigQuery an unaliased UNNEST of structs (the emulator rejects the aliased form)."""
    if dialect != "bigquery":
        return exp.select("*").from_(exp.values(rows, alias="v", columns=columns)).sql(dialect=dialect)
    structs = [
        exp.Struct(
            expressions=[
                exp.alias_(exp.convert(value), column) for value, column in zip(row, columns, strict=True)
            ]
        )
        for row in rows
    ]
    return (
        exp.select("*").from_(exp.Unnest(expressions=[exp.Array(expressions=structs)])).sql(dialect=dialect)
    )


def engine_weights(
    provider: object,
    schema: str,
    dialect: str,
    pairs: list[tuple[object, object]],
    released: list[object],
    **options: object,
) -> dict[object, float]:
    contributions = values_table([tuple(pair) for pair in pairs], ["user_id", "item"], dialect)
    provider.execute(f"create table {schema}.contributions as {contributions}")  # type: ignore[attr-defined]
    released_items = values_table([(item,) for item in released], ["item"], dialect)
    provider.execute(f"create table {schema}.released_items as {released_items}")  # type: ignore[attr-defined]
    sql = item_weights_sql(
        f"{schema}.contributions", dialect=dialect, released=f"{schema}.released_items", **options
    )  # type: ignore[arg-type]
    return dict(provider.query(sql))  # type: ignore[attr-defined]


def engine_case() -> tuple[list[tuple[object, object]], list[object]]:
    pairs = random_pairs(6, strings=True, rows=300)
    return pairs, released_subset(pairs, 6)


@pytest.mark.postgres
@pytest.mark.parametrize("norm", ["l2", "l1"])
def test_postgres_equals_the_reference_loop(overclock_home, postgres, monkeypatch, norm: str) -> None:
    from framework.config import resolve_settings
    from framework.providers import provider_for

    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    pairs, released = engine_case()
    with provider_for(resolve_settings(target="postgres", namespace="tester")) as provider:
        provider.drop_schema(f"zz_privacy_{norm}")
        provider.execute(f"create schema zz_privacy_{norm}")
        got = engine_weights(
            provider, f"zz_privacy_{norm}", "postgres", pairs, released, max_items=3, norm=norm
        )
        bounded = provider.query(
            contribution_weights_sql(
                f"zz_privacy_{norm}.contributions", dialect="postgres", max_items=3, norm=norm
            )
        )
        provider.drop_schema(f"zz_privacy_{norm}")
    assert_close(got, reference_item_weights(pairs, 3, norm, exclude=released))  # type: ignore[arg-type]
    expected = reference_contribution_weights(pairs, 3, norm)  # type: ignore[arg-type]
    assert {(u, i): w for u, i, w in bounded} == {
        (u, i): w for u, ws in expected.items() for i, w in ws.items()
    }


@pytest.mark.bigquery
def test_bigquery_emulator_equals_the_reference_loop(overclock_home, bigquery, monkeypatch) -> None:
    from framework.config import resolve_settings
    from framework.providers import provider_for

    for key, value in bigquery.env().items():
        monkeypatch.setenv(key, value)
    pairs, released = engine_case()
    with provider_for(resolve_settings(target="bigquery", namespace="tester")) as provider:
        provider.drop_schema("zz_privacy")
        provider.execute("create schema zz_privacy")
        got = engine_weights(provider, "zz_privacy", "bigquery", pairs, released, max_items=3)
        provider.drop_schema("zz_privacy")
    assert_close(got, reference_item_weights(pairs, 3, exclude=released))
