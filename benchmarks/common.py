"""What every benchmark shares: timing, a readable table, and `benchmarks/results/<name>.json`.

Result format: {"benchmark", "params", "metrics": {...}, "targets": [{"name", "value", "target", "met"}]}.
Ratios are always measured side by side in one run against the named baseline: absolute times drift on
these machines, ratios much less.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
WORK_DIR = Path(__file__).resolve().parent / ".work"  # git-ignored scratch space for generated projects


@dataclass
class Target:
    name: str
    value: float
    target: str  # human-readable bound, e.g. "<= 1.0 s" or ">= 25x"
    met: bool


@dataclass
class BenchmarkResult:
    benchmark: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    def at_most(self, name: str, value: float, bound: float, unit: str = "") -> None:
        self.targets.append(Target(name, round(value, 4), f"<= {bound}{unit}", value <= bound))

    def at_least(self, name: str, value: float, bound: float, unit: str = "") -> None:
        self.targets.append(Target(name, round(value, 4), f">= {bound}{unit}", value >= bound))

    def write(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        # A --quick run is for development: it must not replace the full run's figures the README quotes.
        suffix = ".quick.json" if self.params.get("quick") else ".json"
        path = RESULTS_DIR / f"{self.benchmark}{suffix}"
        payload = {
            "benchmark": self.benchmark,
            "params": self.params,
            "metrics": self.metrics,
            "targets": [vars(t) for t in self.targets],
        }
        path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
        return path

    def print_table(self) -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        metrics = Table(title=f"{self.benchmark} — metrics", show_edge=False)
        metrics.add_column("metric")
        metrics.add_column("value", justify="right")
        for name, value in self.metrics.items():
            metrics.add_row(name, f"{value:,.4g}" if isinstance(value, float) else str(value))
        console.print(metrics)
        if self.targets:
            targets = Table(title=f"{self.benchmark} — targets", show_edge=False)
            for column in ("target", "value", "bound", "met"):
                targets.add_column(column)
            for t in self.targets:
                targets.add_row(t.name, f"{t.value:,.4g}", t.target, "yes" if t.met else "[red]NO[/red]")
            console.print(targets)

    def finish(self) -> Path:
        self.print_table()
        path = self.write()
        print(f"wrote {path}")
        return path


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    """`with timer() as elapsed: ...; seconds = elapsed()`."""
    start = time.perf_counter()
    end: list[float] = []
    try:
        yield lambda: (end[0] if end else time.perf_counter()) - start
    finally:
        end.append(time.perf_counter())
