"""Backfill runs as a Python API: plan, run, resume, status, cancel. The CLI and Dagster call these.

Everything that can be wrong with a request (dates, grain, selection, a model that is not partitioned) is
found while planning, before anything runs; it raises `BackfillError`. A run is recorded in the state store
from its plan on (`planned` event with the request), so `resume RUN_ID` can re-plan it after a crash: the
intervals recorded since are skipped, the others run.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from framework.backfill.executor import (
    BackfillObserver,
    BackfillResult,
    ExecutionOptions,
    InProcessRunner,
    WorkerPoolRunner,
    execute,
)
from framework.backfill.intervals import BACKFILL_GRAINS, Grain, Interval, inclusive_range
from framework.backfill.manifest import load_manifest
from framework.backfill.models import (
    BackfillError,
    data_parents,
    fingerprints,
    is_always_current,
    partitioned_model,
)
from framework.backfill.planner import BackfillPlan, plan_backfill
from framework.backfill.scheduler import DONE
from framework.backfill.selection import select_models
from framework.backfill.state import StateStore

if TYPE_CHECKING:
    from framework.config import Settings


@dataclass(frozen=True)
class BackfillRequest:
    select: tuple[str, ...]
    start: str
    end: str  # inclusive, at the precision written: 2025-12-31 is the whole day
    exclude: tuple[str, ...] = ()
    grain: str | None = None  # None: every model by its own partition grain
    batch_size: int | None = None
    workers: int = 1
    vars: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "select": list(self.select),
            "exclude": list(self.exclude),
            "vars": dict(self.vars),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BackfillRequest:
        return cls(
            select=tuple(data.get("select") or ()),
            start=str(data["start"]),
            end=str(data["end"]),
            exclude=tuple(data.get("exclude") or ()),
            grain=data.get("grain"),
            batch_size=data.get("batch_size"),
            workers=int(data.get("workers") or 1),
            vars=dict(data.get("vars") or {}),
        )


@dataclass
class PreparedBackfill:
    """A plan and what it was made from; `notes` are things the user should know (skipped views...)."""

    request: BackfillRequest
    plan: BackfillPlan
    notes: list[str] = field(default_factory=list)
    parsed_manifest: Any = None  # dbt's Manifest object if planning parsed the project (the batches reuse it)
    blocked: str | None = None  # why running the plan would fail in every batch (inputs not built)


# --- planning -----------------------------------------------------------------------------------------------


def _validate(request: BackfillRequest) -> tuple[Interval, Grain | None]:
    if not request.select:
        raise BackfillError("say what to backfill: -s/--select MODEL (dbt selection syntax, e.g. -s events+)")
    grain: Grain | None = None
    if request.grain is not None:
        try:
            grain = Grain(request.grain.lower())
        except ValueError:
            grain = None
        if grain not in BACKFILL_GRAINS:
            choices = ", ".join(g.value for g in BACKFILL_GRAINS)
            raise BackfillError(f"--grain {request.grain} is not supported: use one of {choices}")
    if request.workers < 1:
        raise BackfillError("--workers must be at least 1")
    if request.batch_size is not None and request.batch_size < 1:
        raise BackfillError("--batch-size must be at least 1")
    try:
        span = inclusive_range(request.start, request.end, grain or Grain.HOUR)
    except ValueError as exc:
        raise BackfillError(str(exc)) from None
    return span, grain


def _lineage(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    nodes = manifest["nodes"]
    return {
        unique_id: [
            parent
            for parent in (node.get("depends_on") or {}).get("nodes") or []
            if parent in nodes and nodes[parent]["resource_type"] in ("model", "seed", "snapshot")
        ]
        for unique_id, node in nodes.items()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }


def _selected(settings: Settings, manifest: Mapping[str, Any], request: BackfillRequest) -> set[str]:
    chosen = select_models(manifest, request.select, request.exclude)
    if chosen is None:  # a selection method only dbt knows: ask dbt
        from framework.dbt import DbtError, list_unique_ids

        try:
            chosen = set(list_unique_ids(settings, request.select, request.exclude))
        except DbtError as exc:
            raise BackfillError(f"selection {' '.join(request.select)!r}: {exc}") from None
    if not chosen:
        excluding = f" excluding {' '.join(request.exclude)!r}" if request.exclude else ""
        raise BackfillError(
            f"selection {' '.join(request.select)!r}{excluding} matches no model: check the names with `overclock ls`"
        )
    return chosen


def prepare(settings: Settings, request: BackfillRequest, store: StateStore) -> PreparedBackfill:
    """Validate the request and plan it against the state store. Runs nothing, writes nothing."""
    span, grain = _validate(request)
    project_manifest = load_manifest(settings)
    manifest = project_manifest.data
    chosen = _selected(settings, manifest, request)
    notes = []
    always_current = sorted(uid for uid in chosen if is_always_current(manifest, uid))
    if always_current:
        names = ", ".join(manifest["nodes"][uid]["name"] for uid in always_current)
        notes.append(f"views and ephemeral models need no backfill, left out: {names}")
    candidates = sorted(chosen - set(always_current))
    if not candidates:
        raise BackfillError(f"selection {' '.join(request.select)!r} has no partitioned model to backfill")
    prints = fingerprints(manifest, candidates)
    problems, models = [], []
    for unique_id in candidates:
        try:
            models.append(partitioned_model(manifest, unique_id, prints[unique_id]))
        except BackfillError as exc:
            problems.append(str(exc))
    if problems:
        raise BackfillError("; ".join(problems))
    unbuilt = _unbuilt_inputs(manifest, candidates, store)
    blocked = _unbuilt_message(settings, manifest, unbuilt) if unbuilt else None
    if blocked:
        notes.append(blocked)  # a dry run shows it; a run stops on it
    recorded = store.recorded_intervals([model.unique_id for model in models])
    present = store.tables_present([(model.unique_id, model.schema, model.alias) for model in models])
    plan = plan_backfill(models, span, grain, recorded, present, _lineage(manifest), request.batch_size)
    return PreparedBackfill(request, plan, notes, project_manifest.parsed, blocked)


def _inputs(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    """The models, seeds and snapshots whose relations the model reads (through ephemeral models)."""
    found = set()
    for parent in data_parents(manifest, unique_id):
        if (manifest["nodes"][parent].get("config") or {}).get("materialized") == "ephemeral":
            found |= _inputs(manifest, parent)
        else:
            found.add(parent)
    return found


def _unbuilt_inputs(manifest: Mapping[str, Any], backfilled: Sequence[str], store: StateStore) -> list[str]:
    """What the backfilled models read from outside the backfill that is not built in this namespace: every
    batch would fail on it (one dbt run per partition, as failures are narrowed down), so it stops the run."""
    outside = sorted({parent for uid in backfilled for parent in _inputs(manifest, uid)} - set(backfilled))
    nodes = manifest["nodes"]
    present = store.tables_present([(uid, nodes[uid]["schema"], nodes[uid]["alias"]) for uid in outside])
    return [uid for uid in outside if not present[uid]]


def _unbuilt_message(settings: Settings, manifest: Mapping[str, Any], unbuilt: Sequence[str]) -> str:
    nodes = manifest["nodes"]
    shown = ", ".join(
        f"{nodes[uid]['name']} ({nodes[uid]['schema']}.{nodes[uid]['alias']})" for uid in unbuilt[:3]
    )
    more = f" and {len(unbuilt) - 3} more" if len(unbuilt) > 3 else ""
    flags = ["--prod" if settings.namespace.is_production else f"--namespace {settings.namespace.name}"]
    flags += [f"-t {settings.target.name}"]
    if not settings.project.is_default:  # the command must run against this very project
        flags += [f"--project-dir {settings.project.project_dir}"]
        if settings.project.profiles_dir != settings.project.project_dir:
            flags += [f"--profiles-dir {settings.project.profiles_dir}"]
    build = " ".join(f"+{nodes[uid]['name']}" for uid in unbuilt)
    return (
        f"the backfilled models read {shown}{more}, not built in {settings.namespace.name}: "
        f"build them first (`overclock build -s {build} {' '.join(flags)}`)"
    )


def plan_backfill_run(settings: Settings, request: BackfillRequest) -> PreparedBackfill:
    """The plan of a request (`--dry-run`): reads the state, creates nothing."""
    with StateStore(settings, read_only=True) as store:
        return prepare(settings, request, store)


# --- running ------------------------------------------------------------------------------------------------


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def run_backfill(
    settings: Settings,
    request: BackfillRequest,
    observer: BackfillObserver | None = None,
    options: ExecutionOptions | None = None,
    run_id: str | None = None,
) -> BackfillResult:
    """Plan and run a backfill; the result says what was done, what failed and what was skipped."""
    observer = observer or BackfillObserver()
    if refusal := settings.namespace_refusal():
        raise BackfillError(refusal)
    with StateStore(settings) as store:
        prepared = prepare(settings, request, store)
        if prepared.blocked:
            raise BackfillError(prepared.blocked)
        for note in prepared.notes:
            observer.note(note)
        if run_id is None and prepared.plan.due_count == 0:
            nothing = BackfillResult("", prepared.plan)  # nothing to do is not a run: none is recorded
            observer.run_finished(nothing)
            return nothing
        if run_id is None:
            run_id = new_run_id()
            store.record_event(run_id, "planned", _planned_detail(settings, prepared))
        result = _execute(settings, prepared, run_id, store, observer, options)
    _register(settings, result, observer)
    return result


def _register(settings: Settings, result: BackfillResult, observer: BackfillObserver) -> None:
    """Record the tables the run wrote in the namespace registry, as a build does: `ns list` shows the
    namespace's last activity and `ns gc` can collect a namespace only ever backfilled into."""
    from framework.config import resolve_owner
    from framework.namespaces.registry import BuiltRelation, record_build
    from framework.providers import provider_for

    written = [model for model in result.plan.models if result.count(DONE, model.unique_id)]
    if not written:
        return
    relations = [BuiltRelation(model.schema, model.alias, "model") for model in written]
    try:
        with provider_for(settings) as provider:
            record_build(
                provider,
                settings.namespace.name,
                settings.namespace.is_production,
                resolve_owner(),
                "backfill",
                relations,
            )
    except Exception as exc:  # the intervals are recorded; only the registry's view is behind
        observer.note(f"namespace registry not updated: {type(exc).__name__}: {exc}")


def resume_backfill(
    settings: Settings,
    run_id: str,
    observer: BackfillObserver | None = None,
    options: ExecutionOptions | None = None,
    workers: int | None = None,
) -> BackfillResult:
    """Continue a run that crashed, failed or was cancelled: what it recorded is skipped, the rest runs."""
    with StateStore(settings) as store:
        request = _planned_request(store, run_id)
    if workers is not None:
        request = dataclasses.replace(request, workers=workers)
    return run_backfill(settings, request, observer, options, run_id=run_id)


def _execute(
    settings: Settings,
    prepared: PreparedBackfill,
    run_id: str,
    store: StateStore,
    observer: BackfillObserver,
    options: ExecutionOptions | None,
) -> BackfillResult:
    from framework.providers import provider_class

    workers = (options.workers if options else None) or prepared.request.workers
    if workers > 1 and not provider_class(settings.target.engine).supports_concurrent_writers:
        observer.note(
            f"{settings.target.engine} allows one writing process per file: batches run one at a time "
            "(each replaces up to --batch-size partitions in one statement)"
        )
        workers = 1
    options = dataclasses.replace(options or ExecutionOptions(), workers=workers)
    if workers > 1:
        runner: Any = WorkerPoolRunner(settings, prepared.plan, prepared.request.vars, workers)
    else:
        runner = InProcessRunner(settings, prepared.plan, prepared.request.vars, prepared.parsed_manifest)
    return execute(prepared.plan, run_id, store, runner, observer, options)


def _planned_detail(settings: Settings, prepared: PreparedBackfill) -> dict[str, Any]:
    plan = prepared.plan
    return {
        "request": prepared.request.to_json(),
        "target": settings.target.name,
        "namespace": settings.namespace.name,
        "due": {model.name: len(plan.due[model.unique_id]) for model in plan.models},
        "intervals": {model.name: len(plan.intervals[model.unique_id]) for model in plan.models},
    }


def _planned_request(store: StateStore, run_id: str) -> BackfillRequest:
    planned = [event for event in store.run_events(run_id) if event.event == "planned"]
    if not planned:
        known = ", ".join(run.run_id for run in list_runs_from(store)[:5]) or "none"
        raise BackfillError(f"no backfill run '{run_id}' in this namespace (recent: {known})")
    return BackfillRequest.from_json(planned[0].detail["request"])


# --- status and cancel --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    state: str  # planned | running | finished | failed | cancelled | cancelling | interrupted
    request: BackfillRequest | None
    planned_at: datetime | None
    finished: Mapping[str, Any] | None  # the last `finished` event's detail
    due: Mapping[str, int]  # model name -> intervals due when planned
    done_by_run: int  # intervals this run recorded so far (all its attempts)


def _state_of(events: Sequence[Any]) -> str:
    kinds = [event.event for event in events]
    if not kinds:
        return "unknown"
    last_start = max((i for i, kind in enumerate(kinds) if kind == "started"), default=-1)
    last_finish = max((i for i, kind in enumerate(kinds) if kind == "finished"), default=-1)
    cancel_asked = "cancel_requested" in kinds[last_start + 1 :]  # a resume starts afresh
    if last_start == -1:
        return "cancelled" if cancel_asked else "planned"
    if last_finish < last_start:
        started = events[last_start].detail
        if started.get("host") == _hostname() and not _pid_alive(int(started.get("pid", 0))):
            return "interrupted"
        return "cancelling" if cancel_asked else "running"
    finished = events[last_finish].detail
    if finished.get("cancelled"):
        return "cancelled"
    return "failed" if finished.get("failed") or finished.get("skipped") else "finished"


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _pid_alive(pid: int) -> bool:
    import os

    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _status(store: StateStore, run_id: str, events: Sequence[Any]) -> RunStatus:
    planned = next((event for event in events if event.event == "planned"), None)
    finished = [event for event in events if event.event == "finished"]
    return RunStatus(
        run_id=run_id,
        state=_state_of(events),
        request=BackfillRequest.from_json(planned.detail["request"]) if planned else None,
        planned_at=planned.recorded_at if planned else None,
        finished=finished[-1].detail if finished else None,
        due=dict(planned.detail.get("due", {})) if planned else {},
        done_by_run=store.run_interval_count(run_id),
    )


def backfill_status(settings: Settings, run_id: str) -> RunStatus:
    with StateStore(settings, read_only=True) as store:
        events = store.run_events(run_id)
        if not events:
            raise BackfillError(f"no backfill run '{run_id}' in namespace {settings.namespace}")
        return _status(store, run_id, events)


def list_runs_from(store: StateStore, limit: int = 20) -> list[RunStatus]:
    by_run: dict[str, list[Any]] = {}
    for event in store.run_events():
        by_run.setdefault(event.run_id, []).append(event)
    newest = sorted(by_run, key=lambda rid: by_run[rid][0].recorded_at, reverse=True)[:limit]
    return [_status(store, run_id, by_run[run_id]) for run_id in newest]


def list_runs(settings: Settings, limit: int = 20) -> list[RunStatus]:
    with StateStore(settings, read_only=True) as store:
        return list_runs_from(store, limit)


def cancel_backfill(settings: Settings, run_id: str) -> RunStatus:
    """Ask a run to stop: it finishes the batches already running and starts no more."""
    with StateStore(settings) as store:
        events = store.run_events(run_id)
        if not events:
            raise BackfillError(f"no backfill run '{run_id}' in namespace {settings.namespace}")
        state = _state_of(events)
        if state in ("finished", "failed", "cancelled"):
            raise BackfillError(f"backfill run '{run_id}' has already ended ({state})")
        store.record_event(run_id, "cancel_requested", {"at": time.time()})
        return _status(store, run_id, store.run_events(run_id))
