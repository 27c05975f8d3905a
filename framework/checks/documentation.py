"""Every model says what it is and who owns it: a description and `meta.owner`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from framework.checks.config import RuleSettings
from framework.checks.rule import CheckContext, Rule
from framework.checks.violations import Finding


def owner_of(node: Mapping[str, Any]) -> str | None:
    """`meta.owner` from the model's config (dbt_project.yml, config block) or its yml entry."""
    for meta in ((node.get("config") or {}).get("meta") or {}, node.get("meta") or {}):
        owner = meta.get("owner")
        if isinstance(owner, str) and owner.strip():
            return owner.strip()
        if isinstance(owner, list | dict) and owner:
            return str(owner)
    return None


class Documentation(Rule):
    name = "documentation"
    description = "every model has a description and an owner (meta.owner)"

    def check(self, context: CheckContext, settings: RuleSettings) -> Iterator[Finding]:
        for unique_id, node in context.models():
            missing = []
            if not (node.get("description") or "").strip():
                missing.append("description")
            if owner_of(node) is None:
                missing.append("owner")
            if not missing:
                continue
            path, line = context.yml_location(node)
            what = " and no ".join("owner (meta.owner)" if item == "owner" else item for item in missing)
            where = "its entry in the schema .yml" if node.get("patch_path") else "a schema .yml beside it"
            yield Finding(
                unique_id,
                f"model has no {what}: add {'them' if len(missing) > 1 else 'it'} to {where}",
                path=path,
                line=line,
                details={"missing": missing},
            )
