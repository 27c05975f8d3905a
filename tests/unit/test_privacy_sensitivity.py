"""Sensitivity audit of the weighting SQL (the production path, on DuckDB).

On well over 1,000 small instances — random ones and adversarial families — add one user to a dataset and
compare the pre-noise item weights, in round 1 (nothing released yet) and in round 2 (a released set removed
from every user). Adding or removing that user must change the weights of the items the others already hold
by L2 <= 1 (L1 <= 1 for Laplace weighting), and put L2 <= 1 on the items only it holds.

All instances run in a handful of queries: instance k's users and items are prefixed "k|", so instances are
disjoint inside one table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from framework.privacy.sql import item_weights_sql

TOLERANCE = 1e-12
NEW_USER = "new"


@dataclass
class Instance:
    max_items: int
    pairs: list[tuple[str, str]]  # the dataset D: (user, item), duplicates allowed
    new_user_items: list[str]  # the added user's items, duplicates allowed
    released: set[str] = field(default_factory=set)  # items already released (round 2)


def random_instance(rng: np.random.Generator) -> Instance:
    universe = [f"i{n}" for n in range(int(rng.integers(1, 25)))]
    users = int(rng.integers(0, 9))
    max_items = int(rng.choice([1, 2, 3, 5, 8]))
    pairs = []
    for user in range(users):
        for _ in range(int(rng.integers(1, 2 * max_items + 4))):
            pairs.append((f"u{user}", str(rng.choice(universe))))
    pool = universe + [f"only{n}" for n in range(int(rng.integers(0, 12)))]
    new_items = [str(rng.choice(pool)) for _ in range(int(rng.integers(1, 3 * max_items + 3)))]
    present = sorted({item for _, item in pairs} | set(new_items))
    released = {item for item in present if rng.random() < 0.3}
    return Instance(max_items, pairs, new_items, released)


def adversarial_instances() -> list[Instance]:
    """Families that stress the bounds: big or tiny users, everything shared, everything unique, ..."""
    instances = []
    shared = [f"s{n}" for n in range(12)]
    base = [(f"u{u}", item) for u in range(6) for item in shared[: 2 + u]]
    for max_items in (1, 2, 3, 5, 8, 13):
        unique = [f"only{n}" for n in range(40)]
        instances += [
            Instance(max_items, base, shared + unique),  # holds everything, far more than Δ0
            Instance(max_items, base, unique[:max_items]),  # exactly Δ0 unique items
            Instance(max_items, base, unique[: max_items + 1]),  # one over Δ0, all unique
            Instance(max_items, base, shared[:max_items]),  # exactly Δ0 shared items
            Instance(max_items, base, [shared[0]]),  # a single shared item
            Instance(max_items, base, [unique[0]]),  # a single unique item
            Instance(max_items, [], unique[:30]),  # alone in the data
            Instance(max_items, [], [unique[0]] * 50),  # one item, repeated
            Instance(max_items, base, [shared[0]] * 20 + [unique[0]] * 20),  # duplicates of two items
            Instance(max_items, base, shared[:max_items] + unique[:max_items]),  # half shared, half unique
            Instance(max_items, base, shared + unique, released=set(shared)),  # round 2: shared gone
            Instance(max_items, base, shared + unique, released=set(unique[:35])),  # most unique gone
            Instance(max_items, base, shared, released=set(shared)),  # round 2: nothing left
            Instance(max_items, [(f"u{u}", "s0") for u in range(50)], ["s0"]),  # a crowd on one item
            Instance(
                max_items,
                base,
                ["it's", "a:b", "a", "b:c", "über", "日本", "🙂", "", " ", "x y z", "'; drop table t; --"],
            ),  # awkward text: quotes, colons (the hash separator), unicode, empty, spaces
        ]
    return instances


def weights_by_instance(
    instances: list[Instance], with_new_user: bool, max_items: int, norm: str, round_two: bool
) -> dict[int, dict[str, float]]:
    users, items, released = [], [], []
    for k, instance in enumerate(instances):
        if instance.max_items != max_items:
            continue
        for user, item in instance.pairs:
            users.append(f"{k}|{user}")
            items.append(f"{k}|{item}")
        if with_new_user:
            for item in instance.new_user_items:
                users.append(f"{k}|{NEW_USER}")
                items.append(f"{k}|{item}")
        released += [f"{k}|{item}" for item in instance.released]
    connection = duckdb.connect()
    connection.register("contributions", pa.table({"user_id": pa.array(users, pa.string()), "item": items}))
    connection.register("released_items", pa.table({"item": pa.array(released, pa.string())}))
    sql = item_weights_sql(
        "contributions", max_items=max_items, norm=norm, released="released_items" if round_two else None
    )
    result: dict[int, dict[str, float]] = defaultdict(dict)
    for item, weight in connection.sql(sql).fetchall():
        k, _, name = item.partition("|")
        result[int(k)][name] = weight
    connection.close()
    return result


@pytest.fixture(scope="module")
def instances() -> list[Instance]:
    rng = np.random.default_rng(20240611)
    return [random_instance(rng) for _ in range(1200)] + adversarial_instances()


def test_the_audit_covers_enough_instances(instances: list[Instance]) -> None:
    assert len(instances) >= 1000 + 80


@pytest.mark.parametrize("round_two", [False, True], ids=["round1", "round2"])
@pytest.mark.parametrize("norm", ["l2", "l1"])
def test_adding_or_removing_one_user_moves_weights_by_at_most_one(
    instances: list[Instance], norm: str, round_two: bool
) -> None:
    audited = 0
    for max_items in sorted({instance.max_items for instance in instances}):
        without = weights_by_instance(instances, False, max_items, norm, round_two)
        with_user = weights_by_instance(instances, True, max_items, norm, round_two)
        for k, instance in enumerate(instances):
            if instance.max_items != max_items:
                continue
            audited += 1
            before, after = without.get(k, {}), with_user.get(k, {})
            # Adding a user never removes an item, never lowers a weight.
            assert set(before) <= set(after), k
            shared = np.array([after[item] - before[item] for item in before])
            unique = np.array([after[item] for item in after if item not in before])
            assert np.all(shared >= -TOLERANCE), k
            if norm == "l2":
                assert np.sqrt(np.sum(shared**2)) <= 1 + TOLERANCE, (k, instance)
                assert np.sqrt(np.sum(unique**2)) <= 1 + TOLERANCE, (k, instance)
            else:
                assert np.sum(np.abs(shared)) + np.sum(unique) <= 1 + TOLERANCE, (k, instance)
            # Released items are gone from round 2, for everyone.
            if round_two:
                assert not (set(after) & instance.released), k
    assert audited == len(instances)


def test_the_bound_is_reached(instances: list[Instance]) -> None:
    """The audit is not vacuous: a lone user's unique items carry exactly L2 = 1."""
    lone = [i for i in instances if not i.pairs and len(set(i.new_user_items)) > i.max_items]
    assert lone
    for max_items in {i.max_items for i in lone}:
        group = [i if i.max_items == max_items else Instance(-1, [], []) for i in instances]
        weights = weights_by_instance(group, True, max_items, "l2", False)
        for k, instance in enumerate(group):
            if instance in lone:
                values = np.array(list(weights[k].values()))
                assert len(values) == max_items
                assert np.sqrt(np.sum(values**2)) == pytest.approx(1.0, abs=1e-12)
