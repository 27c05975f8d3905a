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
