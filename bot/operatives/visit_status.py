"""Operative status reports on a visit: one place that records them, whoever reports.

The simulator lets a tester play the operative today; the operatives' Telegram buttons
use the same function. Each report is a timestamped event in the visit's timeline (the
evidence), and "done" completes the visit and its repair.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from storage.enums import AppointmentStatus, JobStatus
from storage.models import Appointment, AppointmentEvent, RepairJob
from storage.repositories import landlord_events


class VisitStatus(StrEnum):
    ON_THE_WAY = "on_the_way"
    ARRIVED = "arrived"
    RUNNING_LATE = "running_late"
    CANT_GET_IN = "cant_get_in"
    DONE = "done"


class StatusRefused(ValueError):
    """The visit cannot take this report (cancelled, already finished)."""


def record_status(
    session: Session,
    *,
    appointment: Appointment,
    status: VisitStatus,
    now: datetime,
    actor: str,
    eta_minutes: int | None = None,
) -> AppointmentEvent:
    if appointment.status != AppointmentStatus.BOOKED:
        raise StatusRefused(f"visit {appointment.id} is {appointment.status}, not booked")
    assert appointment.id is not None
    data: dict[str, object] = {}
    if eta_minutes is not None:
        data["eta"] = (now + timedelta(minutes=eta_minutes)).isoformat()
    event = AppointmentEvent(
        appointment_id=appointment.id, kind=status.value, at=now, actor=actor, data=data
    )
    session.add(event)
    if status == VisitStatus.DONE:
        appointment.status = AppointmentStatus.COMPLETED
        appointment.updated_at = now
        session.add(appointment)
        job = session.get(RepairJob, appointment.job_id)
        if job is not None:
            job.status = JobStatus.COMPLETED
            job.history = [*job.history, {"at": now.isoformat(), "event": "completed"}]
            session.add(job)
        landlord_events.record_for_appointment(
            session,
            appointment=appointment,
            kind=landlord_events.VISIT_COMPLETED,
            # The landlord's own report (POST /api/v1/jobs/{ref}/events) comes back as theirs.
            by="landlord" if actor == "landlord" else "operative",
            now=now,
        )
    session.flush()
    return event
