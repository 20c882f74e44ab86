"""Words for inviting a resident to book a repair the landlord raised (issue 14, item 3).

Each is an SMS first: GSM-7 and within two segments with the option line the SMS renderer
adds ("1 Choose a time"), whatever the landlord's system wrote in the job's description:
that is cut to DESCRIPTION_LIMIT characters and made GSM-7 (curly quotes straightened,
accents dropped, anything else left out). On Telegram the option is a button. Options are
numbers, never carrier keywords.
"""

from __future__ import annotations

from flows.messages import Option
from flows.sms import fit, gsm7_safe, quote

#: The job description as the landlord's system wrote it is cut to this.
DESCRIPTION_LIMIT = 100
#: The one option an invitation offers: its button on Telegram, "1 Choose a time" by SMS.
CHOOSE_A_TIME = "Choose a time"


def short_description(description: str) -> str:
    """The repair as the resident will read it: one GSM-7 line of bounded length."""
    return _cut(description, DESCRIPTION_LIMIT)


def invite(first_name: str, description: str) -> str:
    return fit(
        tuple(
            f"Hello {first_name}, we have a repair to book at your home: "
            f"{_described(description, limit)} Reply 1 to choose a time for the visit."
            for limit in _LIMITS
        ),
        options=_CHOOSE,
    )


def follow_up(first_name: str, description: str) -> str:
    return fit(
        tuple(
            f"Hello {first_name}, your repair still needs a visit: "
            f"{_described(description, limit)} Reply 1 to choose a time, or we will call you "
            "to arrange it."
            for limit in _LIMITS
        ),
        options=_CHOOSE,
    )


def emergency_call(first_name: str, description: str, emergency_phone: str) -> str:
    """An emergency job never waits for a reply: staff call the resident the same day."""
    return fit(
        tuple(
            f"Hello {first_name}, we have an emergency repair for your home: "
            f"{_described(description, limit)} We will call you today to arrange it. "
            f"If it gets worse, call our emergency line on {emergency_phone}."
            for limit in _LIMITS
        )
    )


#: The description is cut shorter, down to the last of these, when that keeps the message
#: to one segment (a long description still goes in full within two).
_LIMITS = (DESCRIPTION_LIMIT, 60, 40, 25)
_CHOOSE = (Option("1", CHOOSE_A_TIME),)


def _described(description: str, limit: int) -> str:
    """The description as a sentence: cut at `limit`, then a full stop unless cut."""
    cut = _cut(description, limit)
    return cut if cut.endswith("...") else f"{cut}."


def _cut(description: str, limit: int) -> str:
    return quote(gsm7_safe(description).rstrip(". "), limit) or "a repair"
