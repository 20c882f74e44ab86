"""Operatives and contractors: the lists staff pick from, outstanding link codes, who
gets a morning briefing, and an operative's booked visits of a day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus
from storage.models import Appointment, Contractor, Operative


@dataclass(frozen=True, slots=True)
class OperativeKey:
    """Where a page of operatives ends: the last one shown (name, id)."""

    name: str
    id: int


def operatives_by_name(
    session: Session,
    *,
    contractor_id: int | None = None,
    after: OperativeKey | None = None,
    limit: int,
) -> Sequence[Operative]:
    """Up to `limit` operatives, active or not, by name and id after `after`; only the
    contractor's when `contractor_id` is given."""
    query = select(Operative)
    if contractor_id is not None:
        query = query.where(col(Operative.contractor_id) == contractor_id)
    if after is not None:
        query = query.where(tuple_(col(Operative.name), col(Operative.id)) > (after.name, after.id))
    return session.exec(query.order_by(col(Operative.name), col(Operative.id)).limit(limit)).all()


def contractors_by_name(session: Session, *, limit: int) -> Sequence[Contractor]:
    """The first `limit` contractors by name (a landlord has tens)."""
    return session.exec(
        select(Contractor).order_by(col(Contractor.name), col(Contractor.id)).limit(limit)
    ).all()


def with_outstanding_link_code(session: Session) -> Sequence[Operative]:
    """Active operatives holding a link code not yet used (expired ones included)."""
    return session.exec(
        select(Operative).where(
            col(Operative.link_code_hash).is_not(None), col(Operative.active).is_(True)
        )
    ).all()


def linked_and_active(session: Session) -> Sequence[Operative]:
    """Active operatives with a linked Telegram account, by id."""
    return session.exec(
        select(Operative)
        .where(col(Operative.telegram_id).is_not(None), col(Operative.active).is_(True))
        .order_by(col(Operative.id))
    ).all()


def booked_visits_on(session: Session, *, operative_id: int, day: date) -> Sequence[Appointment]:
    """The operative's visits still booked on `day`, earliest first."""
    return session.exec(
        select(Appointment)
        .where(
            Appointment.operative_id == operative_id,
            Appointment.day == day,
            Appointment.status == AppointmentStatus.BOOKED,
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    ).all()
