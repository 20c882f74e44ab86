"""Whether a resident can be reached: opt-outs, unreachable numbers and failed sends.

The one owner of a resident's `sms_opted_out_at`, `telegram_opted_out_at`,
`sms_unreachable_at` and `telegram_unreachable_at`, and of settling an outbox row a
provider refused. The resident's own STOP/START (keyword or conversation), the
dispatcher's provider errors and Twilio's delivery-status webhook all write through here.

The rule, one for every writer:

* `*_opted_out_at` says when the current opt-out began. Opting out sets it if it is
  unset; a repeat STOP, or a provider reporting the opt-out again, keeps the first time;
  opting back in clears it.
* Opting back in re-plans the resident's visits: each message about a visit (at its
  current version, still useful) that was stopped only because of the opt-out on that
  channel is pending again, with a DEFER decision `opted_in`, and the dispatcher judges it
  afresh when due (hours, caps, use-by). A reminder blocked at plan time goes after all.
* `*_unreachable_at` says when the number (or Telegram chat) was first found
  unreachable: set if unset, kept on repeats, cleared only when the address is known to
  work again (e.g. the resident links Telegram). The staff NUMBER_CHECK task is created
  once, when an SMS number first becomes unreachable.
* A send refused for good is `failed`, with the reason in `last_error` and a BLOCK
  contact decision saying why; one to try again is `pending` with its new `not_before`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, or_, select

from storage.enums import Channel, Decision, OutboxStatus, TaskKind
from storage.models import Appointment, ContactDecision, OutboxMessage, Resident, StaffTask
from storage.repositories import landlord_events, suppressions

#: Longest reason kept on an outbox row.
_REASON_MAX = 500
#: The contact decision codes (flows.policy.Reason) of a send stopped by an opt-out, and of
#: one made pending again when the resident opted back in.
OPTED_OUT = "opted_out"
OPTED_IN = "opted_in"


def resident_for_mobile(session: Session, *, mobile: str) -> Resident | None:
    """The resident with this mobile number (an SMS keyword or a status report names only it)."""
    return session.exec(select(Resident).where(Resident.mobile == mobile)).first()


def at_own_address(
    session: Session, *, resident_id: int, channel: Channel, address: str | None
) -> bool:
    """Whether `address` is the resident's own on `channel`: only then does a provider's
    opt-out or unreachable report about it speak for the resident. A copy of a booking goes
    to their nominee's phone under the resident's id; the nominee's STOP is not theirs."""
    resident = session.get(Resident, resident_id)
    if resident is None or not address:
        return False
    if channel == Channel.TELEGRAM:
        return resident.telegram_id is not None and address == str(resident.telegram_id)
    return address == resident.mobile


def record_opt_out(session: Session, *, resident_id: int, channel: Channel, at: datetime) -> bool:
    """The resident opted out of `channel` at `at`; True when this began a new opt-out.

    A repeat keeps the time the current opt-out began.
    """
    resident = session.get(Resident, resident_id)
    if resident is None:
        return False
    if channel == Channel.TELEGRAM:
        if resident.telegram_opted_out_at is not None:
            return False
        resident.telegram_opted_out_at = at
    else:
        if resident.sms_opted_out_at is not None:
            return False
        resident.sms_opted_out_at = at
    session.add(resident)
    _tell_landlord(session, resident, channel, at, kind=landlord_events.RESIDENT_OPTED_OUT)
    return True


def record_opt_in(session: Session, *, resident_id: int, channel: Channel, at: datetime) -> bool:
    """The resident opted back in to `channel`; True when they had been opted out."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        return False
    if channel == Channel.TELEGRAM:
        was = resident.telegram_opted_out_at is not None
        resident.telegram_opted_out_at = None
        if resident.telegram_id is not None:
            suppressions.lift(session, channel=Channel.TELEGRAM, address=str(resident.telegram_id))
    else:
        was = resident.sms_opted_out_at is not None
        resident.sms_opted_out_at = None
        if resident.mobile:  # an opt-out kept from an anonymised record ends here too
            suppressions.lift(session, channel=Channel.SMS, address=resident.mobile)
    session.add(resident)
    if was:
        _tell_landlord(session, resident, channel, at, kind=landlord_events.RESIDENT_OPTED_IN)
        reopen_after_opt_in(session, resident_id=resident_id, channel=channel, at=at)
    return was


def reopen_after_opt_in(
    session: Session, *, resident_id: int, channel: Channel, at: datetime
) -> list[int]:
    """Make pending again the visit messages an opt-out of `channel` stopped; their ids.

    Only messages about a visit at the version they were made for, still useful at `at`,
    and stopped (blocked by the policy, or refused by the provider) because the resident
    had opted out. Replies are history and stay as they were. A row routed to another
    channel is left alone; one not routed yet (the planner leaves routing to the
    dispatcher) is judged again on the resident's channel as it is now.
    """
    # Checked per row of this resident's (by the indexed outbox_id), never by scanning
    # every decision ever recorded for the code.
    stopped_by_opt_out = (
        select(ContactDecision.id)
        .where(
            col(ContactDecision.outbox_id) == col(OutboxMessage.id),
            ContactDecision.reason_code == OPTED_OUT,
        )
        .exists()
    )
    rows = session.exec(
        select(OutboxMessage)
        .join(Appointment, col(Appointment.id) == col(OutboxMessage.appointment_id))
        .where(
            OutboxMessage.resident_id == resident_id,
            col(OutboxMessage.status).in_([OutboxStatus.BLOCKED, OutboxStatus.FAILED]),
            OutboxMessage.purpose != "reply",
            col(Appointment.version) == col(OutboxMessage.appointment_version),
            or_(col(OutboxMessage.expires_at).is_(None), col(OutboxMessage.expires_at) > at),
            or_(col(OutboxMessage.channel).is_(None), col(OutboxMessage.channel) == channel),
            stopped_by_opt_out,
        )
        .order_by(col(OutboxMessage.id))
    ).all()
    reopened = []
    for row in rows:
        assert row.id is not None
        row.status = OutboxStatus.PENDING
        row.last_error = None
        session.add(row)
        session.add(
            ContactDecision(
                outbox_id=row.id,
                decision=Decision.DEFER,
                reason_code=OPTED_IN,
                detail=f"resident opted back in to {channel.value}: judged again when due",
                at=at,
            )
        )
        reopened.append(row.id)
    return reopened


def _tell_landlord(
    session: Session, resident: Resident, channel: Channel, at: datetime, *, kind: str
) -> None:
    """A new opt-out, or the end of one, is an event for the resident's landlord (issue 14):
    by the landlord's reference for the resident, never the number."""
    landlord_events.record(
        session,
        landlord_id=resident.landlord_id,
        kind=kind,
        now=at,
        data={"resident": resident.reference, "channel": channel.value},
    )


def record_unreachable(
    session: Session, *, resident_id: int, channel: Channel, at: datetime, reason: str
) -> bool:
    """The provider cannot reach the resident on `channel`; True when first found so.

    The first time an SMS number is found unreachable, staff get one NUMBER_CHECK task
    (`reason` says what the provider reported); repeats change nothing.
    """
    resident = session.get(Resident, resident_id)
    if resident is None:
        return False
    if channel == Channel.TELEGRAM:
        if resident.telegram_unreachable_at is not None:
            return False
        resident.telegram_unreachable_at = at
        session.add(resident)
        return True
    if resident.sms_unreachable_at is not None:
        return False
    resident.sms_unreachable_at = at
    session.add(resident)
    session.add(
        StaffTask(
            kind=TaskKind.NUMBER_CHECK,
            summary=f"Texts to {resident.name}'s mobile fail ({reason}): check the number",
            resident_id=resident.id,
            created_at=at,
        )
    )
    return True


def clear_unreachable(session: Session, *, resident_id: int, channel: Channel) -> None:
    """The address works again (the resident linked Telegram, staff fixed the number)."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        return
    if channel == Channel.TELEGRAM:
        resident.telegram_unreachable_at = None
    else:
        resident.sms_unreachable_at = None
    session.add(resident)


def fail_send(
    session: Session, *, row: OutboxMessage, reason: str, reason_code: str, at: datetime
) -> None:
    """The row will not be sent: `failed`, with the reason and a BLOCK decision saying why."""
    row.status = OutboxStatus.FAILED
    row.last_error = reason[:_REASON_MAX]
    session.add(row)
    session.add(
        ContactDecision(
            outbox_id=row.id or 0,
            decision=Decision.BLOCK,
            reason_code=reason_code,
            detail=row.last_error,
            at=at,
        )
    )


def retry_send(session: Session, *, row: OutboxMessage, not_before: datetime, reason: str) -> None:
    """A send the provider refused for now: `pending` again from `not_before`."""
    row.status = OutboxStatus.PENDING
    row.not_before = not_before
    row.last_error = reason[:_REASON_MAX]
    session.add(row)


def retry_delivery(
    session: Session,
    *,
    row: OutboxMessage,
    not_before: datetime,
    reason: str,
    detail: str,
    at: datetime,
) -> None:
    """A message the provider took but could not deliver, sent again from `not_before`.

    The next attempt is a new provider message, so late news of this one must not touch
    the row: its provider id is forgotten. A DEFER decision records why.
    """
    retry_send(session, row=row, not_before=not_before, reason=reason)
    row.provider_message_id = None
    session.add(
        ContactDecision(
            outbox_id=row.id or 0,
            decision=Decision.DEFER,
            reason_code="provider_retry",
            detail=detail,
            at=at,
        )
    )


def reroute_send(
    session: Session,
    *,
    row: OutboxMessage,
    channel: Channel,
    address: str,
    reason: str,
    at: datetime,
) -> None:
    """Send the row again on another channel from `at` (the policy judges it afresh)."""
    row.last_error = reason[:_REASON_MAX]
    row.channel, row.address = channel, address
    row.status, row.not_before = OutboxStatus.PENDING, at
    session.add(row)
