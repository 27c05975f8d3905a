"""A Markdown summary for a pull request or a CI job page: counts per rule, then a table of violations."""

from __future__ import annotations

from framework.checks.violations import CheckReport


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: CheckReport) -> str:
    status = "❌ failed" if report.errors else ("⚠️ passed with warnings" if report.warnings else "✅ passed")
    lines = [f"## overclock check: {status}", "", report.summary(), ""]
    if report.baseline:
        lines += [f"Breaking changes compared with `{report.baseline}`.", ""]
    lines += ["| rule | severity | violations |", "|---|---|---:|"]
    for rule in report.rules:
        lines.append(f"| {rule.name} | {rule.severity} | {len(report.for_rule(rule.name))} |")
    if report.violations:
        lines += ["", "| | rule | model | where | what |", "|---|---|---|---|---|"]
        for violation in report.violations:
            icon = "❌" if violation.severity == "error" else "⚠️"
            lines.append(
                f"| {icon} | {violation.rule} | `{violation.model}` | `{_cell(violation.location)}` | "
                f"{_cell(violation.message)} |"
            )
    return "\n".join(lines) + "\n"
