"""Grains and intervals: the calendar arithmetic under the planner."""

from __future__ import annotations

from datetime import datetime as dt

import pytest

from framework.backfill.intervals import (
    Grain,
    Interval,
    contiguous_runs,
    inclusive_range,
    is_covered,
    merge_intervals,
    parse_moment,
    partitions,
)


@pytest.mark.parametrize(
    ("grain", "moment", "floor", "following"),
    [
        (Grain.HOUR, dt(2025, 3, 7, 5, 42), dt(2025, 3, 7, 5), dt(2025, 3, 7, 6)),
        (Grain.DAY, dt(2025, 3, 7, 5, 42), dt(2025, 3, 7), dt(2025, 3, 8)),
        (Grain.MONTH, dt(2025, 1, 31, 23), dt(2025, 1, 1), dt(2025, 2, 1)),
        (Grain.MONTH, dt(2025, 12, 1), dt(2025, 12, 1), dt(2026, 1, 1)),
        (Grain.YEAR, dt(2024, 2, 29), dt(2024, 1, 1), dt(2025, 1, 1)),
    ],
)
def test_floor_add_and_ceil(grain: Grain, moment: dt, floor: dt, following: dt) -> None:
    assert grain.floor(moment) == floor
    assert grain.add(floor, 1) == following
    assert grain.add(following, -1) == floor
    assert grain.ceil(floor) == floor
    assert grain.ceil(moment) == (floor if moment == floor else following)


def test_month_arithmetic_crosses_years() -> None:
    assert Grain.MONTH.add(dt(2025, 11, 1), 3) == dt(2026, 2, 1)
    assert Grain.MONTH.add(dt(2025, 2, 1), -2) == dt(2024, 12, 1)
    assert Grain.YEAR.add(dt(2025, 1, 1), -1) == dt(2024, 1, 1)


@pytest.mark.parametrize(
    ("text", "moment", "precision"),
    [
        ("2025", dt(2025, 1, 1), Grain.YEAR),
        ("2025-03", dt(2025, 3, 1), Grain.MONTH),
        ("2025-03-07", dt(2025, 3, 7), Grain.DAY),
        ("2025-03-07T05", dt(2025, 3, 7, 5), Grain.HOUR),
        ("2025-03-07 05:00:00", dt(2025, 3, 7, 5), Grain.HOUR),
    ],
)
def test_parse_moment(text: str, moment: dt, precision: Grain) -> None:
    assert parse_moment(text) == (moment, precision)


@pytest.mark.parametrize(
    "text",
    ["yesterday", "2025-13-01", "2025-02-30", "25-01-01", "", "2025-01-01T06:30", "2025-01-01 06:00:15"],
)
def test_parse_moment_rejects_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError):
        parse_moment(text)


@pytest.mark.parametrize(
    ("start", "end", "grain", "expected"),
    [
        # the end is inclusive at the precision written
        ("2025-01-01", "2025-12-31", Grain.DAY, Interval(dt(2025, 1, 1), dt(2026, 1, 1))),
        ("2025-01-01", "2025-01-01", Grain.HOUR, Interval(dt(2025, 1, 1), dt(2025, 1, 2))),
        ("2025-01-01T05", "2025-01-01T07", Grain.HOUR, Interval(dt(2025, 1, 1, 5), dt(2025, 1, 1, 8))),
        ("2025-01-15", "2025-02-03", Grain.MONTH, Interval(dt(2025, 1, 1), dt(2025, 3, 1))),
        ("2025-01", "2025-03", Grain.DAY, Interval(dt(2025, 1, 1), dt(2025, 4, 1))),
    ],
)
def test_inclusive_range(start: str, end: str, grain: Grain, expected: Interval) -> None:
    assert inclusive_range(start, end, grain) == expected


def test_inclusive_range_refuses_an_end_before_the_start() -> None:
    with pytest.raises(ValueError, match="before"):
        inclusive_range("2025-02-01", "2025-01-31", Grain.DAY)


@pytest.mark.parametrize("end", ["9999-12-31", "9999-12", "9999"])
def test_an_end_past_the_calendar_is_an_error_not_an_overflow(end: str) -> None:
    with pytest.raises(ValueError, match="too far in the future"):
        inclusive_range("2025-01-01", end, Grain.DAY)


def test_partitions_cover_the_span_at_the_grain() -> None:
    days = partitions(Interval(dt(2025, 1, 30), dt(2025, 2, 2)), Grain.DAY)
    assert [d.start.day for d in days] == [30, 31, 1]
    assert all(d.end == Grain.DAY.add(d.start, 1) for d in days)
    months = partitions(Interval(dt(2024, 11, 1), dt(2025, 2, 1)), Grain.MONTH)
    assert [(m.start.year, m.start.month) for m in months] == [(2024, 11), (2024, 12), (2025, 1)]


def test_merge_and_cover() -> None:
    day = lambda d: Interval(dt(2025, 1, d), dt(2025, 1, d + 1))  # noqa: E731
    merged = merge_intervals([day(5), day(1), day(2), day(3), Interval(dt(2025, 1, 2), dt(2025, 1, 4))])
    assert merged == [Interval(dt(2025, 1, 1), dt(2025, 1, 4)), day(5)]
    assert is_covered(day(2), merged)
    assert is_covered(Interval(dt(2025, 1, 1), dt(2025, 1, 4)), merged)
    assert not is_covered(day(4), merged)
    assert not is_covered(Interval(dt(2025, 1, 3), dt(2025, 1, 6)), merged)
    assert not is_covered(day(1), [])


def test_contiguous_runs_split_at_gaps_and_at_the_batch_size() -> None:
    day = lambda d: Interval(dt(2025, 1, d), dt(2025, 1, d + 1))  # noqa: E731
    runs = list(contiguous_runs([day(d) for d in (1, 2, 3, 4, 5, 8, 9)], max_length=3))
    assert [[i.start.day for i in run] for run in runs] == [[1, 2, 3], [4, 5], [8, 9]]


def test_labels_show_the_end_inclusively() -> None:
    assert Interval(dt(2025, 1, 1), dt(2025, 1, 2)).label() == "2025-01-01"
    assert Interval(dt(2025, 1, 1), dt(2025, 1, 8)).label() == "2025-01-01 → 2025-01-07"
    assert Interval(dt(2025, 1, 1, 5), dt(2025, 1, 1, 6)).label() == "2025-01-01 05:00"
    assert Interval(dt(2025, 1, 1), dt(2025, 3, 1)).label(Grain.MONTH) == "2025-01 → 2025-02"
