"""Words for the messages Doorstep starts itself: reminders, status news, feedback, changes.

Every one is an SMS: GSM-7 (no curly quotes, dashes or emoji) and at most two segments
with the longest names we hold; tests check both. Options are numbers, never carrier
keywords (a resident who texts "CANCEL" is unsubscribed by the carrier). Nothing here
mentions access needs: a phone may be read by someone else in the household.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flows.local_time import local_twelve_hour
from flows.sms import fit, gsm7_safe, quote

#: Free text a member of staff types (a disruption's reason) is cut to this, so the message
#: stays within two segments whatever they write.
REASON_LIMIT = 90
#: A repair's description as the landlord's system wrote it is cut to this.
DESCRIPTION_LIMIT = 30


def evening_reminder(first_name: str, visit: str, operative: str, code: str) -> str:
    """Names the day rather than saying "tomorrow": a Sunday reminder is held to Monday."""
    return fit(
        (
            f"Hello {first_name}, a reminder of your repair visit on {visit}. {operative} will "
            f"say your visit code {code} at the door. To change the time reply 1, to call it "
            "off reply 2.",
            f"Hello {first_name}, a reminder: your repair visit is {visit}. {operative} will "
            f"say code {code} at the door. Reply 1 to change it, 2 to call it off.",
            f"Reminder: your repair visit is {visit}. {operative} will say code {code} at the "
            "door. Reply 1 to change it, 2 to call it off.",
        )
    )


def morning_reminder(first_name: str, visit: str, operative: str, code: str) -> str:
    return fit(
        (
            f"Good morning {first_name}. Your repair visit is today, {visit}. {operative} "
            f"will say your visit code {code} at the door: if they cannot, do not let them in.",
            f"Good morning {first_name}. Repair visit today, {visit}: {operative} will say "
            f"code {code} at the door. If not, do not let them in.",
            f"Repair visit today, {visit}: {operative} will say code {code} at the door. If "
            "not, do not let them in.",
        )
    )


def on_the_way(operative: str, eta: datetime | None, zone: ZoneInfo) -> str:
    arrival = f", arriving about {local_twelve_hour(eta, zone)}" if eta else ""
    return (
        f"{operative} is on the way to your repair visit{arrival}. They will say your "
        "visit code at the door."
    )


def arrived(operative: str, code: str) -> str:
    return (
        f"{operative} is at your door now. They should say your visit code {code}: if "
        "they cannot, do not let them in and text us."
    )


def running_late(operative: str, eta: datetime | None, zone: ZoneInfo) -> str:
    arrival = f" and now expects to arrive about {local_twelve_hour(eta, zone)}" if eta else ""
    return (
        f"Sorry, {operative} is running late for your repair visit{arrival}. "
        "To change the time reply 1."
    )


def cant_get_in(operative: str) -> str:
    return (
        f"We are at your door now: {operative} is here for your repair visit but cannot get "
        "in. Reply 1 if you are in, or 2 to choose a new time."
    )


def feedback_request(visit: str) -> str:
    """Must read as the feedback flow's first question: the reply lands in that flow."""
    return (
        f"How did your repair visit on {visit} go? Reply with a number from 1 (very poor) "
        "to 5 (very good)."
    )


def needs_review(first_name: str, visit: str) -> str:
    return fit(
        (
            f"Hello {first_name}, before your repair visit on {visit}: it is a year since you "
            "told us what helps at your visits. Reply 1 to check or change it.",
            f"Before your repair visit on {visit}: it is a year since you told us what helps "
            "at your visits. Reply 1 to check or change it.",
        )
    )


def staff_rebooked(first_name: str, visit: str, operative: str, code: str) -> str:
    return fit(
        (
            f"Hello {first_name}, our team has moved your repair visit to {visit}. {operative} "
            f"will come and say your visit code {code}. To change the time reply 1.",
            f"Hello {first_name}, our team moved your repair visit to {visit}. {operative} "
            f"will say code {code} at the door. Reply 1 to change it.",
            f"Our team moved your repair visit to {visit}. {operative} will say code {code} "
            "at the door. Reply 1 to change it.",
        )
    )


def staff_cancelled(first_name: str, visit: str) -> str:
    return (
        f"Hello {first_name}, our team has called off your repair visit on {visit}. "
        "Reply 1 to choose a new time."
    )


def repair_cancelled(first_name: str, visit: str) -> str:
    """The landlord cancelled the repair itself, and with it the visit."""
    closed = "is called off: our repairs team has closed this repair."
    return fit(
        (
            f"Hello {first_name}, your repair visit on {visit} {closed} If something still "
            "needs fixing, reply to tell us.",
            f"Hello {first_name}, your repair visit on {visit} {closed} Still needs fixing? "
            "Reply to tell us.",
            f"Your repair visit on {visit} {closed} Still needs fixing? Reply to tell us.",
        )
    )


def landlord_booked(
    visit: str, repair: str, operative: str, employer: str, badge: str, code: str
) -> str:
    """A visit the landlord's scheduler booked: what the booking flow's confirmation says
    (flows/wording/visits.confirmation), in one message (a second would wait for the caps)."""
    return (
        f"Your repair visit ({sms_safe(repair, DESCRIPTION_LIMIT)}) is booked: {visit}. "
        f"{operative} from {employer}, ID badge {badge}, will say visit code {code} at the "
        "door: if they cannot, do not let them in."
    )


def no_access(first_name: str, visit: str, operative: str) -> str:
    return (
        f"Hello {first_name}, {operative} came for your repair visit on {visit} but could not "
        "get in. Reply 1 to choose a new time."
    )


def follow_on(first_name: str, visit: str) -> str:
    return (
        f"Hello {first_name}, thank you for letting us in on {visit}. Your repair needs "
        "another visit to finish it. Reply 1 to choose a time."
    )


def disruption(first_name: str, visit: str, reason: str) -> str:
    return (
        f"Hello {first_name}, we are sorry: your repair visit on {visit} cannot go ahead "
        f"as planned ({clean_reason(reason)}). Reply 1 to choose a new time."
    )


def clean_reason(reason: str) -> str:
    """Staff text made SMS-safe: straight quotes and hyphens, one line, a bounded length."""
    return sms_safe(reason, REASON_LIMIT)


def sms_safe(text: str, limit: int) -> str:
    """Text from outside (staff, a landlord's system) made SMS-safe: GSM-7 (straight quotes
    and hyphens, no emoji), one line, at most `limit` characters (flows/sms.py `quote`)."""
    return quote(gsm7_safe(text).rstrip("."), limit)
