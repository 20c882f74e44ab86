"""The audit log: what staff (and sign-in attempts) did, read back for the sign-in limit
and the list of recent broadcasts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AuditEvent


def events_by_actor(
    session: Session, *, actor: str, actions: Sequence[str], after: datetime
) -> Sequence[AuditEvent]:
    """The actor's events of these kinds later than `after`, oldest first."""
    return session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.actor) == actor,
            col(AuditEvent.action).in_(actions),
            col(AuditEvent.at) > after,
        )
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()


def latest_events(session: Session, *, action: str, limit: int) -> Sequence[AuditEvent]:
    """The newest events of one kind, newest first."""
    return session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.action) == action)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
    ).all()
