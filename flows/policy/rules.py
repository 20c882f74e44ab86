"""A landlord's contact rules, narrowed by one resident's preferences.

The configuration is plain JSON kept on the landlord and the resident (their
`contact_hours` columns), so changing a policy never needs a migration. A resident can only
make the rules stricter: their hours are intersected with the landlord's, their caps can
only be lower and their gap only longer. That keeps "the landlord's policy" a floor that
no per-resident setting can quietly weaken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from flows.local_time import LONDON, QUIET_END, QUIET_START

#: Mirrors storage.models.people.DEFAULT_CONTACT_HOURS (flows may not import SQLModel);
#: a test keeps the two equal.
DEFAULT_HOURS: dict[str, list[str]] = {
    "weekday": ["08:00", "20:00"],
    "sunday": ["10:00", "16:00"],
}

HOURS_KEYS = frozenset({"weekday", "sunday"})
CAP_KEYS = frozenset({"per_day", "per_week", "min_gap_minutes"})


@dataclass(frozen=True, slots=True)
class Span:
    """Wall-clock hours within one day, start inclusive and end exclusive."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"contact hours {self.label()} end before they start")

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end

    def intersect(self, other: Span | None) -> Span | None:
        if other is None:
            return None
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Span(start, end) if start < end else None

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


#: Clocks change inside this band, so a wall-clock time in it may not exist or happen twice.
QUIET_BAND = Span(QUIET_START, QUIET_END)


def _default_span(key: str) -> Span:
    start, end = DEFAULT_HOURS[key]
    return Span(time.fromisoformat(start), time.fromisoformat(end))


#: DEFAULT_HOURS as spans: the one definition of the default contact hours.
DEFAULT_WEEKDAY_HOURS = _default_span("weekday")
DEFAULT_SUNDAY_HOURS = _default_span("sunday")
DEFAULT_PER_DAY = 3
DEFAULT_PER_WEEK = 8
DEFAULT_MIN_GAP_MINUTES = 30


@dataclass(frozen=True, slots=True)
class ContactRules:
    """Hours are for Monday-Saturday ("weekday") and for Sundays and bank holidays.

    `None` hours mean no service message at all on those days (for Sundays: not even a
    time-critical one). Only time-critical messages may use the Sunday hours.
    """

    weekday_hours: Span | None = DEFAULT_WEEKDAY_HOURS
    sunday_hours: Span | None = DEFAULT_SUNDAY_HOURS
    per_day: int = DEFAULT_PER_DAY
    per_week: int = DEFAULT_PER_WEEK
    min_gap: timedelta = timedelta(minutes=DEFAULT_MIN_GAP_MINUTES)
    zone: ZoneInfo = field(default=LONDON)

    def __post_init__(self) -> None:
        if self.per_day < 1 or self.per_week < 1:
            raise ValueError("message caps must allow at least one message")
        if self.min_gap < timedelta(0):
            raise ValueError("the minimum gap between messages cannot be negative")

    @classmethod
    def from_config(
        cls,
        landlord: Mapping[str, object] | None,
        resident: Mapping[str, object] | None = None,
        *,
        zone: ZoneInfo = LONDON,
    ) -> ContactRules:
        """Build from the landlord's JSON, then narrow by the resident's.

        Keys: "weekday" and "sunday" as ["HH:MM", "HH:MM"] (null or [] = closed),
        "per_day", "per_week", "min_gap_minutes". Missing landlord keys take the defaults;
        unknown keys are an error so that a typo ("weekdays") is not silently ignored.
        """
        base_hours, base_caps = _parse(landlord or {}, "landlord")
        weekday = base_hours.get("weekday", DEFAULT_WEEKDAY_HOURS)
        sunday = base_hours.get("sunday", DEFAULT_SUNDAY_HOURS)
        per_day = base_caps.get("per_day", DEFAULT_PER_DAY)
        per_week = base_caps.get("per_week", DEFAULT_PER_WEEK)
        gap = base_caps.get("min_gap_minutes", DEFAULT_MIN_GAP_MINUTES)
        own_hours, own_caps = _parse(resident or {}, "resident")
        if "weekday" in own_hours and weekday is not None:
            weekday = weekday.intersect(own_hours["weekday"])
        if "sunday" in own_hours and sunday is not None:
            sunday = sunday.intersect(own_hours["sunday"])
        per_day = min(per_day, own_caps.get("per_day", per_day))
        per_week = min(per_week, own_caps.get("per_week", per_week))
        gap = max(gap, own_caps.get("min_gap_minutes", gap))
        return cls(
            weekday_hours=weekday,
            sunday_hours=sunday,
            per_day=per_day,
            per_week=per_week,
            min_gap=timedelta(minutes=gap),
            zone=zone,
        )


def _parse(
    config: Mapping[str, object], whose: str
) -> tuple[dict[str, Span | None], dict[str, int]]:
    unknown = set(config) - HOURS_KEYS - CAP_KEYS
    if unknown:
        raise ValueError(f"unknown {whose} contact setting(s): {', '.join(sorted(unknown))}")
    hours: dict[str, Span | None] = {}
    caps: dict[str, int] = {}
    for key, value in config.items():
        if key in HOURS_KEYS:
            hours[key] = _span(value, key)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{whose} {key} must be a whole number, not {value!r}")
        else:
            caps[key] = value
    return hours, caps


def _span(value: object, key: str) -> Span | None:
    if value is None or value == []:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"contact hours {key!r} must be [start, end] or empty")
    try:
        start, end = (time.fromisoformat(str(v)) for v in value)
    except ValueError as exc:
        raise ValueError(f"contact hours {key!r}: {exc}") from exc
    return Span(start, end)
