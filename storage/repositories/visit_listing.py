"""Visits (appointments) as staff list them: by period, status, operative or contractor,
and how many fall on a day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

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


def visits(session: Session, *, filters: VisitFilters, limit: int) -> list[Appointment]:
    """Visits matching the filters, by day, start and id."""
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
    query = query.order_by(
        col(Appointment.day), col(Appointment.starts_at), col(Appointment.id)
    ).limit(limit)
    return list(session.exec(query))


def visit_count_on(session: Session, *, day: date) -> int:
    """How many visits (any status) fall on the day."""
    ids: Sequence[int | None] = session.exec(
        select(Appointment.id).where(col(Appointment.day) == day)
    ).all()
    return len(ids)
