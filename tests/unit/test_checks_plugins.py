"""Plugins: rules from the `overclock.checks` entry point run exactly like built-in ones."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from framework import plugins
from framework.checks import Manifest, run_checks
from framework.checks.config import parse_check_config
from framework.checks.registry import RuleRegistryError, all_rules
from framework.plugins import PluginError, load_plugins
from plugins.naming_conventions import NamingConventions
from tests.unit.test_checks_rules import manifest, model


@pytest.fixture
def fresh_plugins() -> Iterator[None]:
    load_plugins.cache_clear()
    yield
    load_plugins.cache_clear()


def test_the_first_party_plugin_loads_through_its_entry_point() -> None:
    loaded = load_plugins("overclock.checks")
    assert loaded["naming_conventions"] is NamingConventions
    assert "naming_conventions" in [rule.name for rule in all_rules()]
    assert "naming_conventions" not in [rule.name for rule in all_rules(include_plugins=False)]


def _misnamed() -> Manifest:
    return manifest(
        model("stg_orders"),
        model("orders_enriched", "intermediate", refs=["stg_orders"]),
        model("fct_orders", "marts", refs=["orders_enriched"]),
        model("orders_summary", "marts", refs=["fct_orders"]),
    )


def test_the_plugin_rule_runs_like_a_builtin() -> None:
    report = run_checks(_misnamed())  # default rules: built-ins and plugins
    assert {v.model for v in report.for_rule("naming_conventions")} == {"orders_enriched", "orders_summary"}
    assert "naming_conventions" in [run.name for run in report.rules]
    violation = report.for_rule("naming_conventions")[0]
    assert (violation.path, violation.line) == ("models/intermediate/orders_enriched.sql", 1)
    config = parse_check_config(
        {"rules": {"naming_conventions": {"severity": "warning", "exceptions": ["orders_summary"]}}}, "t"
    )
    [warning] = run_checks(_misnamed(), config=config).for_rule("naming_conventions")
    assert (warning.model, warning.severity) == ("orders_enriched", "warning")


def test_the_plugin_takes_its_options_from_the_project_config() -> None:
    config = parse_check_config(
        {"rules": {"naming_conventions": {"prefixes": {"marts": ["fct_", "orders_"]}}}}, "t"
    )
    report = run_checks(_misnamed(), config=config, rules=[NamingConventions()])
    assert [v.model for v in report.violations] == ["orders_enriched"]


def _entry_points(*points: EntryPoint) -> Any:
    return lambda group: [point for point in points if point.group == group]


def test_a_broken_plugin_names_itself(monkeypatch: pytest.MonkeyPatch, fresh_plugins: None) -> None:
    broken = EntryPoint("broken_rule", "no_such_module_here:Rule", "overclock.checks")
    monkeypatch.setattr(plugins, "entry_points", _entry_points(broken))
    with pytest.raises(
        PluginError, match=r"plugin 'broken_rule' \(no_such_module_here:Rule\) .* failed to load"
    ):
        load_plugins("overclock.checks")


def test_a_plugin_that_is_not_a_rule_is_refused(monkeypatch: pytest.MonkeyPatch, fresh_plugins: None) -> None:
    not_a_rule = EntryPoint("not_a_rule", "framework.plugins:GROUPS", "overclock.checks")
    monkeypatch.setattr(plugins, "entry_points", _entry_points(not_a_rule))
    with pytest.raises(RuleRegistryError, match=r"'not_a_rule' .* is not a framework\.checks\.Rule"):
        all_rules()


def test_a_plugin_rule_cannot_shadow_a_builtin(monkeypatch: pytest.MonkeyPatch, fresh_plugins: None) -> None:
    shadow = EntryPoint("shadow", "framework.checks.documentation:Documentation", "overclock.checks")
    monkeypatch.setattr(plugins, "entry_points", _entry_points(shadow))
    with pytest.raises(RuleRegistryError, match="share the name"):
        all_rules()


def test_the_other_groups_are_discoverable_and_unknown_ones_refused() -> None:
    for group in ("overclock.strategies", "overclock.providers"):
        assert isinstance(load_plugins(group), dict)
    with pytest.raises(PluginError, match="unknown plugin group"):
        load_plugins("overclock.nope")
