"""How far a broadcast's queued messages have got: the outbox rows it queued, counted by
status in the database.

A day's reminders for a large landlord queue a thousand rows or more, so the ids are sent
in chunks of CHUNK (no statement carries more than CHUNK parameters; PostgreSQL refuses
more than 65,535) and each chunk is a GROUP BY on the primary key, a handful of rows back.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.enums import OutboxStatus
from storage.models import OutboxMessage

CHUNK = 500


def status_counts(session: Session, *, ids: Sequence[int]) -> dict[OutboxStatus, int]:
    """How many of these outbox rows are in each status (rows since deleted are absent)."""
    counts: dict[OutboxStatus, int] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        for status, count in session.exec(
            select(OutboxMessage.status, func.count())
            .where(col(OutboxMessage.id).in_(chunk))
            .group_by(col(OutboxMessage.status))
        ).all():
            counts[OutboxStatus(status)] = counts.get(OutboxStatus(status), 0) + int(count)
    return counts
