"""Read-only views of the outbox for operators and staff: depth by status, the oldest
due message, and the statuses of given rows (a broadcast's progress)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.enums import OutboxStatus
from storage.models import OutboxMessage


def count_by_status(session: Session) -> dict[str, int]:
    """How many outbox rows are in each status, keyed by status (none: absent)."""
    return dict(
        session.exec(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )


def oldest_due(session: Session, *, now: datetime) -> datetime | None:
    """When the oldest due, unsent message became due (SQLite returns it without a zone)."""
    oldest: datetime | None = session.exec(
        select(func.min(OutboxMessage.not_before)).where(
            col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            col(OutboxMessage.not_before) <= now,
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
