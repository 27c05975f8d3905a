"""How a dbt node becomes a Dagster asset: the one place for every naming decision (groups, owners)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

# models/<layer>/<domain>/...: the fqn is [project, layer, domain, ..., name].
LAYERS = ("staging", "intermediate", "marts")


def domain_of(dbt_resource_props: Mapping[str, Any]) -> str | None:
    """The demo domain of a node, from its folder (`models/marts/search/...` → `search`)."""
    fqn = list(dbt_resource_props.get("fqn") or [])
    for index, part in enumerate(fqn[:-1]):
        if part in LAYERS and index + 1 < len(fqn) - 1:
            return str(fqn[index + 1])
    if dbt_resource_props.get("resource_type") == "source":
        return str(dbt_resource_props.get("source_name") or "") or None
    return None


class OverclockTranslator(DagsterDbtTranslator):
    """Groups per domain, owners from `meta.owner` (a team name or an e-mail address)."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return domain_of(dbt_resource_props) or super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        meta = {
            **(dbt_resource_props.get("meta") or {}),
            **(dbt_resource_props.get("config", {}).get("meta") or {}),
        }
        owner = meta.get("owner")
        if not owner:
            return super().get_owners(dbt_resource_props)
        owners = owner if isinstance(owner, list) else [owner]
        return [o if "@" in str(o) or str(o).startswith("team:") else f"team:{o}" for o in owners]
