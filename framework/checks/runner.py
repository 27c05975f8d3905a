"""Run rules over a manifest: apply the project's severity and exceptions, sort, and time the run."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from framework.checks.config import CheckConfig
from framework.checks.manifest import Manifest, ManifestError
from framework.checks.rule import CheckContext, Rule
from framework.checks.sql import dialect_for
from framework.checks.violations import CheckReport, RuleRun, Violation


def skipped_by_meta(node: Mapping[str, Any], rule: str) -> bool:
    """`meta: {overclock_checks: {skip: [rule, ...]}}` on a model opts it out of those rules."""
    for meta in ((node.get("config") or {}).get("meta") or {}, node.get("meta") or {}):
        settings = meta.get("overclock_checks")
        if isinstance(settings, Mapping):
            skip = settings.get("skip") or []
            if rule in ([skip] if isinstance(skip, str) else skip):
                return True
    return False


def run_checks(
    manifest: Manifest,
    config: CheckConfig | None = None,
    baseline: Manifest | None = None,
    rules: Sequence[Rule] | None = None,
    project_dir: Path | None = None,
    selected: frozenset[str] | None = None,
    dialect: str | None = None,
    display_root: Path | None = None,
    cache_dir: Path | None = None,
) -> CheckReport:
    """Check `manifest` (and, with `baseline`, its breaking changes). Rules default to built-ins + plugins."""
    from framework.checks.registry import all_rules

    started = time.perf_counter()
    config = config or CheckConfig()
    rules = list(rules) if rules is not None else all_rules()
    config.validate_rule_names(rule.name for rule in rules)
    if baseline is not None and baseline.project_name != manifest.project_name:
        raise ManifestError(
            f"the baseline manifest is of project '{baseline.project_name}', this one is "
            f"'{manifest.project_name}': pass the baseline of the same project"
        )
    context = CheckContext(
        manifest,
        config=config,
        dialect=dialect if dialect is not None else dialect_for(manifest.adapter_type),
        project_dir=project_dir,
        baseline=baseline,
        selected=selected,
        display_root=display_root,
        cache_dir=cache_dir,
    )
    models_checked = sum(1 for _ in context.models())
    violations: list[Violation] = []
    runs: list[RuleRun] = []
    for rule in rules:
        settings = config.for_rule(rule.name)
        severity = settings.severity or rule.default_severity
        if severity == "off" or (rule.needs_baseline and baseline is None):
            continue
        runs.append(RuleRun(rule.name, rule.description, severity, models_checked))
        for finding in rule.check(context, settings):
            node = (
                manifest.get(finding.node_id) or (baseline.get(finding.node_id) if baseline else None) or {}
            )
            path = finding.path if finding.path is not None else context.node_path(node)
            name = str(node.get("name", finding.node_id))
            if settings.exempts(name, finding.node_id, path, node.get("original_file_path")):
                continue
            if skipped_by_meta(node, rule.name):
                continue
            violations.append(
                Violation(
                    rule=rule.name,
                    severity=severity,
                    node_id=finding.node_id,
                    model=name,
                    message=finding.message,
                    path=path,
                    line=finding.line,
                    column=finding.column,
                    details=dict(finding.details),
                )
            )
    order = {run.name: index for index, run in enumerate(runs)}
    violations.sort(key=lambda v: (order[v.rule], v.path or "", v.line or 0, v.node_id, v.message))
    return CheckReport(
        violations=tuple(violations),
        rules=tuple(runs),
        models_checked=models_checked,
        dialect=context.dialect or "generic",
        baseline=str(baseline.path) if baseline is not None and baseline.path else None,
        duration_seconds=time.perf_counter() - started,
        notes=tuple(context.notes),
    )
