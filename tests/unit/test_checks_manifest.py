"""Reading manifests for `overclock check`: a broken path or another dbt version is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.checks import ManifestError, load_manifest

BASELINE = (
    Path(__file__).resolve().parent.parent
    / "fixtures"
    / "checks"
    / "breaking"
    / "manifests"
    / "baseline.json"
)


def test_a_manifest_or_its_target_folder_loads(tmp_path: Path) -> None:
    manifest = load_manifest(BASELINE)
    assert (manifest.project_name, manifest.adapter_type) == ("shop", "duckdb")
    assert "model.shop.fct_orders" in manifest.models
    (tmp_path / "manifest.json").write_text(BASELINE.read_text())
    assert load_manifest(tmp_path).models.keys() == manifest.models.keys()


def test_a_missing_manifest_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(
        ManifestError, match=r"baseline manifest .*nope\.json does not exist: pass the manifest"
    ):
        load_manifest(tmp_path / "nope.json", role="baseline manifest")
    with pytest.raises(ManifestError, match=r"^manifest .*nope\.json does not exist"):
        load_manifest(tmp_path / "nope.json")


def test_a_manifest_from_another_dbt_version_is_refused(tmp_path: Path) -> None:
    data = json.loads(BASELINE.read_text())
    data["metadata"].update(
        dbt_schema_version="https://schemas.getdbt.com/dbt/manifest/v9.json", dbt_version="1.5.0"
    )
    old = tmp_path / "manifest.json"
    old.write_text(json.dumps(data))
    with pytest.raises(ManifestError) as raised:
        load_manifest(old, role="baseline manifest")
    message = str(raised.value)
    assert "written by dbt 1.5.0 (manifest schema v9)" in message
    assert "reads manifest schema v12 (dbt 1.8 – 1.11)" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not readable JSON"),
        ('{"nodes": {}}', "not a dbt manifest"),
        ("[1, 2]", "not a dbt manifest"),
    ],
)
def test_a_file_that_is_not_a_manifest(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ManifestError, match=expected):
        load_manifest(path)


def test_a_baseline_of_another_project_is_refused() -> None:
    from framework.checks import Manifest, run_checks

    data = json.loads(BASELINE.read_text())
    data["metadata"]["project_name"] = "warehouse"
    with pytest.raises(
        ManifestError, match="baseline manifest is of project 'warehouse', this one is 'shop'"
    ):
        run_checks(load_manifest(BASELINE), baseline=Manifest.from_data(data))
