"""What the operatives' Telegram desk reads (bot/operatives/handlers.py): who an
operative is by their Telegram id, their failed link attempts, a visit's "can't get in"
report, and whether the resident has written since."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from storage.enums import Channel, Direction
from storage.models import AppointmentEvent, Message, Operative


def active_operative(session: Session, *, telegram_id: int) -> Operative | None:
    """The active operative linked to this Telegram user, if any."""
    return session.exec(
        select(Operative).where(
            Operative.telegram_id == telegram_id, col(Operative.active).is_(True)
        )
    ).first()


def telegram_inbound_count(session: Session, *, address: str, intent: str, since: datetime) -> int:
    """How many updates from this Telegram user since `since` were stored with `intent`."""
    return int(
        session.exec(
            select(func.count(col(Message.id))).where(
                Message.channel == Channel.TELEGRAM,
                Message.address == address,
                Message.intent == intent,
                col(Message.created_at) >= since,
            )
        ).one()
    )


def latest_event(session: Session, *, appointment_id: int, kind: str) -> AppointmentEvent | None:
    """The visit's most recent event of this kind."""
    return session.exec(
        select(AppointmentEvent)
        .where(
            AppointmentEvent.appointment_id == appointment_id,
            AppointmentEvent.kind == kind,
        )
        .order_by(col(AppointmentEvent.at).desc())
    ).first()


def wrote_since(
    session: Session, *, addresses: Sequence[str], resident_id: int, since: datetime
) -> bool:
    """Whether anything came in from these addresses, or linked to the resident, after `since`."""
    answered = session.exec(
        select(Message.id)
        .where(
            Message.direction == Direction.INBOUND,
            col(Message.created_at) > since,
            or_(col(Message.address).in_(addresses), col(Message.resident_id) == resident_id),
        )
        .limit(1)
    ).first()
    return answered is not None
