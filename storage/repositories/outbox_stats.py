"""Read-only views of the outbox for operators and staff: the live depth by status, the
oldest due message, what finished lately, and the statuses of given rows (a broadcast's
progress).

Everything /metrics reads is bounded by the live set or by a recent window, never by the
outbox's history: the live rows (pending, sending) through the partial index
`ix_outbox_live`, whose predicate the queries repeat word for word (`LIVE_OUTBOX`), and
the finished ones by (status, not_before) over the last window only (`ix_outbox_due`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from storage.enums import OutboxStatus
from storage.models import OutboxMessage
from storage.models.outbox import LIVE_OUTBOX

#: Statuses a row ends in (`LIVE_OUTBOX` holds the others).
FINISHED = (
    OutboxStatus.SENT,
    OutboxStatus.DELIVERED,
    OutboxStatus.FAILED,
    OutboxStatus.EXPIRED,
    OutboxStatus.BLOCKED,
)


def count_live(session: Session) -> dict[str, int]:
    """How many rows are waiting or on their way (pending, sending), keyed by status."""
    return dict(
        session.exec(
            select(OutboxMessage.status, func.count())
            .where(text(LIVE_OUTBOX))
            .group_by(OutboxMessage.status)
        ).all()
    )


def count_finished_since(session: Session, *, since: datetime, now: datetime) -> dict[str, int]:
    """How many rows due between `since` and `now` have finished, keyed by status (sent,
    delivered, failed, expired, blocked): a window's worth, however long the history."""
    return dict(
        session.exec(
            select(OutboxMessage.status, func.count())
            .where(
                col(OutboxMessage.status).in_(FINISHED),
                col(OutboxMessage.not_before) >= since,
                col(OutboxMessage.not_before) <= now,
            )
            .group_by(OutboxMessage.status)
        ).all()
    )


def oldest_due(session: Session, *, now: datetime) -> datetime | None:
    """When the oldest due, unsent message became due (SQLite returns it without a zone):
    the first entry of the live rows' index, not a walk through the sent ones."""
    oldest: datetime | None = session.exec(
        select(func.min(OutboxMessage.not_before)).where(
            text(LIVE_OUTBOX), col(OutboxMessage.not_before) <= now
        )
    ).one()
    return oldest


def statuses_of(session: Session, *, ids: Collection[int]) -> dict[int, OutboxStatus]:
    """The current status of each of these outbox rows."""
    statuses: dict[int, OutboxStatus] = {}
    if ids:
        for row_id, status in session.exec(
            select(OutboxMessage.id, OutboxMessage.status).where(col(OutboxMessage.id).in_(ids))
        ).all():
            if row_id is not None:
                statuses[row_id] = OutboxStatus(status)
    return statuses
