"""When a service message may reach a resident: contact hours, bank holidays, clock changes.

Everything is decided on Europe/London wall-clock time and returned as UTC instants, so a
deferral computed in winter for a summer day (or across the night the clocks change)
lands on the hour the resident would read on their phone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from flows.policy.reasons import Reason
from flows.policy.rules import QUIET_BAND, ContactRules, Span
from storage.enums import Nation

#: How far ahead to look for an allowed moment before concluding the rules leave none: past
#: a weekly cap (7 days) and the longest run of bank holidays, with room to spare.
HORIZON_DAYS = 40


def require_aware(moment: datetime, name: str = "moment") -> None:
    """Naive datetimes are refused: a policy that guesses the zone gets DST wrong twice a year."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def is_bank_holiday(day: date, nation: Nation) -> bool:
    return day in _bank_holidays(nation.holidays_subdiv, day.year)


@lru_cache(maxsize=64)
def _bank_holidays(subdiv: str, year: int) -> frozenset[date]:
    # Building a holidays calendar costs milliseconds; decide() runs for every message, so
    # each (nation, year) is built once. The cache is pure: same inputs, same answer.
    return frozenset(holidays.country_holidays("GB", subdiv=subdiv, years=year))


def is_sunday_rules_day(day: date, nation: Nation) -> bool:
    """Sundays and the nation's bank holidays share the restricted, time-critical-only hours."""
    return day.weekday() == 6 or is_bank_holiday(day, nation)


def allowed_spans(
    day: date, rules: ContactRules, *, nation: Nation, time_critical: bool
) -> tuple[Span, ...]:
    """The wall-clock spans on `day` when a service message may go, quiet band removed."""
    if is_sunday_rules_day(day, nation):
        span = rules.sunday_hours if time_critical else None
    else:
        span = rules.weekday_hours
    if span is None:
        return ()
    parts: list[Span] = []
    if span.start < QUIET_BAND.start:
        parts.append(Span(span.start, min(span.end, QUIET_BAND.start)))
    if span.end > QUIET_BAND.end:
        parts.append(Span(max(span.start, QUIET_BAND.end), span.end))
    return tuple(parts)


def next_allowed(
    moment: datetime, rules: ContactRules, *, nation: Nation, time_critical: bool
) -> datetime | None:
    """The first instant at or after `moment` inside the contact hours, in UTC.

    None when the rules leave no moment within HORIZON_DAYS (for example a resident whose
    preferred hours do not overlap the landlord's at all): the caller must not loop forever.
    """
    require_aware(moment)
    moment = moment.astimezone(UTC)
    first_day = moment.astimezone(rules.zone).date()
    for offset in range(HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        for span in allowed_spans(day, rules, nation=nation, time_critical=time_critical):
            if moment < wall_to_utc(day, span.end, rules.zone):
                return max(moment, wall_to_utc(day, span.start, rules.zone))
    return None


def hours_reason(
    moment: datetime, rules: ContactRules, *, nation: Nation, time_critical: bool
) -> Reason | None:
    """Which hours rule keeps a message from going at `moment`; None if it may go then."""
    require_aware(moment)
    local = moment.astimezone(rules.zone)
    clock = local.time()
    if QUIET_BAND.contains(clock):
        return Reason.QUIET_HOURS
    span: Span | None
    if is_sunday_rules_day(local.date(), nation):
        if not time_critical or rules.sunday_hours is None:
            return Reason.SUNDAY_OR_HOLIDAY
        span = rules.sunday_hours
    else:
        span = rules.weekday_hours
    if span is None or not span.contains(clock):
        return Reason.OUTSIDE_HOURS
    return None


def wall_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A UK wall-clock time as a UTC instant.

    Only boundaries outside the 01:00-03:00 quiet band are ever scheduled; the quiet band's
    own start uses the first 01:00 (fold=0), which also makes it cover both 01:00-02:00s on
    the night the clocks go back.
    """
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def local_label(moment: datetime, zone: ZoneInfo) -> str:
    """'Mon 30 Mar 08:00' for details staff read; always UK wall-clock time."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"
