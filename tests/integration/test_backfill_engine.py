"""The backfill engine on DuckDB with the real dbt: idempotence, fingerprints, failures, retries, cancel, bad input.

One fixture project copy and one full-refresh reference per module. Tests share the namespace `work`, emptied
and rebuilt up to staging before each: a namespace of its own per test would compile the project once more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from framework.backfill import (
    BackfillError,
    BackfillObserver,
    BackfillRequest,
    ExecutionOptions,
    backfill_status,
    cancel_backfill,
    list_runs,
    plan_backfill_run,
    resume_backfill,
    run_backfill,
)
from framework.backfill import executor as executor_module
from framework.backfill.planner import DUE_NEW_FINGERPRINT
from framework.backfill.state import StateStore
from framework.config import Settings
from framework.namespaces.registry import read_registry
from framework.providers import provider_for
from tests.integration.backfill_support import (
    EXCLUDE,
    FIRST_DAY,
    LAST_DAY,
    SELECT_ALL,
    Workspace,
    assert_same_tables,
    duckdb_workspace,
    overclock,
    project_args,
    settings_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("backfill_duckdb")]

FAST = ExecutionOptions(retry_delay=0.05, cancel_poll_seconds=0.0)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with duckdb_workspace(tmp_path_factory.mktemp("backfill-engine")) as created:
        yield created


def fresh(workspace: Workspace) -> Settings:
    return workspace.fresh("work")


def request(**changes: Any) -> BackfillRequest:
    values: dict[str, Any] = {"select": SELECT_ALL, "exclude": EXCLUDE, "start": FIRST_DAY, "end": LAST_DAY}
    return BackfillRequest(**{**values, **changes})


def schemas(settings: Settings) -> list[str]:
    with provider_for(settings) as provider:
        return [info.name for info in provider.list_schemas(settings.namespace.name)]


def test_a_backfill_equals_a_full_refresh_and_a_rerun_runs_nothing(workspace: Workspace) -> None:
    settings = fresh(workspace)
    first = run_backfill(settings, request(batch_size=5), options=FAST)
    assert first.exit_code == 0 and first.count("done") == 70 and len(first.plan.batches) == 15
    assert_same_tables(workspace.reference, settings)
    # The namespace registry knows the namespace and its tables, as after a build (`ns list`, `ns gc`).
    with provider_for(settings) as provider:
        namespaces, relations = read_registry(provider)
    assert {(n.namespace, n.last_command) for n in namespaces} >= {("work", "backfill")}
    assert {f"{m.schema}.{m.alias}" for m in first.plan.models} <= {
        r.relation for r in relations if r.namespace == "work"
    }

    second = run_backfill(settings, request(batch_size=5), options=FAST)
    assert second.plan.due_count == 0 and second.plan.batches == () and second.outcomes == {}
    assert second.exit_code == 0 and second.run_id == ""  # nothing to do: no run is recorded
    assert [run.run_id for run in list_runs(settings)] == [first.run_id]
    assert backfill_status(settings, first.run_id).state == "finished"


def test_changing_a_models_sql_makes_its_intervals_and_its_childrens_due_again(workspace: Workspace) -> None:
    settings = fresh(workspace)
    assert run_backfill(settings, request(), options=FAST).exit_code == 0
    model_file = workspace.project / "models" / "events_daily.sql"
    original = model_file.read_text()
    try:
        model_file.write_text(original.replace("count(*) as events", "count(*) as events  -- counted again"))
        prepared = plan_backfill_run(settings, request())
    finally:
        model_file.write_text(original)
    due = {model.name: set(prepared.plan.due[model.unique_id].values()) for model in prepared.plan.models}
    # A fingerprint covers the models read too: the child's recorded intervals are stale as well.
    assert due == {
        "events_daily": {DUE_NEW_FINGERPRINT},
        "daily_totals": {DUE_NEW_FINGERPRINT},
        "events_latest": set(),
        "event_versions": set(),
        "events_latest_by_day": set(),
    }
    assert sum(len(prepared.plan.due[m.unique_id]) for m in prepared.plan.models) == 28
    # Back to the original SQL: its intervals are recorded, nothing is due.
    assert plan_backfill_run(settings, request()).plan.due_count == 0


def test_a_permanent_failure_fails_only_its_interval_and_dependents(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fresh(workspace)
    code = overclock(
        "backfill",
        *project_args(settings),
        *["-s", "events_daily+", "events_latest", "--exclude", "user_summary"],
        *["--start", FIRST_DAY, "--end", LAST_DAY, "--batch-size", "12"],
        *["--vars", "{poison_date: '2025-01-05'}"],
    )
    output = capsys.readouterr().out
    assert code == 1
    assert "failed events_daily 2025-01-05" in " ".join(output.split())
    with StateStore(settings) as store:
        recorded = store.recorded_intervals(
            ["model.backfill_fixture.events_daily", "model.backfill_fixture.daily_totals"]
        )
    daily = [i.label() for done in recorded["model.backfill_fixture.events_daily"].values() for i in done]
    totals = [i.label() for done in recorded["model.backfill_fixture.daily_totals"].values() for i in done]
    # Only the poisoned day failed (its batch was halved until it stood alone), and only the day of
    # daily_totals that reads it was skipped.
    assert daily == ["2025-01-01 → 2025-01-04", "2025-01-06 → 2025-01-14"]
    assert totals == ["2025-01-01 → 2025-01-04", "2025-01-06 → 2025-01-14"]
    status = backfill_status(settings, _latest_run(settings))
    assert status.state == "failed"
    assert status.finished is not None
    assert [(f["model"], f["interval"]) for f in status.finished["failures"]] == [
        ("events_daily", "2025-01-05")
    ]
    assert status.finished["skipped"] == 1


def test_an_injected_transient_failure_is_retried_and_succeeds(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fresh(workspace)
    real_run_batch = executor_module.run_batch
    attempts: list[str] = []

    def flaky(settings: Settings, manifest: Any, model: Any, batch: Any, user_vars: Any) -> Any:
        attempts.append(model.name)
        if model.name == "events_latest" and attempts.count("events_latest") == 1:
            return executor_module.BatchOutcome(
                False, 'IO Error: Could not set lock on file "warehouse.duckdb" (injected)', transient=True
            )
        return real_run_batch(settings, manifest, model, batch, user_vars)

    monkeypatch.setattr(executor_module, "run_batch", flaky)

    class Retries(BackfillObserver):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def batch_retrying(self, batch: Any, attempt: int, delay: float, message: str) -> None:
            self.seen.append(message)

    observer = Retries()
    result = run_backfill(settings, request(), observer, options=FAST)
    assert result.exit_code == 0 and result.count("done") == 70
    assert len(observer.seen) == 1 and "injected" in observer.seen[0]
    assert attempts.count("events_latest") == 2
    assert_same_tables(workspace.reference, settings)


def test_cancel_stops_a_run_and_resume_finishes_it(workspace: Workspace) -> None:
    settings = fresh(workspace)

    class CancelAfterFirstBatch(BackfillObserver):
        run_id = ""

        def run_started(self, run_id: str, plan: Any, workers: int) -> None:
            self.run_id = run_id

        def intervals_settled(self, model: str, intervals: Any, status: str, message: Any) -> None:
            if status == "done" and backfill_status(settings, self.run_id).state == "running":
                cancel_backfill(settings, self.run_id)

    observer = CancelAfterFirstBatch()
    result = run_backfill(settings, request(batch_size=3), observer, options=FAST)
    assert result.cancelled and result.exit_code == 1
    assert result.count("done") == 3 and result.count("cancelled") == 67
    assert backfill_status(settings, result.run_id).state == "cancelled"

    resumed = resume_backfill(settings, result.run_id, options=FAST)
    assert resumed.exit_code == 0 and resumed.count("done") == 67 and resumed.run_id == result.run_id
    status = backfill_status(settings, result.run_id)
    assert status.state == "finished" and status.done_by_run == 70
    assert_same_tables(workspace.reference, settings)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": "2025-01-10", "end": "2025-01-02"}, "before --start"),
        ({"start": "2025-01-32"}, "not a valid date"),
        ({"select": ("no_such_model",)}, "matches no model"),
        (
            {"select": ("user_summary",), "exclude": ()},
            "'user_summary' (models/user_summary.sql) is not partitioned",
        ),
        ({"grain": "week"}, "--grain week is not supported"),
        ({"grain": "hour"}, "partitioned by day: it cannot be backfilled by hour"),
        # Nothing is built in this namespace: every batch would fail on the missing staging model.
        (
            {},
            "build them first (`overclock build -s +stg_events --namespace untouched -t local --project-dir ",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_runs(workspace: Workspace, changes: Any, message: str) -> None:
    settings = settings_for(workspace.project, "local", "untouched")
    with pytest.raises(BackfillError) as raised:
        run_backfill(settings, request(**changes), options=FAST)
    assert message in str(raised.value)
    assert schemas(settings) == []  # no table, no state schema: nothing ran


def test_bad_input_through_the_cli_exits_2_with_one_line(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(workspace.project, "local", "untouched")
    args = [*project_args(settings), "-s", "events_daily", "--start", FIRST_DAY]
    assert overclock("backfill", *args, "--end", "2024-12-31") == 2
    assert "error: --end 2024-12-31 is before --start 2025-01-01" in capsys.readouterr().err
    assert overclock("backfill", *args, "--end", LAST_DAY, "--grain", "week") == 2
    assert "Invalid value for '--grain'" in capsys.readouterr().err
    assert schemas(settings) == []


def test_a_dry_run_prints_the_plan_and_writes_nothing(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(workspace.project, "local", "untouched")
    code = overclock(
        "backfill", *project_args(settings), "-s", "events_daily+", "--exclude", "user_summary",
        "--start", FIRST_DAY, "--end", LAST_DAY, "--batch-size", "4", "--dry-run",
    )  # fmt: skip
    output = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert (
        "dry run: nothing ran" in output and "events_daily 2025-01-01 → 2025-01-04 (4 partitions)" in output
    )
    assert schemas(settings) == []


def _latest_run(settings: Settings) -> str:
    return list_runs(settings)[0].run_id
