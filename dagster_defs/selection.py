"""Resolve the simple dbt selections our code location uses without dbt's selector engine.

dagster-dbt evaluates every `select=` through dbt-core's graph selector, which builds a full dbt `Manifest`
object from the JSON: about half a second at 2,500 models, paid on every code-location load. Our selections
are plain lists of node names, whose meaning is exact and cheap: the named models/seeds/snapshots plus, as
dbt's default (eager) indirect selection does, every test that depends on one of them. Anything else is
passed through to dagster-dbt's own implementation unchanged.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SELECTABLE = ("model", "seed", "snapshot")


def select_by_names(select: str, manifest: Mapping[str, Any]) -> set[str] | None:
    """The unique ids dbt would select for `select` if it is a list of unique node names, else None."""
    tokens = select.split()
    if not tokens or not all(_PLAIN_NAME.match(token) for token in tokens):
        return None
    nodes: Mapping[str, Mapping[str, Any]] = manifest.get("nodes", {})
    by_name: dict[str, list[str]] = {}
    folders: set[str] = set()
    for unique_id, node in nodes.items():
        folders.update(node.get("fqn", [])[:-1])
        if node.get("resource_type") in _SELECTABLE:
            by_name.setdefault(node["name"], []).append(unique_id)
    selected: set[str] = set()
    for token in tokens:
        # A token that is also a package or folder name means more to dbt than one node: let dbt decide.
        if token in folders or len(by_name.get(token, [])) != 1:
            return None
        selected.update(by_name[token])
    for unique_id, node in nodes.items():
        if node.get("resource_type") == "test" and selected.intersection(
            node.get("depends_on", {}).get("nodes", [])
        ):
            selected.add(unique_id)
    return selected


@contextlib.contextmanager
def fast_name_selection() -> Iterator[None]:
    """While active, dagster-dbt resolves plain-name selections with `select_by_names`."""
    import dagster_dbt.asset_utils as asset_utils

    original = asset_utils.select_unique_ids

    def select_unique_ids(
        select: str, exclude: str, selector: str, project: Any, manifest_json: Mapping[str, Any]
    ) -> Any:
        if not exclude and not selector:
            selected = select_by_names(select, manifest_json)
            if selected is not None:
                return selected
        return original(
            select=select, exclude=exclude, selector=selector, project=project, manifest_json=manifest_json
        )

    asset_utils.select_unique_ids = select_unique_ids
    try:
        yield
    finally:
        asset_utils.select_unique_ids = original
