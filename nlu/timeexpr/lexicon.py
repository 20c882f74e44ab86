"""Words residents use for numbers, days, months and parts of the day.

Kept as plain tables so adding a misspelling is a one-line change; the grammar builds its
regular expressions from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

WEEKDAYS: Mapping[str, int] = MappingProxyType(
    {
        "monday": 0, "mon": 0, "mondays": 0,
        "tuesday": 1, "tue": 1, "tues": 1, "tu": 1, "tuesdays": 1,
        "wednesday": 2, "wed": 2, "weds": 2, "wednesdays": 2, "wensday": 2, "wednsday": 2,
        "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "thursdays": 3, "thurday": 3,
        "friday": 4, "fri": 4, "fridays": 4, "fryday": 4,
        "saturday": 5, "sat": 5, "saturdays": 5,
        "sunday": 6, "sun": 6, "sundays": 6,
    }
)  # fmt: skip

MONTHS: Mapping[str, int] = MappingProxyType(
    {
        "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
        "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
        "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "october": 10,
        "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    }
)  # fmt: skip

UNITS: Mapping[str, int] = MappingProxyType(
    {
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
        "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
        "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
        "eighteen": 18, "nineteen": 19, "a": 1, "an": 1,
    }
)  # fmt: skip

TENS: Mapping[str, int] = MappingProxyType({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50})

ORDINAL_WORDS: Mapping[str, int] = MappingProxyType(
    {
        "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
        "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
        "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
        "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
        "twentieth": 20, "thirtieth": 30,
    }
)  # fmt: skip

#: Vague quantities: "a couple of hours", "a few days".
VAGUE: Mapping[str, int] = MappingProxyType({"couple": 2, "couple of": 2, "few": 3, "several": 3})

#: Surface words for each day part key of `Conventions.day_parts`.
PART_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "morning": "morning", "mornin": "morning", "morn": "morning", "mornings": "morning",
        "afternoon": "afternoon", "afternoonish": "afternoon", "aft": "afternoon",
        "arvo": "afternoon", "afternoons": "afternoon", "avo": "afternoon",
        "evening": "evening", "eve": "evening", "evenings": "evening", "eveing": "evening",
        "night": "night", "lunch": "lunch", "lunchtime": "lunch", "lunch time": "lunch",
        "dinnertime": "lunch", "first thing": "first thing",
        "early morning": "early morning", "late afternoon": "late afternoon",
        "after lunch": "after lunch", "after school": "after school",
        "late night": "late night",
    }
)  # fmt: skip

TOMORROW_WORDS = (
    "tomorrows", "tomorrow", "tmrw", "tmrow", "tmr", "tmoz", "tomoz", "tomo", "2moro",
    "2morrow", "2morow", "tomorow", "tommorow", "tommorrow", "tomorro", "tmw",
)  # fmt: skip

TODAY_WORDS = ("today", "todays", "2day", "tday")
TONIGHT_WORDS = ("tonight", "tonite", "2nite", "2night")

#: Time zone abbreviations residents or the corpus may write after a clock time (minutes).
TZ_OFFSETS: Mapping[str, int] = MappingProxyType(
    {
        "gmt": 0, "utc": 0, "bst": 60, "cet": 60, "cest": 120, "ist": 330,
        "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
        "pst": -480, "pdt": -420,
    }
)  # fmt: skip


def alternation(words: Iterable[str]) -> str:
    """A regex alternation, longest first so "thurs" wins over "thu"."""
    items = sorted(words, key=len, reverse=True)
    return "|".join(w.replace(" ", r"\s+") for w in items)


def number_value(text: str) -> int | None:
    """Digits or English number words up to fifty-nine ("twenty-three", "a")."""
    t = text.strip().lower().replace("-", " ")
    if t.isdigit():
        return int(t)
    parts = t.split()
    if len(parts) == 1:
        if parts[0] in UNITS:
            return UNITS[parts[0]]
        return TENS.get(parts[0])
    if len(parts) == 2 and parts[0] in TENS and parts[1] in UNITS and UNITS[parts[1]] < 10:
        return TENS[parts[0]] + UNITS[parts[1]]
    return None


def ordinal_value(text: str) -> int | None:
    """'3rd', '3', 'third', 'twenty first' as a day of the month."""
    t = text.strip().lower().replace("-", " ")
    digits = t.rstrip("stndrh")
    if digits.isdigit():
        return int(digits)
    parts = t.split()
    if len(parts) == 1:
        return ORDINAL_WORDS.get(parts[0])
    if len(parts) == 2 and parts[0] in TENS and parts[1] in ORDINAL_WORDS:
        return TENS[parts[0]] + ORDINAL_WORDS[parts[1]]
    return None
