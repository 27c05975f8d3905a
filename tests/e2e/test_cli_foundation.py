"""The foundation's CLI contract, exercised as a user runs it: a subprocess of the `overclock` script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OVERCLOCK = str(Path(sys.executable).with_name("overclock"))


def overclock(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OVERCLOCK, *args],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def other_project(tmp_path: Path, overclock_home: Path) -> Path:
    project = tmp_path / "other_project"
    shutil.copytree(FIXTURES / "other_project", project)
    return project


def test_help_lists_the_commands() -> None:
    result = overclock("--help")
    assert result.returncode == 0
    for command in ("build", "run", "test", "compile", "ls", "demo-data"):
        assert command in result.stdout


def test_build_another_project(other_project: Path) -> None:
    """Its profile writes to schema `main`, not to the namespace: a dev build would write to the project's
    own schemas, so it is refused; `--prod` says "where the profile says"."""
    warehouse = other_project / "other.duckdb"
    env = {"OTHER_PROJECT_DUCKDB": str(warehouse)}
    refused = overclock("build", "--project-dir", str(other_project), env=env)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: namespace dev_") and "writes to schema 'main'" in refused.stderr
    assert not warehouse.exists()
    result = overclock("build", "--prod", "--project-dir", str(other_project), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from main.shipped_orders").fetchone() == (2,)


def test_build_one_model_builds_just_that_model(other_project: Path) -> None:
    warehouse = other_project / "other.duckdb"
    result = overclock(
        "run",
        "--prod",
        "--project-dir",
        str(other_project),
        "-s",
        "orders",
        "--exclude",  # an exclusion that matches nothing excludes nothing: not an error
        "tag:legacy",
        env={"OTHER_PROJECT_DUCKDB": str(warehouse)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 of 1 OK created" in result.stdout and "\x1b[" not in result.stdout  # no colour codes in a pipe
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = {
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema <> 'overclock_meta'"
            ).fetchall()
        }
    assert tables == {"orders"}  # (overclock_meta holds the namespace registry)


def test_unknown_model_is_a_one_line_error_with_exit_code_2(other_project: Path) -> None:
    result = overclock(
        "build",
        "--prod",
        "--project-dir",
        str(other_project),
        "-s",
        "no_such_model",
        env={"OTHER_PROJECT_DUCKDB": str(other_project / "other.duckdb")},
    )
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1
    assert "no_such_model" in error_lines[0] and error_lines[0].startswith("error:")


def test_failing_model_exits_1(other_project: Path) -> None:
    (other_project / "models" / "broken.sql").write_text("select no_such_column from {{ ref('orders') }}\n")
    result = overclock(
        "run",
        "--prod",
        "--project-dir",
        str(other_project),
        env={"OTHER_PROJECT_DUCKDB": str(other_project / "other.duckdb")},
    )
    assert result.returncode == 1
    assert "broken" in result.stderr


def test_missing_project_is_a_usage_error(tmp_path: Path) -> None:
    result = overclock("build", "--project-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: no dbt_project.yml")
    assert "Traceback" not in result.stderr


def test_an_unreachable_warehouse_is_a_one_line_error_with_exit_code_2(overclock_home: Path) -> None:
    """Nothing listens on the port: the commands that reach the warehouse themselves (backfill, ns) and the
    compile that dbt runs against it say so in one line naming the cause, never as an internal error."""
    from tests.servers import free_port

    port = str(free_port())
    env = {"OVERCLOCK_PG_HOST": "127.0.0.1", "OVERCLOCK_PG_PORT": port}
    for command in (["backfill", "status"], ["ns", "list"]):
        result = overclock(*command, "-t", "postgres", env=env)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(
            f"error: cannot connect to target 'postgres' (PostgreSQL at 127.0.0.1:{port})"
        )
        assert "Connection refused" in result.stderr and "internal error" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    compiled = overclock("compile", "-t", "postgres", env=env)
    assert compiled.returncode == 2, compiled.stdout + compiled.stderr
    assert f"port {port} failed: Connection refused" in compiled.stderr
    # BigQuery's client connects lazily and would retry for ten minutes: it is asked once, briefly.
    endpoint = f"http://127.0.0.1:{port}"
    result = overclock("backfill", "status", "-t", "bigquery", env={"OVERCLOCK_BQ_ENDPOINT": endpoint})
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: cannot connect to target 'bigquery' ({endpoint})")
    assert "Connection refused" in result.stderr
