"""The partial meanings the grammar produces before they are combined and resolved.

A piece may say only "Friday", only "half 2", only "afternoon"; adjacent pieces that do not
contradict each other merge into one ("half 2 friday"), the way Duckling intersects times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

Grain = Literal["day", "hour", "minute"]
Meridiem = Literal["am", "pm"]


@dataclass(frozen=True, slots=True)
class Clock:
    """A time of day as written. `hour` is 0-23, or 1-12 when `meridiem` decides."""

    hour: int
    minute: int
    grain: Grain
    meridiem: Meridiem | None = None
    ambiguous: bool = True  # 1-12 written without am/pm or 24-hour form
    tz_offset: int | None = None  # minutes east of UTC when a zone was written


@dataclass(frozen=True, slots=True)
class Fixed:
    """An already resolved wall-clock value (from relative arithmetic like "in 2 hours")."""

    start: datetime
    end: datetime | None  # None for an instant
    grain: Grain


@dataclass(frozen=True, slots=True)
class Piece:
    """One recognised stretch of text and the parts of a time it pins down."""

    start: int
    end: int
    day: date | None = None
    days: tuple[date, date] | None = None  # [first, end) when several days
    part: str | None = None
    clock: Clock | None = None
    clock_range: tuple[Clock, Clock] | None = None
    open_range: tuple[Literal["after", "before"], Clock] | None = None
    fixed: Fixed | None = None
    weak: bool = False  # only meaningful next to another piece (a bare "9", "am")
    #: The day was written as a plain weekday name ("friday", "mondays"), no "next"/date.
    weekday: int | None = None
    #: Any such weekday, not just the next one ("mondays", "every monday").
    every: bool = False

    @property
    def has_date(self) -> bool:
        return self.day is not None or self.days is not None or self.fixed is not None

    @property
    def has_clock(self) -> bool:
        return (
            self.clock is not None
            or self.clock_range is not None
            or self.open_range is not None
            or self.fixed is not None
        )


def merge(a: Piece, b: Piece) -> Piece | None:
    """Intersect two adjacent pieces, or None when they say conflicting things."""
    if a.has_date and b.has_date:
        return None
    if a.has_clock and b.has_clock:
        return None
    if a.part is not None and b.part is not None:
        return None
    if (a.days or b.days) and (a.has_clock or b.has_clock or a.part or b.part):
        return None
    first, second = (a, b) if a.start <= b.start else (b, a)
    return replace(
        first,
        start=first.start,
        end=second.end,
        day=a.day or b.day,
        days=a.days or b.days,
        part=a.part or b.part,
        clock=a.clock or b.clock,
        clock_range=a.clock_range or b.clock_range,
        open_range=a.open_range or b.open_range,
        fixed=a.fixed or b.fixed,
        weak=a.weak and b.weak,
        weekday=a.weekday if a.weekday is not None else b.weekday,
        every=a.every or b.every,
    )
