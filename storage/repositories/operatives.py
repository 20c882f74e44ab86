"""Operatives and contractors: the lists staff pick from, outstanding link codes, who
gets a morning briefing, and an operative's booked visits of a day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus
from storage.models import Appointment, Contractor, Operative


def operatives_by_name(session: Session) -> Sequence[Operative]:
    """Every operative, active or not, by name."""
    return session.exec(select(Operative).order_by(col(Operative.name))).all()


def contractors_by_name(session: Session) -> Sequence[Contractor]:
    return session.exec(select(Contractor).order_by(col(Contractor.name))).all()


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
