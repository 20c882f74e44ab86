"""The contact log: every contact-policy decision with the outbox message it was about,
as staff search it, a page at a time by key, and the reason codes recorded so far.

Pages are keyed on (decision time, id), newest first, and read backwards along the index
`ix_contact_decisions_at_id` (or `ix_contact_decisions_reason_at_id` when a reason is
chosen), so the thousandth page costs what the first does on a million decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, literal_column, tuple_
from sqlmodel import Session, col, select

from storage.enums import Decision
from storage.models import ContactDecision, OutboxMessage

#: At most this many distinct reason codes are listed (the policy has about 25).
MAX_REASON_CODES = 100


@dataclass(frozen=True, slots=True)
class ContactFilters:
    resident_id: int | None = None
    decision: Decision | None = None
    reason: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class ContactKey:
    """Where a page ends: the last decision shown (its time and id)."""

    at: datetime
    id: int


def decisions_with_messages(
    session: Session,
    *,
    filters: ContactFilters,
    zone_start: datetime | None,
    zone_end: datetime | None,
    after: ContactKey | None,
    limit: int,
) -> list[tuple[ContactDecision, OutboxMessage]]:
    """Up to `limit` decisions matching the filters, newest first, older than `after`,
    between the UTC bounds the caller worked out from its zone (`date_from`/`date_to` are
    not read here)."""
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
    if after is not None:
        query = query.where(
            tuple_(col(ContactDecision.at), col(ContactDecision.id)) < (after.at, after.id)
        )
    query = query.order_by(col(ContactDecision.at).desc(), col(ContactDecision.id).desc()).limit(
        limit
    )
    return list(session.exec(query).all())


def reason_codes(session: Session) -> list[str]:
    """Every reason code recorded so far, sorted (at most MAX_REASON_CODES).

    A loose index scan: each step asks the reason-code index for the next code after the
    last one found, so it costs one index probe per distinct code (about 25), not a read of
    every decision as `SELECT DISTINCT` would on PostgreSQL."""
    code = col(ContactDecision.reason_code)
    first = select(func.min(code).label("code")).cte("codes", recursive=True)
    step = select(func.min(code)).where(code > first.c.code).scalar_subquery()
    codes = first.union_all(select(step.label("code")).where(first.c.code.is_not(None)))
    found = session.exec(
        select(codes.c.code)
        .where(codes.c.code.is_not(None), codes.c.code != literal_column("''"))
        .limit(MAX_REASON_CODES)
    ).all()
    return sorted(str(c) for c in found)
