"""Staff tasks (call-backs, handoffs, alerts): the queue, claiming one (exactly one
claimant wins), and whether a conversation still has a handoff open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from storage.enums import TaskKind, TaskStatus
from storage.models import StaffTask


def tasks(
    session: Session, *, kinds: Sequence[TaskKind], include_closed: bool, limit: int
) -> list[StaffTask]:
    """Tasks of these kinds, urgent first, then oldest first."""
    query = select(StaffTask).where(col(StaffTask.kind).in_(kinds))
    if not include_closed:
        query = query.where(col(StaffTask.status) != TaskStatus.CLOSED)
    query = query.order_by(
        col(StaffTask.urgent).desc(), col(StaffTask.created_at), col(StaffTask.id)
    ).limit(limit)
    return list(session.exec(query))


def open_tasks(session: Session) -> Sequence[StaffTask]:
    """Every task not closed, of any kind."""
    return session.exec(select(StaffTask).where(col(StaffTask.status) != TaskStatus.CLOSED)).all()


def task_for_update(session: Session, *, task_id: int) -> StaffTask | None:
    """The task, locked (FOR UPDATE where the database has it) until the transaction ends."""
    return session.exec(
        select(StaffTask).where(col(StaffTask.id) == task_id).with_for_update()
    ).first()


def claim(session: Session, *, task_id: int, user_id: int | None) -> bool:
    """Claim an open task for the user; False if it is not open (or not there).

    A guarded update: of two people claiming at once, exactly one wins."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(StaffTask)
        .where(col(StaffTask.id) == task_id, col(StaffTask.status) == TaskStatus.OPEN)
        .values(status=TaskStatus.CLAIMED, claimed_by=user_id)
    )
    return bool(result.rowcount)


def other_open_handoff(
    session: Session, *, conversation_id: int | None, task_id: int | None
) -> bool:
    """Whether the conversation has a handoff still open besides this task."""
    others = session.exec(
        select(StaffTask.id).where(
            col(StaffTask.conversation_id) == conversation_id,
            col(StaffTask.kind) == TaskKind.HANDOFF,
            col(StaffTask.status) != TaskStatus.CLOSED,
            col(StaffTask.id) != task_id,
        )
    ).first()
    return others is not None
