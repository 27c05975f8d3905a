"""The one question the fast renderer asks the warehouse: does this relation exist, and is it a table?

dbt's `is_incremental()` answers it with an introspective query, so an incremental model's compiled SQL
depends on the warehouse. For DuckDB the answer is one read-only query; the answer is recorded in the
node's trace and fingerprint, and re-asked on every compile, so a table created by a build since the last
compile is seen. Any other engine (or a file another process holds) is left to dbt, node by node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from framework.compile.context import Unsupported

_KINDS = {"BASE TABLE": "table", "VIEW": "view"}


class WarehouseBusy(Exception):
    """Another process writes the DuckDB file (a build): is_incremental() cannot be answered now, by the
    renderer or by dbt, so compiling stops with what to do instead of falling back to a dbt that fails too."""


class WarehouseProbe:
    def __init__(self, target: dict[str, Any]) -> None:
        self.target = target
        self._connection: Any = None
        self._answers: dict[tuple[str, str, str], str | None] = {}

    def relation_type(self, database: str, schema: str, identifier: str) -> str | None:
        """'table', 'view' or None (absent); Unsupported (volatile) where it cannot tell as dbt would."""
        key = (database, schema, identifier)
        if key not in self._answers:
            self._answers[key] = self._ask(key)
        return self._answers[key]

    def _ask(self, key: tuple[str, str, str]) -> str | None:
        path = str(self.target.get("path") or "")
        if self.target.get("type") != "duckdb" or path in ("", ":memory:") or "://" in path:
            raise Unsupported("is_incremental() asks a warehouse the renderer does not query", volatile=True)
        if not Path(path).exists():
            return None  # nothing was ever built: no relation exists
        try:
            if self._connection is None:
                import duckdb

                self._connection = duckdb.connect(path, read_only=True)
            rows = self._connection.execute(
                "select table_type from information_schema.tables"
                " where table_catalog = ? and table_schema = ? and table_name = ?",
                list(key),
            ).fetchall()
        except Exception as exc:  # locked by a writer, unreadable: dbt decides
            if "lock" in str(exc).lower():
                raise WarehouseBusy(
                    f"the warehouse {path} is in use by another process (a build?), and is_incremental() "
                    "must read it: compile again when it finishes, or give `overclock check` a compiled manifest (--manifest)"
                ) from exc
            raise Unsupported(
                f"is_incremental(): the warehouse cannot be read ({exc})", volatile=True
            ) from exc
        if not rows:
            return None
        kind = _KINDS.get(str(rows[0][0]))
        if kind is None:
            raise Unsupported(f"is_incremental(): relation of type {rows[0][0]}", volatile=True)
        return kind

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
