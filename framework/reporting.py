"""Rendering of results for people: rich tables and one-line summaries. Imported only by the CLI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any


def console() -> Any:
    from rich.console import Console

    return Console(stderr=False, highlight=False)


def render_node_results(results: list[dict[str, Any]], title: str) -> None:
    """What dbt did: nodes per resource type and status, then every node that did not succeed."""
    if not results:
        return
    from rich.table import Table

    counts = Counter((r["resource_type"].rsplit(".", 1)[-1], r["status"].rsplit(".", 1)[-1]) for r in results)
    table = Table(title=title, show_edge=False)
    table.add_column("resource")
    table.add_column("status")
    table.add_column("nodes", justify="right")
    for (resource, status), count in sorted(counts.items()):
        table.add_row(resource, status, str(count))
    table.add_row("[bold]total[/bold]", "", f"[bold]{len(results)}[/bold]")
    out = console()
    out.print(table)
    bad = [r for r in results if r["status"].rsplit(".", 1)[-1] in ("error", "fail", "warn", "runtime error")]
    for row in bad:
        out.print(f"[bold]{row['status']}[/bold] {row['name']}: {row['message']}")


def render_demo_data(summary: dict[str, dict[str, int]], out_dir: Path) -> None:
    from rich.table import Table

    table = Table(title=f"demo data in {out_dir}", show_edge=False)
    table.add_column("domain")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for domain, files in summary.items():
        for name, rows in files.items():
            table.add_row(domain, name, f"{rows:,}")
    console().print(table)
