"""The rules, in the order they run and report: built-ins first, then plugins' (entry point `overclock.checks`)."""

from __future__ import annotations

from framework.checks.breaking_changes import BreakingChanges
from framework.checks.dag_acyclic import DagAcyclic
from framework.checks.documentation import Documentation
from framework.checks.layer_order import LayerOrder
from framework.checks.mart_reads_source import MartReadsSource
from framework.checks.rule import Rule
from framework.checks.sql_validity import SqlValidity

RULES: tuple[type[Rule], ...] = (
    SqlValidity,
    DagAcyclic,
    LayerOrder,
    MartReadsSource,
    Documentation,
    BreakingChanges,
)


class RuleRegistryError(Exception):
    """A plugin's rule is malformed or its name collides with another rule."""


def all_rules(include_plugins: bool = True) -> list[Rule]:
    """One instance of every rule. A plugin's rule runs exactly like a built-in one."""
    rules: list[Rule] = [rule() for rule in RULES]
    if include_plugins:
        from framework.plugins import load_plugins

        for entry_name, loaded in sorted(load_plugins("overclock.checks").items()):
            rule = loaded() if isinstance(loaded, type) else loaded
            if not isinstance(rule, Rule):
                raise RuleRegistryError(
                    f"plugin entry point '{entry_name}' in overclock.checks is not a framework.checks.Rule "
                    f"(got {type(rule).__name__}): subclass Rule and set name, description, check()"
                )
            rules.append(rule)
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RuleRegistryError(
            f"two rules share the name(s) {', '.join(duplicates)}: rename the plugin's rule"
        )
    return rules
