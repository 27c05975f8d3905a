"""Compiled-DAG checks for CI: SQL validity, DAG rules, breaking changes, reporters.

The pipeline, one module per stage: `compiled` (get the manifest) → `manifest` (validate, index, DAG) →
`runner` (the rules of `registry`, in order, each one module) → `reporters/`. A rule is a `Rule` subclass;
plugins register theirs under the `overclock.checks` entry point and run exactly like the built-ins.
"""

from framework.checks.config import CheckConfig, CheckConfigError, RuleSettings, load_check_config
from framework.checks.manifest import Manifest, ManifestError, load_manifest
from framework.checks.rule import CheckContext, Rule
from framework.checks.runner import run_checks
from framework.checks.violations import CheckReport, Finding, Violation

__all__ = [
    "CheckConfig",
    "CheckConfigError",
    "CheckContext",
    "CheckReport",
    "Finding",
    "Manifest",
    "ManifestError",
    "Rule",
    "RuleSettings",
    "Violation",
    "load_check_config",
    "load_manifest",
    "run_checks",
]
