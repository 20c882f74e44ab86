"""Changing a visit: the one place that makes a new version of an appointment.

Whoever changes a visit (the resident by text, the landlord's scheduler through the API,
staff), the new version voids every message still waiting about the old one, with the
reason recorded as a contact decision, and the change is written to the visit's timeline
with who made it. The planner (flows/planner.py) reads that event: a change by staff or
the landlord is re-confirmed to the resident, and the old version's reminders can never go.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus, Decision, OutboxStatus
from storage.models import (
    Appointment,
    AppointmentEvent,
    Availability,
    ContactDecision,
    Operative,
    RepairJob,
)
from storage.repositories.outbox import pending_for_version


def bump_version(
    session: Session,
    *,
    appointment: Appointment,
    kind: str,
    data: Mapping[str, Any],
    actor: str,
    now: datetime,
) -> AppointmentEvent:
    """A new version: every pending message about the old one is void, with the reason kept.

    Returns the change event (its data carries the new version, which the planner matches).
    """
    assert appointment.id is not None
    old_version = appointment.version
    appointment.version += 1
    appointment.updated_at = now
    session.add(appointment)
    stale = pending_for_version(session, appointment_id=appointment.id, version=old_version)
    for row in stale:
        assert row.id is not None
        row.status = OutboxStatus.EXPIRED
        session.add(row)
        session.add(
            ContactDecision(
                outbox_id=row.id,
                decision=Decision.EXPIRE,
                reason_code="stale_version",
                detail=f"appointment {kind}: version {old_version} replaced",
                at=now,
            )
        )
    event = AppointmentEvent(
        appointment_id=appointment.id,
        kind=kind,
        at=now,
        actor=actor,
        data={**data, "version": appointment.version},
    )
    session.add(event)
    return event


def add_event(
    session: Session,
    *,
    appointment: Appointment,
    kind: str,
    actor: str,
    now: datetime,
    data: Mapping[str, Any] | None = None,
) -> AppointmentEvent:
    """One entry in the visit's timeline that does not change its version."""
    assert appointment.id is not None
    event = AppointmentEvent(
        appointment_id=appointment.id, kind=kind, at=now, actor=actor, data=dict(data or {})
    )
    session.add(event)
    return event


def live_for_job(session: Session, *, job_id: int, lock: bool = False) -> Appointment | None:
    """The job's booked appointment, if it has one (the latest, should there be several);
    locked on PostgreSQL when asked, so the planner plans it after the change."""
    query = (
        select(Appointment)
        .where(
            col(Appointment.job_id) == job_id,
            col(Appointment.status) == AppointmentStatus.BOOKED,
        )
        .order_by(col(Appointment.id).desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return session.exec(query).first()


def latest_for_job(session: Session, *, job_id: int) -> Appointment | None:
    """The job's most recent appointment, whatever its status."""
    return session.exec(
        select(Appointment)
        .where(col(Appointment.job_id) == job_id)
        .order_by(col(Appointment.id).desc())
        .limit(1)
    ).first()


def availability_of(
    session: Session, *, operative_id: int, day: date, window: str
) -> Availability | None:
    """The operative's availability row for that day and window, if the landlord sent one."""
    return session.exec(
        select(Availability).where(
            col(Availability.operative_id) == operative_id,
            col(Availability.day) == day,
            col(Availability.window) == window,
        )
    ).first()


def last_event(
    session: Session, *, appointment_id: int, kinds: tuple[str, ...]
) -> AppointmentEvent | None:
    """The visit's latest event of one of these kinds."""
    return session.exec(
        select(AppointmentEvent)
        .where(
            col(AppointmentEvent.appointment_id) == appointment_id,
            col(AppointmentEvent.kind).in_(list(kinds)),
        )
        .order_by(col(AppointmentEvent.at).desc(), col(AppointmentEvent.id).desc())
        .limit(1)
    ).first()


def job_of(
    session: Session, *, landlord_id: int, reference: str, lock: bool = False
) -> RepairJob | None:
    """The landlord's job by its own reference; locked for the change on PostgreSQL, so two
    calls about the same job (or a call and the resident) take turns."""
    query = select(RepairJob).where(
        col(RepairJob.landlord_id) == landlord_id, col(RepairJob.reference) == reference
    )
    if lock:
        query = query.with_for_update()
    return session.exec(query).first()


def operative_of(session: Session, *, landlord_id: int, reference: str) -> Operative | None:
    """The landlord's operative by its own reference."""
    return session.exec(
        select(Operative).where(
            col(Operative.landlord_id) == landlord_id, col(Operative.reference) == reference
        )
    ).first()
