"""The visits the planner and staff broadcasts read: live appointments and their facts.

A chunk of live appointments (locked `FOR UPDATE SKIP LOCKED OF appointment` on
PostgreSQL, so a visit being changed right now is planned on the next run), and for a
batch of them, in a fixed number of queries: their events, the residents' access-needs
review dates, the feedback given, each resident's next visit, who each visit is for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus
from storage.models import AccessNeed, Appointment, AppointmentEvent, RepairJob, Resident


def live_chunk(
    session: Session,
    *,
    now: datetime,
    after: int,
    size: int,
    booked_lookback: timedelta,
    feedback_lookback: timedelta,
    cancelled_lookback: timedelta,
) -> list[Appointment]:
    """Up to `size` appointments with id above `after` that may still need a message."""
    query = (
        select(Appointment)
        .where(
            col(Appointment.id) > after,
            or_(
                (col(Appointment.status) == AppointmentStatus.BOOKED)
                & (col(Appointment.ends_at) > now - booked_lookback),
                (col(Appointment.status) == AppointmentStatus.COMPLETED)
                & (col(Appointment.updated_at) > now - feedback_lookback),
                (col(Appointment.status) == AppointmentStatus.CANCELLED)
                & (col(Appointment.updated_at) > now - cancelled_lookback)
                & (col(Appointment.ends_at) > now),
                # A no access the landlord's system reported is news to the resident.
                (col(Appointment.status) == AppointmentStatus.NO_ACCESS)
                & (col(Appointment.updated_at) > now - cancelled_lookback),
            ),
        )
        .order_by(col(Appointment.id))
        .limit(size)
    )
    if session.get_bind().dialect.name == "postgresql":
        # A visit being changed right now is skipped and planned on the next run.
        query = query.with_for_update(skip_locked=True, of=Appointment)
    return list(session.exec(query).all())


def events(session: Session, *, appointment_ids: Collection[int]) -> list[AppointmentEvent]:
    """The visits' events, in the order they happened."""
    return list(
        session.exec(
            select(AppointmentEvent)
            .where(col(AppointmentEvent.appointment_id).in_(appointment_ids))
            .order_by(col(AppointmentEvent.at), col(AppointmentEvent.id))
        ).all()
    )


def access_reviews(session: Session, *, resident_ids: Collection[int]) -> list[tuple[int, date]]:
    """(resident, review date) of each active access need with a review date."""
    return [
        (resident_id, review_by)
        for resident_id, review_by in session.exec(
            select(AccessNeed.resident_id, col(AccessNeed.review_by)).where(
                col(AccessNeed.resident_id).in_(resident_ids),
                col(AccessNeed.active).is_(True),
                col(AccessNeed.review_by).is_not(None),
            )
        ).all()
        if review_by is not None
    ]


def booked_ahead(
    session: Session, *, resident_ids: Collection[int], now: datetime
) -> list[tuple[int, int, datetime]]:
    """(resident, appointment, start) of every booked visit still to start."""
    return [
        (resident_id, appointment_id, starts_at)
        for resident_id, appointment_id, starts_at in session.exec(
            select(RepairJob.resident_id, Appointment.id, Appointment.starts_at)
            .join(RepairJob, col(RepairJob.id) == col(Appointment.job_id))
            .where(
                col(RepairJob.resident_id).in_(list(resident_ids)),
                col(Appointment.status) == AppointmentStatus.BOOKED,
                col(Appointment.starts_at) > now,
            )
        ).all()
        if resident_id is not None and appointment_id is not None
    ]


def residents_of(session: Session, *, appointment_ids: Iterable[int]) -> dict[int, int]:
    """Whose each visit is: appointment id -> resident id."""
    return {
        appointment_id: resident_id
        for appointment_id, resident_id in session.exec(
            select(Appointment.id, RepairJob.resident_id)
            .join(RepairJob, col(RepairJob.id) == col(Appointment.job_id))
            .where(col(Appointment.id).in_(list(appointment_ids)))
        ).all()
        if appointment_id is not None and resident_id is not None
    }


def booked_on(session: Session, *, day: date, operative_id: int | None = None) -> list[Appointment]:
    """The visits booked on `day` (one operative's, if given), in start order."""
    query = select(Appointment).where(
        Appointment.day == day, Appointment.status == AppointmentStatus.BOOKED
    )
    if operative_id is not None:
        query = query.where(Appointment.operative_id == operative_id)
    return list(session.exec(query.order_by(col(Appointment.starts_at), col(Appointment.id))).all())


def contacts(
    session: Session, *, appointment_ids: Collection[int]
) -> dict[int, tuple[str, str | None]]:
    """Each visit's resident name and mobile (for staff previews)."""
    if not appointment_ids:
        return {}
    return {
        appointment_id: (name, mobile)
        for appointment_id, name, mobile in session.exec(
            select(Appointment.id, Resident.name, Resident.mobile)
            .join(RepairJob, col(RepairJob.id) == col(Appointment.job_id))
            .join(Resident, col(Resident.id) == col(RepairJob.resident_id))
            .where(col(Appointment.id).in_(list(appointment_ids)))
        ).all()
        if appointment_id is not None
    }
