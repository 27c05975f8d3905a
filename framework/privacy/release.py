"""A release as the dbt models run it: parameters from dbt config → plan → SQL weights on DuckDB → noise.

The Python models in models/marts/privacy/ stay a few lines long and call into here, so that everything they
do is importable and tested like any other code. Parameters are validated before any data is read.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from framework.privacy.duckdb_weighting import DuckDBWeighting
from framework.privacy.parameters import PrivacyParameterError, SelectionParameters
from framework.privacy.plan import SelectionPlan, plan_selection
from framework.privacy.selection import Release, select_partitions

# The dbt vars a release reads (see models/marts/privacy/_privacy__models.yml).
PARAMETER_KEYS = ("epsilon", "delta", "max_items_per_user", "algorithm", "round1_share", "composition")
# How an unset var arrives: yml renders `{{ var('x', none) }}` to the string "None".
_UNSET = {None, "", "none", "None", "null"}


def parameters_from_config(get: Callable[[str], Any]) -> SelectionParameters:
    """Read and validate the release parameters through a `dbt.config.get`-like function."""
    return SelectionParameters.from_config({key: _value(get(key)) for key in PARAMETER_KEYS})


def noise_seed_from_config(get: Callable[[str], Any]) -> int | None:
    """A fixed noise seed (tests only), or None for a private release."""
    value = _value(get("noise_seed"))
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise PrivacyParameterError(f"noise_seed must be an integer, got {value!r}") from None


def _value(raw: Any) -> Any:
    return None if raw in _UNSET else raw


def current_release() -> tuple[str, datetime.datetime]:
    """(id, start time) of the dbt invocation: one release per `overclock build`, the same in both models."""
    try:
        from dbt_common.invocation import get_invocation_id, get_invocation_started_at
    except ImportError:  # outside dbt: a fresh release
        return str(uuid.uuid4()), datetime.datetime.now(datetime.UTC)
    return get_invocation_id(), get_invocation_started_at().replace(tzinfo=datetime.UTC)


def release_vocabulary(
    connection: Any,
    contributions: Any,
    parameters: SelectionParameters,
    *,
    user_column: str,
    item_column: str,
    noise_seed: int | None = None,
) -> Release:
    """Run the release over a DuckDB relation (or table name) of (user, item) contributions."""
    weigh = DuckDBWeighting(
        connection,
        contributions,
        max_items=parameters.max_items_per_user,
        seed=parameters.bounding_seed,
        user_column=user_column,
        item_column=item_column,
    )
    return select_partitions(weigh, plan_selection(parameters), seed=noise_seed)


def vocabulary_table(release: Release, release_id: str) -> pa.Table:
    """One row per released n-gram: (release_id, ngram, ngram_length, released_in_round)."""
    items = release.items_table()
    ngrams = items.column("item").cast(pa.string())
    lengths = pc.add(pc.count_substring(ngrams, " "), 1).cast(pa.int32())
    return pa.table(
        {
            "release_id": pa.array([release_id] * items.num_rows, type=pa.string()),
            "ngram": ngrams,
            "ngram_length": lengths,
            "released_in_round": items.column("released_in_round"),
        }
    )


def record_table(
    plan: SelectionPlan,
    items_per_round: dict[int, int],
    release_id: str,
    released_at: datetime.datetime,
    noise_seeded: bool,
) -> pa.Table:
    """The release record: one row per round with the parameters, σ (or b), T and the items released.

    Nothing about unreleased items — not even how many items were candidates — is part of it.
    """
    rows = []
    for round_plan in plan.rounds:
        rows.append(
            {
                "release_id": release_id,
                "released_at": released_at,
                **plan.parameters.as_dict(),
                "guarantee_epsilon": plan.epsilon,
                "guarantee_delta": plan.delta,
                "round": round_plan.round,
                "noise": round_plan.noise,
                "noise_scale": round_plan.scale,
                "threshold": round_plan.threshold,
                "threshold_delta": round_plan.delta_threshold,
                "items_released": items_per_round.get(round_plan.round, 0),
                "noise_seeded": noise_seeded,
            }
        )
    return pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)


RECORD_SCHEMA = pa.schema(
    [
        ("release_id", pa.string()),
        ("released_at", pa.timestamp("us", tz="UTC")),
        ("epsilon", pa.float64()),
        ("delta", pa.float64()),
        ("max_items_per_user", pa.int64()),
        ("algorithm", pa.string()),
        ("round1_share", pa.float64()),
        ("composition", pa.string()),
        ("bounding_seed", pa.string()),
        ("guarantee_epsilon", pa.float64()),
        ("guarantee_delta", pa.float64()),
        ("round", pa.int32()),
        ("noise", pa.string()),
        ("noise_scale", pa.float64()),
        ("threshold", pa.float64()),
        ("threshold_delta", pa.float64()),
        ("items_released", pa.int64()),
        ("noise_seeded", pa.bool_()),
    ]
)
