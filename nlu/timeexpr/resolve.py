"""Turning a combined piece into a concrete local value: which day, which hour, which window.

Works in naive local wall-clock time; `api` attaches the zone at the end so DST offsets
come from the calendar day each value falls on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from nlu.timeexpr.conventions import Conventions
from nlu.timeexpr.pieces import Clock, Grain, Piece


@dataclass(frozen=True, slots=True)
class Resolved:
    """A wall-clock instant (`end` None) or a half-open interval [start, end)."""

    start: datetime
    end: datetime | None
    grain: Grain


def _at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time()) + timedelta(hours=hour, minutes=minute)


def _hour_of(
    c: Clock, part: str | None, conv: Conventions, *, free_day: bool, now: datetime
) -> int:
    """The 24-hour hour a written clock means, given its day part and the conventions."""
    h = c.hour
    if c.meridiem == "am":
        return 0 if h == 12 else h
    if c.meridiem == "pm":
        return h if h == 12 else h + 12
    if not c.ambiguous:
        return h
    if part is not None:
        lo, hi = conv.day_parts[part]
        if lo >= 12 and h < 12:
            return h + 12
        if hi <= 12 and h == 12:
            return 0
        return h
    if conv.pm_bare_hours:
        return h + 12 if h in conv.pm_bare_hours else h
    if not free_day or h == 12:
        return h
    for cand in (h, h + 12):
        if cand >= now.hour:
            return cand
    return h


def _pick_day(hour: int, now: datetime) -> date:
    """No day given: today while that hour has not ended, else tomorrow."""
    return now.date() if hour >= now.hour else now.date() + timedelta(days=1)


def _zone_shift(dt: datetime, c: Clock, zone: ZoneInfo) -> datetime:
    if c.tz_offset is None:
        return dt
    aware = dt.replace(tzinfo=timezone(timedelta(minutes=c.tz_offset)))
    return aware.astimezone(zone).replace(tzinfo=None)


def _free_day(p: Piece, now: datetime) -> bool:
    return p.day is None or p.day == now.date()


def resolve(p: Piece, now: datetime, conv: Conventions, zone: ZoneInfo) -> Resolved | None:
    if p.fixed is not None:
        return Resolved(p.fixed.start, p.fixed.end, p.fixed.grain)
    if p.days is not None:
        return Resolved(_at(p.days[0], 0), _at(p.days[1], 0), "day")
    if p.clock is not None:
        h = _hour_of(p.clock, p.part, conv, free_day=_free_day(p, now), now=now)
        day = p.day or _pick_day(h, now)
        at = _zone_shift(_at(day, h, p.clock.minute), p.clock, zone)
        return Resolved(at, None, p.clock.grain)
    if p.clock_range is not None:
        return _range(p, now, conv, zone)
    if p.open_range is not None:
        return _open(p, now, conv, zone)
    if p.part is not None:
        lo, hi = conv.day_parts[p.part]
        day = p.day or (now.date() if now.hour < hi else now.date() + timedelta(days=1))
        return Resolved(_at(day, lo), _at(day, hi), "hour")
    if p.day is not None:
        return Resolved(_at(p.day, 0), _at(p.day, 24), "day")
    return None


def _range(p: Piece, now: datetime, conv: Conventions, zone: ZoneInfo) -> Resolved | None:
    assert p.clock_range is not None
    a, b = p.clock_range
    free = _free_day(p, now)
    ha = _hour_of(a, p.part, conv, free_day=free, now=now)
    hb = _hour_of(b, p.part, conv, free_day=False, now=now)
    if a.ambiguous and b.meridiem == "pm" and p.part is None and ha < 12 and ha + 12 <= hb:
        ha += 12
    start_m, end_m = ha * 60 + a.minute, hb * 60 + b.minute
    if end_m <= start_m and b.ambiguous and hb < 12:
        hb += 12
        end_m += 12 * 60
    if end_m <= start_m:
        return None
    grain: Grain = "minute" if "minute" in (a.grain, b.grain) else "hour"
    day = p.day or _pick_day(ha, now)
    start = _zone_shift(_at(day, ha, a.minute), b if a.tz_offset is None else a, zone)
    end = _zone_shift(_at(day, hb, b.minute), b if b.tz_offset is not None else a, zone)
    if conv.range_end_inclusive:
        end += timedelta(minutes=1) if grain == "minute" else timedelta(hours=1)
    return Resolved(start, end, grain)


def _open(p: Piece, now: datetime, conv: Conventions, zone: ZoneInfo) -> Resolved | None:
    assert p.open_range is not None
    direction, c = p.open_range
    h = _hour_of(c, p.part, conv, free_day=_free_day(p, now), now=now)
    lo, hi = conv.day_parts[p.part] if p.part is not None else conv.open_bounds
    day = p.day or _pick_day(h, now)
    at = _zone_shift(_at(day, h, c.minute), c, zone)
    if direction == "after":
        end_hour = hi if h < hi else 24
        return Resolved(at, _at(day, end_hour), c.grain)
    start_hour = lo if h > lo else 0
    return Resolved(_at(day, start_hour), at, c.grain)
