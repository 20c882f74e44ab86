"""Replies to a hazard report (damp and mould, leaks, structural danger, pests, a home that
cannot be secured): what happens next, what is already on record, and safety advice.

Each fits one SMS segment with an ordinary reference and emergency number.
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.messages import Reply
from flows.sms import fit
from storage.enums import HazardCategory

_SECURITY = {
    "door": "the problem with your door",
    "window": "the problem with your window",
    "lock": "the problem with your lock",
    "break-in": "the break-in",
}


def label(category: HazardCategory, subject: str) -> str:
    """What the resident reported, as a reply names it ("the damp and mould")."""
    match category:
        case HazardCategory.DAMP_MOULD:
            return "the damp and mould"
        case HazardCategory.LEAK:
            return "the leak"
        case HazardCategory.STRUCTURAL:
            if subject == "plaster":
                return "the falling plaster"
            return f"the damage to your {subject}" if subject else "the structural damage"
        case HazardCategory.PESTS:
            return f"the {subject}" if subject and subject != "pests" else "the pests"
        case HazardCategory.SECURITY:
            return _SECURITY.get(subject, "the problem with your door or window")
        case _:
            return "the problem"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def logged(reported: Sequence[tuple[HazardCategory, str]], *, urgent: bool) -> Reply:
    """A new hazard was raised for staff: what happens next."""
    what = _and([label(c, s) for c, s in reported])
    them = "it" if len(reported) == 1 else "them"
    if urgent:
        return Reply(
            f"Thanks for telling us about {what}. We have logged {them} as urgent and will "
            "contact you within 1 working day."
        )
    return Reply(
        f"Thanks for telling us about {what}. We have logged {them} as "
        f"{'a hazard' if len(reported) == 1 else 'hazards'} and will contact you within 2 "
        "working days."
    )


def on_record(known: Sequence[tuple[HazardCategory, str, str]], *, health_noted: bool) -> Reply:
    """Already reported: (category, subject, job reference) of each."""
    what = _and([f"{label(c, s)} (ref {ref})" for c, s, ref in known])
    refs = f"ref {_and([ref for _, _, ref in known])}"
    if health_noted:
        return Reply(
            fit(
                (
                    f"We already have {what} on record. We have told our team it is affecting "
                    "someone's health, so they treat it as urgent.",
                    f"We already have {what} on record and have told our team it is affecting "
                    "someone's health.",
                    f"We already have {refs} on record. Our team now knows it affects "
                    "someone's health.",
                )
            )
        )
    return Reply(
        fit(
            (
                f"We already have {what} on record and our team is dealing with it. If it "
                "gets worse, tell us.",
                f"We already have {what} on record and our team is dealing with it.",
            )
        )
    )


def advice(category: HazardCategory, *, health_risk: bool, emergency_phone: str) -> Reply | None:
    """What to do until we come, where someone could be hurt or made ill; None otherwise."""
    match category:
        case HazardCategory.DAMP_MOULD if health_risk:
            return Reply(
                "Until then: air the room each day, wipe off condensation, and keep anyone "
                "with asthma or a baby out of that room if you can. If breathing gets worse, "
                "call 111."
            )
        case HazardCategory.PESTS if health_risk:
            return Reply(
                "Until then: keep food in sealed boxes, clear up crumbs and keep children away "
                "from droppings. If anyone is bitten or unwell, call 111."
            )
        case HazardCategory.LEAK:
            return Reply(
                "Until then: put a bowl or towels under the drip and keep away from lights and "
                f"sockets near the water. If water reaches them, call {emergency_phone}."
            )
        case HazardCategory.STRUCTURAL:
            return Reply(
                "Until then: keep everyone away from that area and do not try to fix it "
                f"yourself. If it starts to give way, call our emergency line on {emergency_phone}."
            )
        case HazardCategory.SECURITY:
            return Reply(
                f"If you cannot lock your home tonight, call our emergency line on "
                f"{emergency_phone}. If someone has broken in or is there now, call 999."
            )
        case _:
            return None
