"""Staff tasks (call-backs, handoffs, alerts): the queue, claiming one (exactly one
claimant wins), and whether a conversation still has a handoff open."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, tuple_, update
from sqlmodel import Session, col, select

from storage.enums import TaskKind, TaskStatus
from storage.models import StaffTask


@dataclass(frozen=True, slots=True)
class TaskKey:
    """Where a page of the queue ends: the last task shown (urgent first, then oldest)."""

    urgent: bool
    created_at: datetime
    id: int


def tasks(
    session: Session,
    *,
    kinds: Sequence[TaskKind],
    include_closed: bool,
    after: TaskKey | None = None,
    limit: int,
) -> list[StaffTask]:
    """Up to `limit` tasks of these kinds after `after`: urgent first, then oldest first.

    Urgent and the rest are read as two runs by (created_at, id), each along
    `ix_staff_tasks_open_queue` (open tasks; a partial index, small whatever the history)
    or `ix_staff_tasks_queue` (with the closed ones), so no page sorts the history."""
    found: list[StaffTask] = []
    for urgent in (True, False):
        if after is not None and after.urgent and not urgent:
            after_key = None  # past the last urgent task: the others from their start
        elif after is not None and after.urgent != urgent:
            continue  # a page that began among the others has no urgent task left
        else:
            after_key = after
        wanted = limit - len(found)
        if wanted <= 0:
            break
        query = select(StaffTask).where(
            col(StaffTask.kind).in_(kinds), col(StaffTask.urgent) == urgent
        )
        if not include_closed:
            query = query.where(col(StaffTask.status) != TaskStatus.CLOSED)
        if after_key is not None:
            query = query.where(
                tuple_(col(StaffTask.created_at), col(StaffTask.id))
                > (after_key.created_at, after_key.id)
            )
        query = query.order_by(col(StaffTask.created_at), col(StaffTask.id)).limit(wanted)
        found += session.exec(query).all()
    return found


@dataclass(frozen=True, slots=True)
class OpenCounts:
    """Open tasks by what the home page shows."""

    queue: int
    urgent: int
    alerts: int


def open_counts(session: Session) -> OpenCounts:
    """How many tasks are open, counted by the database (one GROUP BY on the open-task
    index), not by loading them."""
    queue = urgent = alerts = 0
    for kind, is_urgent, count in session.exec(
        select(StaffTask.kind, StaffTask.urgent, func.count())
        .where(col(StaffTask.status) != TaskStatus.CLOSED)
        .group_by(col(StaffTask.kind), col(StaffTask.urgent))
    ).all():
        if kind == TaskKind.ALERT:
            alerts += count
        else:
            queue += count
        if is_urgent:
            urgent += count
    return OpenCounts(queue=queue, urgent=urgent, alerts=alerts)


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
