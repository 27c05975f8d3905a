"""Which batch runs next: intervals in dependency order, one batch per model at a time, failures contained.

Pure bookkeeping over a plan, no I/O, so that the executor's loop stays small and every rule here is tested
on its own:
- a model's intervals run in time order, one batch of the model at a time (two batches never write one
  table at once, and a plain incremental run keeps seeing the newest partitions last);
- a batch takes the model's earliest pending interval whose upstream intervals are done, and the contiguous
  ready ones after it, up to the batch size;
- a failed batch of several intervals is split in two and each half retried, so that a permanent failure is
  narrowed down to the interval that causes it; a failed single interval fails, and every interval that reads
  it, directly or not, is skipped; the rest goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from framework.backfill.intervals import Interval
from framework.backfill.planner import DEFAULT_BATCH_SIZE, BackfillPlan, Batch

PENDING, RUNNING, DONE, FAILED, SKIPPED, CANCELLED = (
    "pending",
    "running",
    "done",
    "failed",
    "skipped",
    "cancelled",
)


@dataclass(frozen=True)
class IntervalOutcome:
    status: str
    message: str | None = None


class Scheduler:
    def __init__(self, plan: BackfillPlan) -> None:
        self.plan = plan
        self.outcomes: dict[tuple[str, Interval], IntervalOutcome] = {
            (model, interval): IntervalOutcome(PENDING) for model, due in plan.due.items() for interval in due
        }
        self._pending: dict[str, list[Interval]] = {
            model.unique_id: sorted(plan.due.get(model.unique_id, {})) for model in plan.models
        }
        self._halves: dict[str, deque[Batch]] = {model.unique_id: deque() for model in plan.models}
        self._busy: set[str] = set()

    # --- asking ---------------------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return not self._busy and not any(self._pending.values()) and not any(self._halves.values())

    @property
    def busy(self) -> bool:
        return bool(self._busy)

    def status(self, model: str, interval: Interval) -> str:
        return self.outcomes[(model, interval)].status

    def next_batches(self, limit: int) -> list[Batch]:
        """Up to `limit` batches that may start now; their models become busy."""
        batches: list[Batch] = []
        for model in self.plan.models:
            if len(batches) >= limit:
                break
            unique_id = model.unique_id
            if unique_id in self._busy:
                continue
            batch = self._halves[unique_id].popleft() if self._halves[unique_id] else self._take(unique_id)
            if batch is None:
                continue
            self._busy.add(unique_id)
            for interval in batch.intervals:
                self.outcomes[(unique_id, interval)] = IntervalOutcome(RUNNING)
            batches.append(batch)
        return batches

    def _take(self, model: str) -> Batch | None:
        pending = self._pending[model]
        if not pending or not self._ready(model, pending[0]):
            return None
        size = self.plan.batch_size or DEFAULT_BATCH_SIZE[self.plan.grain or self.plan.model(model).grain]
        taken = [pending[0]]
        for interval in pending[1:]:
            if len(taken) >= size or interval.start != taken[-1].end or not self._ready(model, interval):
                break
            taken.append(interval)
        del pending[: len(taken)]
        return Batch(model, tuple(taken))

    def _ready(self, model: str, interval: Interval) -> bool:
        return all(
            self.outcomes.get((parent, parent_interval), IntervalOutcome(DONE)).status == DONE
            for parent, parent_interval in self.plan.upstream_intervals(model, interval)
        )

    # --- telling --------------------------------------------------------------------------------------------

    def succeeded(self, batch: Batch) -> None:
        self._settle(batch, IntervalOutcome(DONE))

    def failed(self, batch: Batch, message: str) -> list[tuple[str, Interval]]:
        """Fail the batch's intervals; returns the intervals skipped because they read them."""
        self._settle(batch, IntervalOutcome(FAILED, message))
        return self._skip_dependents()

    def abandon(self, batch: Batch, message: str) -> None:
        """A batch taken but not finished because the run was cancelled."""
        self._settle(batch, IntervalOutcome(CANCELLED, message))

    def split(self, batch: Batch) -> None:
        """Retry a failed batch as two halves (before anything else of its model)."""
        self._busy.discard(batch.model)
        for half in reversed(batch.halves()):
            self._halves[batch.model].appendleft(half)
            self._mark(batch.model, half.intervals, IntervalOutcome(PENDING))

    def cancel(self) -> list[tuple[str, Interval]]:
        """Start nothing more: what is queued is cancelled (and returned); running batches still report back."""
        cancelled = []
        for model, pending in self._pending.items():
            queued = [*pending, *(i for half in self._halves[model] for i in half.intervals)]
            self._mark(model, queued, IntervalOutcome(CANCELLED, "cancelled"))
            cancelled += [(model, interval) for interval in queued]
            pending.clear()
            self._halves[model].clear()
        return cancelled

    def skip_stalled(self) -> list[tuple[str, Interval]]:
        """Nothing runs and nothing can start: give up on what is left, which waits on what did not run."""
        skipped = []
        for model, pending in self._pending.items():
            self._mark(
                model, pending, IntervalOutcome(SKIPPED, "waiting on an upstream interval that did not run")
            )
            skipped += [(model, interval) for interval in pending]
            pending.clear()
        return skipped

    def _settle(self, batch: Batch, outcome: IntervalOutcome) -> None:
        self._busy.discard(batch.model)
        self._mark(batch.model, batch.intervals, outcome)

    def _mark(self, model: str, intervals: Iterable[Interval], outcome: IntervalOutcome) -> None:
        for interval in intervals:
            self.outcomes[(model, interval)] = outcome

    def _skip_dependents(self) -> list[tuple[str, Interval]]:
        # Parents come first in plan.models, so one pass carries a failure all the way down.
        skipped = []
        for model in self.plan.models:
            unique_id = model.unique_id
            kept = []
            for interval in self._pending[unique_id]:
                blocker = next(
                    (
                        (parent, parent_interval)
                        for parent, parent_interval in self.plan.upstream_intervals(unique_id, interval)
                        if self.outcomes.get((parent, parent_interval), IntervalOutcome(DONE)).status
                        in (FAILED, SKIPPED)
                    ),
                    None,
                )
                if blocker is None:
                    kept.append(interval)
                    continue
                parent, parent_interval = blocker
                reason = f"upstream {self.plan.model(parent).name} {parent_interval.label()} did not complete"
                self.outcomes[(unique_id, interval)] = IntervalOutcome(SKIPPED, reason)
                skipped.append((unique_id, interval))
            self._pending[unique_id] = kept
        return skipped
