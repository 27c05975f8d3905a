"""The Dagster code location over a real project on DuckDB: partitions through the backfill engine,
schedules, the eBPF file sensor. Runs in process with `dagster.materialize`."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from framework.backfill import BackfillRequest, plan_backfill_run
from framework.config import REPO_ROOT, resolve_settings
from framework.namespaces.naming import NamespaceError

FIXTURE_PROJECT = REPO_ROOT / "tests" / "fixtures" / "backfill" / "project"
pytestmark = pytest.mark.xdist_group("dagster")


@pytest.fixture(scope="module")
def code_location(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The backfill fixture project (partitioned models on our strategies) loaded as a code location."""
    home = tmp_path_factory.mktemp("dagster-home")
    monkeypatch = pytest.MonkeyPatch()
    for key, value in {
        "OVERCLOCK_PROJECT_DIR": str(FIXTURE_PROJECT),
        "DBT_PROFILES_DIR": str(REPO_ROOT / "project"),
        "OVERCLOCK_HOME": str(home),
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
        "OVERCLOCK_PARTITIONS_START": "2025-01-01",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("OVERCLOCK_DAGSTER_NAMESPACE", raising=False)
    monkeypatch.delenv("OVERCLOCK_NAMESPACE", raising=False)
    # Imported only now: importing the package loads its code location from the environment, which must
    # be this fixture's (not the developer's project and warehouse under .overclock/).
    from dagster_defs.definitions import build_definitions
    from dagster_defs.project import OverclockProject

    project = OverclockProject.load()
    defs = build_definitions(project)
    # The seed and the staging view first: unpartitioned assets, through dagster-dbt's `dbt build`.
    unpartitioned = [
        a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.partitions_def is None
    ]
    upstream = [key for a in unpartitioned for key in a.keys if key.path[-1] in ("raw_events", "stg_events")]
    result = dg.materialize(unpartitioned, resources=defs.resources, selection=upstream)
    assert result.success
    yield {"project": project, "defs": defs}
    monkeypatch.undo()


def partitioned_assets(defs: dg.Definitions) -> dg.AssetsDefinition:
    (assets,) = [
        a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.partitions_def is not None
    ]
    return assets


def seed_rows() -> list[dict[str, str]]:
    with (FIXTURE_PROJECT / "seeds" / "raw_events.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_partitioned_models_are_daily_partitioned_assets(code_location: dict[str, object]) -> None:
    defs = code_location["defs"]
    assets = partitioned_assets(defs)
    names = {key.path[-1] for key in assets.keys}
    assert {"events_daily", "daily_totals"} <= names
    assert isinstance(assets.partitions_def, dg.DailyPartitionsDefinition)


def test_materialize_one_day_runs_the_backfill_engine(code_location: dict[str, object]) -> None:
    project = code_location["project"]
    defs = code_location["defs"]
    assets = partitioned_assets(defs)
    key = next(k for k in assets.keys if k.path[-1] == "events_daily")
    result = dg.materialize([assets], partition_key="2025-01-03", selection=[key], resources=defs.resources)
    assert result.success
    expected = Counter(
        int(row["user_id"])
        for row in seed_rows()
        if row["event_at"].startswith("2025-01-03") and row["version"] == "1"
    )
    with duckdb.connect(str(project.settings.duckdb_path), read_only=True) as connection:
        rows = connection.execute(
            "select user_id, events from prod.events_daily where event_date = date '2025-01-03'"
        ).fetchall()
    assert dict(rows) == dict(expected)


def test_two_day_dagster_backfill_is_recorded_for_the_cli(code_location: dict[str, object]) -> None:
    project = code_location["project"]
    defs = code_location["defs"]
    assets = partitioned_assets(defs)
    key = next(k for k in assets.keys if k.path[-1] == "events_daily")
    request = BackfillRequest(select=("events_daily",), start="2025-01-06", end="2025-01-07")
    assert plan_backfill_run(project.settings, request).plan.due_count == 2
    result = dg.materialize(
        [assets],
        selection=[key],
        resources=defs.resources,
        tags={
            "dagster/asset_partition_range_start": "2025-01-06",
            "dagster/asset_partition_range_end": "2025-01-07",
        },
    )
    assert result.success
    # The same days through the CLI's engine: nothing due, so nothing runs.
    assert plan_backfill_run(project.settings, request).plan.due_count == 0


def test_loading_leaves_the_process_environment_alone(code_location: dict[str, object]) -> None:
    """dbt's variables are set only around a dbt invocation, so a loaded code location cannot redirect later
    resolutions in the same process (this once sent the fixture's runs into the repository's warehouse)."""
    import gc
    import os

    assert gc.isenabled()  # the package pauses the collector only while it builds its own code location
    project = code_location["project"]
    own_path = str(project.settings.duckdb_path)
    before = dict(os.environ)
    assert os.environ.get("OVERCLOCK_DUCKDB_PATH") != own_path
    with project.dbt_environment():
        assert os.environ["OVERCLOCK_DUCKDB_PATH"] == own_path
        assert os.environ["OVERCLOCK_NAMESPACE"] == project.settings.namespace.name
    assert dict(os.environ) == before


def test_partitioned_schedule_requests_the_previous_day(code_location: dict[str, object]) -> None:
    defs = code_location["defs"]
    schedule = defs.resolve_schedule_def("partitioned_models_daily")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 1, 5, 0, 0))
    (request,) = list(schedule.evaluate_tick(context).run_requests or [])
    assert request.partition_key == "2025-01-04"


def test_runs_write_to_the_configured_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_defs.project import dagster_settings

    monkeypatch.setenv("OVERCLOCK_DAGSTER_NAMESPACE", "dagster_staging")
    settings = dagster_settings()
    assert settings.namespace.name == "dagster_staging" and not settings.namespace.is_production
    monkeypatch.delenv("OVERCLOCK_DAGSTER_NAMESPACE")
    assert dagster_settings().namespace.is_production
    assert resolve_settings(production=True).namespace == dagster_settings().namespace
    monkeypatch.setenv("OVERCLOCK_DAGSTER_NAMESPACE", "")  # set but empty: as if unset
    assert dagster_settings().namespace.is_production
    monkeypatch.setenv("OVERCLOCK_DAGSTER_NAMESPACE", "prod")
    with pytest.raises(NamespaceError, match=r"^OVERCLOCK_DAGSTER_NAMESPACE='prod': "):
        dagster_settings()


def test_a_bad_partitions_start_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_defs.assets import partitions_start

    monkeypatch.setenv("OVERCLOCK_PARTITIONS_START", "garbage")
    with pytest.raises(ValueError, match="OVERCLOCK_PARTITIONS_START='garbage' is not a date"):
        partitions_start()
    monkeypatch.setenv("OVERCLOCK_PARTITIONS_START", "2024-06-01")
    assert partitions_start() == "2024-06-01"


def test_domain_schedules_cadence() -> None:
    from dagster_defs.schedules import build_domain_schedules

    _, schedules = build_domain_schedules({"search", "live_events", "privacy"}, None)
    crons = {schedule.name: schedule.cron_schedule for schedule in schedules}
    assert crons == {
        "search_schedule": "0 * * * *",
        "live_events_schedule": "*/5 * * * *",
        "privacy_schedule": "0 3 * * *",
    }


def test_ebpf_sensor_runs_each_new_file_once(tmp_path: Path) -> None:
    from dagster_defs.sensors import build_ebpf_file_sensor

    job = dg.define_asset_job("ebpf_ingest_job", selection=dg.AssetSelection.groups("ebpf"))
    sensor = build_ebpf_file_sensor(job, tmp_path)
    for host in ("host-a", "host-b"):
        (tmp_path / "events" / host).mkdir(parents=True)
    (tmp_path / "events" / "host-a" / "00.jsonl").write_text("{}\n")
    (tmp_path / "events" / "host-b" / "00.jsonl").write_text("{}\n")

    first = sensor.evaluate_tick(dg.build_sensor_context(cursor=None))
    assert sorted(r.run_key for r in first.run_requests or []) == [
        "ebpf:events/host-a/00.jsonl",
        "ebpf:events/host-b/00.jsonl",
    ]

    second = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor))
    assert not second.run_requests

    (tmp_path / "events" / "host-a" / "01.jsonl").write_text("{}\n")
    third = sensor.evaluate_tick(dg.build_sensor_context(cursor=second.cursor or first.cursor))
    assert [r.run_key for r in third.run_requests or []] == ["ebpf:events/host-a/01.jsonl"]
    # A cursor written before unread files were tracked (a plain list) still counts as seen.
    legacy = sensor.evaluate_tick(
        dg.build_sensor_context(cursor='["events/host-a/00.jsonl", "events/host-b/00.jsonl"]')
    )
    assert [r.run_key for r in legacy.run_requests or []] == ["ebpf:events/host-a/01.jsonl"]


def test_ebpf_sensor_reports_files_the_source_would_not_read(tmp_path: Path) -> None:
    """A compressed file, a file one folder too deep or beside the host folders would start a run that loads
    nothing of it: the sensor names them once instead."""
    from dagster_defs.sensors import build_ebpf_file_sensor

    job = dg.define_asset_job("ebpf_ingest_job", selection=dg.AssetSelection.groups("ebpf"))
    sensor = build_ebpf_file_sensor(job, tmp_path)
    (tmp_path / "events" / "host-a" / "nested").mkdir(parents=True)
    for name in ("host-a/00.jsonl.gz", "host-a/nested/00.jsonl", "stray.jsonl"):
        (tmp_path / "events" / name).write_text("{}\n")

    first = sensor.evaluate_tick(dg.build_sensor_context(cursor=None))
    assert not first.run_requests
    assert "not ingested" in str(first.skip_message) and "3 file(s)" in str(first.skip_message)
    assert json.loads(first.cursor or "{}")["ignored"] == [
        "events/host-a/00.jsonl.gz",
        "events/host-a/nested/00.jsonl",
        "events/stray.jsonl",
    ]


def test_ebpf_sensor_watches_what_the_source_reads() -> None:
    from dagster_defs.sensors import EBPF_EVENT_FILES

    sources = yaml.safe_load((REPO_ROOT / "models" / "staging" / "ebpf" / "_ebpf__sources.yml").read_text())
    [table] = [t for t in sources["sources"][0]["tables"] if t["name"] == "event_lines"]
    assert f"/ebpf/{EBPF_EVENT_FILES}'" in table["config"]["external_location"]
