"""A project's check configuration: per-rule severity, exceptions and options.

Read from `checks.yml` beside `dbt_project.yml`, else from `vars: overclock_checks:` in `dbt_project.yml`
(when both exist, `checks.yml` wins rule by rule). The shape, in either place:

    layers: [staging, intermediate, marts]      # the layer order; a model's layer is a folder of its path
    rules:
      documentation:
        severity: warning                       # error (default for most rules) | warning | off
        exceptions: [legacy_*, models/marts/old/*]   # model names, unique ids or file paths (fnmatch globs)
      mart_reads_source:
        layers: [marts]                         # anything else is the rule's own option

A single model can also opt out in its own config: `meta: {overclock_checks: {skip: [documentation]}}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

SeveritySetting = Literal["error", "warning", "off"]
SEVERITY_SETTINGS: tuple[SeveritySetting, ...] = ("error", "warning", "off")
DEFAULT_LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts")
CONFIG_FILE = "checks.yml"
PROJECT_VAR = "overclock_checks"


class CheckConfigError(Exception):
    """The check configuration is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class RuleSettings:
    """How one rule runs in this project."""

    severity: SeveritySetting | None = None  # None: the rule's own default
    exceptions: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def exempts(self, *names: str | None) -> bool:
        """True if any of the given names (model name, unique id, file path) matches an exception."""
        return any(name and fnmatchcase(name, pattern) for name in names for pattern in self.exceptions)


@dataclass(frozen=True)
class CheckConfig:
    layers: tuple[str, ...] = DEFAULT_LAYERS
    rules: Mapping[str, RuleSettings] = field(default_factory=dict, hash=False)
    source: str = "defaults"  # where it was read from, for messages

    def for_rule(self, name: str) -> RuleSettings:
        return self.rules.get(name, RuleSettings())

    def validate_rule_names(self, known: Iterable[str]) -> None:
        known_names = set(known)
        unknown = sorted(set(self.rules) - known_names)
        if unknown:
            raise CheckConfigError(
                f"{self.source}: unknown rule(s) {', '.join(unknown)}; known rules: "
                f"{', '.join(sorted(known_names))}"
            )


def _rule_settings(name: str, raw: Any, where: str) -> RuleSettings:
    if raw is None:
        return RuleSettings()
    if isinstance(raw, str):  # shorthand: `documentation: warning`
        raw = {"severity": raw}
    if not isinstance(raw, Mapping):
        raise CheckConfigError(f"{where}: rules.{name} must be a mapping (severity, exceptions, options)")
    options = {key: value for key, value in raw.items() if key not in ("severity", "exceptions")}
    severity = raw.get("severity")
    if severity is not None and severity not in SEVERITY_SETTINGS:
        raise CheckConfigError(
            f"{where}: rules.{name}.severity is {severity!r}; use one of {', '.join(SEVERITY_SETTINGS)}"
        )
    exceptions = raw.get("exceptions") or []
    if isinstance(exceptions, str):
        exceptions = [exceptions]
    if not isinstance(exceptions, list) or not all(isinstance(item, str) for item in exceptions):
        raise CheckConfigError(f"{where}: rules.{name}.exceptions must be a list of names or globs")
    return RuleSettings(severity=severity, exceptions=tuple(exceptions), options=options)


def parse_check_config(raw: Any, where: str) -> CheckConfig:
    """Build a `CheckConfig` from the mapping found in `checks.yml` or the project var."""
    if raw is None:
        return CheckConfig(source=where)
    if not isinstance(raw, Mapping):
        raise CheckConfigError(f"{where}: the check configuration must be a mapping with `rules:`")
    unknown = sorted(set(raw) - {"layers", "rules"})
    if unknown:
        raise CheckConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; expected `layers`, `rules`")
    layers = raw.get("layers", list(DEFAULT_LAYERS))
    if not isinstance(layers, list) or not layers or not all(isinstance(layer, str) for layer in layers):
        raise CheckConfigError(f"{where}: `layers` must be a non-empty list of folder names, in order")
    rules = raw.get("rules") or {}
    if not isinstance(rules, Mapping):
        raise CheckConfigError(f"{where}: `rules` must map rule names to their settings")
    return CheckConfig(
        layers=tuple(layers),
        rules={str(name): _rule_settings(str(name), value, where) for name, value in rules.items()},
        source=where,
    )


def _read_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise CheckConfigError(f"{path} is not valid YAML: {exc}") from exc


def load_check_config(project_dir: Path) -> CheckConfig:
    """The project's configuration: `vars.overclock_checks` overlaid with `checks.yml`, else the defaults."""
    merged: dict[str, Any] = {}
    sources: list[str] = []
    project_file = project_dir / "dbt_project.yml"
    if project_file.is_file():
        project = _read_yaml(project_file) or {}
        variables = project.get("vars") if isinstance(project, Mapping) else None
        if isinstance(variables, Mapping) and variables.get(PROJECT_VAR) is not None:
            where = f"{project_file} (vars.{PROJECT_VAR})"
            merged = dict(parse_raw(variables[PROJECT_VAR], where))
            sources.append(where)
    checks_file = project_dir / CONFIG_FILE
    if checks_file.is_file():
        raw = _read_yaml(checks_file)
        if isinstance(raw, Mapping) and PROJECT_VAR in raw:  # the var's block pasted as is
            raw = raw[PROJECT_VAR]
        overlay = parse_raw(raw, str(checks_file))
        rules = {**(merged.get("rules") or {}), **(overlay.get("rules") or {})}
        merged = {**merged, **overlay, "rules": rules}
        sources.append(str(checks_file))
    if not sources:
        return CheckConfig()
    return parse_check_config(merged, " + ".join(sources))


def parse_raw(raw: Any, where: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise CheckConfigError(f"{where}: the check configuration must be a mapping with `rules:`")
    if not isinstance(raw.get("rules") or {}, Mapping):
        raise CheckConfigError(f"{where}: `rules` must map rule names to their settings")
    return raw
