"""What a resident says about when a visit may be: times that suit, times that do not.

"cant do weds, tmrw pm ok?" is two wishes: Wednesday avoided, tomorrow afternoon wanted.
A time is avoided when a negative word stands before it in the same clause ("not mondays",
"any day but friday", "i sleep till 2", "im at work till 3") or a verdict follows it
("fridays are no good", "thursday doesnt work"). Besides time expressions, two remarks
matter to a booking: the visit's own day is out ("cant do that day now", "a different
day") and none of the times offered suit ("none of them work").

Pure reading: which visit is meant by "that day", and which times were offered, is the
booking flow's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from nlu.interpreter import DEFAULT_TIMEZONE
from nlu.timeexpr.api import TimeReading, normalise, read_times
from nlu.timeexpr.conventions import UK, Conventions
from nlu.timeexpr.lexicon import WEEKDAYS, alternation

#: Where a clause starts: a stop, a comma, a question, or "but"/"so" joining two thoughts.
#: "and" is not one: "cant do mondays and fridays" rules out both.
_CLAUSE = re.compile(r"[.,;:!?\n]|\b(?:but|though|although|whereas|so|because|cos|coz|as)\b")
#: Right before the time, these make it wanted whatever came earlier: "not mondays and
#: only mornings", "no fridays, ideally tuesday".
_POSITIVE_BEFORE = re.compile(
    r"\b(?:only|just|prefer(?:ably)?|ideally|best\s+is|better|rather|instead)\s+"
    r"(?:on\s+|in\s+the\s+|the\s+|a\s+)?$"
)
#: "till 2" is a time they are busy until ("i sleep till 2", "at work till 3") unless the
#: clause says they are about ("im in till 1", "come any time till 2").
_TILL = re.compile(r"(?:till|til|until|untill)\b")
_ABOUT = re.compile(
    r"\b(?:in|home|around|about|free|available|here|come|visit|any\s*time|whenever|fine|ok|"
    r"okay|good|open)\b"
)
#: Words that turn the time after them (same clause, within a few words) into one to avoid.
_NEGATIVE_BEFORE = re.compile(
    r"\b(?:can'?t|cannot|can\s+not|couldn'?t|could\s+not|won'?t\s+be|wont\s+be|not|no|never|"
    r"except|apart\s+from|other\s+than|besides|excluding|avoid|without|busy|out|away|"
    r"working|work|at\s+work|on\s+shift|sleep|sleeping|asleep|in\s+bed|unavailable|"
    r"don'?t|do\s+not|isn'?t|aren'?t|anything\s+but|any\s+day\s+but|any\s+time\s+but)\b"
    r"(?:\W+\w+){0,4}\W*$"
)
#: "any day but friday": "but" right before the time excludes it.
_BUT_BEFORE = re.compile(
    r"\b(?:any\s*(?:day|time|date|one|other\s+day)|anything|whenever|every\s*day|all\s+week)"
    r"\s+(?:is\s+fine\s+|is\s+ok\s+|works\s+)?(?:but|except|apart\s+from|other\s+than)\s+"
    r"(?:not\s+)?(?:on\s+)?(?:the\s+)?$"
)
#: A verdict after the time: "fridays are no good", "thursday doesnt work for me".
_NEGATIVE_AFTER = re.compile(
    r"^\W*(?:(?:is|are|r|s|'s|would\s+be|will\s+be|wud\s+be|be)\s+)?(?:also\s+|really\s+|just\s+)?"
    r"(?:no\s+good|not\s+good|not\s+great|not\s+ideal|bad|rubbish|out|busy|no\s+go|a\s+no|"
    r"impossible|not\s+possible|tricky|awkward|difficult|a\s+problem|"
    r"(?:doesn'?t|does\s+not|don'?t|do\s+not|won'?t|will\s+not|wouldn'?t|would\s+not|isn'?t|"
    r"aren'?t|not|cant|can'?t)\s+(?:work|suit|do|good|ok|okay|possible|free|any\s+good))\b"
)
#: "no worries", "no problem": not a refusal.
_NOT_NEGATIVE = re.compile(
    r"\bno\s+(?:worries|worry|problem|problems|probs|prob|bother|rush|hurry)\b"
)
#: A verdict after the time that says it suits: "friday is fine", "tues works".
_POSITIVE_AFTER = re.compile(
    r"^\W*(?:(?:is|are|r|s|'s|would\s+be|will\s+be|wud\s+be|be)\s+)?(?:also\s+|really\s+|just\s+)?"
    r"(?:fine|good|ok|okay|great|perfect|best|better|ideal|grand|brill|works?|suits?|free|only)\b"
)
#: The day of the visit being moved is out.
_OTHER_DAY = re.compile(
    r"\b(?:(?:can'?t|cannot|can\s+not|not|no\s+longer|won'?t|wont)\b(?:\W+\w+){0,3}\W+"
    r"(?:that|this|the\s+same|the|my)\s+(?:day|date)|(?:that|this|the\s+same)\s+(?:day|date)\s+"
    r"(?:is|isnt|isn'?t|doesnt|doesn'?t|wont|won'?t|no\s+longer)\b(?:\W+\w+){0,2}?\W*"
    r"(?:no\s+good|out|work|suit|good|ok|possible|bad)|(?:a\s+)?(?:different|another|other|new)"
    r"\s+(?:day|date))\b"
)
#: None of the times offered suit.
_NONE_SUIT = re.compile(
    r"\b(?:none\s+of\s+(?:them|those|these|the\s+(?:times|days|dates|slots))|none(?:\s+of\s+\w+)?"
    r"\s+(?:work|works|suit|suits|are\s+any\s+good|any\s+good|good|ok)|neither|"
    r"(?:them|those|these)\s+(?:times|days|dates|slots)?\s*(?:are\s+|r\s+)?(?:no\s+good|all\s+bad|"
    r"(?:don'?t|dont|wont|won'?t)\s+(?:work|suit))|"
    r"(?:can'?t|cannot)\s+(?:do|make)\s+(?:any|none)\s+of\s+(?:them|those|these))\b"
)


_WD = alternation(WEEKDAYS)
#: Several weekdays in any week: "mon to fri", "monday-wednesday", "weekdays", "weekends".
_WEEKDAY_SPANS = re.compile(
    rf"(?<![\w'])(?:(?P<a>{_WD})\.?\s*(?:-|–|to|till|til|until|thru|through)\s*(?P<b>{_WD})\.?"
    r"|(?P<weekdays>week\s*days?)|(?P<weekends>week\s*-?\s*ends|wkends))(?![\w'])"
)


def _every_weekday(text: str) -> list[tuple[int, int, tuple[int, ...]]]:
    """(start, end, weekdays) for each span of weekdays said as any week's."""
    spans = []
    for m in _WEEKDAY_SPANS.finditer(text):
        if m.group("weekdays"):
            days: tuple[int, ...] = (0, 1, 2, 3, 4)
        elif m.group("weekends"):
            days = (5, 6)
        else:
            a, b = WEEKDAYS[m.group("a")], WEEKDAYS[m.group("b")]
            if a == b:
                continue
            days = tuple((a + k) % 7 for k in range((b - a) % 7 + 1))
        spans.append((m.start(), m.end(), days))
    return spans


def _readings(text: str, low: str, now: datetime, tz: str, conv: Conventions) -> list[TimeReading]:
    """The time expressions, with spans of weekdays ("mon to fri", "weekdays") read as one
    reading per weekday, any week; the rest is read with those spans blanked out."""
    spans = _every_weekday(low)
    blanked = low
    for start, end, _days in spans:
        blanked = blanked[:start] + " " * (end - start) + blanked[end:]
    readings = read_times(blanked, now=now, tz=tz, conventions=conv)
    for start, end, days in spans:
        readings.extend(
            TimeReading(start, end, text[start:end], None, wd, True, None) for wd in days
        )
    return sorted(readings, key=lambda r: r.start)


@dataclass(frozen=True, slots=True)
class TimeWish:
    """One time expression and whether the resident wants it or cannot do it."""

    reading: TimeReading
    avoid: bool


@dataclass(frozen=True, slots=True)
class TimeWishes:
    wishes: tuple[TimeWish, ...] = ()
    #: "cant do that day now", "a different day": not the day of the visit being moved.
    other_day: bool = False
    #: "none of them work": none of the times just offered suit.
    none_suit: bool = False

    @property
    def empty(self) -> bool:
        return not self.wishes and not self.other_day and not self.none_suit


def _clause_before(text: str, start: int) -> str:
    before = text[:start]
    cut = 0
    for m in _CLAUSE.finditer(before):
        cut = m.end()
    return before[cut:]


def _avoided(text: str, reading: TimeReading) -> bool:
    if _BUT_BEFORE.search(text[: reading.start]):
        return True
    after = text[reading.end :]
    if _NEGATIVE_AFTER.match(after):
        return True
    if _POSITIVE_AFTER.match(after):
        return False
    if _POSITIVE_BEFORE.search(text[: reading.start]):
        return False
    clause = _NOT_NEGATIVE.sub(" ", _clause_before(text, reading.start))
    if _NEGATIVE_BEFORE.search(clause):
        return True
    if _TILL.match(text, reading.start):
        return bool(re.search(r"[a-z]", clause)) and not _ABOUT.search(clause)
    return False


def read_wishes(
    text: str, *, now: datetime, tz: str = DEFAULT_TIMEZONE, conventions: Conventions = UK
) -> TimeWishes:
    """The times a message wants or rules out, and the booking remarks in it."""
    low = normalise(text)
    readings = _readings(text, low, now, tz, conventions)
    wishes = tuple(TimeWish(r, _avoided(low, r)) for r in readings)
    return TimeWishes(
        wishes=wishes,
        other_day=bool(_OTHER_DAY.search(low)),
        none_suit=bool(_NONE_SUIT.search(low)),
    )
