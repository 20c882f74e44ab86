"""Booking a visit window: atomic on SQLite and PostgreSQL alike.

The capacity check and the increment are one guarded UPDATE, so two residents taking
the last place at the same moment cannot both succeed: the database, not our code,
decides who was first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus, JobStatus
from storage.models import Appointment, Availability, RepairJob


class SlotTaken(Exception):
    """The window filled up between offering it and the resident choosing it."""


def claim_capacity(session: Session, *, availability_id: int) -> bool:
    result = session.execute(
        update(Availability)
        .where(
            col(Availability.id) == availability_id,
            col(Availability.booked) < col(Availability.capacity),
        )
        .values(booked=col(Availability.booked) + 1)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_capacity(session: Session, *, availability_id: int) -> None:
    session.execute(
        update(Availability)
        .where(col(Availability.id) == availability_id, col(Availability.booked) > 0)
        .values(booked=col(Availability.booked) - 1)
    )


def book_appointment(
    session: Session,
    *,
    job: RepairJob,
    availability: Availability,
    starts_at: datetime,
    ends_at: datetime,
    visit_code: str,
    now: datetime,
) -> Appointment:
    """Take one place in `availability` for `job`, or raise SlotTaken."""
    assert availability.id is not None
    assert job.id is not None
    if not claim_capacity(session, availability_id=availability.id):
        raise SlotTaken(f"availability {availability.id} is full")
    appointment = Appointment(
        job_id=job.id,
        operative_id=availability.operative_id,
        availability_id=availability.id,
        day=availability.day,
        window=availability.window,
        starts_at=starts_at,
        ends_at=ends_at,
        status=AppointmentStatus.BOOKED,
        version=1,
        visit_code=visit_code,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    job.status = JobStatus.BOOKED
    job.history = [
        *job.history,
        {
            "at": now.isoformat(),
            "event": "booked",
            "window": f"{availability.day} {availability.window}",
        },
    ]
    session.add(job)
    session.flush()
    return appointment


def open_availability(session: Session, *, day: date, window: str) -> Sequence[Availability]:
    """Availability rows for `window` on `day` with room left, emptiest first (then by id)."""
    return session.exec(
        select(Availability)
        .where(
            Availability.day == day,
            Availability.window == window,
            col(Availability.booked) < col(Availability.capacity),
        )
        .order_by(col(Availability.booked), col(Availability.id))
    ).all()
