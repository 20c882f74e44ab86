"""What a resident said about times, said back to them in a few words ("after 3pm, not
Mondays"), and the lead of an offer when nothing free fits it."""

from __future__ import annotations

from datetime import date, time

from flows.local_time import twelve_hour
from flows.messages import Option, Reply
from flows.slots import DAY_MINUTES, Days, Hours, Preference, Wish
from flows.windows import format_day

#: Past this, the summary is dropped rather than cut: "Nothing free fits. Nearest:".
MAX_SUMMARY = 40
_WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
#: Our waking day: "after 3" runs to 8pm and "before 10" from 8am (nlu.timeexpr UK bounds).
_DAY_START, _DAY_END = 8 * 60, 20 * 60


def _clock(minutes: int) -> str:
    hours, mins = divmod(minutes % DAY_MINUTES, 60)
    return twelve_hour(time(hours, mins))


def hours_words(hours: Hours) -> str:
    if hours.at:
        return f"at {_clock(hours.start)}"
    if (hours.start, hours.end) == (8 * 60, 12 * 60):
        return "mornings"
    if (hours.start, hours.end) == (12 * 60, 17 * 60):
        return "afternoons"
    if hours.end >= _DAY_END:
        return f"after {_clock(hours.start)}"
    if hours.start <= _DAY_START:
        return f"before {_clock(hours.end)}"
    return f"{_clock(hours.start)}-{_clock(hours.end)}"


def days_words(days: Days) -> str:
    if days.weekday is not None:
        return _WEEKDAYS[days.weekday]
    assert days.first is not None and days.end is not None
    last = days.end.toordinal() - 1
    if last == days.first.toordinal():
        return format_day(days.first)
    return f"{format_day(days.first)} to {format_day(date.fromordinal(last))}"


def wish_words(wish: Wish) -> str:
    parts = []
    if wish.days is not None:
        parts.append(days_words(wish.days))
    if wish.hours is not None:
        said = hours_words(wish.hours)
        if wish.days is not None and said in ("mornings", "afternoons"):
            said = said[:-1]
        parts.append(said)
    return " ".join(parts)


def summary(preference: Preference) -> str:
    """ "Thu 10 Dec after 3pm, not Mondays"; empty when there is nothing short to say."""
    wanted = " or ".join(wish_words(w) for w in preference.wanted)
    avoided = ", ".join(f"not {wish_words(a)}" for a in preference.avoided)
    said = ", ".join(p for p in (wanted, avoided) if p)
    return said if len(said) <= MAX_SUMMARY else ""


def nearest_lead(preference: Preference) -> str:
    """The lead of an offer when no free window fits what they said."""
    said = summary(preference)
    if said:
        return f"Sorry, nothing free fits {said}. Nearest:"
    return "Sorry, nothing free fits that. Nearest:"


def shorter_leads(lead: str) -> tuple[str, ...]:
    """Terser forms of a "nothing fits" lead, for an offer that must stay one segment."""
    if not lead:
        return ()
    return ("Sorry, nothing fits that. Nearest:", "Nothing fits. Nearest:")


def nothing_fits(preference: Preference) -> str:
    said = summary(preference)
    return f"Sorry, nothing is free for {said}." if said else "Sorry, nothing is free then."


def noted(preference: Preference) -> str:
    """Times said while we asked something else: kept for the offer."""
    said = summary(preference)
    return f"Noted: {said}." if said else "Noted the times you said."


def cannot_fit(preference: Preference) -> Reply:
    """No visit window meets the time of day they said (visits are set windows)."""
    said = summary(preference)
    what = f"fit {said}" if said else "fit that"
    return Reply(
        f"Sorry, none of our visit times {what}. Reply 1 for the nearest, or tell me "
        "another day or time.",
        (Option("1", "Nearest times"),),
    )
