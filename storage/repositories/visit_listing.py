"""Visits (appointments) as staff list them: by period, status, operative or contractor, a
page at a time by key (day, start, id), and how many fall on a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, tuple_
from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus
from storage.models import Appointment, Operative


@dataclass(frozen=True, slots=True)
class VisitFilters:
    date_from: date
    date_to: date
    status: AppointmentStatus | None = None
    operative_id: int | None = None
    contractor_id: int | None = None


@dataclass(frozen=True, slots=True)
class VisitKey:
    """Where a page of visits ends: the last visit shown (day, start, id)."""

    day: date
    starts_at: datetime
    id: int


def visits(
    session: Session, *, filters: VisitFilters, after: VisitKey | None = None, limit: int
) -> list[Appointment]:
    """Up to `limit` visits matching the filters after `after`, by day, start and id (the
    dates are at most a year apart: the caller checks)."""
    query = select(Appointment).where(
        col(Appointment.day) >= filters.date_from, col(Appointment.day) <= filters.date_to
    )
    if filters.status is not None:
        query = query.where(col(Appointment.status) == filters.status)
    if filters.operative_id is not None:
        query = query.where(col(Appointment.operative_id) == filters.operative_id)
    if filters.contractor_id is not None:
        query = query.join(Operative, col(Operative.id) == col(Appointment.operative_id)).where(
            col(Operative.contractor_id) == filters.contractor_id
        )
    if after is not None:
        query = query.where(
            tuple_(col(Appointment.day), col(Appointment.starts_at), col(Appointment.id))
            > (after.day, after.starts_at, after.id)
        )
    query = query.order_by(
        col(Appointment.day), col(Appointment.starts_at), col(Appointment.id)
    ).limit(limit)
    return list(session.exec(query))


def visit_count_on(session: Session, *, day: date) -> int:
    """How many visits (any status) fall on the day, counted by the database."""
    return session.exec(
        select(func.count()).select_from(Appointment).where(col(Appointment.day) == day)
    ).one()


@dataclass(frozen=True, slots=True)
class BookedKey:
    """Where a page of a day's booked visits ends: the last one (start, id)."""

    starts_at: datetime
    id: int


def _booked_on(day: date, operative_id: int | None) -> list[ColumnElement[bool]]:
    conditions = [
        col(Appointment.day) == day,
        col(Appointment.status) == AppointmentStatus.BOOKED,
    ]
    if operative_id is not None:
        conditions.append(col(Appointment.operative_id) == operative_id)
    return conditions


def booked_page(
    session: Session,
    *,
    day: date,
    operative_id: int | None = None,
    after: BookedKey | None = None,
    limit: int,
) -> list[Appointment]:
    """Up to `limit` visits booked on `day` (one operative's, if given) after `after`, in
    start order (a broadcast preview judges a page of them at a time)."""
    query = select(Appointment).where(*_booked_on(day, operative_id))
    if after is not None:
        query = query.where(
            tuple_(col(Appointment.starts_at), col(Appointment.id)) > (after.starts_at, after.id)
        )
    return list(
        session.exec(
            query.order_by(col(Appointment.starts_at), col(Appointment.id)).limit(limit)
        ).all()
    )


def booked_count(session: Session, *, day: date, operative_id: int | None = None) -> int:
    """How many visits are booked on `day` (one operative's, if given)."""
    return session.exec(
        select(func.count()).select_from(Appointment).where(*_booked_on(day, operative_id))
    ).one()
