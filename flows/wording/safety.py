"""Emergency advice, opt-out confirmations and the human handoff."""

from __future__ import annotations

from flows.context import LandlordView
from flows.messages import OPT_OUT_CONFIRMATION, Option, Reply
from flows.safety import Emergency, Hazard
from flows.sms import fit

_ADVICE = {
    Hazard.GAS: (
        "If you smell gas: do not use switches, flames or phones inside, open doors and "
        "windows, turn the gas off at the meter if you can, go outside and call the gas "
        "emergency line on 0800 111 999."
    ),
    Hazard.CARBON_MONOXIDE: (
        "Open doors and windows, turn off gas appliances, get everyone outside and call "
        "0800 111 999. If anyone feels dizzy or sick, call 999."
    ),
    Hazard.WATER: (
        "Turn the water off at the stopcock (often under the kitchen sink), keep away from "
        "any electrics near the water, and move valuables if it is safe."
    ),
    Hazard.ELECTRICAL: (
        "Do not touch it. If it is safe, switch off at the fuse box and keep everyone away."
    ),
    Hazard.FIRE: "Get out, stay out and call 999 now.",
    Hazard.STRUCTURAL: (
        "Get everyone out of that room and keep away from it. If anyone is hurt, call 999."
    ),
    Hazard.NO_HEAT_OR_WATER: (
        "We will treat this as urgent because someone vulnerable is affected. Keep warm "
        "and drink plenty of water."
    ),
}


def emergency(found: Emergency, landlord: LandlordView) -> Reply:
    return Reply(
        f"{_ADVICE[found.hazard]} Then call our emergency line on {landlord.emergency_phone}. "
        "We have raised an urgent job."
    )


def opted_out() -> Reply:
    return Reply(
        "OK, we will not send you any more messages here unless you message us first. "
        'To get them again, text "text me again".',
        kind=OPT_OUT_CONFIRMATION,
    )


def confirm_opt_out() -> Reply:
    return Reply(
        "Do you want us to stop sending you messages here about your repairs?",
        (Option("1", "Yes, no more messages"), Option("2", "No, keep them coming")),
    )


def kept_sending() -> Reply:
    return Reply("OK, we will keep sending you updates about your repairs here.")


def confirm_handoff() -> Reply:
    return Reply(
        "Do you want a member of our team to contact you?",
        (Option("1", "Yes, please"), Option("2", "No thanks")),
    )


def opted_in() -> Reply:
    return Reply("Thank you, we will send you updates about your repairs here again.")


def handoff(when: str, landlord: LandlordView) -> Reply:
    emergency = f"In an emergency call our emergency line on {landlord.emergency_phone}."
    return Reply(
        fit(
            (
                f"Our team will contact you and reply {when}. You can still ask me about your "
                f"visits. {emergency}",
                f"Our team will reply {when}. Ask me about your visits meanwhile. {emergency}",
            )
        )
    )
