"""The contact log: every contact-policy decision with the outbox message it was about,
as staff search it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from storage.enums import Decision
from storage.models import ContactDecision, OutboxMessage


@dataclass(frozen=True, slots=True)
class ContactFilters:
    resident_id: int | None = None
    decision: Decision | None = None
    reason: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def decisions_with_messages(
    session: Session,
    *,
    filters: ContactFilters,
    zone_start: datetime | None,
    zone_end: datetime | None,
    offset: int,
    limit: int,
) -> list[tuple[ContactDecision, OutboxMessage]]:
    """Decisions matching the filters, newest first, between the UTC bounds the caller
    worked out from its zone (`date_from`/`date_to` are not read here)."""
    query = select(ContactDecision, OutboxMessage).join(
        OutboxMessage, col(OutboxMessage.id) == col(ContactDecision.outbox_id)
    )
    if filters.resident_id is not None:
        query = query.where(col(OutboxMessage.resident_id) == filters.resident_id)
    if filters.decision is not None:
        query = query.where(col(ContactDecision.decision) == filters.decision)
    if filters.reason:
        query = query.where(col(ContactDecision.reason_code) == filters.reason)
    if zone_start is not None:
        query = query.where(col(ContactDecision.at) >= zone_start)
    if zone_end is not None:
        query = query.where(col(ContactDecision.at) < zone_end)
    query = (
        query.order_by(col(ContactDecision.at).desc(), col(ContactDecision.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(query).all())


def reason_codes(session: Session) -> list[str]:
    """Every reason code recorded so far, sorted."""
    return sorted(
        {r for r in session.exec(select(ContactDecision.reason_code).distinct()).all() if r}
    )
