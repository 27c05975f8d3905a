"""Pointing Overclock and dbt at a throwaway state folder, for a test or for a module's shared fixture."""

from __future__ import annotations

from pathlib import Path

import pytest


def use_home(patch: pytest.MonkeyPatch, home: Path) -> None:
    """Overclock's state (warehouse file, caches) and dbt's artifacts and logs go under `home`; no namespace or
    warehouse path inherited from the caller's environment."""
    patch.setenv("OVERCLOCK_HOME", str(home))
    patch.setenv("DBT_TARGET_PATH", str(home / "target"))
    patch.setenv("DBT_LOG_PATH", str(home / "logs"))
    patch.delenv("OVERCLOCK_DUCKDB_PATH", raising=False)
    patch.delenv("OVERCLOCK_NAMESPACE", raising=False)
