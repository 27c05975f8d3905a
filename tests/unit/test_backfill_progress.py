"""The backfill tables keep run ids and model names whole on an 80-column terminal or a pipe: they are what a
person types back into `overclock backfill status/resume/cancel`."""

from __future__ import annotations

import io
from datetime import datetime

from rich.console import Console

from framework.backfill.progress import render_runs
from framework.backfill.runs import BackfillRequest, RunStatus


def test_run_ids_stay_whole_in_80_columns() -> None:
    runs = [
        RunStatus(
            run_id=f"20261127T07{minute:02d}00-a1b2c3",
            state="interrupted",
            request=BackfillRequest(
                select=("fct_live_event_broadcast_acks+", "int_live_event_state"),
                start="2025-01-01",
                end="2025-12-31",
            ),
            planned_at=datetime(2026, 11, 27, 7, minute),
            finished=None,
            due={"fct_live_event_broadcast_acks": 365},
            done_by_run=120,
        )
        for minute in (10, 20)
    ]
    buffer = io.StringIO()
    render_runs(runs, Console(file=buffer, width=80, highlight=False))
    output = buffer.getvalue()
    assert max(len(line) for line in output.splitlines()) <= 80
    for run in runs:
        assert run.run_id in output


def test_status_shows_the_exclusions_the_run_was_started_with() -> None:
    from framework.backfill.progress import render_status

    status = RunStatus(
        run_id="20261127T071000-a1b2c3",
        state="finished",
        request=BackfillRequest(
            select=("events_daily+",), exclude=("user_summary",), start="2025-01-01", end="2025-01-12"
        ),
        planned_at=datetime(2026, 11, 27, 7, 10),
        finished=None,
        due={"events_daily": 12},
        done_by_run=12,
    )
    buffer = io.StringIO()
    render_status(status, Console(file=buffer, width=200, highlight=False))
    assert "selection events_daily+ --exclude user_summary · 2025-01-01 → 2025-01-12" in buffer.getvalue()
