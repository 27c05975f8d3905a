"""The weighting stage on DuckDB: the generated SQL of `framework.privacy.sql` over a table or relation.

This is the vectorised path used by the dbt model and the benchmark: DuckDB runs the per-pair work (distinct,
hash ranking, weights, sum by item) in parallel; only one (item, weight) row per item comes back, as Arrow.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pyarrow as pa

from framework.privacy.bounding import DEFAULT_BOUNDING_SEED
from framework.privacy.sql import item_weights_sql
from framework.privacy.weighting import Norm

SOURCE_NAME = "privacy_contributions"


def _to_arrow(relation: Any) -> pa.Table:
    convert = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return convert()


class DuckDBWeighting:
    """A `Weigh` over `source`: a DuckDB relation, or the name of a table or view in `connection`."""

    def __init__(
        self,
        connection: Any,
        source: Any,
        *,
        max_items: int,
        seed: str = DEFAULT_BOUNDING_SEED,
        user_column: str = "user_id",
        item_column: str = "item",
    ) -> None:
        self.connection = connection
        self.source = source
        self.max_items = max_items
        self.seed = seed
        self.user_column = user_column
        self.item_column = item_column

    def sql(self, norm: Norm, released: str | None = None) -> str:
        source = self.source if isinstance(self.source, str) else SOURCE_NAME
        return item_weights_sql(
            source,
            dialect="duckdb",
            max_items=self.max_items,
            norm=norm,
            seed=self.seed,
            released=released,
            user_column=self.user_column,
            item_column=self.item_column,
        )

    def __call__(self, norm: Norm, released: pa.Array | None) -> tuple[pa.Array, np.ndarray]:
        released_name = None
        if released is not None:
            released_name = f"privacy_released_{uuid.uuid4().hex}"
            self.connection.register(released_name, pa.table({"item": released}))
        try:
            sql = self.sql(norm, released_name)
            if isinstance(self.source, str):
                result = _to_arrow(self.connection.sql(sql))
            else:
                result = _to_arrow(self.source.query(SOURCE_NAME, sql))
        finally:
            if released_name is not None:
                self.connection.unregister(released_name)
        weights = result.column("weight").to_numpy()
        return result.column("item").combine_chunks(), weights
