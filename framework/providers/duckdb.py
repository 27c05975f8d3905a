"""DuckDB: the local warehouse file. One writing process per file, so no concurrent writers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from framework.providers.base import Provider, SchemaInfo
from framework.providers.postgres import resolved_output


class DuckDBProvider(Provider):
    engine = "duckdb"
    dialect = "duckdb"
    supports_concurrent_writers = False
    reports_sizes = False  # DuckDB reports sizes per database file, not per schema

    def __init__(self, settings: Any, read_only: bool = False) -> None:
        import duckdb

        super().__init__(settings)
        path = self.database_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = duckdb.connect(str(path), read_only=read_only)

    @staticmethod
    def database_path(settings: Any) -> Path:
        """The file dbt writes: the profile's path (any dbt project), which for ours is settings.duckdb_path."""
        return Path(resolved_output(settings).get("path") or settings.duckdb_path)

    def close(self) -> None:
        self.connection.close()

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> None:
        self.connection.execute(sql, parameters or [])

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.connection.execute(sql, parameters or []).fetchall()]

    # Overclock's own bookkeeping through DuckDB's relational API: no SQL to build, so the state store's
    # hot path (a backfill with nothing to do) does not even load sqlglot.
    def insert_rows(
        self, schema: str, name: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        table = self.connection.table(f"{schema}.{name}")
        order = [list(columns).index(column) if column in columns else None for column in table.columns]
        for row in rows:
            table.insert([None if index is None else row[index] for index in order])

    def select_rows(
        self,
        schema: str,
        name: str,
        columns: Sequence[str],
        where_in: Mapping[str, Sequence[object]] | None = None,
    ) -> list[tuple[Any, ...]]:
        import duckdb

        relation = self.connection.table(f"{schema}.{name}")
        for column, values in (where_in or {}).items():
            constants = [duckdb.ConstantExpression(value) for value in values]
            relation = relation.filter(duckdb.ColumnExpression(column).isin(*constants))
        return [tuple(row) for row in relation.select(*columns).fetchall()]

    def table_exists(self, schema: str, name: str) -> bool:
        found = self.query(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        )
        return bool(found[0][0])

    def list_schemas(self, prefix: str = "") -> list[SchemaInfo]:
        rows = self.query(
            """
            select s.schema_name, count(t.table_name)
            from information_schema.schemata s
            left join information_schema.tables t
              on t.table_schema = s.schema_name and t.table_catalog = s.catalog_name
            where s.catalog_name = current_database() and starts_with(s.schema_name, ?)
            group by 1 order by 1
            """,
            [prefix],
        )
        return [SchemaInfo(name, int(count), None) for name, count in rows]

    def drop_schema(self, name: str) -> None:
        self.execute(f"drop schema if exists {self.quote(name)} cascade")
