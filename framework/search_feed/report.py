"""Rendering of a search-feed export for people (rich): one row per destination, then the totals."""

from __future__ import annotations

from framework.search_feed.export import SearchFeedExport


def render_export(export: SearchFeedExport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"search feed → {export.out_dir} (from schema {export.schema})", show_edge=False)
    table.add_column("cluster")
    table.add_column("index")
    table.add_column("files", justify="right")
    table.add_column("actions", justify="right")
    table.add_column("bytes", justify="right")
    for (cluster, index), (files, documents, size) in sorted(export.per_destination().items()):
        table.add_row(cluster, index, f"{files:,}", f"{documents:,}", f"{size:,}")
    table.add_row(
        "[bold]total[/bold]",
        f"{len(export.per_destination())} destinations",
        f"[bold]{len(export.batches):,}[/bold]",
        f"[bold]{export.documents:,}[/bold]",
        f"[bold]{export.bytes:,}[/bold]",
    )
    Console(highlight=False).print(table)
