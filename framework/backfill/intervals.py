"""Time grains and partition intervals: the calendar arithmetic the planner, state and executor share.

An `Interval` is half-open, [start, end), in naive UTC datetimes. A partition is an interval one grain long
whose start is aligned to that grain. Ranges given by people are inclusive at the precision they are written
in: `--end 2025-12-31` means through the last moment of that day, whatever the grain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Grain(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"

    @property
    def rank(self) -> int:
        """Coarser grains rank higher: hour < day < month < year."""
        return list(Grain).index(self)

    def floor(self, moment: datetime) -> datetime:
        if self is Grain.HOUR:
            return moment.replace(minute=0, second=0, microsecond=0)
        if self is Grain.DAY:
            return moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self is Grain.MONTH:
            return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)

    def ceil(self, moment: datetime) -> datetime:
        floor = self.floor(moment)
        return floor if floor == moment else self.add(floor, 1)

    def add(self, moment: datetime, steps: int) -> datetime:
        if self is Grain.HOUR:
            return moment + timedelta(hours=steps)
        if self is Grain.DAY:
            return moment + timedelta(days=steps)
        months = steps * (12 if self is Grain.YEAR else 1)
        month_index = moment.year * 12 + moment.month - 1 + months
        return moment.replace(year=month_index // 12, month=month_index % 12 + 1)


# What `overclock backfill --grain` accepts (models may still be partitioned by year).
BACKFILL_GRAINS = (Grain.HOUR, Grain.DAY, Grain.MONTH)


@dataclass(frozen=True, order=True)
class Interval:
    start: datetime
    end: datetime  # exclusive

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty interval [{self.start}, {self.end})")

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def label(self, grain: Grain | None = None) -> str:
        """`2025-01-03`, or `2025-01-03 → 2025-01-09` for several partitions (end shown inclusive)."""
        grain = grain or _finest_grain_of(self.start, self.end)
        first = format_moment(self.start, grain)
        last = format_moment(grain.add(self.end, -1), grain)
        return first if first == last else f"{first} → {last}"


def format_moment(moment: datetime, grain: Grain) -> str:
    if grain is Grain.HOUR:
        return moment.strftime("%Y-%m-%d %H:00")
    if grain is Grain.MONTH:
        return moment.strftime("%Y-%m")
    if grain is Grain.YEAR:
        return moment.strftime("%Y")
    return moment.strftime("%Y-%m-%d")


def _finest_grain_of(*moments: datetime) -> Grain:
    for grain in (Grain.YEAR, Grain.MONTH, Grain.DAY):
        if all(grain.floor(moment) == moment for moment in moments):
            return grain
    return Grain.HOUR


_MOMENT = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?)?)?$")


def parse_moment(text: str) -> tuple[datetime, Grain]:
    """`2025`, `2025-03`, `2025-03-07`, `2025-03-07T05[:00[:00]]` → (moment, the precision it was written in)."""
    match = _MOMENT.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a date: write YYYY-MM-DD (or YYYY-MM, or YYYY-MM-DDTHH)")
    year, month, day, hour, minute, second = match.groups()
    try:
        moment = datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a valid date: {exc}") from exc
    if int(minute or 0) or int(second or 0):
        raise ValueError(f"'{text}': partitions start on the hour at the finest; write YYYY-MM-DDTHH")
    precision = (
        Grain.YEAR
        if month is None
        else Grain.MONTH
        if day is None
        else Grain.DAY
        if hour is None
        else Grain.HOUR
    )
    return moment, precision


def inclusive_range(start: str, end: str, grain: Grain) -> Interval:
    """The partitions of `grain` from the one holding `start` through the one holding the end of `end`."""
    start_moment, _ = parse_moment(start)
    end_moment, end_precision = parse_moment(end)
    first = grain.floor(start_moment)
    # The end is inclusive at its own precision, then widened to whole partitions of the grain.
    try:
        last_exclusive = grain.ceil(end_precision.add(end_precision.floor(end_moment), 1))
    except (OverflowError, ValueError):
        raise ValueError(
            f"--end {end} is too far in the future: the last partition must end before 10000"
        ) from None
    if last_exclusive <= first:
        raise ValueError(f"--end {end} is before --start {start}")
    return Interval(first, last_exclusive)


def partitions(span: Interval, grain: Grain) -> list[Interval]:
    """The grain-aligned partitions covering span."""
    result = []
    cursor = grain.floor(span.start)
    while cursor < span.end:
        following = grain.add(cursor, 1)
        result.append(Interval(cursor, following))
        cursor = following
    return result


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of intervals as sorted, disjoint, non-adjacent intervals."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def is_covered(interval: Interval, merged: Sequence[Interval]) -> bool:
    """Whether interval lies inside one of the merged (sorted, disjoint) intervals."""
    import bisect

    index = bisect.bisect_right(merged, Interval(interval.start, datetime.max)) - 1
    return index >= 0 and merged[index].start <= interval.start and interval.end <= merged[index].end


def contiguous_runs(intervals: Sequence[Interval], max_length: int) -> Iterator[tuple[Interval, ...]]:
    """Sorted intervals grouped into runs that touch end to start, each at most max_length long."""
    run: list[Interval] = []
    for interval in sorted(intervals):
        if run and (run[-1].end != interval.start or len(run) >= max_length):
            yield tuple(run)
            run = []
        run.append(interval)
    if run:
        yield tuple(run)
