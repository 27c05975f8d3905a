"""is_incremental() reads the DuckDB warehouse; while a build (another process) holds the file, compiling stops
with a clear error instead of falling back to a dbt compile that would fail on the same lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from framework.compile.warehouse import WarehouseBusy, WarehouseProbe

HOLD = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()"


def test_a_warehouse_held_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table main.events (id integer)")
    probe = WarehouseProbe({"type": "duckdb", "path": str(path)})
    assert probe.relation_type("warehouse", "main", "events") == "table"
    probe.close()

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseBusy, match=r"in use by another process .*--manifest"):
            WarehouseProbe({"type": "duckdb", "path": str(path)}).relation_type("warehouse", "main", "events")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
