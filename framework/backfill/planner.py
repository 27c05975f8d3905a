"""The planner: (selected sub-DAG × partitions) → the intervals that are due, coalesced into batches.

Pure: it is given the models, what the state store has recorded, which tables exist and the DAG, and touches
nothing. An interval of a model is due when it is not recorded as done under the model's current
fingerprint, when the model's table is missing, or when an interval it reads from a selected upstream model
is due. A backfill window is exact: a model's interval reads the upstream intervals that overlap it (a
model's `lookback` widens plain incremental runs only, for late data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from framework.backfill.intervals import Grain, Interval, contiguous_runs, is_covered, partitions
from framework.backfill.models import BackfillError, PartitionedModel

# Partitions per batch when --batch-size is not given: one dbt invocation replaces this many at once.
DEFAULT_BATCH_SIZE = {Grain.HOUR: 24 * 7, Grain.DAY: 92, Grain.MONTH: 12, Grain.YEAR: 5}

DUE_MISSING = "not done"
DUE_NEW_FINGERPRINT = "changed since recorded"  # its SQL, config or macros, or those of a model it reads
DUE_TABLE_MISSING = "table missing"
DUE_UPSTREAM = "upstream due"


@dataclass(frozen=True)
class Batch:
    """One dbt invocation: a model over contiguous intervals."""

    model: str
    intervals: tuple[Interval, ...]

    @property
    def window(self) -> Interval:
        return Interval(self.intervals[0].start, self.intervals[-1].end)

    def halves(self) -> tuple[Batch, Batch]:
        middle = len(self.intervals) // 2
        return Batch(self.model, self.intervals[:middle]), Batch(self.model, self.intervals[middle:])


@dataclass(frozen=True)
class BackfillPlan:
    span: Interval
    grain: Grain | None  # None: each model's own grain
    models: tuple[PartitionedModel, ...]  # parents before children
    intervals: Mapping[str, tuple[Interval, ...]]  # every interval of the range, per model
    due: Mapping[str, Mapping[Interval, str]]  # the due ones, per model, with the reason
    batches: tuple[Batch, ...]
    upstream: Mapping[str, tuple[str, ...]]  # selected models each model reads, directly or through others
    batch_size: int | None = None

    @property
    def total_intervals(self) -> int:
        return sum(len(v) for v in self.intervals.values())

    @property
    def due_count(self) -> int:
        return sum(len(v) for v in self.due.values())

    def model(self, unique_id: str) -> PartitionedModel:
        return next(m for m in self.models if m.unique_id == unique_id)

    def upstream_intervals(self, unique_id: str, interval: Interval) -> list[tuple[str, Interval]]:
        """The intervals of selected upstream models, in this plan, that this interval reads."""
        return _upstream_intervals(self.model(unique_id), interval, self.upstream, self.intervals)


def plan_backfill(
    models: Sequence[PartitionedModel],
    span: Interval,
    grain: Grain | None,
    recorded: Mapping[str, Mapping[str, Sequence[Interval]]],
    tables_present: Mapping[str, bool],
    lineage: Mapping[str, Sequence[str]],
    batch_size: int | None = None,
) -> BackfillPlan:
    """Plan `models` over `span`.

    recorded: model → fingerprint → merged intervals done under it (from the state store).
    lineage: node → the nodes it reads (models, seeds, snapshots), for the whole project.
    """
    if batch_size is not None and batch_size < 1:
        raise BackfillError("--batch-size must be at least 1")
    for model in models:
        if grain is not None and grain.rank < model.grain.rank:
            raise BackfillError(
                f"model '{model.name}' is partitioned by {model.grain.value}: it cannot be backfilled by "
                f"{grain.value}; use --grain {model.grain.value} or coarser"
            )
    ordered = dependency_order(models, lineage)
    selected = {model.unique_id for model in ordered}
    upstream = {model.unique_id: _selected_ancestors(model.unique_id, selected, lineage) for model in ordered}
    intervals: dict[str, tuple[Interval, ...]] = {}
    for model in ordered:
        model_grain = grain or model.grain
        intervals[model.unique_id] = tuple(
            partitions(Interval(model_grain.floor(span.start), model_grain.ceil(span.end)), model_grain)
        )

    due: dict[str, dict[Interval, str]] = {}
    for model in ordered:  # parents first: their due intervals are known when a child is planned
        current = recorded.get(model.unique_id, {}).get(model.fingerprint, [])
        stale = [
            i
            for fingerprint, done in recorded.get(model.unique_id, {}).items()
            if fingerprint != model.fingerprint
            for i in done
        ]
        reasons: dict[Interval, str] = {}
        for interval in intervals[model.unique_id]:
            if not tables_present.get(model.unique_id, False):
                reasons[interval] = DUE_TABLE_MISSING
            elif not is_covered(interval, current):
                stale_cover = any(s.start <= interval.start and interval.end <= s.end for s in stale)
                reasons[interval] = DUE_NEW_FINGERPRINT if stale_cover else DUE_MISSING
            elif any(
                parent_interval in due[parent]
                for parent, parent_interval in _upstream_intervals(model, interval, upstream, intervals)
            ):
                reasons[interval] = DUE_UPSTREAM
        due[model.unique_id] = reasons

    batches = tuple(
        Batch(model.unique_id, run)
        for model in ordered
        for run in contiguous_runs(
            list(due[model.unique_id]), batch_size or DEFAULT_BATCH_SIZE[grain or model.grain]
        )
    )
    return BackfillPlan(
        span=span,
        grain=grain,
        models=tuple(ordered),
        intervals=intervals,
        due=due,
        batches=batches,
        upstream=upstream,
        batch_size=batch_size,
    )


def _upstream_intervals(
    model: PartitionedModel,
    interval: Interval,
    upstream: Mapping[str, Sequence[str]],
    intervals: Mapping[str, Sequence[Interval]],
) -> list[tuple[str, Interval]]:
    return [
        (parent, candidate)
        for parent in upstream.get(model.unique_id, ())
        for candidate in intervals[parent]
        if candidate.overlaps(interval)
    ]


def _selected_ancestors(
    unique_id: str, selected: set[str], lineage: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """Selected models upstream of unique_id, reached directly or through unselected nodes in between."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = list(lineage.get(unique_id, ()))
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in selected:
            found.add(current)  # its own ancestors are ordered through it
        else:
            stack.extend(lineage.get(current, ()))
    return tuple(sorted(found))


def dependency_order(
    models: Sequence[PartitionedModel], lineage: Mapping[str, Sequence[str]]
) -> list[PartitionedModel]:
    """Models sorted parents first; ties by unique_id, so that plans are deterministic."""
    from graphlib import TopologicalSorter

    sorter: TopologicalSorter[str] = TopologicalSorter(
        {node: set(parents) for node, parents in lineage.items()}
    )
    sorter.prepare()
    order: dict[str, int] = {}
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        for node in ready:
            order[node] = len(order)
        sorter.done(*ready)
    return sorted(models, key=lambda model: order.get(model.unique_id, -1))
