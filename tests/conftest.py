"""Shared fixtures: real engines (DuckDB files, a PostgreSQL cluster, the BigQuery emulator), isolated dirs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.isolation import use_home
from tests.servers import BigQueryEmulator, PostgresServer, bigquery_emulator, postgres_server

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """`--dist loadgroup` sends each xdist_group to one worker by suffixing its tests' node ids; pytest 9.2's
    structured node ids drop the suffix silently (pytest-xdist#1386), so every worker would build each module's
    warehouse again and the suite would take far longer. pyproject.toml pins pytest below 9.2; stop a run under
    another pytest rather than let it pass slowly."""
    broken = pytest.version_tuple[:2] >= (9, 2)
    if broken and config.getoption("dist", "no") == "loadgroup" and not hasattr(config, "workerinput"):
        raise pytest.UsageError(
            f"pytest {pytest.__version__} breaks pytest-xdist's --dist loadgroup (pytest-xdist#1386): "
            "install the version pyproject.toml pins (make install-dev), or run without -n"
        )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL cluster per test worker, on 127.0.0.1, stopped at the end."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def bigquery() -> Iterator[BigQueryEmulator]:
    """One BigQuery emulator per test worker, on 127.0.0.1, stopped at the end."""
    with bigquery_emulator() as emulator:
        yield emulator


@pytest.fixture
def overclock_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated Overclock state folder (warehouse file, caches) for one test."""
    home = tmp_path / "overclock-home"
    use_home(monkeypatch, home)
    return home
