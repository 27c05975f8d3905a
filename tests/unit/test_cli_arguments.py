"""dbt-style selection flags: several values after one flag, as dbt users type them."""

from __future__ import annotations

import pytest

from framework.cli import expand_multi_value_flags


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["build", "-s", "a", "b+"], ["build", "-s", "a", "-s", "b+"]),
        (["build", "-s", "a", "b", "--full-refresh"], ["build", "-s", "a", "-s", "b", "--full-refresh"]),
        (
            ["run", "--exclude", "x", "y", "-t", "local"],
            ["run", "--exclude", "x", "--exclude", "y", "-t", "local"],
        ),
        (["build", "-s", "a", "--", "-s", "b", "c"], ["build", "-s", "a", "--", "-s", "b", "c"]),
        (["ns", "drop", "dev_ana", "--yes"], ["ns", "drop", "dev_ana", "--yes"]),
        (["build", "-t", "postgres", "x"], ["build", "-t", "postgres", "x"]),
    ],
)
def test_expand_multi_value_flags(argv: list[str], expected: list[str]) -> None:
    assert expand_multi_value_flags(argv) == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build", "--vars", "{a: 1"], "error: --vars is not valid YAML: expected ',' or '}'"),
        (["run", "--vars", "abc"], "error: --vars must be a YAML dictionary"),
        (["compile", "--vars", "a: b: c"], "error: --vars is not valid YAML: mapping values are not allowed"),
        (
            ["backfill", "-s", "x", "--start", "2025-01-01", "--end", "2025-01-02", "--vars", "[1]"],
            "error: --vars must be a YAML dictionary",
        ),
        (["build", "--threads", "0"], "Invalid value for '--threads': 0 is not in the range x>=1"),
    ],
)
def test_bad_flags_are_refused_before_dbt_starts(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from framework.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    if message.startswith("error:"):
        assert len(error.strip().splitlines()) == 1, error
