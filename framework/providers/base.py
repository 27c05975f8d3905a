"""The engine seam: what Overclock itself (not dbt) needs from a warehouse, one small class per engine.

Engine differences are capability flags and methods here, never `if engine == ...` elsewhere. SQL that
Overclock writes is built as sqlglot trees and rendered in `Provider.dialect`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from framework.config import Settings


@dataclass(frozen=True)
class SchemaInfo:
    """A schema (dataset on BigQuery) as the warehouse reports it."""

    name: str
    relations: int
    size_bytes: int | None  # None where the engine does not report sizes


class ProviderConnectionError(Exception):
    """The warehouse could not be reached (down, wrong host, port or credentials): the environment's fault,
    reported as one line naming the target, never as an internal error."""


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

    def create_table(self, schema: str, name: str, columns: Sequence[tuple[str, str]]) -> None:
        """Create schema.name, and its schema, unless they exist. Types are sqlglot's neutral names
        (`text`, `timestamp`, `bigint`), rendered for the engine."""
        import sqlglot.expressions as exp

        self.execute(self.render(exp.Create(kind="SCHEMA", exists=True, this=exp.table_(schema))))
        definition = exp.Schema(
            this=exp.table_(name, db=schema),
            expressions=[
                exp.ColumnDef(this=exp.to_identifier(column), kind=exp.DataType.build(kind))
                for column, kind in columns
            ],
        )
        self.execute(self.render(exp.Create(kind="TABLE", exists=True, this=definition)))

    def insert_rows(
        self, schema: str, name: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        """Append rows (text, numbers, booleans, naive UTC datetimes) to schema.name."""
        import sqlglot.expressions as exp

        for start in range(0, len(rows), 500):
            values = [tuple(_literal(value) for value in row) for row in rows[start : start + 500]]
            insert = exp.insert(exp.values(values), exp.table_(name, db=schema), columns=list(columns))
            self.execute(self.render(insert))

    def select_rows(
        self,
        schema: str,
        name: str,
        columns: Sequence[str],
        where_in: Mapping[str, Sequence[object]] | None = None,
    ) -> list[tuple[Any, ...]]:
        """The columns of schema.name's rows whose column values are among the given ones (all rows if none)."""
        import sqlglot.expressions as exp

        query = exp.select(*columns).from_(exp.table_(name, db=schema))
        for column, values in (where_in or {}).items():
            query = query.where(exp.column(column).isin(*(_literal(value) for value in values)))
        return self.query(self.render(query))

    def table_exists(self, schema: str, name: str) -> bool:
        import sqlglot.expressions as exp

        query = (
            exp.select(exp.func("count", exp.Star()))
            .from_(exp.table_("tables", db="information_schema"))
            .where(exp.column("table_schema").eq(exp.Literal.string(schema)))
            .where(exp.column("table_name").eq(exp.Literal.string(name)))
        )
        return bool(self.query(self.render(query))[0][0])

    def list_partitions(
        self, schema: str, name: str, field: str, data_type: str, granularity: str
    ) -> list[tuple[datetime, int]]:
        """The partitions present in a table, (partition start, rows), oldest first, in naive UTC."""
        import sqlglot.expressions as exp

        partition = self._partition_of(exp.column(field), data_type, exp.var(granularity.upper()))
        query = (
            exp.select(partition.as_("partition_start"), exp.func("count", exp.Star()).as_("row_count"))
            .from_(exp.table_(name, db=schema))
            .where(exp.column(field).is_(exp.null()).not_())
            .group_by(exp.Literal.number(1))
            .order_by(exp.Literal.number(1))
        )
        return [(naive_utc(start), int(rows)) for start, rows in self.query(self.render(query))]

    def _partition_of(self, column: Any, data_type: str, unit: Any) -> Any:
        import sqlglot.expressions as exp

        if data_type == "date":
            return exp.DateTrunc(this=column, unit=unit)
        return exp.TimestampTrunc(this=column, unit=unit)

    def render(self, expression: Any) -> str:
        """Render a sqlglot expression in this engine's dialect."""
        return str(expression.sql(dialect=self.dialect))

    def quote(self, identifier: str) -> str:
        import sqlglot.expressions as exp

        return str(exp.to_identifier(identifier, quoted=True).sql(dialect=self.dialect))


def naive_utc(value: Any) -> datetime:
    """Dates and datetimes as engines return them (BigQuery: aware, in UTC) as naive UTC datetimes."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value))


def _literal(value: object) -> Any:
    import sqlglot.expressions as exp

    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("timestamp"))
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))
