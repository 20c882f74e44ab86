"""UK wall-clock time, defined once: the zone, the 01:00-03:00 quiet band and the 12-hour
clock residents read ("8am", "10:30am").

Times are stored in UTC and shown in Europe/London (DESIGN.md "Time"). Nothing is
scheduled or sent between 01:00 and 03:00 UK time, because the clocks change inside that
band: a wall-clock time in it may not exist (March) or may happen twice (October).
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from nlu.interpreter import DEFAULT_TIMEZONE

#: The zone's name is nlu's (nlu reads "tomorrow 2pm" in it and may not import flows).
LONDON = ZoneInfo(DEFAULT_TIMEZONE)

#: The quiet band, UK wall clock, start inclusive and end exclusive.
QUIET_START = time(1, 0)
QUIET_END = time(3, 0)


def in_quiet_band(moment: datetime, zone: ZoneInfo = LONDON) -> bool:
    """01:00-03:00 on the wall clock, both passes of October's repeated hour included."""
    return QUIET_START <= moment.astimezone(zone).time() < QUIET_END


def twelve_hour(value: time, *, always_minutes: bool = False) -> str:
    """'8am', '12pm', '8:30am'; with `always_minutes`, '8:00am' (live ETAs read as times)."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    if value.minute or always_minutes:
        return f"{hour}:{value.minute:02d}{suffix}"
    return f"{hour}{suffix}"


def local_twelve_hour(moment: datetime, zone: ZoneInfo, *, always_minutes: bool = False) -> str:
    """`moment` on the wall clock of `zone`, as `twelve_hour` writes it."""
    return twelve_hour(moment.astimezone(zone).time(), always_minutes=always_minutes)
