"""GitHub Actions workflow commands: one `::error file=...,line=...::` annotation per violation.

The annotations appear on the pull request's diff. The Markdown summary (`markdown.py`) goes to the job's
summary page: the CLI appends it to `$GITHUB_STEP_SUMMARY` when that is set.
"""

from __future__ import annotations

from framework.checks.violations import CheckReport, Violation


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(violation: Violation) -> str:
    properties = []
    if violation.path:
        properties.append(f"file={_escape_property(violation.path)}")
        if violation.line is not None:
            properties.append(f"line={violation.line}")
            if violation.column:
                properties.append(f"col={violation.column}")
    properties.append(f"title={_escape_property(f'{violation.rule}: {violation.model}')}")
    return f"::{violation.severity} {','.join(properties)}::{_escape_data(violation.message)}"


def render_github(report: CheckReport) -> str:
    lines = [annotation(violation) for violation in report.violations]
    lines.append(f"overclock check: {report.summary()}")
    return "\n".join(lines) + "\n"
