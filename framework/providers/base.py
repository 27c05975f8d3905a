"""The engine seam: what Overclock itself (not dbt) needs from a warehouse, one small class per engine.

Engine differences are capability flags and methods here, never `if engine == ...` elsewhere. SQL that
Overclock writes is built as sqlglot trees and rendered in `Provider.dialect`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from framework.config import Settings


@dataclass(frozen=True)
class SchemaInfo:
    """A schema (dataset on BigQuery) as the warehouse reports it."""

    name: str
    relations: int
    size_bytes: int | None  # None where the engine does not report sizes


class Provider(ABC):
    """One connection's worth of engine-specific operations. Use as a context manager."""

    engine: ClassVar[str]
    dialect: ClassVar[str]  # sqlglot dialect name
    # Several processes may write at once (DuckDB allows one writer per file).
    supports_concurrent_writers: ClassVar[bool] = True
    reports_sizes: ClassVar[bool] = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def database(self) -> str | None:
        """The database (BigQuery project) that schemas live in, where the engine has one."""
        return None

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> None:
        """Run a statement (or a batch for engines that accept one) and commit."""

    @abstractmethod
    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return all rows."""

    @abstractmethod
    def list_schemas(self, prefix: str = "") -> list[SchemaInfo]:
        """Schemas (datasets) whose name starts with prefix, with relation counts and sizes."""

    @abstractmethod
    def drop_schema(self, name: str) -> None:
        """Drop a schema (dataset) and everything in it; no error if it does not exist."""

    def delete_rows(self, table: str, condition: Any) -> None:
        """Delete the rows of `table` (schema.name) matching `condition`, a sqlglot boolean expression."""
        import sqlglot.expressions as exp

        self.execute(self.render(exp.delete(table, where=condition)))

    def render(self, expression: Any) -> str:
        """Render a sqlglot expression in this engine's dialect."""
        return str(expression.sql(dialect=self.dialect))

    def quote(self, identifier: str) -> str:
        import sqlglot.expressions as exp

        return str(exp.to_identifier(identifier, quoted=True).sql(dialect=self.dialect))
