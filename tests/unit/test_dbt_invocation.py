"""framework.dbt around each dbt invocation: every namespace keeps its own partial-parse state (alternating
`--prod` and a dev namespace must not re-parse the project each time, the namespace being part of the profile
dbt checks), and dbt's errors are reported by their cause."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from framework.dbt import PARTIAL_PARSE_FILE, use_partial_parse_of_namespace


def settings(target_path: Path, namespace: str) -> Any:
    return SimpleNamespace(
        project=SimpleNamespace(target_path=target_path),
        target=SimpleNamespace(name="local"),
        namespace=SimpleNamespace(name=namespace),
    )


def test_each_namespace_finds_its_own_state_in_place(tmp_path: Path) -> None:
    current = tmp_path / PARTIAL_PARSE_FILE

    def run_dbt(namespace: str) -> str | None:
        """What dbt would find in place, then what it leaves (its state for this namespace)."""
        use_partial_parse_of_namespace(settings(tmp_path, namespace))
        found = current.read_text() if current.is_file() else None
        current.write_text(f"state of {namespace}")
        return found

    current.write_text("written by plain dbt")
    assert run_dbt("prod") == "written by plain dbt"  # an unlabelled state is left for dbt to judge
    assert run_dbt("dev_ana") is None  # first time in this namespace: a full parse
    assert run_dbt("prod") == "state of prod"
    assert run_dbt("prod") == "state of prod"
    assert run_dbt("dev_ana") == "state of dev_ana"
    assert run_dbt("ci_7") is None
    assert run_dbt("dev_ana") == "state of dev_ana"


def test_a_target_folder_that_does_not_exist_yet_is_fine(tmp_path: Path) -> None:
    use_partial_parse_of_namespace(settings(tmp_path / "new" / "target", "prod"))
    assert not (tmp_path / "new" / "target" / PARTIAL_PARSE_FILE).exists()  # nothing to put in place


def test_a_dbt_error_is_reported_by_its_cause_not_its_category() -> None:
    from framework.dbt import _first_line

    message = (
        'Database Error\n  connection to server at "localhost" (127.0.0.1), port 55432 failed: '
        'FATAL:  password authentication failed for user "ana"\n'
    )
    assert _first_line(message).startswith("connection to server at")
    assert _first_line("Compilation Error\n  'x' is undefined") == "'x' is undefined"
