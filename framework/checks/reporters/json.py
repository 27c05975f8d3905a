"""JSON: the report as data. `parse_json(render_json(report)) == report`."""

from __future__ import annotations

import json

from framework.checks.violations import CheckReport


def render_json(report: CheckReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def parse_json(text: str) -> CheckReport:
    return CheckReport.from_dict(json.loads(text))
