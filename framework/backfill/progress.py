"""How backfills look to a person: a live rich progress display, the plan, the summary and run status.

Imported by the CLI only (rich is loaded here, never at `overclock` start-up).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from framework.backfill.executor import BackfillObserver, BackfillResult
from framework.backfill.intervals import Interval, merge_intervals
from framework.backfill.planner import BackfillPlan, Batch
from framework.backfill.runs import PreparedBackfill, RunStatus
from framework.backfill.scheduler import CANCELLED, DONE, FAILED, SKIPPED
from framework.reporting import whole_column

_STATUS_STYLE = {DONE: "green", FAILED: "bold red", SKIPPED: "yellow", CANCELLED: "yellow"}


def _ranges(intervals: Sequence[Interval]) -> str:
    merged = merge_intervals(intervals)
    shown = ", ".join(interval.label() for interval in merged[:3])
    return shown + (f" (+{len(merged) - 3} more)" if len(merged) > 3 else "")


class RichProgress(BackfillObserver):
    """Intervals done / total with ETA, and the batches running now."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.progress = Progress(
            TextColumn("[bold]backfill[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("intervals"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[running]}"),
            console=self.console,
            transient=False,
        )
        self.task: Any = None
        self.plan: BackfillPlan | None = None
        self.running: dict[tuple[str, Interval], str] = {}

    def note(self, message: str) -> None:
        self.console.print(f"[dim]note:[/dim] {message}")

    def run_started(self, run_id: str, plan: BackfillPlan, workers: int) -> None:
        self.plan = plan
        if not plan.due_count:  # a resumed run whose intervals are all recorded: nothing to resume
            self.console.print(
                f"run [bold]{run_id}[/bold]: every interval is recorded as done", soft_wrap=True
            )
            return
        self.console.print(
            f"run [bold]{run_id}[/bold]: {plan.due_count} of {plan.total_intervals} intervals due, "
            f"{len(plan.batches)} batch(es), {workers} worker(s) — if interrupted, "
            f"`overclock backfill resume {run_id}` continues it",
            soft_wrap=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("backfill", total=plan.due_count, running="")

    def _refresh(self) -> None:
        if self.task is not None:
            self.progress.update(self.task, running=" · ".join(self.running.values())[:80])

    def batch_started(self, batch: Batch, attempt: int) -> None:
        assert self.plan is not None
        retry = f" (attempt {attempt})" if attempt > 1 else ""
        self.running[(batch.model, batch.window)] = (
            f"{self.plan.model(batch.model).name} {batch.window.label()}{retry}"
        )
        self._refresh()

    def batch_retrying(self, batch: Batch, attempt: int, delay: float, message: str) -> None:
        assert self.plan is not None
        self.running.pop((batch.model, batch.window), None)
        self.progress.console.print(
            f"[yellow]retry[/yellow] {self.plan.model(batch.model).name} {batch.window.label()} in {delay:.0f}s "
            f"(transient: {message[:120]})"
        )
        self._refresh()

    def batch_split(self, batch: Batch, message: str) -> None:
        assert self.plan is not None
        self.running.pop((batch.model, batch.window), None)
        self.progress.console.print(
            f"[yellow]split[/yellow] {self.plan.model(batch.model).name} {batch.window.label()} failed; "
            f"running it in halves to find the failing partition ({message[:120]})"
        )
        self._refresh()

    def intervals_settled(
        self, model: str, intervals: list[Interval], status: str, message: str | None
    ) -> None:
        assert self.plan is not None
        for key in [
            key for key in self.running if key[0] == model and any(key[1].overlaps(i) for i in intervals)
        ]:
            self.running.pop(key)
        if status != DONE:
            style = _STATUS_STYLE.get(status, "")
            self.progress.console.print(
                f"[{style}]{status}[/{style}] {self.plan.model(model).name} {_ranges(intervals)}"
                + (f": {message[:200]}" if message else "")
            )
        if self.task is not None:
            self.progress.advance(self.task, len(intervals))
        self._refresh()

    def run_finished(self, result: BackfillResult) -> None:
        if self.task is not None:
            self.progress.stop()
        render_summary(result, self.console)


def render_plan(prepared: PreparedBackfill, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    plan = prepared.plan
    for note in prepared.notes:
        console.print(f"[dim]note:[/dim] {note}")
    table = Table(title=f"backfill plan · {plan.span.label()} (dry run: nothing ran)", show_edge=False)
    whole = {
        "model": whole_column([model.name for model in plan.models], "model"),
        "strategy": whole_column([model.strategy for model in plan.models], "strategy"),
    }
    for column in ("model", "strategy", "grain", "intervals", "due", "why", "batches"):
        justify = "right" if column in ("intervals", "due", "batches") else "left"
        table.add_column(column, justify=justify, **whole.get(column, {}))  # type: ignore[arg-type]
    for model in plan.models:
        due = plan.due[model.unique_id]
        reasons = Counter(due.values())
        table.add_row(
            model.name,
            model.strategy,
            (plan.grain or model.grain).value,
            str(len(plan.intervals[model.unique_id])),
            str(len(due)),
            ", ".join(f"{reason} ({count})" for reason, count in reasons.most_common()) or "all done",
            str(sum(1 for batch in plan.batches if batch.model == model.unique_id)),
        )
    console.print(table)
    for batch in plan.batches[:20]:
        console.print(
            f"  {plan.model(batch.model).name:<30} {batch.window.label()}  ({len(batch.intervals)} partitions)"
        )
    if len(plan.batches) > 20:
        console.print(f"  ... and {len(plan.batches) - 20} more batch(es)")


def render_summary(result: BackfillResult, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    plan = result.plan
    title = f"backfill {result.run_id or '(nothing due: no run)'} · {result.seconds:.1f}s"
    title += " · cancelled" if result.cancelled else ""
    table = Table(title=title, show_edge=False)
    table.add_column("model", **whole_column([model.name for model in plan.models], "model"))
    for column in ("intervals", "due", DONE, FAILED, SKIPPED, CANCELLED):
        table.add_column(column, justify="right")
    for model in plan.models:
        uid = model.unique_id
        table.add_row(
            model.name,
            str(len(plan.intervals[uid])),
            str(len(plan.due[uid])),
            *(_count(result.count(status, uid), status) for status in (DONE, FAILED, SKIPPED, CANCELLED)),
        )
    console.print(table)
    for name, interval, message in result.failures:
        console.print(f"[bold red]failed[/bold red] {name} {interval.label()}: {message[:400]}")
    if not plan.due_count:
        console.print("nothing to do: every interval is recorded as done for the models' current SQL")


def _count(value: int, status: str) -> str:
    style = _STATUS_STYLE.get(status)
    return f"[{style}]{value}[/{style}]" if value and style else str(value)


def render_status(status: RunStatus, console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    request = status.request
    console.print(f"run [bold]{status.run_id}[/bold]: [bold]{status.state}[/bold]")
    if request:
        console.print(
            f"  selection {' '.join(request.select)}"
            + (f" --exclude {' '.join(request.exclude)}" if request.exclude else "")
            + f" · {request.start} → {request.end} · "
            f"grain {request.grain or 'model'} · planned {status.planned_at:%Y-%m-%d %H:%M} UTC"
        )
    due = sum(status.due.values())
    console.print(f"  intervals recorded by this run: {status.done_by_run} of {due} due when planned")
    if status.finished:
        detail = status.finished
        console.print(
            f"  last attempt: {detail.get('done', 0)} done, {detail.get('failed', 0)} failed, "
            f"{detail.get('skipped', 0)} skipped in {detail.get('seconds', 0)}s"
        )
        for failure in detail.get("failures", []):
            console.print(
                f"  [bold red]failed[/bold red] {failure['model']} {failure['interval']}: {failure['message'][:300]}"
            )
    if status.state in ("interrupted", "failed", "cancelled"):
        console.print(f"  continue it with `overclock backfill resume {status.run_id}`")


def render_runs(runs: Sequence[RunStatus], console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    if not runs:
        console.print("no backfill runs in this namespace")
        return
    table = Table(title="backfill runs (newest first)", show_edge=False)
    table.add_column("run", **whole_column([run.run_id for run in runs], "run"))
    for column in ("state", "selection", "range", "planned (UTC)", "recorded"):
        table.add_column(column)
    for run in runs:
        request = run.request
        table.add_row(
            run.run_id,
            run.state,
            " ".join([*request.select, *(f"--exclude {e}" for e in request.exclude)]) if request else "",
            f"{request.start} → {request.end}" if request else "",
            f"{run.planned_at:%Y-%m-%d %H:%M}" if run.planned_at else "",
            f"{run.done_by_run}/{sum(run.due.values())}",
        )
    console.print(table)
