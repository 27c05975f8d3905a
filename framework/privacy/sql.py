"""The weighting stage as portable SQL (DuckDB, PostgreSQL, BigQuery), built as a sqlglot tree.

One query per selection round: distinct (user, item) pairs, minus items released in earlier rounds; each
user bounded to Δ0 items by the seeded md5 ranking of `framework.privacy.bounding`; each kept item weighted
1/√d (l2) or 1/d (l1); summed by item. Users with at most Δ0 items skip the ranking altogether (most users,
on real data), which is where this beats the naive two-window query.

Everything is a per-user map followed by a sum by item, so any engine parallelises it, and any split of the
input gives the same weights up to floating-point summation order (< 1e-12 relative).

Engine differences live in `_text_order`: PostgreSQL compares text with the database's collation, so ranking
keys are compared byte-wise there (`COLLATE "C"`), as DuckDB and BigQuery do by default.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from framework.privacy.bounding import DEFAULT_BOUNDING_SEED
from framework.privacy.weighting import NORMS, Norm

DIALECTS = ("duckdb", "postgres", "bigquery")


def _text(expression: exp.Expression) -> exp.Expression:
    return exp.cast(expression, exp.DataType.build("text"))


def _text_order(expression: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "postgres":
        return exp.Collate(this=expression, expression=exp.Identifier(this="C", quoted=True))
    return expression


def _double(expression: exp.Expression) -> exp.Expression:
    return exp.cast(expression, exp.DataType.build("double"))


def _ranking_key(seed: str) -> exp.Expression:
    """md5('seed:' || user || ':' || item), lowercase hex in every engine (BigQuery: TO_HEX(MD5(...)))."""
    parts = [
        exp.Literal.string(f"{seed}:"),
        _text(exp.column("user_id")),
        exp.Literal.string(":"),
        _text(exp.column("item")),
    ]
    return exp.MD5(this=exp.Concat(expressions=parts))


def _pairs(source: str, user_column: str, item_column: str, released: str | None) -> exp.Select:
    """Distinct non-null (user_id, item) pairs of the source, without items released earlier."""
    query = (
        exp.select(
            exp.column(user_column, "contributions").as_("user_id"),
            exp.column(item_column, "contributions").as_("item"),
        )
        .distinct()
        .from_(exp.to_table(source).as_("contributions"))
        .where(exp.column(user_column, "contributions").is_(exp.null()).not_())
        .where(exp.column(item_column, "contributions").is_(exp.null()).not_())
    )
    if released is not None:
        query = query.join(
            exp.to_table(released).as_("released"),
            on=exp.column("item", "released").eq(exp.column(item_column, "contributions")),
            join_type="left",
        ).where(exp.column("item", "released").is_(exp.null()))
    return query


def _weight(kept_items: exp.Expression, norm: Norm) -> exp.Expression:
    denominator = exp.Sqrt(this=_double(kept_items)) if norm == "l2" else _double(kept_items)
    return exp.Div(this=_double(exp.Literal.number(1)), expression=denominator)


def _weighted_ctes(
    source: str,
    *,
    max_items: int,
    norm: Norm,
    seed: str,
    released: str | None,
    user_column: str,
    item_column: str,
    dialect: str,
) -> list[tuple[str, exp.Query]]:
    """The CTEs both queries share, ending in `weighted`: one row per kept (user_id, item) with its weight."""
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}: expected one of {', '.join(NORMS)}")
    if max_items < 1:
        raise ValueError(f"max_items must be >= 1, got {max_items}")
    limit = exp.Literal.number(max_items)
    user_sizes = (
        exp.select("user_id", exp.Count(this=exp.Star()).as_("item_count")).from_("pairs").group_by("user_id")
    )
    sized_pairs = (
        exp.select(
            exp.column("user_id", "pairs"),
            exp.column("item", "pairs"),
            exp.column("item_count", "user_sizes"),
        )
        .from_("pairs")
        .join("user_sizes", using=["user_id"])
    )
    item_rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[exp.column("user_id")],
        order=exp.Order(
            expressions=[
                exp.Ordered(this=_text_order(_ranking_key(seed), dialect)),
                exp.Ordered(this=_text_order(_text(exp.column("item")), dialect)),
            ]
        ),
    )
    # Only users above Δ0 are ranked; the others keep everything.
    ranked_pairs = (
        exp.select("user_id", "item", item_rank.as_("item_rank"))
        .from_("sized_pairs")
        .where(exp.column("item_count") > limit)
    )
    small_users = (
        exp.select("user_id", "item", exp.column("item_count").as_("kept_items"))
        .from_("sized_pairs")
        .where(exp.column("item_count") <= limit)
    )
    large_users = (
        exp.select("user_id", "item", limit.copy().as_("kept_items"))
        .from_("ranked_pairs")
        .where(exp.column("item_rank") <= limit)
    )
    weighted = exp.select("user_id", "item", _weight(exp.column("kept_items"), norm).as_("weight")).from_(
        "bounded"
    )
    return [
        ("pairs", _pairs(source, user_column, item_column, released)),
        ("user_sizes", user_sizes),
        ("sized_pairs", sized_pairs),
        ("ranked_pairs", ranked_pairs),
        ("bounded", exp.union(small_users, large_users, distinct=False)),
        ("weighted", weighted),
    ]


def _with(query: exp.Select, ctes: list[tuple[str, exp.Query]]) -> exp.Select:
    for name, cte in ctes:
        query = query.with_(name, cte)
    return query


def contribution_weights_query(
    source: str,
    *,
    max_items: int,
    norm: Norm = "l2",
    seed: str = DEFAULT_BOUNDING_SEED,
    released: str | None = None,
    user_column: str = "user_id",
    item_column: str = "item",
    dialect: str = "duckdb",
) -> exp.Select:
    """One row per kept (user_id, item) with its weight: the bounded, weighted contributions."""
    ctes = _weighted_ctes(
        source,
        max_items=max_items,
        norm=norm,
        seed=seed,
        released=released,
        user_column=user_column,
        item_column=item_column,
        dialect=dialect,
    )
    return _with(exp.select("user_id", "item", "weight").from_("weighted"), ctes)


def item_weights_query(source: str, **options: Any) -> exp.Select:
    """One row per item held by at least one user: (item, weight), weight = Σ of its users' weights.

    Takes the options of `contribution_weights_query`, whose rows it sums by item.
    """
    total = exp.Sum(this=exp.column("weight")).as_("weight")
    contributions = contribution_weights_query(source, **options)
    return contributions.select("item", total, append=False).group_by("item")


def render(query: exp.Expression, dialect: str) -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: expected one of {', '.join(DIALECTS)}")
    return query.sql(dialect=dialect, pretty=True)


def item_weights_sql(source: str, *, dialect: str = "duckdb", **options: Any) -> str:
    """`item_weights_query` rendered for one engine."""
    return render(item_weights_query(source, dialect=dialect, **options), dialect)


def contribution_weights_sql(source: str, *, dialect: str = "duckdb", **options: Any) -> str:
    """`contribution_weights_query` rendered for one engine."""
    return render(contribution_weights_query(source, dialect=dialect, **options), dialect)
