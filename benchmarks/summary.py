"""Print the latest benchmark results (benchmarks/results/*.json) as one Markdown table, for the README."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def rows() -> list[str]:
    lines = ["| benchmark | target | value | bound | met |", "|---|---|---|---|---|"]
    for path in sorted(RESULTS_DIR.glob("*.json")):
        if path.name.endswith(".quick.json"):
            continue  # development runs (--quick) are not the figures
        result = json.loads(path.read_text())
        for target in result.get("targets", []):
            value = target["value"]
            shown = f"{value:,.3g}" if isinstance(value, float) else str(value)
            met = "yes" if target["met"] else "**no**"
            lines.append(
                f"| {result['benchmark']} | {target['name']} | {shown} | {target['target']} | {met} |"
            )
    return lines


if __name__ == "__main__":
    print("\n".join(rows()))
