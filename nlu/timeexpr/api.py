"""The public entry point: find and resolve every time expression in a message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from nlu.interpreter import DEFAULT_TIMEZONE
from nlu.timeexpr.conventions import UK, Conventions
from nlu.timeexpr.dates import Context
from nlu.timeexpr.grammar import scan
from nlu.timeexpr.resolve import Resolved, resolve


@dataclass(frozen=True, slots=True)
class TimeMatch:
    """One expression: where it is in the text and what it means (Duckling-like value).

    value is {"from", "to", "grain"} for spans (to exclusive) or {"value", "grain"} for an
    instant; every ISO string carries the UTC offset in force on that local day.
    """

    start: int
    end: int
    text: str
    value: dict[str, str]


def _normalise(text: str) -> str:
    """Lower case and straight quotes, keeping every character position."""
    out = []
    for ch in text:
        low = ch.lower()
        if len(low) != 1:
            low = ch
        out.append("'" if low in "\u2018\u2019`" else low)
    return "".join(out)


def _iso(dt: datetime, zone: ZoneInfo) -> str:
    return dt.replace(tzinfo=zone).isoformat()


def _value(r: Resolved, zone: ZoneInfo) -> dict[str, str]:
    if r.end is None:
        return {"value": _iso(r.start, zone), "grain": r.grain}
    return {"from": _iso(r.start, zone), "to": _iso(r.end, zone), "grain": r.grain}


def find_times(
    text: str, *, now: datetime, tz: str = DEFAULT_TIMEZONE, conventions: Conventions = UK
) -> list[TimeMatch]:
    """Every time expression in `text`, resolved against `now` (aware) in zone `tz`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(tz)
    local = now.astimezone(zone).replace(tzinfo=None)
    ctx = Context(now=local, conv=conventions)
    matches: list[TimeMatch] = []
    for piece in scan(_normalise(text), ctx):
        resolved = resolve(piece, local, conventions, zone)
        if resolved is None:
            continue
        start, end = piece.start, piece.end
        matches.append(TimeMatch(start, end, text[start:end], _value(resolved, zone)))
    return matches
