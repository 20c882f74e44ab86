"""What residents told us afterwards, what staff must act on, and who did what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from storage.enums import TaskKind, TaskStatus
from storage.models._base import enum_field, json_field, utc_field


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"
    #: The dashboard's count and the "flagged, not reviewed" list read only the few answers
    #: awaiting review (the predicate as the queries write it, per database).
    __table_args__ = (
        Index(
            "ix_feedback_flagged_unreviewed",
            "appointment_id",
            postgresql_where=text("flagged IS true AND reviewed_at IS NULL"),
            sqlite_where=text("flagged IS 1 AND reviewed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointments.id", unique=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    rating: int | None = None
    showed_id: bool | None = None
    asked_before_facilities: bool | None = None
    left_tidy: bool | None = None
    respectful: bool | None = None
    comment: str | None = None
    flagged: bool = Field(default=False, index=True)
    #: Indexed for the foreign key: deleting an old conversation (retention) finds its rows.
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True)
    created_at: datetime = utc_field()
    completed_at: datetime | None = utc_field(nullable=True)
    reviewed_at: datetime | None = utc_field(nullable=True)
    reviewed_by: int | None = Field(default=None, foreign_key="staff_users.id")
    review_note: str | None = None


def complaint_reference(complaint_id: int, created_at: datetime) -> str:
    """How a complaint is named to the resident, staff and the landlord, in the style of a
    landlord's own complaint references: CMP-<year made>-<number, six digits>.

    Made from the id and the (UTC) year, never stored, so it cannot drift; UTC and UK time
    agree on the year (the UK is on GMT at New Year).
    """
    return f"CMP-{created_at.year}-{complaint_id:06d}"


class Complaint(SQLModel, table=True):
    __tablename__ = "complaints"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointments.id", index=True)
    feedback_id: int | None = Field(default=None, foreign_key="feedback.id", index=True)
    text: str
    status: str = "open"
    created_at: datetime = utc_field()
    respond_by: datetime | None = utc_field(nullable=True)

    @property
    def reference(self) -> str:
        """CMP-2026-000123 (`complaint_reference`)."""
        assert self.id is not None, "a complaint has a reference once it is stored"
        return complaint_reference(self.id, self.created_at)


class StaffTask(SQLModel, table=True):
    """Call-backs, handoffs, triage and alerts: the staff queue."""

    __tablename__ = "staff_tasks"
    #: The queue pages urgent first, then oldest (storage.repositories.staff_tasks.tasks):
    #: the open tasks from a partial index that stays small however long the history.
    __table_args__ = (
        Index(
            "ix_staff_tasks_open_queue",
            "urgent",
            "created_at",
            "id",
            postgresql_where=text("status != 'closed'"),
            sqlite_where=text("status != 'closed'"),
        ),
        Index("ix_staff_tasks_queue", "urgent", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: TaskKind = enum_field(TaskKind, index=True)
    status: TaskStatus = enum_field(TaskStatus, default=TaskStatus.OPEN, index=True)
    urgent: bool = False
    summary: str
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointments.id")
    #: Indexed for the foreign key: deleting an old conversation (retention) finds its rows.
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True)
    claimed_by: int | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = utc_field()
    closed_at: datetime | None = utc_field(nullable=True)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    #: The newest events of one kind (the recent broadcasts) without reading the whole log.
    __table_args__ = (Index("ix_audit_events_action_at_id", "action", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(index=True)
    actor: str
    action: str
    subject_type: str
    subject_id: int | None = None
    detail: dict[str, Any] = json_field()
