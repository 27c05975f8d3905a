"""Shared by the backfill and strategy tests: the fixture project, settings per engine, table contents.

The fixture project (tests/fixtures/backfill/project) has one seed of events that arrive over time
(`as_of` cuts what has arrived), and one partitioned model per strategy plus a child of one of them.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from framework.config import Settings, resolve_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "backfill" / "project"
PROFILES_DIR = REPO_ROOT / "project"

PARTITIONED = ("events_daily", "daily_totals", "events_latest", "event_versions", "events_latest_by_day")
# What a backfill of the whole fixture selects: every partitioned model (user_summary is a plain table).
SELECT_ALL = ("events_daily+", "events_latest", "event_versions", "events_latest_by_day")
EXCLUDE = ("user_summary",)
# Versions keep arriving up to two days after the last event day (2025-01-12): the range covers them.
FIRST_DAY, LAST_DAY = "2025-01-01", "2025-01-14"


def copy_fixture(destination: Path) -> Path:
    """A copy of the fixture project that tests may edit; it reads the repository's macros."""
    project = destination / "project"
    shutil.copytree(FIXTURE, project)
    config = project / "dbt_project.yml"
    config.write_text(config.read_text().replace('"../../../../macros"', f'"{REPO_ROOT / "macros"}"'))
    return project


@dataclass(frozen=True)
class Workspace:
    """A copy of the fixture project, an Overclock home of its own, and a full-refresh reference namespace."""

    project: Path
    reference: Settings

    def fresh(self, namespace: str) -> Settings:
        """The namespace emptied and rebuilt up to staging (seed and staging table, all data arrived).

        Tests reuse one namespace this way: a namespace of its own per test would compile the project again.
        """
        from framework.providers import provider_for

        settings = settings_for(self.project, "local", namespace)
        with provider_for(settings) as provider:
            for schema in provider.list_schemas(namespace):
                provider.drop_schema(schema.name)
        dbt_build(settings, ["raw_events", "stg_events"])
        return settings


@contextlib.contextmanager
def duckdb_workspace(root: Path) -> Iterator[Workspace]:
    """A DuckDB workspace under root, with OVERCLOCK_HOME and dbt's paths pointing into it meanwhile."""
    patch = pytest.MonkeyPatch()
    patch.setenv("OVERCLOCK_HOME", str(root / "home"))
    patch.setenv("DBT_TARGET_PATH", str(root / "home" / "target"))
    patch.setenv("DBT_LOG_PATH", str(root / "home" / "logs"))
    patch.setenv("PYTHONUNBUFFERED", "1")  # subprocesses print their run id at once
    patch.delenv("OVERCLOCK_DUCKDB_PATH", raising=False)
    try:
        project = copy_fixture(root)
        reference = settings_for(project, "local", "reference")
        dbt_build(reference, ["raw_events", "stg_events", *PARTITIONED])
        yield Workspace(project, reference)
    finally:
        patch.undo()


def settings_for(project: Path, target: str, namespace: str) -> Settings:
    return resolve_settings(
        project_dir=project, profiles_dir=PROFILES_DIR, target=target, namespace=namespace
    )


def overclock(*args: str) -> int:
    """`overclock ARGS` in this process; returns the exit code."""
    from framework.cli import main

    try:
        main(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def project_args(settings: Settings) -> list[str]:
    return [
        "--project-dir",
        str(settings.project.project_dir),
        "--profiles-dir",
        str(settings.project.profiles_dir),
        "--target",
        settings.target.name,
        "--namespace",
        settings.namespace.name,
    ]


def dbt_build(
    settings: Settings, select: Sequence[str], as_of: str | None = None, full_refresh: bool = False
) -> None:
    args = ["build", *project_args(settings)]
    args += ["-s", " ".join(select)]
    if as_of:
        args += ["--vars", f"{{as_of: '{as_of}'}}"]
    if full_refresh:
        args += ["--full-refresh"]
    code = overclock(*args)
    assert code == 0, f"overclock {' '.join(args)} failed with {code}"


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return round(float(value), 6)
    return value


def table_rows(settings: Settings, model: str) -> list[tuple[Any, ...]]:
    """Every row of the model's table in the settings' namespace, normalised across engines, sorted."""
    import sqlglot.expressions as exp

    from framework.providers import provider_for

    query = exp.select("*").from_(exp.table_(model, db=settings.namespace.name, quoted=True))
    with provider_for(settings) as provider:
        rows = provider.query(provider.render(query))
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)


def assert_same_tables(
    left: Settings, right: Settings, models: Sequence[str] = PARTITIONED
) -> Mapping[str, int]:
    """The models hold exactly the same rows (duplicates counted) in both namespaces; returns row counts."""
    counts = {}
    for model in models:
        expected, actual = table_rows(left, model), table_rows(right, model)
        assert actual == expected, f"{model}: {len(actual)} rows vs {len(expected)} in a full refresh"
        assert expected, f"{model} is empty"
        counts[model] = len(expected)
    return counts
