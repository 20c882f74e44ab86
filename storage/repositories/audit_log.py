"""The audit log: what staff (and sign-in attempts) did, read back for the sign-in limit
and the list of recent broadcasts (along ix_audit_events_action_at_id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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


def latest_requests(
    session: Session, *, action: str, limit: int
) -> list[tuple[int, datetime, str, dict[str, Any]]]:
    """The newest events of one kind, newest first: id, time, actor and only the
    `request` part of the detail (a broadcast's detail also holds every line it sent,
    which a list of recent broadcasts must not load)."""
    rows = session.exec(
        select(
            col(AuditEvent.id),
            col(AuditEvent.at),
            col(AuditEvent.actor),
            col(AuditEvent.detail)["request"],
        )
        .where(col(AuditEvent.action) == action)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
    ).all()
    return [
        (int(row_id), at, actor, request if isinstance(request, dict) else {})
        for row_id, at, actor, request in rows
        if row_id is not None
    ]
