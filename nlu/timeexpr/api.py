"""The public entry point: find and resolve every time expression in a message."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nlu.interpreter import DEFAULT_TIMEZONE
from nlu.timeexpr.conventions import UK, Conventions
from nlu.timeexpr.dates import Context
from nlu.timeexpr.grammar import scan
from nlu.timeexpr.pieces import Piece
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


def normalise(text: str) -> str:
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
    zone = ZoneInfo(tz)
    return [
        TimeMatch(piece.start, piece.end, text[piece.start : piece.end], _value(resolved, zone))
        for piece, resolved in _resolved(text, now=now, zone=zone, conventions=conventions)
    ]


def _resolved(
    text: str, *, now: datetime, zone: ZoneInfo, conventions: Conventions
) -> Iterator[tuple[Piece, Resolved]]:
    """Each expression the scanner finds in `text` with what it resolves to (unresolvable
    ones left out): the one walk `find_times` and `read_times` share."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(zone).replace(tzinfo=None)
    ctx = Context(now=local, conv=conventions)
    for piece in scan(normalise(text), ctx):
        resolved = resolve(piece, local, conventions, zone)
        if resolved is not None:
            yield piece, resolved


@dataclass(frozen=True, slots=True)
class TimeReading:
    """What one expression pins down, in local wall-clock terms, for planning a visit.

    `find_times` gives one resolved value; a booking also needs to know which parts were
    written: "after 3" names a time of day on any day, "fridays" any Friday, "the 14th" a
    date at any time of day. Parts not written are None.
    """

    start: int
    end: int
    text: str
    #: Local dates [first, end) when a day or days were written.
    days: tuple[date, date] | None
    #: Written as a plain weekday name ("friday", "mondays"): 0 Monday .. 6 Sunday.
    weekday: int | None
    #: That weekday in any week ("mondays", "every monday"), not just the next one.
    every: bool
    #: Minutes after local midnight [from, to) when a time of day or range was written;
    #: from == to for a clock time ("half 2", "at 3pm").
    minutes: tuple[int, int] | None


def _minutes(r: Resolved) -> tuple[int, int]:
    start = r.start.hour * 60 + r.start.minute
    if r.end is None:
        return start, start
    end = (r.end.date() - r.start.date()).days * 24 * 60 + r.end.hour * 60 + r.end.minute
    return start, min(end, 24 * 60)


def _reading(text: str, piece: Piece, r: Resolved) -> TimeReading:
    days: tuple[date, date] | None = None
    if piece.days is not None:
        days = piece.days
    elif piece.day is not None or piece.fixed is not None:
        first = r.start.date()
        days = (first, first + timedelta(days=1))
    timed = piece.has_clock or piece.part is not None
    if piece.fixed is not None and piece.fixed.grain == "day":
        timed = False
    return TimeReading(
        start=piece.start,
        end=piece.end,
        text=text[piece.start : piece.end],
        days=days,
        weekday=piece.weekday,
        every=piece.every,
        minutes=_minutes(r) if timed else None,
    )


def read_times(
    text: str, *, now: datetime, tz: str = DEFAULT_TIMEZONE, conventions: Conventions = UK
) -> list[TimeReading]:
    """Every time expression in `text`, split into the parts that were written."""
    return [
        _reading(text, piece, resolved)
        for piece, resolved in _resolved(text, now=now, zone=ZoneInfo(tz), conventions=conventions)
    ]
