"""What became of a text we sent: Twilio's delivery-status webhook.

Twilio reports queued, sent, delivered, undelivered or failed, in any order and
sometimes twice. The outbox row and its transcript row only move forward; an error code
says whether the resident opted out (21610), the number is dead (flag it for staff) or
the carrier was briefly unavailable (send again later). The classification and the
carrier backoff live here; the writes are `storage.repositories.reachability`'s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session
from starlette.datastructures import FormData

from bot.channels.sms.forms import BadRequest, _field, message_sid
from bot.channels.sms.sender import OPTED_OUT_CODES, TRANSIENT_CODES, UNREACHABLE_CODES
from bot.runtime import Runtime
from storage.enums import Channel, OutboxStatus
from storage.models import OutboxMessage, Resident
from storage.repositories import outbox, reachability

log = logging.getLogger(__name__)

#: Twilio's delivery words in the order they can happen; terminal ones share the top rank.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
#: Backoff for carrier-side transient failures (30003 handset off, 30008 unknown).
RETRY_BASE = timedelta(minutes=2)
RETRY_CAP = timedelta(hours=1)
MAX_CARRIER_RETRIES = 5


@dataclass(frozen=True, slots=True)
class StatusReport:
    message_sid: str
    status: str
    error_code: int | None


def parse_status(form: FormData) -> StatusReport:
    sid = message_sid(form)
    status = _field(form, "MessageStatus").lower()
    raw_code = form.get("ErrorCode")
    code: int | None = None
    if isinstance(raw_code, str) and raw_code.strip():
        try:
            code = int(raw_code)
        except ValueError as exc:
            raise BadRequest("ErrorCode is not a number") from exc
    return StatusReport(sid, status, code)


def _record_status(runtime: Runtime, report: StatusReport) -> None:
    now = runtime.clock.now()
    rank = _RANK.get(report.status)
    if rank is None:
        log.info("unknown Twilio status %r ignored sid=%s", report.status, report.message_sid)
        return
    with runtime.db.session() as session:
        row = outbox.by_provider_message_id(session, provider_message_id=report.message_sid)
        if row is None:
            log.info("status %s for unknown sid=%s ignored", report.status, report.message_sid)
            return
        message = outbox.sent_message(session, outbox_id=row.id) if row.id is not None else None
        if message is not None:
            if rank <= _RANK.get(message.delivery_status or "", -1):
                return  # a repeat, or late news of an earlier step: never move backwards
            message.delivery_status = report.status
            session.add(message)
        if row.status not in (OutboxStatus.SENDING, OutboxStatus.SENT):
            return  # settled already (delivered, failed) or put back for another attempt
        if report.status == "delivered":
            row.status = OutboxStatus.DELIVERED
            session.add(row)
        elif report.status in ("undelivered", "failed"):
            _apply_error(session, row, report.error_code, report.status, now)


def _apply_error(
    session: Session, row: OutboxMessage, code: int | None, status: str, now: datetime
) -> None:
    """Classify Twilio's error code; the writes are the reachability owner's."""
    resident = _recipient(session, row)
    reason = f"Twilio {code}" if code is not None else f"Twilio {status}"
    if code in OPTED_OUT_CODES:
        if resident is not None and resident.id is not None:
            reachability.record_opt_out(
                session, resident_id=resident.id, channel=Channel.SMS, at=now
            )
        reachability.fail_send(
            session,
            row=row,
            reason=f"{reason}: recipient opted out",
            reason_code="opted_out",
            at=now,
        )
    elif code in UNREACHABLE_CODES:
        if resident is not None and resident.id is not None:
            reachability.record_unreachable(
                session, resident_id=resident.id, channel=Channel.SMS, at=now, reason=reason
            )
        reachability.fail_send(
            session,
            row=row,
            reason=f"{reason}: number unreachable",
            reason_code="provider_refused",
            at=now,
        )
    elif code in TRANSIENT_CODES and row.attempts < MAX_CARRIER_RETRIES:
        wait = carrier_backoff(row.attempts)
        reachability.retry_delivery(
            session,
            row=row,
            not_before=now + wait,
            reason=f"{reason}: carrier could not deliver, trying again",
            detail=f"{reason}; again after {int(wait.total_seconds())} s",
            at=now,
        )
    else:
        reachability.fail_send(
            session, row=row, reason=reason, reason_code="provider_refused", at=now
        )


def carrier_backoff(attempts: int) -> timedelta:
    """Wait before sending again after the carrier could not deliver (phone off, busy)."""
    delay: timedelta = RETRY_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_CAP)


def _recipient(session: Session, row: OutboxMessage) -> Resident | None:
    """The resident whose own number the row went to (a nominee's copy goes to theirs)."""
    if row.resident_id is not None:
        own = reachability.at_own_address(
            session, resident_id=row.resident_id, channel=Channel.SMS, address=row.address
        )
        return session.get(Resident, row.resident_id) if own else None
    if row.address:
        return reachability.resident_for_mobile(session, mobile=row.address)
    return None
