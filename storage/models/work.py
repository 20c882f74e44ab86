"""Repairs, who can do them when, and the visits agreed with residents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.enums import AppointmentStatus, JobPriority, JobStatus, Trade
from storage.models._base import enum_field, json_field, utc_field

#: A job still under way (triage, open, booked): what a resident's texts are about.
#: SQL text so a query can repeat it word for word and both databases see that the
#: partial index below applies.
JOB_UNDER_WAY = "status NOT IN ('completed', 'cancelled')"
#: A visit still booked: the planner's live window starts here.
VISIT_BOOKED = "status = 'booked'"


class RepairJob(SQLModel, table=True):
    __tablename__ = "repair_jobs"
    __table_args__ = (
        UniqueConstraint("landlord_id", "reference", name="uq_repair_jobs_landlord_reference"),
        #: The inbound view reads a resident's jobs under way, not every job they ever had.
        Index(
            "ix_repair_jobs_resident_under_way",
            "resident_id",
            postgresql_where=text(JOB_UNDER_WAY),
            sqlite_where=text(JOB_UNDER_WAY),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    landlord_id: int = Field(foreign_key="landlords.id", index=True)
    #: The landlord's own job reference: unique per landlord, upserts are keyed by it.
    reference: str = Field(max_length=100)
    property_id: int = Field(foreign_key="properties.id", index=True)
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    description: str
    trade: Trade = enum_field(Trade, default=Trade.GENERAL)
    priority: JobPriority = enum_field(JobPriority, default=JobPriority.ROUTINE)
    status: JobStatus = enum_field(JobStatus, default=JobStatus.OPEN, index=True)
    #: Append-only list of {"at", "event", "by"}: what happened to the job, for evidence.
    history: list[dict[str, Any]] = json_field(factory=list)
    #: Schedule-of-rates code from the landlord's system, where it sent one.
    sor_code: str | None = Field(default=None, max_length=40)
    #: A hazard category (damp_mould, leak, ...) where one applies (Awaab's Law).
    hazard_category: str | None = Field(default=None, max_length=40)
    raised_at: datetime | None = utc_field(nullable=True)
    target_date: date | None = None
    #: Invitation to book (issue 14 item 3): when the invite and its one follow-up were
    #: planned, and when the job went on the staff's unbooked list.
    invited_at: datetime | None = utc_field(nullable=True)
    invite_followed_up_at: datetime | None = utc_field(nullable=True)
    unbooked_listed_at: datetime | None = utc_field(nullable=True)
    source_hash: str | None = Field(default=None, max_length=64)
    updated_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()


class Availability(SQLModel, table=True):
    """An operative's capacity in one named window of one day.

    `booked` is only ever changed by a guarded UPDATE (storage.repositories.booking), so
    the check constraint is the last line of defence, not the mechanism.
    """

    __tablename__ = "availability"
    __table_args__ = (
        UniqueConstraint("operative_id", "day", "window"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    operative_id: int = Field(foreign_key="operatives.id", index=True)
    day: date = Field(index=True)
    window: str  # a window name from the landlord's windows, e.g. "morning"
    capacity: int = 1
    booked: int = 0


class Appointment(SQLModel, table=True):
    __tablename__ = "appointments"
    __table_args__ = (
        #: The planner's live window: booked visits not long over, whatever the history.
        Index(
            "ix_appointments_booked_ends_at",
            "ends_at",
            postgresql_where=text(VISIT_BOOKED),
            sqlite_where=text(VISIT_BOOKED),
        ),
        #: ... and visits completed, cancelled or not got into lately.
        Index("ix_appointments_status_updated_at", "status", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="repair_jobs.id", index=True)
    operative_id: int = Field(foreign_key="operatives.id", index=True)
    availability_id: int | None = Field(default=None, foreign_key="availability.id")
    day: date = Field(index=True)
    window: str
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field()
    status: AppointmentStatus = enum_field(
        AppointmentStatus, default=AppointmentStatus.BOOKED, index=True
    )
    #: Increases on every change; outbox keys include it so stale messages can never go out.
    version: int = 1
    visit_code: str
    code_attempts: int = 0
    code_locked_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class AppointmentEvent(SQLModel, table=True):
    """The visit's timeline: status reports, door checks, changes; kept as evidence."""

    __tablename__ = "appointment_events"

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointments.id", index=True)
    kind: str
    at: datetime = utc_field(index=True)
    actor: str = "system"
    data: dict[str, Any] = json_field()


class Disclosure(SQLModel, table=True):
    """What was shared with which operative for which visit, so the resident can see it."""

    __tablename__ = "disclosures"

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(foreign_key="appointments.id", index=True)
    operative_id: int = Field(foreign_key="operatives.id", index=True)
    #: Indexed for the foreign key: deleting a withdrawn need looks for its disclosures.
    access_need_id: int = Field(foreign_key="access_needs.id", index=True)
    shared_at: datetime = utc_field()
    wording: str
