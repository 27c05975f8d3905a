"""The executor's loop with a scripted runner and an in-memory state store: retries, splits, records, cancel."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from datetime import datetime as dt
from typing import Any

import pytest

from framework.backfill.executor import (
    BackfillObserver,
    BatchOutcome,
    ExecutionOptions,
    execute,
    is_transient,
)
from framework.backfill.intervals import Interval
from framework.backfill.planner import Batch
from framework.backfill.scheduler import CANCELLED, DONE, FAILED, SKIPPED
from tests.unit.test_backfill_planner import day, days, model, plan

FAST = ExecutionOptions(workers=1, max_attempts=3, retry_delay=0.01, cancel_poll_seconds=0.0)


class MemoryStore:
    def __init__(self) -> None:
        self.intervals: list[tuple[str, str, Interval]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.cancel_after: int | None = None  # report a cancel once this many batches are recorded

    def record_intervals(self, run_id: str, model: str, fingerprint: str, intervals: Any) -> None:
        self.intervals += [(model, fingerprint, interval) for interval in intervals]

    def record_event(self, run_id: str, event: str, detail: dict[str, Any] | None = None) -> dt:
        self.events.append((event, detail or {}))
        return dt.now()

    def release(self) -> None:
        pass

    def cancel_requested(self, run_id: str, since: dt) -> bool:
        return self.cancel_after is not None and len(self.intervals) >= self.cancel_after


class ScriptedRunner:
    """Runs batches synchronously through `script(batch, attempt) -> BatchOutcome`."""

    def __init__(self, script: Callable[[Batch, int], BatchOutcome], parallelism: int = 1) -> None:
        self.script = script
        self.parallelism = parallelism
        self.attempts: dict[Batch, int] = {}
        self.started: list[Batch] = []

    def start(self, batch: Batch) -> concurrent.futures.Future[BatchOutcome]:
        self.attempts[batch] = self.attempts.get(batch, 0) + 1
        self.started.append(batch)
        future: concurrent.futures.Future[BatchOutcome] = concurrent.futures.Future()
        future.set_result(self.script(batch, self.attempts[batch]))
        return future

    def close(self) -> None:
        pass


class Recorder(BackfillObserver):
    def __init__(self) -> None:
        self.retries: list[tuple[Batch, int]] = []
        self.splits: list[Batch] = []

    def batch_retrying(self, batch: Batch, attempt: int, delay: float, message: str) -> None:
        self.retries.append((batch, attempt))

    def batch_split(self, batch: Batch, message: str) -> None:
        self.splits.append(batch)


def run(
    the_plan: Any, runner: ScriptedRunner, store: MemoryStore | None = None
) -> tuple[Any, MemoryStore, Recorder]:
    store = store or MemoryStore()
    observer = Recorder()
    result = execute(the_plan, "run-1", store, runner, observer, FAST)  # type: ignore[arg-type]
    return result, store, observer


def test_everything_runs_and_is_recorded_once() -> None:
    the_plan = plan([model("a"), model("b", parents=["a"])], batch_size=4)
    result, store, _ = run(the_plan, ScriptedRunner(lambda batch, attempt: BatchOutcome(True)))
    assert result.exit_code == 0 and result.count(DONE) == 20
    assert sorted(i for m, _, i in store.intervals if m == "model.p.a") == days(*range(1, 11))
    assert len(store.intervals) == 20
    assert [event for event, _ in store.events] == ["started", "finished"]


def test_a_transient_failure_is_retried_and_succeeds() -> None:
    def script(batch: Batch, attempt: int) -> BatchOutcome:
        if day(5) in batch.intervals and attempt == 1:
            return BatchOutcome(False, "IO Error: Could not set lock on file (injected)", transient=True)
        return BatchOutcome(True)

    result, _, observer = run(plan([model("a")], batch_size=4), ScriptedRunner(script))
    assert result.exit_code == 0 and result.count(DONE) == 10
    assert [(b.intervals, attempt) for b, attempt in observer.retries] == [(tuple(days(5, 6, 7, 8)), 1)]


def test_transient_failures_give_up_after_max_attempts() -> None:
    runner = ScriptedRunner(lambda batch, attempt: BatchOutcome(False, "connection refused", transient=True))
    result, _, observer = run(plan([model("a")], batch_size=10), runner)
    assert result.exit_code == 1
    assert len(observer.retries) == FAST.max_attempts - 1
    assert result.count(FAILED) == 10  # a transient error that persists is not narrowed down


def test_a_permanent_failure_is_narrowed_to_its_interval_and_its_dependents() -> None:
    def script(batch: Batch, attempt: int) -> BatchOutcome:
        poisoned = batch.model == "model.p.a" and day(7) in batch.intervals
        return BatchOutcome(False, "Conversion Error: 'poison'") if poisoned else BatchOutcome(True)

    the_plan = plan([model("a"), model("b", parents=["a"]), model("c")], batch_size=10)
    result, store, observer = run(the_plan, ScriptedRunner(script))
    assert result.exit_code == 1
    assert [(name, interval) for name, interval, _ in result.failures] == [("a", day(7))]
    assert "poison" in result.failures[0][2]
    assert result.outcomes[("model.p.b", day(7))].status == SKIPPED
    assert result.count(DONE, "model.p.b") == 9 and result.count(DONE, "model.p.c") == 10
    assert ("model.p.a", "fp-a", day(7)) not in store.intervals
    assert len(observer.splits) == 3  # 10 -> 5 -> 2|3 -> 1|1 ... until day 7 stands alone


def test_failed_tests_fail_the_batch_without_splitting_it() -> None:
    runner = ScriptedRunner(
        lambda batch, attempt: BatchOutcome(False, "unique test failed", tests_failed=True)
    )
    result, store, observer = run(plan([model("a")], batch_size=10), runner)
    assert observer.splits == [] and result.count(FAILED) == 10 and store.intervals == []


def test_cancel_stops_new_batches_and_keeps_what_finished() -> None:
    store = MemoryStore()
    store.cancel_after = 2
    result, store, _ = run(
        plan([model("a")], batch_size=2), ScriptedRunner(lambda b, a: BatchOutcome(True)), store
    )
    assert result.cancelled and result.exit_code == 1
    assert result.count(DONE) == 2 and result.count(CANCELLED) == 8
    assert store.events[-1][1]["cancelled"] is True


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        ('IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held', True),
        ("could not connect to server: Connection refused", True),
        ("deadlock detected", True),
        ("403 Exceeded rate limits: reason: rateLimitExceeded", True),
        ("Conversion Error: Could not convert string 'poison' to INT32", False),
        ('Binder Error: Referenced column "x" not found', False),
        ("500 INTERNAL Error: Failed to cast expression; reason: crucibleInternalError", False),
    ],
)
def test_transient_errors_are_told_apart(message: str, transient: bool) -> None:
    assert is_transient(message) is transient


def test_interval_labels_in_failures_are_readable() -> None:
    assert Interval(dt(2025, 1, 7), dt(2025, 1, 8)).label() == "2025-01-07"


def test_date_valued_vars_reach_dbt_as_their_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """YAML reads `--vars '{as_of: 2025-01-05}'` as a date; every batch must still get its vars."""
    import datetime
    import json

    from framework.backfill import executor
    from framework.dbt import DbtInvocation

    seen: list[dict[str, Any]] = []

    def fake_run_dbt(settings: Any, command: Any, extra: Any, manifest: Any = None) -> DbtInvocation:
        seen.append(json.loads(extra[extra.index("--vars") + 1]))
        return DbtInvocation(0)

    monkeypatch.setattr(executor, "run_dbt", fake_run_dbt)
    outcome = executor.run_batch(
        None, None, model("events"), Batch("model.p.events", (day(3),)), {"as_of": datetime.date(2025, 1, 5)}
    )  # type: ignore[arg-type]
    assert outcome.ok
    assert seen == [
        {"as_of": "2025-01-05", "overclock_window_start": "2025-01-03", "overclock_window_end": "2025-01-04"}
    ]
