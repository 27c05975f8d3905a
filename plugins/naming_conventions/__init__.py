"""Plugin rule for `overclock check`: a model's name carries its layer's prefix.

Registered in pyproject.toml under `[project.entry-points."overclock.checks"]`, exactly as a third-party
package would register its own rules. Options (checks.yml or `vars.overclock_checks` in dbt_project.yml):

    rules:
      naming_conventions:
        prefixes: {staging: [stg_], intermediate: [int_], marts: [fct_, dim_]}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from framework.checks import CheckContext, Finding, Rule, RuleSettings

DEFAULT_PREFIXES: Mapping[str, Sequence[str]] = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("fct_", "dim_"),
}


class NamingConventions(Rule):
    name = "naming_conventions"
    description = "model names carry their layer's prefix (stg_, int_, fct_ or dim_)"

    def check(self, context: CheckContext, settings: RuleSettings) -> Iterator[Finding]:
        configured = settings.options.get("prefixes") or {}
        prefixes = {**DEFAULT_PREFIXES, **configured}
        for unique_id, node in context.models():
            layer = context.layer_of(node)
            allowed = prefixes.get(layer or "")
            if not allowed:
                continue
            allowed = [allowed] if isinstance(allowed, str) else list(allowed)
            if any(node["name"].startswith(prefix) for prefix in allowed):
                continue
            yield Finding(
                unique_id,
                f"{layer} model name '{node['name']}' should start with {' or '.join(allowed)}: "
                "rename the file (and its yml entry and refs)",
                line=1,
                details={"layer": layer, "prefixes": allowed},
            )
