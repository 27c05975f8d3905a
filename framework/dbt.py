"""The only module that invokes dbt.

In process through `dbtRunner` for the CLI (one invocation at a time: dbtRunner is not safe for concurrent
use in one process), or as a subprocess where isolation is needed (parallel workers, killable runs).
dbt is imported lazily: importing it costs about two seconds, which the compile cache's fast path avoids.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.config import Settings

# dbt's exit codes (dbt.cli.exceptions): 0 ok, 1 a node failed, 2 usage or internal error. We keep them.
EXIT_OK, EXIT_FAILURE, EXIT_ERROR = 0, 1, 2


class DbtError(Exception):
    """dbt could not run: bad project, bad selection, bad flags. Exit code 2."""


@dataclass
class DbtInvocation:
    """What happened when dbt ran: the exit code, the per-node results, and why it failed if it did."""

    exit_code: int
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    unmatched_selectors: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.exit_code == EXIT_OK


def dbt_args(settings: Settings, command: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """Arguments for a dbt command with our project, profiles and target filled in."""
    return [
        *command,
        "--project-dir",
        str(settings.project.project_dir),
        "--profiles-dir",
        str(settings.project.profiles_dir),
        "--target",
        settings.target.name,
        "--target-path",
        str(settings.project.target_path),
        *extra,
    ]


PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PARTIAL_PARSE_SHELF = "partial_parse_by_namespace"


def use_partial_parse_of_namespace(settings: Settings) -> None:
    """Put this target and namespace's own partial-parse state in place in the target folder.

    dbt keeps one partial-parse state per target folder and throws it away when the profile changes; the
    namespace is part of the profile (its schema), so alternating `--prod` and a dev namespace re-parsed the
    whole project every time (9-11 s against 4 s here). The other namespaces' states wait on a shelf beside
    it. dbt still checks every state it reads, so a mislabelled one costs a full parse, never a wrong one.
    """
    folder = settings.project.target_path
    shelf = folder / PARTIAL_PARSE_SHELF
    current = folder / PARTIAL_PARSE_FILE
    owner_file = shelf / "in_place"
    key = f"{settings.target.name}.{settings.namespace.name}"
    owner = owner_file.read_text().strip() if owner_file.is_file() else None
    if owner == key:
        return
    try:
        shelf.mkdir(parents=True, exist_ok=True)
        if owner and current.is_file():
            os.replace(current, shelf / f"{owner}.msgpack")
        stored = shelf / f"{key}.msgpack"
        if stored.is_file():
            os.replace(stored, current)
        owner_file.write_text(key)
    except OSError:  # a read-only or vanished target folder: dbt parses in full, as it would anyway
        return


@contextlib.contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """Set the variables our profiles and macros read, and put them back afterwards."""
    updates = settings.dbt_env()
    saved = {key: os.environ.get(key) for key in updates}
    os.environ.update(updates)
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    use_partial_parse_of_namespace(settings)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _first_line(message: str) -> str:
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    # dbt's compilation errors start with a generic line; the specific cause follows.
    for line in lines:
        if not line.lower().startswith(
            ("compilation error", "runtime error", "parsing error", "database error")
        ):
            return line
    return lines[0] if lines else "dbt failed without a message"


def _condensed(message: Any) -> Any:
    """A Python model's failure arrives with its whole traceback (dbt-duckdb puts it in the message, and dbt
    has printed it already): keep the exception line, e.g. `PrivacyParameterError: epsilon must be ...`."""
    if not isinstance(message, str) or "Traceback (most recent call last):" not in message:
        return message
    last = [line.strip() for line in message.splitlines() if line.strip()][-1]
    exception, _, detail = last.partition(": ")
    return f"Python model failed: {exception.rsplit('.', 1)[-1]}: {detail}" if detail else last


def _node_results(result: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for node_result in getattr(result, "results", None) or []:
        node = getattr(node_result, "node", None)
        rows.append(
            {
                "unique_id": getattr(node, "unique_id", None),
                "name": getattr(node, "name", None),
                "resource_type": str(getattr(node, "resource_type", "")),
                "status": str(getattr(node_result, "status", "")),
                "message": _condensed(getattr(node_result, "message", None)),
                "execution_time": getattr(node_result, "execution_time", None),
                # Where the node's relation is (namespaces record what each invocation built).
                "database": getattr(node, "database", None),
                "schema": getattr(node, "schema", None),
                "alias": getattr(node, "alias", None),
                "relation_name": getattr(node, "relation_name", None),
            }
        )
    return rows


def run_dbt(
    settings: Settings,
    command: Sequence[str],
    extra: Sequence[str] = (),
    manifest: Any = None,
    fail_on_unmatched_selection: bool = True,
    may_match_nothing: Collection[str] = (),
) -> DbtInvocation:
    """Run a dbt command in this process and translate the outcome into a `DbtInvocation`.

    A selection spec that matches no node is an error, except those in `may_match_nothing` (such as
    `state:modified` when nothing changed).
    """
    from dbt.cli.main import dbtRunner

    unmatched: list[str] = []

    def on_event(event: Any) -> None:
        if event.info.name == "NoNodesForSelectionCriteria":
            spec = getattr(event.data, "spec_raw", "?")
            if spec not in may_match_nothing:
                unmatched.append(spec)

    runner = dbtRunner(manifest=manifest, callbacks=[on_event])
    args = dbt_args(settings, command, [*extra, *_colour_flags()])
    with dbt_environment(settings):
        try:
            outcome = runner.invoke(args)
        finally:
            release_duckdb_handle()
    results = _node_results(outcome.result)
    if fail_on_unmatched_selection and unmatched:
        selectors = ", ".join(sorted(set(unmatched)))
        return DbtInvocation(
            EXIT_ERROR,
            results,
            f"selection '{selectors}' matches no model: check the name with `overclock ls`",
            unmatched,
        )
    if outcome.exception is not None:
        return DbtInvocation(EXIT_ERROR, results, _first_line(str(outcome.exception)), unmatched)
    if not outcome.success:
        failed = [r for r in results if r["status"] in ("error", "fail", "runtime error")]
        what = ", ".join(str(r["name"]) for r in failed[:5]) or "see the log above"
        return DbtInvocation(EXIT_FAILURE, results, f"{len(failed)} node(s) failed: {what}", unmatched)
    return DbtInvocation(EXIT_OK, results, None, unmatched)


def _colour_flags() -> list[str]:
    """dbt colours its log whatever it is written to: not into a pipe or a CI log file, nor under NO_COLOR,
    unless DBT_USE_COLORS says otherwise."""
    if "DBT_USE_COLORS" in os.environ:
        return []
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return ["--no-use-colors"]
    return []


def release_duckdb_handle() -> None:
    """Close the DuckDB database that dbt-duckdb keeps open for the life of the process.

    dbt-duckdb holds one process-wide DuckDB instance after an in-process invocation; while it is open, this
    process cannot open the same file again (read-only or with other settings) and no other process can
    write it. Every invocation therefore ends by closing it; the next one reopens it (milliseconds).
    """
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    with manager._LOCK:
        if manager._ENV is not None:
            with contextlib.suppress(Exception):
                manager._ENV.close()
            manager._ENV = None


def parse_manifest(settings: Settings) -> Any:
    """Parse the project in this process and return dbt's `Manifest` object. Handing it to
    `run_dbt(..., manifest=)` spares each following invocation its parse (a backfill runs many in a row)."""
    from dbt.cli.main import dbtRunner

    with dbt_environment(settings):
        outcome = dbtRunner().invoke(dbt_args(settings, ["parse"], ["--quiet"]))
    if not outcome.success or outcome.result is None:
        raise DbtError(_first_line(str(outcome.exception or "dbt parse failed: see the log above")))
    return outcome.result


def list_unique_ids(
    settings: Settings, select: Sequence[str], exclude: Sequence[str] = (), resource_type: str = "model"
) -> list[str]:
    """`dbt ls`: the unique ids a selection matches (dbt's own selection, every method it knows)."""
    import json

    from dbt.cli.main import dbtRunner

    extra = ["--resource-type", resource_type, "--output", "json", "--output-keys", "unique_id", "--quiet"]
    if select:
        extra += ["--select", *select]
    if exclude:
        extra += ["--exclude", *exclude]
    with dbt_environment(settings):
        outcome = dbtRunner().invoke(dbt_args(settings, ["ls"], extra))
    if not outcome.success:
        raise DbtError(_first_line(str(outcome.exception or "dbt ls failed: see the log above")))
    lines: list[str] = outcome.result if isinstance(outcome.result, list) else []
    return [json.loads(line)["unique_id"] for line in lines]


def dbt_executable() -> str:
    """The `dbt` script of the running interpreter's environment (dagster-dbt and workers need a path)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt_subprocess(
    settings: Settings,
    command: Sequence[str],
    extra: Sequence[str] = (),
    capture: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run dbt in a child process, isolated from this one (its own adapter connections and globals)."""
    env = {**os.environ, **settings.dbt_env()}
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    use_partial_parse_of_namespace(settings)
    return subprocess.run(
        [dbt_executable(), *dbt_args(settings, command, extra)],
        env=env,
        capture_output=capture,
        text=True,
        timeout=timeout,
        check=False,
    )
