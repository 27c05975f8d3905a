"""`overclock ns list` keeps namespace names whole on an 80-column terminal or a pipe: a name is what a person
types back into `overclock ns drop NAME`."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from framework.namespaces.listing import NamespaceSummary
from framework.reporting import render_namespaces


def test_namespace_names_stay_whole_in_80_columns() -> None:
    names = ["dev_alexandra_konstantinopoulou", "ci_pr_48213_run_9137266512_attempt_2"]
    summaries = [
        NamespaceSummary(
            name=name,
            is_production=False,
            registered=True,
            owner="alexandra.konstantinopoulou@example.com",
            schemas=(f"{name}_staging", f"{name}_intermediate", f"{name}_marts"),
            relations=412,
            size_bytes=12_345_678_901,
            last_build_at=datetime(2026, 11, 20, 7, 15, tzinfo=UTC),
        )
        for name in names
    ]
    buffer = io.StringIO()
    render_namespaces(summaries, Console(file=buffer, width=80, highlight=False))
    output = buffer.getvalue()
    assert max(len(line) for line in output.splitlines()) <= 80
    for name in names:
        assert name in output
