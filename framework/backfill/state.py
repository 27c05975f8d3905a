"""The backfill state store: what has been done, kept in the target warehouse itself, append-only.

Two tables in the namespace's `overclock_backfill` schema (`<namespace>__overclock_backfill`; production:
`overclock_backfill`), so that dropping a namespace drops its record too:

- `intervals`: one row per (model, fingerprint, interval) completed — written only after the interval's dbt
  batch and its tests succeeded. A crash between the batch and this write only means the batch runs again,
  which every strategy makes harmless.
- `run_events`: what happened to each run (planned, started, cancel requested, finished), with details as
  JSON; `status` and `resume` read them.

Rows are never updated or deleted. On DuckDB (one writing process per file) the executor releases the
connection before each batch, so that dbt can open the file.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from framework.backfill.intervals import Interval, merge_intervals
from framework.providers.base import naive_utc

if TYPE_CHECKING:
    from framework.config import Namespace, Settings
    from framework.providers.base import Provider

STATE_SCHEMA = "overclock_backfill"
INTERVALS_TABLE = "intervals"
RUN_EVENTS_TABLE = "run_events"
_COLUMNS = {
    INTERVALS_TABLE: (
        ("run_id", "text"),
        ("model", "text"),
        ("fingerprint", "text"),
        ("interval_start", "timestamp"),
        ("interval_end", "timestamp"),
        ("recorded_at", "timestamp"),
    ),
    RUN_EVENTS_TABLE: (
        ("run_id", "text"),
        ("event", "text"),
        ("detail", "text"),
        ("recorded_at", "timestamp"),
    ),
}
# How long to wait for another process's lock on a DuckDB file (a running backfill, between its batches).
_LOCK_WAIT_SECONDS = 60.0


def state_schema(namespace: Namespace) -> str:
    if namespace.is_production:
        return STATE_SCHEMA
    from framework.namespaces.naming import SCHEMA_SEPARATOR

    return f"{namespace.name}{SCHEMA_SEPARATOR}{STATE_SCHEMA}"


@dataclass(frozen=True)
class RunEvent:
    run_id: str
    event: str  # planned | started | cancel_requested | finished
    detail: Mapping[str, Any]
    recorded_at: datetime


class StateStore:
    """Reads and appends backfill state through the target's provider."""

    def __init__(self, settings: Settings, read_only: bool = False) -> None:
        self.settings = settings
        self.schema = state_schema(settings.namespace)
        self.read_only = read_only
        self._provider: Provider | None = None
        self._tables_ready = False

    # --- connection -----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Provider]:
        if self._provider is None:
            self._provider = self._open()
        yield self._provider

    def release(self) -> None:
        """Let go of the warehouse where only one process may hold it (DuckDB), before dbt opens it."""
        if self._provider is not None and not self._provider.supports_concurrent_writers:
            self.close()

    def _open(self) -> Provider:
        from framework.providers import provider_for
        from framework.providers.duckdb import DuckDBProvider

        if self.settings.target.engine != "duckdb":
            return provider_for(self.settings)
        if self.read_only and not DuckDBProvider.database_path(self.settings).exists():
            raise _NoWarehouse()  # a look at a warehouse never created: no state, and no file made for it
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while True:
            try:
                # Never DuckDB's read-only mode: a process may hold the file only in one mode at a time.
                return DuckDBProvider(self.settings)
            except Exception as exc:
                # The file is held by another process (a running backfill, between its batches, or a build).
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        if self._provider is not None:
            self._provider.close()
            self._provider = None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- tables ---------------------------------------------------------------------------------------------

    def _exists(self, provider: Provider) -> bool:
        if not self._tables_ready:
            self._tables_ready = all(provider.table_exists(self.schema, table) for table in _COLUMNS)
        return self._tables_ready

    def _ensure_tables(self, provider: Provider) -> None:
        if self._exists(provider):
            return
        for table, columns in _COLUMNS.items():
            provider.create_table(self.schema, table, columns)
        self._tables_ready = True

    def _insert(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        columns = [name for name, _ in _COLUMNS[table]]
        with self._connection() as provider:
            self._ensure_tables(provider)
            provider.insert_rows(self.schema, table, columns, rows)

    def _select(
        self, table: str, where_in: Mapping[str, Sequence[object]] | None = None
    ) -> list[tuple[Any, ...]]:
        columns = [name for name, _ in _COLUMNS[table]]
        try:
            with self._connection() as provider:
                if not self._exists(provider):
                    return []
                return provider.select_rows(self.schema, table, columns, where_in)
        except _NoWarehouse:
            return []  # a look at a DuckDB warehouse never created: no state yet

    def tables_present(self, relations: Sequence[tuple[str, str, str]]) -> dict[str, bool]:
        """For (key, schema, table) triples: whether the table exists (a dropped table is never done)."""
        try:
            with self._connection() as provider:
                return {key: provider.table_exists(schema, name) for key, schema, name in relations}
        except _NoWarehouse:
            return {key: False for key, _, _ in relations}

    # --- intervals ------------------------------------------------------------------------------------------

    def record_intervals(
        self, run_id: str, model: str, fingerprint: str, intervals: Sequence[Interval]
    ) -> None:
        now = _utc_now()
        self._insert(
            INTERVALS_TABLE,
            [(run_id, model, fingerprint, interval.start, interval.end, now) for interval in intervals],
        )

    def recorded_intervals(self, models: Sequence[str]) -> dict[str, dict[str, list[Interval]]]:
        """For each model, the merged intervals recorded under each of its fingerprints."""
        if not models:
            return {}
        found: dict[str, dict[str, list[Interval]]] = defaultdict(lambda: defaultdict(list))
        for _, model, fingerprint, start, end, _ in self._select(INTERVALS_TABLE, {"model": list(models)}):
            found[model][fingerprint].append(Interval(naive_utc(start), naive_utc(end)))
        return {
            model: {fingerprint: merge_intervals(done) for fingerprint, done in found[model].items()}
            for model in models
        }

    def run_interval_count(self, run_id: str) -> int:
        return len(self._select(INTERVALS_TABLE, {"run_id": [run_id]}))

    # --- runs -----------------------------------------------------------------------------------------------

    def record_event(self, run_id: str, event: str, detail: Mapping[str, Any] | None = None) -> datetime:
        """Append an event; returns the time recorded with it."""
        now = _utc_now()
        self._insert(
            RUN_EVENTS_TABLE, [(run_id, event, json.dumps(detail or {}, sort_keys=True, default=str), now)]
        )
        return now

    def run_events(self, run_id: str | None = None) -> list[RunEvent]:
        """Events of one run, or of every run, oldest first."""
        where = {"run_id": [run_id]} if run_id else None
        events = [
            RunEvent(rid, event, json.loads(detail or "{}"), naive_utc(at))
            for rid, event, detail, at in self._select(RUN_EVENTS_TABLE, where)
        ]
        return sorted(events, key=lambda e: (e.recorded_at, _EVENT_ORDER.get(e.event, 9)))

    def cancel_requested(self, run_id: str, since: datetime) -> bool:
        """Whether a cancel was asked for since `since` (the start of the attempt that asks)."""
        return any(
            event.event == "cancel_requested" and event.recorded_at >= since
            for event in self.run_events(run_id)
        )


class _NoWarehouse(Exception):
    pass


_EVENT_ORDER = {"planned": 0, "started": 1, "cancel_requested": 2, "finished": 3}


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
