"""What differs per engine and is not a dbt macro: state tables, listing and dropping schemas.

`provider_for(settings)` gives the `Provider` of the settings' target engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from framework.config import Settings
    from framework.providers.base import Provider


class UnsupportedEngineError(Exception):
    pass


def provider_for(settings: Settings) -> Provider:
    engine = settings.target.engine
    if engine == "duckdb":
        from framework.providers.duckdb import DuckDBProvider

        return DuckDBProvider(settings)
    if engine == "postgres":
        from framework.providers.postgres import PostgresProvider

        return PostgresProvider(settings)
    if engine == "bigquery":
        from framework.providers.bigquery import BigQueryProvider

        return BigQueryProvider(settings)
    raise UnsupportedEngineError(
        f"engine '{engine}' has no Overclock provider (duckdb, postgres, bigquery): plain dbt commands still work"
    )
