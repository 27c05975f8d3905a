"""Contribution bounding: each user keeps at most Δ0 of its distinct items, chosen by a seeded hash.

A user's items are ranked by md5(seed:user:item) (lowercase hex) and the first Δ0 are kept: a uniformly
random-looking subset that depends on nothing but the user's own items and the seed. So any partitioning of
the input (shards, chunks, engines) gives the same kept items, and SQL on DuckDB, PostgreSQL or BigQuery
agrees with this module bit for bit: the canonical string and md5 are the same everywhere.

Privacy does not depend on the seed being secret: bounding is a per-user function of that user's own data,
which is all the sensitivity argument needs. The seed only decorrelates which items different users keep.

This module is the *reference*: plain Python, one loop per user, used by tests and as the specification of
the SQL in `framework.privacy.sql`. Production runs the SQL.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping

DEFAULT_BOUNDING_SEED = "overclock-privacy"


def canonical_text(value: Hashable) -> str:
    """How a user or item id is written inside the hashed string: as SQL's CAST(value AS TEXT) writes it."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"user and item ids must be integers or strings, got {type(value).__name__}")
    return str(value)


def contribution_hash(seed: str, user: Hashable, item: Hashable) -> str:
    """md5 (lowercase hex) of 'seed:user:item', the key that orders a user's items."""
    text = f"{seed}:{canonical_text(user)}:{canonical_text(item)}"
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def user_item_sets(
    pairs: Iterable[tuple[Hashable, Hashable]], exclude: Iterable[Hashable] = ()
) -> dict[Hashable, set[Hashable]]:
    """Distinct items per user, without nulls and without the excluded (already released) items."""
    excluded = set(exclude)
    items_by_user: dict[Hashable, set[Hashable]] = defaultdict(set)
    for user, item in pairs:
        if user is None or item is None or item in excluded:
            continue
        items_by_user[user].add(item)
    return dict(items_by_user)


def bound_user_items(seed: str, user: Hashable, items: Iterable[Hashable], max_items: int) -> list[Hashable]:
    """The at most Δ0 items this user keeps: the first by (hash, item text)."""
    ranked = sorted(items, key=lambda item: (contribution_hash(seed, user, item), canonical_text(item)))
    return ranked[:max_items]


def bound_contributions(
    items_by_user: Mapping[Hashable, Iterable[Hashable]], max_items: int, seed: str = DEFAULT_BOUNDING_SEED
) -> dict[Hashable, list[Hashable]]:
    return {user: bound_user_items(seed, user, items, max_items) for user, items in items_by_user.items()}
