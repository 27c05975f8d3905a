"""`overclock ns list|drop|gc` and `build --defer` as a user runs them: subprocesses, exit codes, prompts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from framework.config import resolve_settings
from framework.namespaces.registry import BuiltRelation, record_build
from framework.providers import provider_for
from tests.namespace_fixture import copy_fixture_project, expected_relations, namespace_relations

OVERCLOCK = str(Path(sys.executable).with_name("overclock"))

pytestmark = pytest.mark.xdist_group("namespaces_duckdb")


@pytest.fixture
def project(tmp_path: Path, overclock_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("USER", "ns_tester")
    return copy_fixture_project(tmp_path / "project")


def overclock(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OVERCLOCK, *args, "--project-dir", str(project)],
        input=stdin,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _namespace_with_age(project: Path, name: str, age: timedelta) -> None:
    """A namespace of two schemas whose registry says it was last built `age` ago (no dbt needed)."""
    with provider_for(resolve_settings(project_dir=project, namespace=name)) as provider:
        for schema in (name, f"{name}__marts"):
            provider.execute(f"create schema {schema}")
            provider.execute(f"create table {schema}.t as select 1 as one")
        relations = [BuiltRelation(name, "t", "model"), BuiltRelation(f"{name}__marts", "t", "model")]
        record_build(provider, name, False, "ns_tester", "build", relations, now=datetime.now(UTC) - age)


def _relations(project: Path, name: str) -> set[str]:
    with provider_for(resolve_settings(project_dir=project, namespace="dev_reader")) as provider:
        return namespace_relations(provider, name)


def test_help_lists_the_namespace_commands() -> None:
    result = subprocess.run([OVERCLOCK, "ns", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for command in ("list", "drop", "gc"):
        assert command in result.stdout
    build_help = subprocess.run([OVERCLOCK, "build", "--help"], capture_output=True, text=True, check=False)
    assert "--defer" in build_help.stdout


def test_defer_without_production_state_says_so_and_builds_everything(project: Path) -> None:
    result = overclock(project, "build", "--namespace", "dev_new", "--defer")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no production state" in result.stderr
    assert _relations(project, "dev_new") == expected_relations("dev_new")
    listing = overclock(project, "ns", "list")
    assert listing.returncode == 0 and "dev_new" in listing.stdout and "ns_tester" in listing.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("build", "--prod", "--defer"), "--defer"),
        (("build", "--namespace", "x'; drop schema prod; --"), "contains"),
        (("build", "--namespace", "prod"), "--prod"),
        (("ns", "drop", "prod", "--yes"), "production"),
        (("ns", "drop", "PROD"), "production"),
        (("ns", "drop", "dev_nobody", "--yes"), "no namespace"),
        (("ns", "gc", "--older-than", "a week"), "age"),
        (("ns", "gc", "--older-than", "10000000000d"), "too large"),
        (("build", "--namespace", ""), "namespace is empty"),
        (("build", "--defer", "--state", "/"), "--state / holds no manifest.json"),
    ],
)
def test_refusals_are_one_line_with_exit_code_2(project: Path, args: tuple[str, ...], message: str) -> None:
    result = overclock(project, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr


def test_a_namespace_named_like_a_production_schema_is_refused(project: Path) -> None:
    result = overclock(project, "build", "--namespace", "staging")
    assert result.returncode == 2
    assert "production schema" in result.stderr


def test_drop_asks_first(project: Path) -> None:
    _namespace_with_age(project, "dev_old", timedelta(days=1))
    _namespace_with_age(project, "dev_old_two", timedelta(days=1))  # shares a prefix, never a schema
    declined = overclock(project, "ns", "drop", "dev_old", stdin="n\n")
    assert declined.returncode == 0 and "nothing dropped" in declined.stdout
    no_answer = overclock(project, "ns", "drop", "dev_old", stdin="")
    assert no_answer.returncode == 2 and "--yes" in no_answer.stderr
    assert _relations(project, "dev_old") == {"dev_old.t", "dev_old__marts.t"}
    confirmed = overclock(project, "ns", "drop", "dev_old", stdin="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert _relations(project, "dev_old") == set()
    assert _relations(project, "dev_old_two") == {"dev_old_two.t", "dev_old_two__marts.t"}


def test_listing_needs_no_valid_namespace_in_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _namespace_with_age(project, "dev_listed", timedelta(days=1))
    monkeypatch.setenv("OVERCLOCK_NAMESPACE", "x'; drop schema prod; --")  # refused by build, not by ns list
    listed = overclock(project, "ns", "list")
    assert listed.returncode == 0, listed.stderr
    assert "dev_listed" in listed.stdout


def test_gc_is_a_dry_run_unless_confirmed(project: Path) -> None:
    _namespace_with_age(project, "ci_stale", timedelta(days=8))
    _namespace_with_age(project, "ci_fresh", timedelta(days=6))
    dry_run = overclock(project, "ns", "gc", "--older-than", "7d")
    assert dry_run.returncode == 0, dry_run.stderr
    assert "ci_stale" in dry_run.stdout and "ci_fresh" not in dry_run.stdout and "--yes" in dry_run.stdout
    assert _relations(project, "ci_stale"), "a dry run drops nothing"
    confirmed = overclock(project, "ns", "gc", "--older-than", "7d", "--yes")
    assert confirmed.returncode == 0, confirmed.stderr
    assert _relations(project, "ci_stale") == set()
    assert _relations(project, "ci_fresh") == {"ci_fresh.t", "ci_fresh__marts.t"}
