"""What a resident's calendar app shows for a visit (the visit page's iCalendar file).

Plain ASCII like the texts. The visit code is never here: calendars sync to other
devices and services, and the code is only ever said at the door.
"""

from __future__ import annotations

#: Calendar apps cut a title at about this many characters on a phone.
SUMMARY_LIMIT = 60


def summary(job_description: str) -> str:
    """The event's title: what the repair is, shortened at a word."""
    what = " ".join(job_description.split()) or "your repair"
    if len(what) > SUMMARY_LIMIT:
        cut = what[: SUMMARY_LIMIT - 3].rsplit(" ", 1)[0].rstrip(" ,.;:-")
        what = f"{cut or what[: SUMMARY_LIMIT - 3]}..."
    return f"Repair visit: {what}"


def who_is_coming(name: str, employer: str, badge: str) -> str:
    return (
        f"{name} from {employer}, ID badge {badge}, is booked to visit.\n"
        "They will say your visit code at the door. If they cannot, do not let them in "
        "and text us."
    )


def changed() -> str:
    return "This visit has changed. Check the latest text from us for who is coming."


def called_off() -> str:
    return "This visit is called off."
