"""The backfill's own selection resolver agrees with `dbt ls` on every form it claims, and hands the rest to dbt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from framework.backfill.manifest import load_manifest
from framework.backfill.selection import select_models
from framework.dbt import list_unique_ids
from tests.integration.backfill_support import copy_fixture, settings_for

pytestmark = pytest.mark.slow

CASES = [
    (["events_daily"], []),
    (["events_daily+"], []),
    (["+daily_totals"], []),
    (["1+daily_totals"], []),
    (["events_daily+1"], []),
    (["@events_daily"], []),
    (["events_*"], []),
    (["backfill_fixture.events_daily"], []),
    (["fqn:backfill_fixture.events_latest"], []),
    (["events_daily+,events_*"], []),
    (["events_latest", "event_versions"], []),
    (["events_latest event_versions"], []),
    (["stg_events+"], ["user_summary"]),
    (["stg_events+"], ["events_daily+"]),
    ([], ["stg_events"]),
]


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("selection")
    patch = pytest.MonkeyPatch()
    patch.setenv("OVERCLOCK_HOME", str(root / "home"))
    patch.setenv("DBT_TARGET_PATH", str(root / "home" / "target"))
    settings = settings_for(copy_fixture(Path(root)), "local", "selection")
    yield settings, load_manifest(settings).data
    patch.undo()


@pytest.mark.parametrize(
    ("select", "exclude"), CASES, ids=[" ".join([*s, "--exclude", *e]) for s, e in CASES]
)
def test_resolver_matches_dbt_ls(parsed: Any, select: list[str], exclude: list[str]) -> None:
    settings, manifest = parsed
    ours = select_models(manifest, select, exclude)
    assert ours is not None, "this form should be resolved without dbt"
    assert ours == set(list_unique_ids(settings, select, exclude))


@pytest.mark.parametrize(
    "select", ["path:models/events_daily.sql", "config.materialized:incremental", "models/x"]
)
def test_other_methods_are_left_to_dbt(parsed: Any, select: str) -> None:
    assert select_models(parsed[1], [select]) is None
