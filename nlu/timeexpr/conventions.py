"""Reading conventions: the places where UK residents and Duckling's English disagree.

Everything that depends on who is writing lives here, so the grammar stays one grammar:
UK is what the service uses; DUCKLING reproduces Duckling's own English choices so the
external corpus can be scored fairly (see docs/time-expressions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

HourRange = tuple[int, int]

_UK_PARTS: Mapping[str, HourRange] = MappingProxyType(
    {
        "morning": (8, 12),
        "afternoon": (12, 17),
        "evening": (17, 20),
        "tonight": (17, 24),
        "night": (20, 24),
        "late night": (21, 24),
        "early morning": (8, 10),
        "first thing": (8, 10),
        "lunch": (12, 14),
        "after lunch": (13, 17),
        "after school": (15, 20),
        "late afternoon": (15, 17),
        "am": (8, 12),
        "pm": (12, 17),
    }
)

_DUCKLING_PARTS: Mapping[str, HourRange] = MappingProxyType(
    {
        "morning": (0, 12),
        "afternoon": (12, 19),
        "evening": (18, 24),
        "tonight": (18, 24),
        "night": (18, 24),
        "late night": (21, 24),
        "early morning": (0, 9),
        "first thing": (0, 9),
        "lunch": (12, 14),
        "after lunch": (13, 17),
        "after school": (15, 21),
        "late afternoon": (15, 19),
        "am": (0, 12),
        "pm": (12, 24),
    }
)


@dataclass(frozen=True, slots=True)
class Conventions:
    """How ambiguous text is read.

    day_first: 3/12 is 3 December (UK) rather than 12 March (US).
    day_parts: hour windows for morning, afternoon, ... ("am"/"pm" alone are day parts too).
    pm_bare_hours: bare hours read as afternoon ("at 3" is 15:00); empty means "the next
        time that hour comes round" (Duckling).
    range_end_inclusive: Duckling reads "9:30-11:00" as up to and including 11:00's minute,
        so "to" is the end plus one grain; UK visit windows end at the stated time.
    bare_dash_is_time: "10-12" is a time window (UK) rather than a month-day date (US).
    open_bounds: the day that "after 2" / "before 12" run to / from when no day part says.
    week_end_offset: days from Monday to the exclusive end of "this week"-like intervals.
    weekend_from_friday_evening: Duckling's weekend starts Friday 18:00; UK's is Sat-Sun.
    holiday_country / holiday_subdiv: the `holidays` calendar (England by default).
    """

    name: str
    day_first: bool
    day_parts: Mapping[str, HourRange]
    pm_bare_hours: frozenset[int]
    range_end_inclusive: bool
    bare_dash_is_time: bool
    open_bounds: HourRange
    week_end_offset: int
    weekend_from_friday_evening: bool
    holiday_country: str
    holiday_subdiv: str | None = field(default=None)


UK = Conventions(
    name="uk",
    day_first=True,
    day_parts=_UK_PARTS,
    pm_bare_hours=frozenset(range(1, 7)),
    range_end_inclusive=False,
    bare_dash_is_time=True,
    open_bounds=(8, 20),
    week_end_offset=7,
    weekend_from_friday_evening=False,
    holiday_country="GB",
    holiday_subdiv="ENG",
)

DUCKLING = Conventions(
    name="duckling",
    day_first=False,
    day_parts=_DUCKLING_PARTS,
    pm_bare_hours=frozenset(),
    range_end_inclusive=True,
    bare_dash_is_time=False,
    open_bounds=(0, 24),
    week_end_offset=6,
    weekend_from_friday_evening=True,
    holiday_country="US",
    holiday_subdiv=None,
)
