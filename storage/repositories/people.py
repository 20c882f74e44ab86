"""Residents, landlords and the addresses they write from."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.enums import Channel, JobStatus
from storage.models import Landlord, RepairJob, Resident


def primary_landlord(session: Session) -> Landlord | None:
    """The landlord this deployment serves (one landlord per deployment for now)."""
    return session.exec(select(Landlord).order_by(col(Landlord.id)).limit(1)).first()


def resident_by_address(session: Session, *, channel: Channel, address: str) -> Resident | None:
    """Who is writing. SMS and the simulator are keyed by E.164 mobile, Telegram by user id."""
    if channel == Channel.TELEGRAM:
        try:
            telegram_id = int(address)
        except ValueError:
            return None
        return session.exec(select(Resident).where(Resident.telegram_id == telegram_id)).first()
    return session.exec(select(Resident).where(Resident.mobile == address)).first()


def writer_and_landlord(
    session: Session, *, channel: Channel, address: str
) -> tuple[Resident | None, Landlord | None]:
    """Who is writing and whose tenant they are, in one query (every inbound message
    needs both); someone we do not know gets the deployment's landlord."""
    if channel == Channel.TELEGRAM:
        try:
            match = Resident.telegram_id == int(address)
        except ValueError:
            return None, primary_landlord(session)
    else:
        match = Resident.mobile == address
    row = session.exec(
        select(Resident, Landlord)
        .join(Landlord, col(Landlord.id) == col(Resident.landlord_id))
        .where(match)
        .limit(1)
    ).first()
    if row is None:
        return None, primary_landlord(session)
    return row[0], row[1]


def open_jobs(session: Session, *, resident_id: int) -> list[RepairJob]:
    """Repairs still waiting for a visit to be agreed."""
    return list(
        session.exec(
            select(RepairJob)
            .where(RepairJob.resident_id == resident_id, RepairJob.status == JobStatus.OPEN)
            .order_by(col(RepairJob.id))
        )
    )


def list_residents(session: Session, *, landlord_id: int | None = None) -> list[Resident]:
    query = select(Resident).order_by(col(Resident.id))
    if landlord_id is not None:
        query = query.where(Resident.landlord_id == landlord_id)
    return list(session.exec(query))
