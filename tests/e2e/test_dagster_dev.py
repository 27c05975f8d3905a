"""`dagster dev -m dagster_defs` starts, serves the asset graph on localhost, and stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from framework.config import REPO_ROOT
from tests.servers import free_port

FIXTURE_PROJECT = REPO_ROOT / "tests" / "fixtures" / "backfill" / "project"
QUERY = "{ assetNodes { assetKey { path } groupName } }"


def query_asset_nodes(port: int) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.loads(response.read())["data"]["assetNodes"])


@pytest.mark.slow
def test_dagster_dev_serves_the_asset_graph(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "OVERCLOCK_PROJECT_DIR": str(FIXTURE_PROJECT),
        "DBT_PROFILES_DIR": str(REPO_ROOT / "project"),
        "OVERCLOCK_HOME": str(tmp_path / "home"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    (tmp_path / "dagster").mkdir()
    log = (tmp_path / "dagster.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster")),
            "dev",
            "-m",
            "dagster_defs",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        nodes: list[dict[str, object]] = []
        while time.monotonic() < deadline and not nodes:
            assert process.poll() is None, (tmp_path / "dagster.log").read_text()[-3000:]
            try:
                nodes = query_asset_nodes(port)
            except (OSError, KeyError, TypeError):
                time.sleep(1)
        names = {node["assetKey"]["path"][-1] for node in nodes}  # type: ignore[index]
        assert {"events_daily", "daily_totals", "stg_events", "raw_events"} <= names
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
