"""What a check run produces: findings from rules, violations with severity and location, and the report.

A rule yields `Finding`s (what is wrong, on which node, where); the runner turns each into a `Violation` by
adding the rule's name and the severity the project configured. Reporters only ever see a `CheckReport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

REPORT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Finding:
    """One problem a rule found on one node. Leave `path`/`line` empty to point at the node's own file."""

    node_id: str
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)


@dataclass(frozen=True)
class Violation:
    """A finding with its rule, severity and resolved location: what every reporter renders."""

    rule: str
    severity: Severity
    node_id: str
    model: str
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)

    @property
    def location(self) -> str:
        if not self.path:
            return self.node_id
        if self.line is None:
            return self.path
        return f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "node_id": self.node_id,
            "model": self.model,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Violation:
        severity = data["severity"]
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        return cls(
            rule=str(data["rule"]),
            severity=severity,
            node_id=str(data["node_id"]),
            model=str(data["model"]),
            message=str(data["message"]),
            path=data.get("path"),
            line=data.get("line"),
            column=data.get("column"),
            details=dict(data.get("details") or {}),
        )


@dataclass(frozen=True)
class RuleRun:
    """One rule as it ran: how many nodes it looked at (reporters count passes from it)."""

    name: str
    description: str
    severity: Severity
    checked: int


@dataclass(frozen=True)
class CheckReport:
    """Everything a check run found, in rule order then file order."""

    violations: tuple[Violation, ...]
    rules: tuple[RuleRun, ...]
    models_checked: int
    dialect: str
    baseline: str | None = None
    duration_seconds: float = field(default=0.0, compare=False)
    notes: tuple[str, ...] = ()  # what rules could not look at (printed to stderr; in the JSON report)

    @property
    def errors(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "error")

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "warning")

    @property
    def exit_code(self) -> int:
        """0 when nothing at error severity was found, else 1 (2 is for usage errors, raised elsewhere)."""
        return 1 if self.errors else 0

    def for_rule(self, rule: str) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.rule == rule)

    def summary(self) -> str:
        def plural(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        return (
            f"{plural(len(self.errors), 'error')}, {plural(len(self.warnings), 'warning')} "
            f"in {plural(self.models_checked, 'model')} ({plural(len(self.rules), 'rule')}, "
            f"{self.duration_seconds:.2f} s)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": REPORT_FORMAT_VERSION,
            "summary": {
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "models_checked": self.models_checked,
                "dialect": self.dialect,
                "baseline": self.baseline,
                "duration_seconds": round(self.duration_seconds, 3),
            },
            "rules": [
                {"name": r.name, "description": r.description, "severity": r.severity, "checked": r.checked}
                for r in self.rules
            ],
            "violations": [v.to_dict() for v in self.violations],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckReport:
        if data.get("version") != REPORT_FORMAT_VERSION:
            raise ValueError(
                f"check report format version {data.get('version')!r}; expected {REPORT_FORMAT_VERSION}"
            )
        summary = data["summary"]
        return cls(
            violations=tuple(Violation.from_dict(v) for v in data["violations"]),
            rules=tuple(
                RuleRun(
                    name=r["name"], description=r["description"], severity=r["severity"], checked=r["checked"]
                )
                for r in data["rules"]
            ),
            models_checked=int(summary["models_checked"]),
            dialect=str(summary["dialect"]),
            baseline=summary.get("baseline"),
            duration_seconds=float(summary.get("duration_seconds") or 0.0),
            notes=tuple(str(note) for note in data.get("notes") or ()),
        )
