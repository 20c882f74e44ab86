"""Calendar arithmetic on local dates: weekdays, months and bank holidays.

Residents book forward, so every "which one?" question here is answered with the next
occurrence on or after today unless the words say otherwise ("last", "ago").
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays


def easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    the_l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * the_l) // 451
    month, day = divmod(h + the_l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def monday_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def coming_weekday(today: date, weekday: int) -> date:
    """The next such weekday, today included ("monday" said on a Monday is today)."""
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def previous_weekday(today: date, weekday: int) -> date:
    """The most recent such weekday strictly before today ("last tuesday")."""
    return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def valid_date(year: int, month: int, day: int) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if day > calendar.monthrange(year, month)[1]:
        return None
    return date(year, month, day)


def next_day_of_month(today: date, day: int) -> date | None:
    """The next date on or after today whose day of the month is `day` ("the 28th")."""
    for k in range(13):
        first = add_months(today.replace(day=1), k)
        found = valid_date(first.year, first.month, day)
        if found is not None and found >= today:
            return found
    return None


def next_month_day(today: date, month: int, day: int, year: int | None) -> date | None:
    """ "3rd of December": this year's if still to come, else next year's."""
    if year is not None:
        return valid_date(year, month, day)
    for y in (today.year, today.year + 1, today.year + 2, today.year + 3, today.year + 4):
        found = valid_date(y, month, day)
        if found is not None and found >= today:
            return found
    return None


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date | None:
    """The n-th (1-based; -1 for last) weekday of a month."""
    days = [
        date(year, month, d)
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if date(year, month, d).weekday() == weekday
    ]
    if n == -1:
        return days[-1]
    return days[n - 1] if 1 <= n <= len(days) else None


def expand_year(y: int) -> int:
    """Two-digit years: 74 -> 1974, 26 -> 2026 (a 50-year pivot)."""
    if y >= 100:
        return y
    return 2000 + y if y < 50 else 1900 + y


#: Fixed-date occasions every nation shares, whether or not they are bank holidays.
FIXED_OCCASIONS: dict[str, tuple[int, int]] = {
    "christmas eve": (12, 24),
    "christmas": (12, 25),
    "boxing day": (12, 26),
    "new years eve": (12, 31),
    "new years day": (1, 1),
    "new year": (1, 1),
    "halloween": (10, 31),
    "valentines day": (2, 14),
    "bonfire night": (11, 5),
    "guy fawkes": (11, 5),
    "independence day": (7, 4),
}

#: Movable holidays: phrase -> substring of the `holidays` package's name for it.
MOVABLE_NAMES: dict[str, str] = {
    "early may bank holiday": "may day",
    "may day": "may day",
    "spring bank holiday": "spring bank holiday",
    "late summer bank holiday": "summer bank holiday",
    "august bank holiday": "summer bank holiday",
    "summer bank holiday": "summer bank holiday",
    "thanksgiving": "thanksgiving",
    "memorial day": "memorial day",
    "labor day": "labor day",
}


@lru_cache(maxsize=64)
def _calendar(country: str, subdiv: str | None, year: int) -> tuple[tuple[date, str], ...]:
    cal = holidays.country_holidays(country, subdiv=subdiv, years=[year])
    return tuple(sorted((d, str(name).lower()) for d, name in cal.items()))


def holiday_date(key: str, today: date, country: str, subdiv: str | None) -> date | None:
    """The next occurrence on or after today of a named holiday or occasion."""
    for year in range(today.year, today.year + 3):
        found: date | None = None
        if key in FIXED_OCCASIONS:
            month, day = FIXED_OCCASIONS[key]
            found = date(year, month, day)
        elif key in ("easter", "easter sunday"):
            found = easter(year)
        elif key == "good friday":
            found = easter(year) - timedelta(days=2)
        elif key == "easter monday":
            found = easter(year) + timedelta(days=1)
        elif key in ("bank holiday", "bank holiday monday"):
            for d, _name in _calendar(country, subdiv, year):
                if d >= today and (key == "bank holiday" or d.weekday() == 0):
                    return d
            continue
        elif key in MOVABLE_NAMES:
            wanted = MOVABLE_NAMES[key]
            for d, name in _calendar(country, subdiv, year):
                if wanted in name and "observed" not in name:
                    found = d
                    break
        if found is not None and found >= today:
            return found
    return None
