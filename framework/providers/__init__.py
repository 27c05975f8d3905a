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
    return provider_class(settings.target.engine)(settings)


def provider_class(engine: str) -> type[Provider]:
    """The provider class of an engine, for its capability flags without connecting."""
    if engine == "duckdb":
        from framework.providers.duckdb import DuckDBProvider

        return DuckDBProvider
    if engine == "postgres":
        from framework.providers.postgres import PostgresProvider

        return PostgresProvider
    if engine == "bigquery":
        from framework.providers.bigquery import BigQueryProvider

        return BigQueryProvider
    raise UnsupportedEngineError(
        f"engine '{engine}' has no Overclock provider (duckdb, postgres, bigquery): plain dbt commands still work"
    )
