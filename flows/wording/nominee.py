"""What a resident's nominee reads when they text from their own number (flows/nominee.py).

The nominee hears about the resident's visits (they get a copy of each booking anyway)
and can check a caller at the door or ask for a person; nothing here mentions access
needs, which are shared with no one but the resident and, with consent, the operative.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flows.context import NomineeView, ResidentView
from flows.messages import Option, Reply
from flows.sms import fit
from flows.status import live_status
from flows.wording.visits import when

MENU = (
    Option("1", "Their visits"),
    Option("2", "Check a caller at the door"),
    Option("3", "Talk to a person"),
)
#: The router's menu data for MENU: [key, label, action, argument].
MENU_DATA: list[list[object]] = [
    [option.key, option.label, action, None]
    for option, action in zip(MENU, ("appointments", "verify", "human"), strict=True)
]


def greeting(nominee: NomineeView, resident: ResidentView) -> Reply:
    """Recognised as the nominee, with what they may do."""
    hello, whose = f"Hello {nominee.first_name}", resident.first_name
    text = fit(
        (
            f"{hello}, you are {whose}'s nominee. I can tell you about {whose}'s repair "
            "visits or check a caller at the door. Reply with a number:",
            f"{hello}, as {whose}'s nominee I can show their visits or check a caller. "
            "Reply with a number:",
            f"{hello}, you are {whose}'s nominee. Reply with a number:",
        ),
        options=MENU,
    )
    return Reply(text, MENU)


def not_for_nominees(resident: ResidentView) -> Reply:
    """Asked for something only the resident may do (book, change or call off a visit,
    their needs, feedback, a complaint, stopping texts)."""
    whose = resident.first_name
    text = fit(
        (
            f"Sorry, only {whose} can do that by text. As their nominee you can see their "
            "visits, check a caller at the door or talk to our team:",
            f"Sorry, only {whose} can do that by text. You can:",
        ),
        options=MENU,
    )
    return Reply(text, MENU)


def visits(resident: ResidentView, *, today: date, zone: ZoneInfo) -> Reply:
    """The resident's next visit, as their own reply would give it, in the third person.
    One segment, so the menu is not repeated: its numbers still work."""
    whose = resident.first_name
    if not resident.appointments:
        return Reply(f"{whose} has no repair visits booked at the moment.")
    first, *others = resident.appointments
    op = first.operative
    more = f" {len(others)} more booked." if others else ""
    status = f" {op.first_name} {live_status(first, zone)}." if first.day == today else ""
    code = first.visit_code
    text = fit(
        (
            f"{whose}'s next visit: {when(first)}, {first.job.reference}. {op.name} "
            f"({op.employer}), badge {op.badge_number}, visit code {code}.{status}{more}",
            f"{whose}'s next visit: {when(first)}. {op.name}, badge {op.badge_number}, "
            f"code {code}.{status}{more}",
            f"Next visit: {when(first)}. {op.name}, badge {op.badge_number}, code {code}."
            f"{status}{more}",
        ),
    )
    return Reply(text)
