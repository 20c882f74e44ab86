"""Message wording. Plain, polite, short, GSM-7 (no curly quotes, en dashes or emoji)."""

from __future__ import annotations

from flows.context import LandlordView, ResidentView
from flows.messages import Option, Reply

MAIN_MENU: tuple[Option, ...] = (
    Option("1", "Book a repair visit"),
    Option("2", "My appointments"),
    Option("3", "Check who is at my door"),
    Option("4", "Talk to a person"),
)


def greeting(resident: ResidentView) -> Reply:
    jobs = resident.open_jobs
    if len(jobs) == 1:
        pending = f" Your repair {jobs[0].reference} ({jobs[0].description}) still needs a visit."
    elif jobs:
        pending = f" You have {len(jobs)} repairs that still need a visit."
    else:
        pending = ""
    return Reply(
        f"Hello {resident.first_name}, this is your repairs service.{pending} "
        "What would you like to do? Reply with a number.",
        MAIN_MENU,
    )


def menu(resident: ResidentView) -> Reply:
    return Reply(
        f"{resident.first_name}, I can help you with these. Reply with a number.", MAIN_MENU
    )


def unknown_number(landlord: LandlordView) -> Reply:
    # Says nothing about any resident or visit: the number may not be who it claims.
    return Reply(
        f"Hello, this is the {landlord.name} repairs service. We do not recognise this number, "
        f"so we cannot discuss any repairs by text. Please call us on {landlord.phone}."
    )


def not_available_yet(resident: ResidentView, what: str) -> Reply:
    return Reply(
        f"Sorry {resident.first_name}, I cannot {what} by text yet. "
        "Please call us, or reply with a number below.",
        MAIN_MENU,
    )
