"""Every staff action leaves an AuditEvent naming the member of staff (by email)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.web.staff.deps import CurrentUser
from storage.models import AuditEvent


def record(
    session: Session,
    *,
    user: CurrentUser,
    action: str,
    subject_type: str,
    subject_id: int | None,
    now: datetime,
    **detail: Any,
) -> None:
    """Written in the same transaction as the change it describes: both happen or neither."""
    session.add(
        AuditEvent(
            at=now,
            actor=user.email,
            action=f"staff.{action}",
            subject_type=subject_type,
            subject_id=subject_id,
            detail={"role": user.role.value, **detail},
        )
    )
