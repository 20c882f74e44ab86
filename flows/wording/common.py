"""Greetings, menus, help and the short answers shared by every flow."""

from __future__ import annotations

from flows.context import LandlordView, ResidentView
from flows.messages import Option, Reply
from flows.sms import fit, quote

MAIN_MENU: tuple[Option, ...] = (
    Option("1", "Book a repair visit"),
    Option("2", "My appointments"),
    Option("3", "Who is at my door"),
    Option("4", "Talk to a person"),
)
#: The main menu as the idle router stores it: [key, label, action, argument].
MAIN_MENU_DATA: list[list[object]] = [
    [option.key, option.label, action, None]
    for option, action in zip(MAIN_MENU, ("book", "appointments", "verify", "human"), strict=True)
]


def nothing_changed() -> Reply:
    return Reply("OK. Text us any time.")


def greeting(resident: ResidentView) -> Reply:
    hello = f"Hello {resident.first_name}"
    jobs = resident.open_jobs
    if len(jobs) == 1:
        job = jobs[0]
        candidates: tuple[str, ...] = (
            *(
                f"{hello}, your repair {job.reference} ({short(job.description, limit)}) needs "
                "a visit. Reply with a number:"
                for limit in (40, 25)
            ),
            f"{hello}, your repair {job.reference} needs a visit. Reply with a number:",
        )
    elif jobs:
        candidates = (f"{hello}, {len(jobs)} of your repairs need a visit. Reply with a number:",)
    else:
        candidates = (
            f"{hello}, this is your repairs service. What would you like to do? Reply with a "
            "number:",
            f"{hello}, this is your repairs service. Reply with a number:",
        )
    return Reply(fit(candidates, options=MAIN_MENU), MAIN_MENU)


def menu(resident: ResidentView) -> Reply:
    name = resident.first_name
    text = fit(
        (
            f"{name}, I can help with these. Reply with a number or tell me in your own words.",
            f"{name}, reply with a number or tell me in your own words:",
        ),
        options=MAIN_MENU,
    )
    return Reply(text, MAIN_MENU)


def help_text(resident: ResidentView) -> Reply:
    return Reply(
        "I can book, change or call off a visit, say who is coming and check them at your "
        "door, note your needs, take feedback or a complaint, or get you a person. Reply "
        "with a number or just tell me:",
        MAIN_MENU,
    )


def unknown_number(landlord: LandlordView) -> Reply:
    # Says nothing about any resident or visit: the number may not be who it claims.
    return Reply(
        fit(
            (
                f"Hello, this is the {landlord.name} repairs service. We do not recognise this "
                "number, so we cannot discuss repairs by text. Please call us on "
                f"{landlord.phone}.",
                f"This is the {landlord.name} repairs service. We do not know this number, so "
                f"cannot discuss repairs by text. Please call {landlord.phone}.",
                f"This is {landlord.name} repairs. We do not know this number, so cannot discuss "
                f"repairs by text. Please call {landlord.phone}.",
            )
        )
    )


def thanks(resident: ResidentView) -> Reply:
    return Reply(f"You are welcome, {resident.first_name}. Text us any time.")


def goodbye(resident: ResidentView) -> Reply:
    return Reply(f"Bye for now, {resident.first_name}. Text us any time.")


def short(text: str, limit: int = 50) -> str:
    """Words a resident (or a landlord's system) wrote, as a reply quotes them: GSM-7, one
    line, at most `limit` characters, cut at a word (flows/sms.py `quote`)."""
    return quote(text, limit, empty="...")


def blank_message() -> Reply:
    """An empty or whitespace-only message (or a picture with no words)."""
    return Reply(
        "Your message had no words in it. Please type what you need, or reply with a number."
    )


def team_has_message(when: str, landlord: LandlordView) -> Reply:
    """While staff have the conversation: the resident is heard, and told when to expect them."""
    return Reply(
        f"Thank you, our team has your message and will reply {when}. "
        f"In an emergency call {landlord.emergency_phone}."
    )


def no_visits_while_waiting(when: str) -> Reply:
    return Reply(
        f"You have no repair visits booked. Our team has your message and will reply {when}."
    )


#: What to do next, once the first safety advice has been followed, by emergency kind.
_AFTER_EMERGENCY = {
    "gas": (
        "Good. Stay outside until the gas engineer says it is safe. If you have not called "
        "0800 111 999 yet, do it now."
    ),
    "carbon_monoxide": (
        "Good. Stay in fresh air until an engineer says it is safe. If anyone feels dizzy "
        "or sick, call 999."
    ),
    "fire": "Stay out and wait for the fire service. If you have not called 999, do it now.",
    "water": "Thank you. Keep away from any electrics near the water. Our urgent job is raised.",
    "electrical": "Thank you. Keep everyone away from it. Our urgent job is raised.",
}
_AFTER_ANY = "Thank you. Stay safe: our urgent job is raised and we will be in touch."


def after_emergency(hazard: str, landlord: LandlordView) -> Reply:
    """The resident answered our emergency advice ("ok im outside now")."""
    return Reply(
        f"{_AFTER_EMERGENCY.get(hazard, _AFTER_ANY)} Our emergency line: {landlord.emergency_phone}"
    )
