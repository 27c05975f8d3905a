"""The planner and the scheduler on synthetic models: what is due, in which batches, in which order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime as dt

import pytest

from framework.backfill.intervals import Grain, Interval
from framework.backfill.models import BackfillError, PartitionedModel
from framework.backfill.planner import (
    DUE_MISSING,
    DUE_NEW_FINGERPRINT,
    DUE_TABLE_MISSING,
    DUE_UPSTREAM,
    Batch,
    plan_backfill,
)
from framework.backfill.scheduler import DONE, FAILED, PENDING, SKIPPED, Scheduler

JANUARY = Interval(dt(2025, 1, 1), dt(2025, 1, 11))  # ten days


def model(name: str, parents: Sequence[str] = (), grain: Grain = Grain.DAY) -> PartitionedModel:
    return PartitionedModel(
        unique_id=f"model.p.{name}",
        name=name,
        fqn=("p", name),
        database=None,
        schema="s",
        alias=name,
        strategy="partition_replace",
        field="d",
        data_type="date" if grain is not Grain.HOUR else "timestamp",
        grain=grain,
        parents=tuple(f"model.p.{parent}" for parent in parents),
        fingerprint=f"fp-{name}",
    )


def day(d: int) -> Interval:
    return Interval(dt(2025, 1, d), dt(2025, 1, d + 1))


def days(*numbers: int) -> list[Interval]:
    return [day(d) for d in numbers]


def plan(
    models: Sequence[PartitionedModel], recorded=None, present=None, batch_size=None, grain=None, lineage=None
):  # type: ignore[no-untyped-def]
    return plan_backfill(
        models,
        JANUARY,
        grain,
        recorded or {},
        present if present is not None else {m.unique_id: True for m in models},
        lineage if lineage is not None else {m.unique_id: list(m.parents) for m in models},
        batch_size,
    )


# --- planner ------------------------------------------------------------------------------------------------


def test_everything_is_due_at_first_and_contiguous_partitions_coalesce() -> None:
    result = plan([model("a")], batch_size=4)
    assert list(result.due["model.p.a"]) == days(*range(1, 11))
    assert set(result.due["model.p.a"].values()) == {DUE_MISSING}
    assert [len(batch.intervals) for batch in result.batches] == [4, 4, 2]
    assert result.batches[0].window == Interval(dt(2025, 1, 1), dt(2025, 1, 5))


def test_done_intervals_are_skipped_and_gaps_split_batches() -> None:
    a = model("a")
    recorded = {a.unique_id: {a.fingerprint: [Interval(dt(2025, 1, 3), dt(2025, 1, 6))]}}
    result = plan([a], recorded=recorded)
    assert list(result.due[a.unique_id]) == days(1, 2, 6, 7, 8, 9, 10)
    assert [batch.window for batch in result.batches] == [
        Interval(dt(2025, 1, 1), dt(2025, 1, 3)),
        Interval(dt(2025, 1, 6), dt(2025, 1, 11)),
    ]


def test_a_new_fingerprint_makes_recorded_intervals_due_again() -> None:
    a = model("a")
    recorded = {a.unique_id: {"an-older-fingerprint": [JANUARY]}}
    result = plan([a], recorded=recorded)
    assert len(result.due[a.unique_id]) == 10
    assert set(result.due[a.unique_id].values()) == {DUE_NEW_FINGERPRINT}


def test_a_missing_table_is_never_done() -> None:
    a = model("a")
    result = plan([a], recorded={a.unique_id: {a.fingerprint: [JANUARY]}}, present={a.unique_id: False})
    assert set(result.due[a.unique_id].values()) == {DUE_TABLE_MISSING}


def test_a_due_parent_interval_makes_the_child_intervals_that_read_it_due() -> None:
    parent, child = model("parent"), model("child", parents=["parent"])
    recorded = {
        parent.unique_id: {
            # The parent's day 4 is due again (say its record was lost).
            parent.fingerprint: [
                Interval(dt(2025, 1, 1), dt(2025, 1, 4)),
                Interval(dt(2025, 1, 5), dt(2025, 1, 11)),
            ]
        },
        child.unique_id: {child.fingerprint: [JANUARY]},
    }
    result = plan([child, parent], recorded=recorded)
    assert list(result.due[parent.unique_id]) == [day(4)]
    # A backfill window is exact (a model's lookback widens plain incremental runs only): the child's day 4
    # reads it, and only that day.
    assert dict(result.due[child.unique_id]) == {day(4): DUE_UPSTREAM}
    assert [m.name for m in result.models] == ["parent", "child"]  # parents first, whatever the input order


def test_upstream_reaches_through_unselected_models() -> None:
    parent, child = model("parent"), model("child", parents=["view_between"])
    lineage = {
        parent.unique_id: [],
        "model.p.view_between": [parent.unique_id],
        child.unique_id: ["model.p.view_between"],
    }
    result = plan([child, parent], lineage=lineage)
    assert result.upstream[child.unique_id] == (parent.unique_id,)
    assert result.upstream_intervals(child.unique_id, day(3)) == [(parent.unique_id, day(3))]


def test_coarser_grain_is_allowed_finer_is_refused() -> None:
    a = model("a")
    monthly = plan([a], grain=Grain.MONTH)
    assert list(monthly.due[a.unique_id]) == [Interval(dt(2025, 1, 1), dt(2025, 2, 1))]
    with pytest.raises(BackfillError, match="partitioned by day"):
        plan([a], grain=Grain.HOUR)


def test_models_of_different_grains_depend_by_time_overlap() -> None:
    hourly = model("hourly", grain=Grain.HOUR)
    daily = model("daily", parents=["hourly"])
    result = plan([hourly, daily])
    reads = result.upstream_intervals(daily.unique_id, day(2))
    assert len(reads) == 24 and {parent for parent, _ in reads} == {hourly.unique_id}


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(BackfillError, match="batch-size"):
        plan([model("a")], batch_size=0)


# --- scheduler ----------------------------------------------------------------------------------------------


def test_a_child_batch_waits_for_the_parent_intervals_it_reads() -> None:
    parent, child = model("parent"), model("child", parents=["parent"])
    scheduler = Scheduler(plan([parent, child], batch_size=5))
    first = scheduler.next_batches(limit=4)
    assert first == [Batch(parent.unique_id, tuple(days(1, 2, 3, 4, 5)))]  # the child cannot start yet
    scheduler.succeeded(first[0])
    second = scheduler.next_batches(limit=4)
    # The child takes what is ready: days 1-5, whose parent days are done.
    assert second == [
        Batch(parent.unique_id, tuple(days(6, 7, 8, 9, 10))),
        Batch(child.unique_id, tuple(days(1, 2, 3, 4, 5))),
    ]


def test_one_batch_per_model_at_a_time() -> None:
    scheduler = Scheduler(plan([model("a")], batch_size=2))
    assert len(scheduler.next_batches(limit=8)) == 1
    assert scheduler.next_batches(limit=8) == []


def test_a_failure_is_narrowed_down_and_stops_only_its_dependents() -> None:
    parent, child, other = model("parent"), model("child", parents=["parent"]), model("other")
    scheduler = Scheduler(plan([parent, child, other], batch_size=10))
    batches = scheduler.next_batches(limit=3)
    assert {b.model for b in batches} == {parent.unique_id, other.unique_id}
    scheduler.succeeded(next(b for b in batches if b.model == other.unique_id))
    failing = next(b for b in batches if b.model == parent.unique_id)
    # The engine splits a failed batch until one interval remains; play that out with day 4 poisoned.
    pending, child_batches = [failing], []
    while pending:
        batch = pending.pop(0)
        if day(4) not in batch.intervals:
            scheduler.succeeded(batch)
        elif len(batch.intervals) > 1:
            scheduler.split(batch)
        else:
            scheduler.failed(batch, "boom")
        for taken in scheduler.next_batches(limit=2):
            (pending if taken.model == parent.unique_id else child_batches).append(taken)
    statuses = {interval: scheduler.status(parent.unique_id, interval) for interval in days(*range(1, 11))}
    assert [i for i, s in statuses.items() if s == FAILED] == [day(4)]
    assert all(s == DONE for i, s in statuses.items() if i != day(4))
    # The child's day 4 reads the parent's day 4: skipped. The rest of the child still runs.
    child_skipped = [i for i in days(*range(1, 11)) if scheduler.status(child.unique_id, i) == SKIPPED]
    assert child_skipped == days(4)
    assert "parent 2025-01-04" in (scheduler.outcomes[(child.unique_id, day(4))].message or "")
    # The child runs everything that does not read the failed day, in time order, then the run is over.
    while child_batches:
        scheduler.succeeded(child_batches.pop(0))
        child_batches += scheduler.next_batches(limit=3)
    child_done = [i for i in days(*range(1, 11)) if scheduler.status(child.unique_id, i) == DONE]
    assert child_done == days(1, 2, 3, 5, 6, 7, 8, 9, 10)
    assert scheduler.finished


def test_cancel_leaves_running_batches_alone() -> None:
    scheduler = Scheduler(plan([model("a"), model("b")], batch_size=5))
    running = scheduler.next_batches(limit=1)
    cancelled = scheduler.cancel()
    assert len(cancelled) == 15  # 5 more of a and all 10 of b
    assert scheduler.next_batches(limit=4) == []
    scheduler.succeeded(running[0])
    assert scheduler.finished
    assert all(scheduler.status(*key) != PENDING for key in scheduler.outcomes)
