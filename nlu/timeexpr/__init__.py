"""UK date and time understanding: find time expressions in resident messages and resolve
them against the message's own timestamp, Duckling-style. See docs/time-expressions.md.
"""

from nlu.timeexpr.api import TimeMatch, find_times
from nlu.timeexpr.conventions import DUCKLING, UK, Conventions

__all__ = ["DUCKLING", "UK", "Conventions", "TimeMatch", "find_times"]
