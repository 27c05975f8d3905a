"""Selection end to end on small data: per-user invariants in every round, two-round re-spreading, seeds,
parallel = sequential for a whole release, and parameters rejected before any data is read."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from framework.privacy.duckdb_weighting import DuckDBWeighting
from framework.privacy.parameters import PrivacyParameterError, SelectionParameters
from framework.privacy.plan import plan_selection
from framework.privacy.release import parameters_from_config, release_vocabulary
from framework.privacy.selection import select_partitions
from framework.privacy.sql import contribution_weights_sql
from framework.privacy.weighting import Norm, reference_item_weights

REPO_ROOT = Path(__file__).resolve().parents[2]


def zipf_connection(seed: int = 0, pairs: int = 60_000) -> Any:
    """Users with Zipf activity, items with a Zipf vocabulary: enough shared items for releases at δ = 0.2."""
    rng = np.random.default_rng(seed)
    users = np.minimum(rng.zipf(1.5, pairs), 3000)
    items = np.minimum(rng.zipf(1.4, pairs), 5000)
    connection = duckdb.connect()
    connection.register("contributions", pa.table({"user_id": users, "item": items}))
    return connection


def reference_weigh(connection: Any, max_items: int):  # type: ignore[no-untyped-def]
    pairs = [tuple(row) for row in connection.sql("select user_id, item from contributions").fetchall()]

    def weigh(norm: Norm, released: pa.Array | None) -> tuple[pa.Array, np.ndarray]:
        weights = reference_item_weights(
            pairs, max_items, norm, exclude=released.to_pylist() if released else ()
        )
        return pa.array(list(weights)), np.array(list(weights.values()))

    return weigh


PARAMETERS = [
    SelectionParameters(1.0, 0.2, 5, "basic"),
    SelectionParameters(1.0, 0.2, 5, "laplace"),
    SelectionParameters(1.0, 0.2, 5, "two_round", round1_share=0.3),
    SelectionParameters(1.0, 0.2, 5, "two_round", round1_share=0.3, composition="basic"),
]


@pytest.mark.parametrize("parameters", PARAMETERS, ids=lambda p: f"{p.algorithm}-{p.composition}")
def test_per_user_invariants_hold_in_every_round(parameters: SelectionParameters) -> None:
    connection = zipf_connection()
    release = release_vocabulary(
        connection, "contributions", parameters, user_column="user_id", item_column="item", noise_seed=3
    )
    assert len(release.items) > 0
    released_so_far: list[object] = []
    for outcome in release.rounds:
        connection.register("released_items", pa.table({"item": pa.array(released_so_far, pa.int64())}))
        sql = contribution_weights_sql(
            "contributions",
            max_items=parameters.max_items_per_user,
            norm=outcome.plan.norm,
            released="released_items" if released_so_far else None,
        )
        support, l2, l1 = connection.sql(
            f"select max(n), max(l2), max(l1) from (select user_id, count(*) n, sum(weight * weight) l2, "
            f"sum(weight) l1 from ({sql}) group by user_id)"
        ).fetchall()[0]
        assert support <= parameters.max_items_per_user
        assert (l2 if outcome.plan.norm == "l2" else l1) <= 1 + 1e-12
        # Round 2 never weighs, nor releases again, what round 1 released.
        overlap = set(outcome.items.to_pylist()) & set(released_so_far)
        assert not overlap
        released_so_far += outcome.items.to_pylist()
        connection.unregister("released_items")


def test_two_round_releases_more_on_skewed_data() -> None:
    """The point of round 2: weight stuck on items far above T moves to users' other items."""
    basic = SelectionParameters(1.0, 0.2, 5, "basic")
    two_round = SelectionParameters(1.0, 0.2, 5, "two_round", round1_share=0.1)
    totals = {"basic": 0, "two_round": 0}
    for seed in range(3):
        connection = zipf_connection(seed)
        for parameters in (basic, two_round):
            weigh = DuckDBWeighting(connection, "contributions", max_items=5)
            totals[parameters.algorithm] += len(
                select_partitions(weigh, plan_selection(parameters), seed).items
            )
    assert totals["two_round"] > totals["basic"]


@pytest.mark.parametrize("parameters", PARAMETERS, ids=lambda p: f"{p.algorithm}-{p.composition}")
def test_a_seeded_release_is_the_same_from_sql_and_from_the_reference_loop(
    parameters: SelectionParameters,
) -> None:
    connection = zipf_connection(1, pairs=8000)
    plan = plan_selection(parameters)
    from_sql = select_partitions(DuckDBWeighting(connection, "contributions", max_items=5), plan, seed=11)
    from_loop = select_partitions(reference_weigh(connection, 5), plan, seed=11)
    for a, b in zip(from_sql.rounds, from_loop.rounds, strict=True):
        assert a.items.to_pylist() == b.items.to_pylist()
    again = select_partitions(DuckDBWeighting(connection, "contributions", max_items=5), plan, seed=11)
    assert again.items.to_pylist() == from_sql.items.to_pylist()


def test_unseeded_noise_differs_between_releases() -> None:
    connection = zipf_connection(2)
    plan = plan_selection(SelectionParameters(1.0, 0.2, 5, "basic"))
    weigh = DuckDBWeighting(connection, "contributions", max_items=5)
    releases = {tuple(select_partitions(weigh, plan).items.to_pylist()) for _ in range(4)}
    assert len(releases) > 1
    assert not select_partitions(weigh, plan).seeded


BAD_VARS = [
    ({"epsilon": 0}, "epsilon must be a finite number > 0"),
    ({"epsilon": -1}, "epsilon must be a finite number > 0"),
    ({"epsilon": "inf"}, "epsilon must be a finite number > 0"),
    ({"epsilon": "one"}, "epsilon must be a number"),
    ({"delta": 0}, "delta must be a number in (0, 1)"),
    ({"delta": 1}, "delta must be a number in (0, 1)"),
    ({"delta": 1.5}, "delta must be a number in (0, 1)"),
    ({"max_items_per_user": 0}, "max_items_per_user must be an integer in [1,"),
    ({"max_items_per_user": 2.5}, "max_items_per_user must be a whole number"),
    ({"max_items_per_user": 10**9}, "max_items_per_user must be an integer in [1,"),
    ({"algorithm": "mad"}, "algorithm must be one of basic, laplace, two_round"),
    ({"round1_share": 1}, "round1_share must be a number in (0, 1)"),
    ({"composition": "rdp"}, "composition must be one of gaussian, basic"),
    ({"epsilon": None}, "epsilon is required"),
]


@pytest.mark.parametrize(("override", "message"), BAD_VARS)
def test_bad_parameters_are_rejected_with_a_clear_message(override: dict[str, object], message: str) -> None:
    values = {"epsilon": "1.0", "delta": "1e-5", "max_items_per_user": "10", "algorithm": "basic", **override}
    with pytest.raises(PrivacyParameterError) as error:
        parameters_from_config(values.get)
    assert message in str(error.value)


def test_config_values_arrive_as_strings() -> None:
    values = {
        "epsilon": "0.5",
        "delta": "1e-06",
        "max_items_per_user": "20",
        "algorithm": " Two_Round ",
        "round1_share": "None",
    }
    parameters = parameters_from_config(values.get)
    assert parameters == SelectionParameters(0.5, 1e-6, 20, "two_round")


class RefusingDbt:
    """A stand-in for the `dbt` object of a Python model whose data must never be touched."""

    def __init__(self, meta: dict[str, object]) -> None:
        self.meta = meta
        self.refs: list[str] = []
        outer = self

        class Config:
            @staticmethod
            def meta_get(key: str, default: object = None) -> object:
                return outer.meta.get(key, default)

            def __call__(self, **kwargs: object) -> None:
                pass

        self.config = Config()

    def ref(self, name: str) -> None:
        self.refs.append(name)
        raise AssertionError(f"data was read ({name}) before the parameters were validated")


@pytest.mark.parametrize("model_name", ["fct_privacy_released_vocabulary", "fct_privacy_vocabulary_releases"])
def test_the_models_reject_bad_vars_before_reading_any_data(model_name: str) -> None:
    path = REPO_ROOT / "models" / "marts" / "privacy" / f"{model_name}.py"
    spec = importlib.util.spec_from_file_location(model_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dbt = RefusingDbt({"epsilon": "-1", "delta": "1e-5", "max_items_per_user": "10", "algorithm": "basic"})
    with pytest.raises(PrivacyParameterError, match="epsilon must be a finite number > 0"):
        module.model(dbt, session=None)
    assert dbt.refs == []
