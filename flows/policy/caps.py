"""How many service-initiated messages a resident may get, and how close together.

Rolling windows, not calendar days: "3 in 24 hours" means any 24 hours, so a burst at
23:50 and another at 00:10 still counts as one burst.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.policy.reasons import Reason
from flows.policy.rules import ContactRules

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class CapCheck:
    """When the caps next allow a message, and which cap held it longest (None: no wait)."""

    clear_at: datetime
    reason: Reason | None


def caps_clear_at(moment: datetime, sends: Sequence[datetime], rules: ContactRules) -> CapCheck:
    """The first instant at or after `moment` when another message keeps within the caps.

    `sends` are earlier service-initiated sends in any order; any after `moment` are ignored
    (a send cannot be known before it happens).
    """
    prior = sorted(s for s in sends if s <= moment)
    if not prior:
        return CapCheck(moment, None)
    week = _window_clear(moment, prior, rules.per_week, WEEK)
    day = _window_clear(moment, prior, rules.per_day, DAY)
    gap = max(moment, prior[-1] + rules.min_gap)
    latest = max(week, day, gap)
    if latest == moment:
        return CapCheck(moment, None)
    reason = (
        Reason.WEEKLY_CAP
        if latest == week
        else Reason.DAILY_CAP
        if latest == day
        else Reason.MIN_GAP
    )
    # Each cap, once clear, stays clear as time moves on (no new sends appear), so the
    # latest of the three is clear of all of them.
    return CapCheck(latest, reason)


def _window_clear(
    moment: datetime, prior: Sequence[datetime], limit: int, window: timedelta
) -> datetime:
    recent = [s for s in prior if s > moment - window]
    if len(recent) < limit:
        return moment
    # The oldest len-limit+1 sends must leave the window; the last of them leaves at +window.
    return recent[len(recent) - limit] + window
