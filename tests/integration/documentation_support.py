"""The domains' documentation acceptance: `dbt docs generate` succeeds over a built warehouse, and every model it
catalogued, and every column the warehouse holds for it, has a description in the manifest."""

from __future__ import annotations

import json
from pathlib import Path


def undocumented(target_path: Path) -> tuple[list[str], list[str]]:
    """(models catalogued, what lacks a description) from the manifest and catalog `dbt docs generate` wrote.

    Columns come from the catalog, that is from the warehouse itself, so a column a model outputs but its yml
    does not list counts as undocumented too.
    """
    manifest = json.loads((target_path / "manifest.json").read_text())["nodes"]
    catalog = json.loads((target_path / "catalog.json").read_text())["nodes"]
    models = sorted(unique_id for unique_id in catalog if unique_id.startswith("model."))
    problems = []
    for unique_id in models:
        node = manifest[unique_id]
        if not (node.get("description") or "").strip():
            problems.append(f"{unique_id}: no description")
        described = {
            name.lower()
            for name, column in node["columns"].items()
            if (column.get("description") or "").strip()
        }
        problems += [
            f"{unique_id}.{column}: no description"
            for column in catalog[unique_id]["columns"]
            if column.lower() not in described
        ]
    return models, problems
