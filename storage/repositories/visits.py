"""The visits the planner and staff broadcasts read: live appointments and their facts.

The live visits of a planning pass, read once (`live_visits`: ids, residents, statuses
and starts, through the partial index of booked visits and the (status, updated_at)
index, so the pass costs what is live, not the years of history); a chunk of them by id
(locked `FOR UPDATE SKIP LOCKED OF appointment` on PostgreSQL, so a visit being changed
right now is planned on the next run); and for a batch of them, in a fixed number of
queries: their events, the residents' access-needs review dates, the feedback given,
each resident's next visit, who each visit is for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, literal_column, or_
from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus
from storage.models import AccessNeed, Appointment, AppointmentEvent, RepairJob, Resident
from storage.repositories._batch import id_in


@dataclass(frozen=True, slots=True)
class LiveVisit:
    """A visit that may still need a message, as a planning pass lists them."""

    appointment_id: int
    resident_id: int | None
    status: AppointmentStatus
    starts_at: datetime


def _status_is(status: AppointmentStatus) -> ColumnElement[bool]:
    """`appointments.status = '<status>'` with the word in the SQL, not a parameter: the
    partial index of booked visits (`VISIT_BOOKED`) then applies under any plan."""
    return col(Appointment.status) == literal_column(f"'{status.value}'")


def live_visits(
    session: Session,
    *,
    now: datetime,
    booked_lookback: timedelta,
    feedback_lookback: timedelta,
    cancelled_lookback: timedelta,
) -> list[LiveVisit]:
    """Every visit that may still need a message, by id: booked and not long over,
    completed lately (feedback), cancelled lately and not yet over, not got into lately.

    One query over index ranges bounded by the live window (booked visits by `ends_at`
    in the partial index, the others by (status, updated_at)) and one primary-key read of
    each live visit's job, whatever the history.
    """
    # The resident by the job's primary key, visit by visit: a join let PostgreSQL read
    # every job ever raised to hash them, which grows with the history.
    resident = (
        select(RepairJob.resident_id)
        .where(col(RepairJob.id) == col(Appointment.job_id))
        .correlate(Appointment)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Appointment.id, resident, Appointment.status, Appointment.starts_at)
        .where(
            or_(
                _status_is(AppointmentStatus.BOOKED)
                & (col(Appointment.ends_at) > now - booked_lookback),
                _status_is(AppointmentStatus.COMPLETED)
                & (col(Appointment.updated_at) > now - feedback_lookback),
                _status_is(AppointmentStatus.CANCELLED)
                & (col(Appointment.updated_at) > now - cancelled_lookback)
                & (col(Appointment.ends_at) > now),
                # A no access the landlord's system reported is news to the resident.
                _status_is(AppointmentStatus.NO_ACCESS)
                & (col(Appointment.updated_at) > now - cancelled_lookback),
            )
        )
        .order_by(col(Appointment.id))
    ).all()
    return [
        LiveVisit(appointment_id, resident_id, AppointmentStatus(status), starts_at)
        for appointment_id, resident_id, status, starts_at in rows
        if appointment_id is not None
    ]


def lock_chunk(session: Session, *, ids: Collection[int]) -> list[Appointment]:
    """These appointments, by id; on PostgreSQL locked `FOR UPDATE SKIP LOCKED`, so one
    being changed right now is left out (and planned on the next run)."""
    if not ids:
        return []
    query = select(Appointment).where(id_in(session, col(Appointment.id), ids))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Appointment)
    return list(session.exec(query.order_by(col(Appointment.id))).all())


def events(session: Session, *, appointment_ids: Collection[int]) -> list[AppointmentEvent]:
    """The visits' events, in the order they happened."""
    return list(
        session.exec(
            select(AppointmentEvent)
            .where(id_in(session, col(AppointmentEvent.appointment_id), appointment_ids))
            .order_by(col(AppointmentEvent.at), col(AppointmentEvent.id))
        ).all()
    )


def access_reviews(session: Session, *, resident_ids: Collection[int]) -> list[tuple[int, date]]:
    """(resident, review date) of each active access need with a review date."""
    return [
        (resident_id, review_by)
        for resident_id, review_by in session.exec(
            select(AccessNeed.resident_id, col(AccessNeed.review_by)).where(
                id_in(session, col(AccessNeed.resident_id), resident_ids),
                col(AccessNeed.active).is_(True),
                col(AccessNeed.review_by).is_not(None),
            )
        ).all()
        if review_by is not None
    ]


def next_booked(
    session: Session, *, resident_ids: Collection[int], now: datetime
) -> dict[int, int]:
    """Each resident's earliest booked visit still to start (resident -> appointment): one
    row per resident however many visits they have booked, ties broken by id."""
    ids = list(resident_ids)
    if not ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=col(RepairJob.resident_id),
            order_by=(col(Appointment.starts_at), col(Appointment.id)),
        )
        .label("rank")
    )
    ranked = (
        select(RepairJob.resident_id, col(Appointment.id).label("appointment_id"), rank)
        .join(RepairJob, col(RepairJob.id) == col(Appointment.job_id))
        .where(
            id_in(session, col(RepairJob.resident_id), ids),
            col(Appointment.status) == AppointmentStatus.BOOKED,
            col(Appointment.starts_at) > now,
        )
        .subquery()
    )
    return {
        resident_id: appointment_id
        for resident_id, appointment_id in session.exec(
            select(ranked.c.resident_id, ranked.c.appointment_id).where(ranked.c.rank == 1)
        ).all()
        if resident_id is not None and appointment_id is not None
    }


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
