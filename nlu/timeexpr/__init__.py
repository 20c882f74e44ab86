"""UK date and time understanding: find time expressions in resident messages and resolve
them against the message's own timestamp, Duckling-style; and read what a resident says
about when a visit may be (`read_wishes`). See docs/time-expressions.md.
"""

from nlu.timeexpr.api import TimeMatch, TimeReading, find_times, read_times
from nlu.timeexpr.conventions import DUCKLING, UK, Conventions
from nlu.timeexpr.wishes import TimeWish, TimeWishes, read_wishes

__all__ = [
    "DUCKLING",
    "UK",
    "Conventions",
    "TimeMatch",
    "TimeReading",
    "TimeWish",
    "TimeWishes",
    "find_times",
    "read_times",
    "read_wishes",
]
