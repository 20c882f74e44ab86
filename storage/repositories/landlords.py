"""Landlords by their own reference (issue 14): the CLI and the integration API name
landlords this way. Owns writes to `landlords`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import DEFAULT_CONTACT_HOURS, Landlord


class LandlordExists(ValueError):
    """A landlord with this reference already exists."""


def by_reference(session: Session, *, reference: str) -> Landlord | None:
    return session.exec(select(Landlord).where(col(Landlord.reference) == reference)).first()


def listing(session: Session, *, after_id: int = 0, limit: int = 100) -> Sequence[Landlord]:
    """Landlords in id order, a page at a time."""
    return session.exec(
        select(Landlord).where(col(Landlord.id) > after_id).order_by(col(Landlord.id)).limit(limit)
    ).all()


def create(
    session: Session,
    *,
    reference: str,
    name: str,
    phone: str,
    emergency_phone: str,
    now: datetime,
) -> Landlord:
    if by_reference(session, reference=reference) is not None:
        raise LandlordExists(reference)
    landlord = Landlord(
        reference=reference,
        name=name,
        phone=phone,
        emergency_phone=emergency_phone,
        contact_hours=dict(DEFAULT_CONTACT_HOURS),
        created_at=now,
    )
    session.add(landlord)
    session.flush()
    return landlord
