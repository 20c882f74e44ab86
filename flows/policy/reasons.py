"""Why the contact policy decided what it did.

Every send, defer, expire and block is recorded with one of these codes (DESIGN.md: "nothing
is silently dropped"), so the words are stable: they end up in the outbox, in exports for a
complaint and in staff screens. Add codes; never rename one.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # send
    REPLY = "reply"
    WITHIN_POLICY = "within_policy"
    VISIT_TODAY_EXCEPTION = "visit_today_exception"
    URGENT_OVERRIDE = "urgent_override"
    # defer
    NOT_YET_DUE = "not_yet_due"
    OUTSIDE_HOURS = "outside_hours"
    SUNDAY_OR_HOLIDAY = "sunday_or_holiday"
    QUIET_HOURS = "quiet_hours"
    DAILY_CAP = "daily_cap"
    WEEKLY_CAP = "weekly_cap"
    MIN_GAP = "min_gap"
    #: A message an opt-out had stopped, pending again because the resident opted back in.
    OPTED_IN = "opted_in"
    # expire
    EXPIRED = "expired"
    TOO_LATE_WHEN_ALLOWED = "too_late_when_allowed"
    # block
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    NOT_UK_MOBILE = "not_uk_mobile"
    NO_LIVE_PURPOSE = "no_live_purpose"
    STALE_VERSION = "stale_version"
    PURPOSE_ENDED = "purpose_ended"
    NO_LONGER_NEEDED = "no_longer_needed"
    #: An invitation to book (issue 14) for a repair that has been booked meanwhile.
    JOB_BOOKED = "job_booked"
    NO_CONTACT_HOURS = "no_contact_hours"

    @property
    def explanation(self) -> str:
        """One line a member of staff (or an Ombudsman caseworker) can read without context."""
        return _EXPLANATIONS[self]


_EXPLANATIONS: dict[Reason, str] = {
    Reason.REPLY: "A reply to a message the resident sent; allowed at any hour.",
    Reason.WITHIN_POLICY: (
        "A message with a live purpose, inside the resident's contact hours and caps."
    ),
    Reason.VISIT_TODAY_EXCEPTION: (
        "Sent over the message caps because it is time-critical for a visit today."
    ),
    Reason.URGENT_OVERRIDE: (
        "An urgent safety message sent outside contact hours or over the caps, as allowed."
    ),
    Reason.NOT_YET_DUE: "Held until the time it was planned for.",
    Reason.OUTSIDE_HOURS: "Held until the resident's contact hours.",
    Reason.SUNDAY_OR_HOLIDAY: (
        "Held: on Sundays and bank holidays only time-critical messages go, 10:00-16:00."
    ),
    Reason.QUIET_HOURS: "Held: nothing is sent between 01:00 and 03:00 UK time (clock changes).",
    Reason.DAILY_CAP: "Held: the resident already had the most messages allowed in 24 hours.",
    Reason.WEEKLY_CAP: "Held: the resident already had the most messages allowed in 7 days.",
    Reason.MIN_GAP: "Held to keep the minimum gap after the previous message.",
    Reason.OPTED_IN: (
        "Held again: the resident opted back in, so it is judged afresh when it is due."
    ),
    Reason.EXPIRED: "Not sent: it was no longer useful by the time it came to be sent.",
    Reason.TOO_LATE_WHEN_ALLOWED: (
        "Not sent: the next moment it may be sent is after it stops being useful."
    ),
    Reason.OPTED_OUT: "Not sent: the resident opted out of this channel.",
    Reason.UNREACHABLE: "Not sent: the provider says this address cannot be reached.",
    Reason.NOT_UK_MOBILE: "Not sent: texts go only to valid UK mobile numbers.",
    Reason.NO_LIVE_PURPOSE: (
        "Not sent: no live appointment or resident-opened conversation to justify it."
    ),
    Reason.STALE_VERSION: "Not sent: the appointment has changed since this message was made.",
    Reason.PURPOSE_ENDED: "Not sent: the appointment or case it was about has been cancelled.",
    Reason.NO_LONGER_NEEDED: "Not sent: the appointment no longer needs this message.",
    Reason.JOB_BOOKED: "Not sent: the repair it invited the resident to book is booked now.",
    Reason.NO_CONTACT_HOURS: (
        "Not sent: the contact hours leave no moment it could be sent; check the settings."
    ),
}
