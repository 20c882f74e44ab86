"""Named visit windows and how every date is shown to residents ("Tue 1 Dec, morning 8am-12pm")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flows.local_time import LONDON, twelve_hour


@dataclass(frozen=True, slots=True)
class VisitWindow:
    name: str
    start: time
    end: time

    def label(self) -> str:
        return f"{self.name} {twelve_hour(self.start)}-{twelve_hour(self.end)}"

    def bounds(self, day: date, zone: ZoneInfo = LONDON) -> tuple[datetime, datetime]:
        """UTC start and end of this window on `day`, DST-correct."""
        start = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
        return start, end


DEFAULT_WINDOWS: tuple[VisitWindow, ...] = (
    VisitWindow("morning", time(8), time(12)),
    VisitWindow("afternoon", time(12), time(17)),
)


def windows_from_config(config: Mapping[str, object] | None) -> tuple[VisitWindow, ...]:
    """A landlord's configured windows ({"name": ["HH:MM", "HH:MM"]}), or the defaults."""
    if not config:
        return DEFAULT_WINDOWS
    result = []
    for name, span in config.items():
        if not isinstance(span, list | tuple) or len(span) != 2:
            raise ValueError(f"visit window {name!r} must be [start, end]")
        start, end = (time.fromisoformat(str(v)) for v in span)
        if end <= start:
            raise ValueError(f"visit window {name!r} ends before it starts")
        result.append(VisitWindow(str(name), start, end))
    return tuple(sorted(result, key=lambda w: w.start))


def window_named(name: str, windows: tuple[VisitWindow, ...] = DEFAULT_WINDOWS) -> VisitWindow:
    for window in windows:
        if window.name == name:
            return window
    raise KeyError(f"no visit window called {name!r}")


def format_day(day: date) -> str:
    """'Tue 1 Dec': short, unambiguous, and GSM-7."""
    return f"{day:%a} {day.day} {day:%b}"


def format_visit(day: date, window: VisitWindow) -> str:
    return f"{format_day(day)}, {window.label()}"
