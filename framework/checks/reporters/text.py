"""Text for people, with rich: violations grouped by file, then a table of rules and a one-line summary."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from framework.checks.violations import CheckReport

if TYPE_CHECKING:
    from rich.console import Console


def render_text(report: CheckReport, color: bool = False, width: int = 110) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False)
    _print_violations(console, report)
    _print_rules(console, report)
    return buffer.getvalue()


def _print_violations(console: Console, report: CheckReport) -> None:
    from rich.text import Text

    current_path: str | None = None
    for violation in report.violations:
        path = violation.path or violation.node_id
        if path != current_path:
            console.print(Text(path, style="bold underline"))
            current_path = path
        line = Text("  ")
        line.append(f"{violation.line or '-':>4}", style="dim")
        line.append(f"  {violation.severity:<7}", style="red" if violation.severity == "error" else "yellow")
        line.append(f" {violation.rule:<18}", style="cyan")
        line.append(f" {violation.model}: ", style="bold")
        line.append(violation.message)
        console.print(line, soft_wrap=True)
    if report.violations:
        console.print()


def _print_rules(console: Console, report: CheckReport) -> None:
    from rich.table import Table

    table = Table(title="overclock check", show_edge=False, title_justify="left")
    table.add_column("rule")
    table.add_column("severity")
    table.add_column("violations", justify="right")
    table.add_column("checks")
    for rule in report.rules:
        count = len(report.for_rule(rule.name))
        table.add_row(rule.name, rule.severity, f"[red]{count}[/red]" if count else "0", rule.description)
    console.print(table)
    verdict = "[red]failed[/red]" if report.errors else "[green]passed[/green]"
    if report.baseline:
        console.print(f"breaking changes compared with {report.baseline}")
    console.print(f"{verdict}: {report.summary()}")
