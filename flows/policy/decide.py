"""The contact policy's one decision: send now, defer until when, expire, or block.

Pure and cheap, because it runs for every outbound message twice: when the message is
planned (to learn when it may go) and again just before it is sent (the appointment may
have changed, the resident may have opted out or had other messages meanwhile).

Order matters and is part of the policy:
1. the channel: opted out, unreachable, or SMS to a number that is not a UK mobile ->
   block. Nothing overrides an opt-out, not even a reply or an urgent safety message, with
   one exception: the reply confirming the opt-out itself (kind `opt_out_confirmation`,
   purpose reply), which answers the very message that opted them out.
2. the purpose (everything except replies): a live appointment at this version that still
   needs the message, or a conversation the resident opened -> otherwise block.
3. the use-by time: already past -> expire.
4. hours and caps (service messages only; urgent safety overrides them and says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache

from flows.messages import OPT_OUT_CONFIRMATION
from flows.policy.caps import caps_clear_at
from flows.policy.hours import hours_reason, local_label, next_allowed, require_aware
from flows.policy.reasons import Reason
from flows.policy.rules import ContactRules
from storage.enums import Channel, Decision, Nation
from storage.phones import is_uk_mobile

#: Parsing a number costs ~0.3 ms, ten times the rest of decide(); a resident's number is
#: checked at plan time and again at send time, so remember the (pure) answer.
#: Large enough for a big landlord's whole tenancy list: parsing costs about 0.5 ms.
_is_uk_mobile = lru_cache(maxsize=200_000)(is_uk_mobile)


class Purpose(StrEnum):
    #: Answers a message the resident just sent: any hour, no caps, no appointment needed.
    REPLY = "reply"
    #: Started by the service (confirmation, reminder, on-the-way, feedback, broadcast).
    SERVICE = "service"
    #: Gas, flooding, Awaab's Law hazards: may override hours and caps, never opt-outs.
    URGENT_SAFETY = "urgent_safety"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One message the service would like to send.

    `time_critical` marks messages that lose their point if held to the next working day
    (on-the-way, a same-day change); only they may use Sunday and bank-holiday hours, and
    for a visit on `visit_day` they are exempt from the caps on that day.
    """

    purpose: Purpose
    kind: str
    channel: Channel
    address: str
    not_before: datetime
    expires_at: datetime | None = None
    time_critical: bool = False
    visit_day: date | None = None
    appointment_version: int | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the policy needs to know about the resident, gathered by the caller."""

    nation: Nation
    opted_out: frozenset[Channel] = frozenset()
    unreachable: frozenset[Channel] = frozenset()
    open_conversation: bool = False
    #: Earlier service-initiated sends (not replies), any order; older than 7 days may be left out.
    recent_service_sends: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class PurposeState:
    """The appointment (or case) a message is about, as it stands now.

    `active` is False once it is cancelled or withdrawn; `still_needed` is False when the
    message has become pointless (a reminder after the resident already confirmed).
    """

    exists: bool
    current_version: int | None = None
    active: bool = True
    still_needed: bool = True
    #: Why it is not needed, when a more telling code than `no_longer_needed` applies
    #: (an invitation to book a repair that is booked now: `job_booked`).
    unneeded_reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """`at` is when to send (SEND: now; DEFER: the moment to try again; else: now)."""

    decision: Decision
    reason: Reason
    at: datetime
    detail: str


def decide(
    candidate: Candidate,
    recipient: Recipient,
    purpose_state: PurposeState | None,
    rules: ContactRules,
    *,
    now: datetime,
) -> Verdict:
    """Judge one message at `now`; call again at send time, since the world moves on.

    A DEFER carries the moment to judge it again; at that moment the answer may still be
    DEFER (another message went meanwhile), and the caller simply re-plans.
    """
    require_aware(now, "now")
    require_aware(candidate.not_before, "not_before")
    if candidate.expires_at is not None:
        require_aware(candidate.expires_at, "expires_at")
    for sent in recipient.recent_service_sends:
        require_aware(sent, "recent_service_sends")
    # Everything in UTC from here: Python never calls a wall-clock time in the repeated hour
    # equal to a UTC one, and a deferral compared with == must not depend on that.
    now = now.astimezone(UTC)

    blocked = _channel_block(candidate, recipient) or (
        None
        if candidate.purpose is Purpose.REPLY
        else _purpose_block(candidate, recipient, purpose_state)
    )
    if blocked is not None:
        reason, detail = blocked
        return Verdict(Decision.BLOCK, reason, now, detail)

    zone = rules.zone
    start = max(now, candidate.not_before.astimezone(UTC))
    expires = None if candidate.expires_at is None else candidate.expires_at.astimezone(UTC)
    if expires is not None and expires <= start:
        return Verdict(
            Decision.EXPIRE,
            Reason.EXPIRED,
            now,
            f"{candidate.kind} was useful only until {local_label(expires, zone)}",
        )
    if start > now and candidate.purpose is not Purpose.SERVICE:
        return Verdict(Decision.DEFER, Reason.NOT_YET_DUE, start, "planned time not reached")
    if candidate.purpose is Purpose.REPLY:
        return Verdict(Decision.SEND, Reason.REPLY, now, "reply to the resident")

    sends = tuple(s.astimezone(UTC) for s in recipient.recent_service_sends if s <= now)
    if candidate.purpose is Purpose.URGENT_SAFETY:
        return _urgent(candidate, recipient.nation, sends, rules, now)

    outcome = _earliest(start, candidate, recipient.nation, sends, rules)
    if outcome.at is None:
        return Verdict(
            Decision.BLOCK,
            Reason.NO_CONTACT_HOURS,
            now,
            f"no allowed moment for {candidate.kind} in the configured contact hours",
        )
    if outcome.at == start:
        if start > now:
            return Verdict(Decision.DEFER, Reason.NOT_YET_DUE, start, "planned time not reached")
        if outcome.exempted:
            return Verdict(
                Decision.SEND,
                Reason.VISIT_TODAY_EXCEPTION,
                now,
                f"{candidate.kind} for today's visit sent over the message caps",
            )
        return Verdict(Decision.SEND, Reason.WITHIN_POLICY, now, candidate.kind)
    cause = outcome.reason or Reason.OUTSIDE_HOURS
    if expires is not None and outcome.at >= expires:
        return Verdict(
            Decision.EXPIRE,
            Reason.TOO_LATE_WHEN_ALLOWED,
            now,
            f"{cause}: next allowed {local_label(outcome.at, zone)}, "
            f"but {candidate.kind} is useful only until {local_label(expires, zone)}",
        )
    return Verdict(
        Decision.DEFER, cause, outcome.at, f"{cause}: deferred to {local_label(outcome.at, zone)}"
    )


def _channel_block(candidate: Candidate, recipient: Recipient) -> tuple[Reason, str] | None:
    channel = candidate.channel
    confirms_opt_out = candidate.purpose is Purpose.REPLY and candidate.kind == OPT_OUT_CONFIRMATION
    if channel in recipient.opted_out and not confirms_opt_out:
        return Reason.OPTED_OUT, f"resident opted out of {channel}"
    if channel in recipient.unreachable:
        return Reason.UNREACHABLE, f"{channel} reported the address unreachable"
    if channel is Channel.SMS and not _is_uk_mobile(candidate.address):
        return Reason.NOT_UK_MOBILE, "SMS address is not a valid UK mobile"
    return None


def _purpose_block(
    candidate: Candidate, recipient: Recipient, state: PurposeState | None
) -> tuple[Reason, str] | None:
    # A message made for an appointment answers to that appointment even if the resident
    # also has a conversation open: a stale reminder must not ride on an unrelated chat.
    if state is None or not state.exists:
        if candidate.appointment_version is None and recipient.open_conversation:
            return None
        return Reason.NO_LIVE_PURPOSE, f"nothing live for {candidate.kind} to be about"
    if (
        candidate.appointment_version is not None
        and state.current_version != candidate.appointment_version
    ):
        return (
            Reason.STALE_VERSION,
            f"made for version {candidate.appointment_version}, "
            f"appointment is now version {state.current_version}",
        )
    if not state.active:
        return Reason.PURPOSE_ENDED, "appointment or case cancelled"
    if not state.still_needed:
        return (
            state.unneeded_reason or Reason.NO_LONGER_NEEDED,
            f"{candidate.kind} no longer needed",
        )
    return None


def _urgent(
    candidate: Candidate,
    nation: Nation,
    sends: Sequence[datetime],
    rules: ContactRules,
    now: datetime,
) -> Verdict:
    overridden = [
        r
        for r in (
            hours_reason(now, rules, nation=nation, time_critical=True),
            caps_clear_at(now, sends, rules).reason,
        )
        if r is not None
    ]
    if not overridden:
        return Verdict(Decision.SEND, Reason.WITHIN_POLICY, now, candidate.kind)
    return Verdict(
        Decision.SEND,
        Reason.URGENT_OVERRIDE,
        now,
        f"urgent safety {candidate.kind} overrode {', '.join(overridden)}",
    )


@dataclass(frozen=True, slots=True)
class _Earliest:
    at: datetime | None
    reason: Reason | None
    exempted: bool


_MAX_ROUNDS = 8


def _earliest(
    start: datetime,
    candidate: Candidate,
    nation: Nation,
    sends: Sequence[datetime],
    rules: ContactRules,
) -> _Earliest:
    """The first moment both the caps and the hours allow, and what held it at `start`.

    Caps and hours alternate: clearing a cap can land outside hours, and moving into hours
    never breaks a cap again (no new sends appear). The same-day exception is re-judged
    each round because moving to another day can end it (or begin it).
    """
    critical = candidate.time_critical
    first = hours_reason(start, rules, nation=nation, time_critical=critical)
    moment = start
    for _ in range(_MAX_ROUNDS):
        caps = caps_clear_at(moment, sends, rules)
        exempted = caps.reason is not None and _visit_today(candidate, moment, rules)
        if caps.reason is not None and not exempted:
            first = first or caps.reason
            moment = caps.clear_at
        allowed = next_allowed(moment, rules, nation=nation, time_critical=critical)
        if allowed is None:
            return _Earliest(None, first, exempted=False)
        if allowed == moment:
            return _Earliest(moment, first, exempted)
        first = first or hours_reason(moment, rules, nation=nation, time_critical=critical)
        moment = allowed
    raise RuntimeError("contact policy did not settle; caps and hours disagree")  # pragma: no cover


def _visit_today(candidate: Candidate, moment: datetime, rules: ContactRules) -> bool:
    return (
        candidate.time_critical
        and candidate.visit_day is not None
        and moment.astimezone(rules.zone).date() == candidate.visit_day
    )
