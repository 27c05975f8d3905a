"""PostgreSQL: connection from the same OVERCLOCK_PG_* settings as the dbt profile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from framework.providers.base import Provider, ProviderConnectionError, SchemaInfo


class PostgresProvider(Provider):
    engine = "postgres"
    dialect = "postgres"

    def __init__(self, settings: Any) -> None:
        import psycopg2

        super().__init__(settings)
        output = resolved_output(settings)
        host, port = output.get("host", "127.0.0.1"), int(output.get("port", 5432))
        try:
            self.connection = psycopg2.connect(
                host=host,
                port=port,
                user=output.get("user", "postgres"),
                password=output.get("password") or None,
                dbname=output.get("dbname") or output.get("database"),
            )
        except psycopg2.OperationalError as exc:
            cause = " ".join(str(exc).split())  # psycopg2's message spans lines
            raise ProviderConnectionError(
                f"cannot connect to target '{settings.target.name}' (PostgreSQL at {host}:{port}): {cause}"
            ) from None
        self.connection.autocommit = True

    def close(self) -> None:
        self.connection.close()

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, parameters)

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            return [tuple(row) for row in cursor.fetchall()]

    def list_schemas(self, prefix: str = "") -> list[SchemaInfo]:
        rows = self.query(
            """
            select n.nspname,
                   count(c.oid) filter (where c.relkind in ('r', 'v', 'm', 'p')),
                   coalesce(sum(pg_total_relation_size(c.oid)) filter (where c.relkind in ('r', 'm', 'p')), 0)
            from pg_namespace n
            left join pg_class c on c.relnamespace = n.oid
            where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
              and n.nspname not like 'pg\\_%%' and n.nspname like %s
            group by 1 order by 1
            """,
            [prefix.replace("_", "\\_") + "%"],
        )
        return [SchemaInfo(name, int(count), int(size)) for name, count, size in rows]

    def drop_schema(self, name: str) -> None:
        self.execute(f"drop schema if exists {self.quote(name)} cascade")


def resolved_output(settings: Any) -> dict[str, Any]:
    """The target's profile output with `{{ env_var(...) }}` rendered as dbt renders it: with the
    variables Overclock sets for dbt (`Settings.dbt_env`) over the environment."""
    import os

    from framework.config import _render_profile_value

    env = {**os.environ, **settings.dbt_env()}
    output = settings.target.outputs.get(settings.target.name, {})
    return {key: _render_profile_value(value, env) for key, value in output.items()}
