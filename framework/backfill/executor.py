"""The executor: runs a plan's batches through dbt with bounded workers, retries, recording and cancelling.

Each batch is one `dbt build` of one model (the model and its tests) with the window passed as the vars
`overclock_window_start`/`_end`. Only when the build succeeded are the batch's intervals appended to the
state store. Transient failures (locks, dropped connections, rate limits) are retried with exponential
backoff; a permanent one splits the batch until the failing interval is found, and fails that interval and
everything downstream of it, not the rest.

Where batches run:
- `InProcessRunner`: one at a time in this process (dbtRunner with the manifest parsed once). DuckDB always
  runs here: the engine allows one writing process per file, so its parallelism is the batch size.
- `WorkerPoolRunner`: N worker processes, each with dbt loaded and the manifest parsed once, for engines with
  concurrent writers (PostgreSQL, BigQuery). dbtRunner is not safe for concurrent use in one process.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from framework.backfill.intervals import Interval
from framework.backfill.planner import BackfillPlan, Batch
from framework.backfill.scheduler import DONE, FAILED, SKIPPED, IntervalOutcome, Scheduler
from framework.dbt import parse_manifest, run_dbt

if TYPE_CHECKING:
    from framework.backfill.models import PartitionedModel
    from framework.backfill.state import StateStore
    from framework.config import Settings

# Lower-case fragments of error messages that mean "try again", per engine and transport.
TRANSIENT_MARKERS = (
    "could not set lock",  # DuckDB: another process holds the file
    "conflicting lock",
    "database is locked",
    "could not connect",
    "connection refused",
    "connection reset",
    "connection timed out",
    "server closed the connection",
    "terminating connection",
    "too many connections",
    "remaining connection slots",
    "deadlock detected",
    "could not serialize access",
    "timed out",
    "temporarily unavailable",
    "service unavailable",
    "reason: backenderror",  # BigQuery's retryable reasons
    "reason: ratelimitexceeded",
    "reason: internalerror",
    "transient",
)


def is_transient(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in TRANSIENT_MARKERS)


@dataclass(frozen=True)
class BatchOutcome:
    ok: bool
    message: str | None = None
    transient: bool = False
    tests_failed: bool = False  # the model built but its tests failed: splitting the batch would not help
    seconds: float = 0.0


@dataclass(frozen=True)
class ExecutionOptions:
    workers: int = 1
    max_attempts: int = 4  # a transient failure is retried up to 3 times
    retry_delay: float = 2.0  # seconds before the first retry; doubles each time
    max_retry_delay: float = 60.0
    cancel_poll_seconds: float = 2.0


def window_vars(model: PartitionedModel, window: Interval, user_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The dbt vars of a batch: the user's, and the window the partition_window macros read."""
    style = "%Y-%m-%d" if model.data_type == "date" else "%Y-%m-%d %H:%M:%S"
    return {
        **user_vars,
        "overclock_window_start": window.start.strftime(style),
        "overclock_window_end": window.end.strftime(style),
    }


def run_batch(
    settings: Settings, manifest: Any, model: PartitionedModel, batch: Batch, user_vars: Mapping[str, Any]
) -> BatchOutcome:
    """`dbt build` the model over the batch's window, in this process, and judge the outcome."""
    started = time.perf_counter()
    # default=str: YAML reads `{as_of: 2025-01-05}` as a date, which dbt receives back as the same text.
    variables = json.dumps(window_vars(model, batch.window, user_vars), default=str)
    try:
        invocation = run_dbt(
            settings,
            ["build"],
            ["--select", model.selector, "--vars", variables, "--quiet", "--no-write-json"],
            manifest=manifest,
        )
    except Exception as exc:  # dbt raised instead of reporting: judge the message like any other
        message = f"{type(exc).__name__}: {exc}"
        return BatchOutcome(False, message, is_transient(message), seconds=time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if invocation.success:
        return BatchOutcome(True, seconds=seconds)
    failed = [r for r in invocation.results if str(r["status"]).rsplit(".", 1)[-1] in ("error", "fail")]
    model_failed = any(r["unique_id"] == model.unique_id for r in failed)
    first = next((r for r in failed if r["unique_id"] == model.unique_id), failed[0] if failed else None)
    message = str(first["message"]) if first and first.get("message") else invocation.error or "dbt failed"
    message = " ".join(message.split())
    return BatchOutcome(
        False,
        message,
        transient=is_transient(message),
        tests_failed=bool(failed) and not model_failed,
        seconds=seconds,
    )


def backfill_settings(settings: Settings, label: str = "main") -> Settings:
    """The settings dbt runs batches with: a target folder of their own (a worker's: of its own too), so that
    the project's manifest.json and the compile cache's are never overwritten by a batch."""
    import shutil

    root = settings.project.home / "backfill"
    target = root / f"target-{label}"
    target.mkdir(parents=True, exist_ok=True)
    # Start from the freshest partial-parse state there is: a parse then takes a fraction of a second.
    ours = target / "partial_parse.msgpack"
    seed = root / "target-main" if label != "main" else settings.project.target_path
    theirs = seed / "partial_parse.msgpack"
    if theirs.exists() and (not ours.exists() or ours.stat().st_mtime < theirs.stat().st_mtime):
        shutil.copy2(theirs, ours)
    return dataclasses.replace(settings, project=dataclasses.replace(settings.project, target_path=target))


class BatchRunner(Protocol):
    parallelism: int

    def start(self, batch: Batch) -> concurrent.futures.Future[BatchOutcome]: ...

    def close(self) -> None: ...


class InProcessRunner:
    """Batches one at a time in this process: dbt loaded and the project parsed once for the whole run."""

    parallelism = 1

    def __init__(
        self,
        settings: Settings,
        plan: BackfillPlan,
        user_vars: Mapping[str, Any],
        parsed_manifest: Any = None,
    ) -> None:
        self.settings = backfill_settings(settings)
        self.plan = plan
        self.user_vars = dict(user_vars)
        self._manifest: Any = parsed_manifest

    def start(self, batch: Batch) -> concurrent.futures.Future[BatchOutcome]:
        future: concurrent.futures.Future[BatchOutcome] = concurrent.futures.Future()
        try:
            if self._manifest is None:
                self._manifest = parse_manifest(self.settings)
            model = self.plan.model(batch.model)
            future.set_result(run_batch(self.settings, self._manifest, model, batch, self.user_vars))
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            future.set_result(BatchOutcome(False, message, is_transient(message)))
        return future

    def close(self) -> None:
        self._manifest = None


# --- worker processes ---------------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def exit_with_parent(poll_seconds: float = 0.5) -> None:
    """End this process soon after its parent is gone. A coordinator killed outright (SIGKILL, or SIGTERM,
    which Python does not turn into cleanup) cannot stop its workers, and an orphaned worker would go on
    writing batches nobody records, racing the `resume` that redoes them."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:  # an orphan is adopted by init (or a subreaper)
            time.sleep(poll_seconds)
        os._exit(1)  # its batch is unrecorded, so resume redoes it; the engine rolls back what was open

    threading.Thread(target=watch, name="exit-with-coordinator", daemon=True).start()


def _start_worker(settings: Settings, user_vars: Mapping[str, Any], pool: str) -> None:
    """In each worker process: its own dbt target folder, dbt loaded and the project parsed, once."""
    exit_with_parent()
    worker_settings = backfill_settings(settings, f"{pool}-worker-{os.getpid()}")
    _worker.update(settings=worker_settings, manifest=parse_manifest(worker_settings), vars=dict(user_vars))


def _run_in_worker(model: PartitionedModel, batch: Batch) -> BatchOutcome:
    return run_batch(_worker["settings"], _worker["manifest"], model, batch, _worker["vars"])


class WorkerPoolRunner:
    """Batches on N worker processes at once (engines that allow concurrent writers)."""

    def __init__(
        self, settings: Settings, plan: BackfillPlan, user_vars: Mapping[str, Any], workers: int
    ) -> None:
        import multiprocessing
        import secrets

        self.plan = plan
        self.parallelism = workers
        # The workers' target folders carry this pool's name, so that closing the pool removes them.
        self._name = f"pool-{secrets.token_hex(4)}"
        self._root = settings.project.home / "backfill"
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(settings, dict(user_vars), self._name),
        )

    def start(self, batch: Batch) -> concurrent.futures.Future[BatchOutcome]:
        return self._pool.submit(_run_in_worker, self.plan.model(batch.model), batch)

    def close(self) -> None:
        import shutil

        self._pool.shutdown(wait=True, cancel_futures=True)
        for folder in self._root.glob(f"target-{self._name}-worker-*"):
            shutil.rmtree(folder, ignore_errors=True)


# --- the run ------------------------------------------------------------------------------------------------


class BackfillObserver:
    """What a run reports as it goes; the CLI renders it with rich. Every method may be left as is."""

    def note(self, message: str) -> None: ...

    def run_started(self, run_id: str, plan: BackfillPlan, workers: int) -> None: ...

    def batch_started(self, batch: Batch, attempt: int) -> None: ...

    def batch_retrying(self, batch: Batch, attempt: int, delay: float, message: str) -> None: ...

    def batch_split(self, batch: Batch, message: str) -> None: ...

    def intervals_settled(
        self, model: str, intervals: list[Interval], status: str, message: str | None
    ) -> None: ...

    def run_finished(self, result: BackfillResult) -> None: ...


@dataclass
class BackfillResult:
    run_id: str
    plan: BackfillPlan
    outcomes: dict[tuple[str, Interval], IntervalOutcome] = field(default_factory=dict)
    cancelled: bool = False
    seconds: float = 0.0

    def count(self, status: str, model: str | None = None) -> int:
        return sum(1 for (m, _), o in self.outcomes.items() if o.status == status and model in (None, m))

    @property
    def failures(self) -> list[tuple[str, Interval, str]]:
        """(model name, interval, message) of every failed interval, in plan order."""
        return [
            (self.plan.model(model).name, interval, outcome.message or "")
            for (model, interval), outcome in sorted(self.outcomes.items())
            if outcome.status == FAILED
        ]

    @property
    def succeeded(self) -> bool:
        return not self.cancelled and all(o.status == DONE for o in self.outcomes.values())

    @property
    def exit_code(self) -> int:
        return 0 if self.succeeded else 1


def execute(
    plan: BackfillPlan,
    run_id: str,
    store: StateStore,
    runner: BatchRunner,
    observer: BackfillObserver,
    options: ExecutionOptions,
) -> BackfillResult:
    """Run the plan's due intervals; every one ends done, failed, skipped or cancelled."""
    return _Execution(plan, run_id, store, runner, observer, options).run()


class _Execution:
    def __init__(
        self,
        plan: BackfillPlan,
        run_id: str,
        store: StateStore,
        runner: BatchRunner,
        observer: BackfillObserver,
        options: ExecutionOptions,
    ) -> None:
        self.plan, self.run_id, self.store, self.runner = plan, run_id, store, runner
        self.observer, self.options = observer, options
        self.scheduler = Scheduler(plan)
        self.result = BackfillResult(run_id, plan)
        self.in_flight: dict[concurrent.futures.Future[BatchOutcome], tuple[Batch, int]] = {}
        self.retries: list[tuple[float, Batch, int]] = []  # (not before, batch, attempt)
        self.next_cancel_check = 0.0
        self.started_at = datetime.min

    def run(self) -> BackfillResult:
        started = time.perf_counter()
        self.started_at = self.store.record_event(
            self.run_id,
            "started",
            {"pid": os.getpid(), "host": socket.gethostname(), "workers": self.runner.parallelism},
        )
        self.observer.run_started(self.run_id, self.plan, self.runner.parallelism)
        try:
            while not self.scheduler.finished or self.in_flight or self.retries:
                self._check_cancel()
                self._launch()
                if self.in_flight:
                    self._collect()
                elif self.retries:
                    time.sleep(max(0.0, min(r[0] for r in self.retries) - time.monotonic()))
                elif not self.scheduler.finished and not self.scheduler.busy:
                    self._report(self.scheduler.skip_stalled())
        finally:
            self.runner.close()
        result = self.result
        result.outcomes = dict(self.scheduler.outcomes)
        result.seconds = time.perf_counter() - started
        self.store.record_event(
            self.run_id,
            "finished",
            {
                "done": result.count(DONE),
                "failed": result.count(FAILED),
                "skipped": result.count(SKIPPED),
                "cancelled": result.cancelled,
                "failures": [
                    {"model": name, "interval": interval.label(), "message": message[:500]}
                    for name, interval, message in result.failures
                ],
                "seconds": round(result.seconds, 3),
            },
        )
        self.observer.run_finished(result)
        return result

    def _check_cancel(self) -> None:
        now = time.monotonic()
        if self.result.cancelled or now < self.next_cancel_check:
            return
        self.next_cancel_check = now + self.options.cancel_poll_seconds
        if not self.store.cancel_requested(self.run_id, since=self.started_at):
            return
        self.result.cancelled = True
        self.observer.note("cancel requested: letting the running batches finish, starting nothing more")
        for _, batch, _ in self.retries:
            self.scheduler.abandon(batch, "cancelled before its retry")
            self._report([(batch.model, interval) for interval in batch.intervals])
        self.retries.clear()
        self._report(self.scheduler.cancel())

    def _launch(self) -> None:
        capacity = self.runner.parallelism - len(self.in_flight)
        now = time.monotonic()
        for item in sorted(self.retries, key=lambda r: r[0]):
            if capacity > 0 and item[0] <= now:
                self.retries.remove(item)
                self._start(item[1], item[2])
                capacity -= 1
        if capacity > 0 and not self.result.cancelled:
            for batch in self.scheduler.next_batches(capacity):
                self._start(batch, 1)

    def _start(self, batch: Batch, attempt: int) -> None:
        self.observer.batch_started(batch, attempt)
        self.store.release()
        self.in_flight[self.runner.start(batch)] = (batch, attempt)

    def _collect(self) -> None:
        finished, _ = concurrent.futures.wait(
            list(self.in_flight),
            timeout=self.options.cancel_poll_seconds,
            return_when=concurrent.futures.FIRST_COMPLETED,
        )
        for future in finished:
            batch, attempt = self.in_flight.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # a worker process died (BrokenProcessPool) or could not start
                outcome = BatchOutcome(False, f"{type(exc).__name__}: {exc}")
            self._settle(batch, outcome, attempt)

    def _settle(self, batch: Batch, outcome: BatchOutcome, attempt: int) -> None:
        model = self.plan.model(batch.model)
        intervals = [(batch.model, interval) for interval in batch.intervals]
        if outcome.ok:
            try:
                self.store.record_intervals(self.run_id, model.unique_id, model.fingerprint, batch.intervals)
            except Exception as exc:  # the rows are in; without the record the batch runs again next time
                self._report(intervals + self.scheduler.failed(batch, f"built, but not recorded: {exc}"))
            else:
                self.scheduler.succeeded(batch)
                self._report(intervals)
        elif outcome.transient and attempt < self.options.max_attempts and not self.result.cancelled:
            delay = min(self.options.retry_delay * 2 ** (attempt - 1), self.options.max_retry_delay)
            self.retries.append((time.monotonic() + delay, batch, attempt + 1))
            self.observer.batch_retrying(batch, attempt, delay, outcome.message or "")
        elif len(batch.intervals) > 1 and not (
            outcome.tests_failed or outcome.transient or self.result.cancelled
        ):
            # A permanent error in a model: halve the batch until the failing interval stands alone.
            self.scheduler.split(batch)
            self.observer.batch_split(batch, outcome.message or "")
        else:
            self._report(intervals + self.scheduler.failed(batch, outcome.message or "failed"))

    def _report(self, settled: list[tuple[str, Interval]]) -> None:
        """Tell the observer how these intervals ended, grouped by model, status and message."""
        groups: dict[tuple[str, str, str | None], list[Interval]] = {}
        for model, interval in settled:
            outcome = self.scheduler.outcomes[(model, interval)]
            groups.setdefault((model, outcome.status, outcome.message), []).append(interval)
        for (model, status, message), intervals in groups.items():
            self.observer.intervals_settled(model, intervals, status, message)
