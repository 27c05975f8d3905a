"""dbt as the compile cache's fallback: the cold build, parses after structural changes, and the nodes the
fast renderer cannot reproduce. dbt runs in a child process (through `framework.dbt`) with its own target
folder inside the cache, so that its partial-parsing state survives between runs and the user's `target/`
only ever receives artifacts the cache wrote.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framework.config import Settings

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TIMESTAMP = re.compile(r"^\d\d:\d\d:\d\d\s+")


class DbtFailed(Exception):
    """dbt reported an error in the project; the message is dbt's, with file and line."""

    def __init__(self, message: str, warehouse_unreachable: bool = False) -> None:
        super().__init__(message)
        # dbt stopped on a database error before compiling any node (exit code 2, not a node's failure): the
        # warehouse could not be reached or used, which is the environment's fault, not the project's.
        self.warehouse_unreachable = warehouse_unreachable


def _private_settings(settings: Settings, target_path: Path) -> Settings:
    project = dataclasses.replace(settings.project, target_path=target_path)
    return dataclasses.replace(settings, project=project)


def _error_message(output: str) -> str:
    lines = [_TIMESTAMP.sub("", _ANSI.sub("", line)).rstrip() for line in output.splitlines()]
    start = None
    for index, line in enumerate(lines):
        if re.search(r"(Compilation|Parsing|Runtime|Database) Error|Encountered an error", line):
            start = index
            break
    relevant = lines[start:] if start is not None else lines[-15:]
    if "Traceback (most recent call last):" in relevant:  # dbt's own stack trace says nothing to the user
        relevant = relevant[: relevant.index("Traceback (most recent call last):")]
    relevant = [line for line in relevant if line.strip() and not line.startswith("Done.")]
    return "\n".join(relevant[:40]) or "dbt failed without a message"


def run(
    settings: Settings,
    target_path: Path,
    command: str,
    select: Sequence[str] = (),
    vars_text: str | None = None,
) -> dict[str, Any]:
    """Run `dbt <command>` into `target_path` and return the manifest it wrote."""
    import orjson

    from framework.dbt import run_dbt_subprocess

    extra = ["--quiet", "--no-use-colors", "--log-path", str(target_path / "logs")]
    if select:
        extra += ["--select", *select]
    if vars_text:
        extra += ["--vars", vars_text]
    target_path.mkdir(parents=True, exist_ok=True)
    manifest_path = target_path / "manifest.json"
    manifest_path.unlink(missing_ok=True)
    completed = run_dbt_subprocess(_private_settings(settings, target_path), [command], extra)
    if completed.returncode != 0 or not manifest_path.is_file():
        message = _error_message((completed.stdout or "") + "\n" + (completed.stderr or ""))
        unreachable = completed.returncode == 2 and "\nDatabase Error" in f"\n{message}"
        raise DbtFailed(message, warehouse_unreachable=unreachable)
    return orjson.loads(manifest_path.read_bytes())


def selector_for(node: dict[str, Any]) -> str:
    """A dbt selector that picks this node (by name: at worst it picks a namesake too, which is harmless)."""
    return str(node["name"])
