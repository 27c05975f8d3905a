"""Rendering of results for people: rich tables and one-line summaries. Imported only by the CLI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any


def console() -> Any:
    from rich.console import Console

    return Console(stderr=False, highlight=False)


def whole_column(values: Any, header: str) -> dict[str, Any]:
    """Column options that keep names and ids whole (they are typed back into other commands): on a narrow
    terminal or a pipe (80 columns), rich wraps the other columns instead of cutting these."""
    return {"no_wrap": True, "min_width": max([len(header), *(len(value) for value in values)])}


def render_node_results(results: list[dict[str, Any]], title: str) -> None:
    """What dbt did: nodes per resource type and status, then every node that did not succeed."""
    if not results:
        return
    from rich.markup import escape
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
    for row in bad:  # one line each, never wrapped: CI logs and pipes are read and grepped whole
        message = escape(str(row["message"]))  # dbt's messages hold brackets rich would read as markup
        out.print(f"[bold]{row['status']}[/bold] {row['name']}: {message}", soft_wrap=True)


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


def _size(size_bytes: int | None) -> str:
    from rich.filesize import decimal

    return "—" if size_bytes is None else str(decimal(size_bytes))


def _age(moment: Any) -> str:
    if moment is None:
        return "unknown"
    from datetime import UTC, datetime

    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length:
            return f"{moment:%Y-%m-%d %H:%M} ({seconds // length}{unit} ago)"
    return f"{moment:%Y-%m-%d %H:%M} (just now)"


def _namespace_table(summaries: Any, title: str) -> Any:
    from rich.table import Table

    summaries = list(summaries)
    names = [summary.name + (" (production)" if summary.is_production else "") for summary in summaries]
    table = Table(title=title, show_edge=False)
    table.add_column("namespace", **whole_column(names, "namespace"))  # typed back into `ns drop NAME`
    for column, justify in (
        ("owner", "left"),
        ("schemas", "right"),
        ("relations", "right"),
        ("size", "right"),
        ("last build (UTC)", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for summary in summaries:
        name = f"[bold]{summary.name}[/bold] (production)" if summary.is_production else summary.name
        owner = summary.owner if summary.registered else "[dim]unregistered[/dim]"
        table.add_row(
            name,
            owner or "",
            str(len(summary.schemas)),
            str(summary.relations),
            _size(summary.size_bytes),
            _age(summary.last_build_at),
        )
    return table


def render_namespaces(summaries: Any, out: Any = None) -> None:
    """`overclock ns list`: one row per namespace, production first."""
    out = out or console()
    if not summaries:
        out.print("no namespaces in this warehouse yet")
        return
    out.print(_namespace_table(summaries, "namespaces"))


def render_garbage_plan(plan: Any, dry_run: bool) -> None:
    """`overclock ns gc`: what is (or would be) dropped, and what is left because its age is unknown."""
    from framework.namespaces.gc import format_age

    out = console()
    verb = "would drop" if dry_run else "dropping"
    bound = format_age(plan.older_than)
    if plan.expired:
        out.print(_namespace_table(plan.expired, f"{verb}: last build older than {bound}"))
    else:
        out.print(f"no namespace's last build is older than {bound}")
    if plan.unknown_age:
        names = ", ".join(summary.name for summary in plan.unknown_age)
        out.print(f"left alone (unregistered, age unknown; drop with `overclock ns drop NAME`): {names}")


def render_compile_summary(summary: Any) -> None:
    """One line for an up-to-date compile; otherwise what was reused, rendered and left to dbt, and why."""
    import click

    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    if summary.mode == "unchanged":
        click.echo(
            f"compile: up to date ({summary.nodes} nodes, {summary.seconds:.2f} s) → {summary.manifest_path}"
        )
        return
    line = (
        f"compile ({summary.mode}): {summary.nodes} nodes — {summary.reused} from cache, "
        f"{summary.rendered} rendered, {summary.dbt_compiled} by dbt — {summary.seconds:.2f} s → {summary.manifest_path}"
    )
    click.echo(line)
    if summary.timings:
        click.echo(
            "  phases: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in summary.timings.items())
        )
    if summary.reason:
        click.echo(f"  dbt was needed: {summary.reason}")
    reasons: Counter[str] = Counter(summary.fallbacks.values())
    for reason, count in reasons.most_common(5):
        click.echo(f"  {count} node(s) compiled by dbt: {reason}")


def render_cache_stats(stats: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"compile cache · {stats.get('path', '')}", show_edge=False)
    table.add_column("counter")
    table.add_column("value", justify="right")
    for key in (
        "runs",
        "unchanged_runs",
        "incremental_runs",
        "refresh_runs",
        "cold_runs",
        "hits",
        "misses",
        "fallbacks",
        "setups",
        "objects",
        "files",
    ):
        table.add_row(key, f"{stats.get(key, 0):,}")
    table.add_row("size", f"{stats.get('size_bytes', 0) / 1e6:,.1f} MB")
    console().print(table)
