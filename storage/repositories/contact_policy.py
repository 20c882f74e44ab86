"""What the contact policy reads before judging outbox rows, a batch at a time.

The recipients (residents, their property's nation, their landlord), whether they wrote
recently, what was sent to them lately (for the caps), the visits the rows are about
and the operatives' booked days. Each is one query for the whole batch; the dispatcher
runs these thousands of times an hour, so they stay simple `IN (...)` reads.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import or_, text, union_all
from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus, Nation, OutboxStatus
from storage.models import (
    Appointment,
    Conversation,
    Feedback,
    Landlord,
    OutboxMessage,
    Property,
    Resident,
)
from storage.models.outbox import LIVE_OUTBOX, NOT_A_REPLY
from storage.repositories._batch import id_in


def residents(session: Session, *, ids: Collection[int]) -> list[Resident]:
    return list(session.exec(select(Resident).where(col(Resident.id).in_(ids))).all())


def nations(session: Session, *, property_ids: Collection[int]) -> dict[int | None, Nation]:
    """Each property's nation (contact rules differ between England, Wales, Scotland...)."""
    return {
        p.id: p.nation
        for p in session.exec(select(Property).where(col(Property.id).in_(property_ids))).all()
    }


def landlords(session: Session, *, ids: Collection[int]) -> list[Landlord]:
    return list(session.exec(select(Landlord).where(col(Landlord.id).in_(ids))).all())


def wrote_since(session: Session, *, resident_ids: Collection[int], since: datetime) -> set[int]:
    """Residents with a conversation they wrote in at or after `since`."""
    return {
        resident_id
        for resident_id in session.exec(
            select(Conversation.resident_id).where(
                col(Conversation.resident_id).in_(resident_ids),
                col(Conversation.updated_at) >= since,
            )
        ).all()
        if resident_id is not None
    }


def service_sends_since(
    session: Session, *, resident_ids: Collection[int], since: datetime
) -> list[tuple[int, datetime]]:
    """(resident, when) for every non-reply message sent, or being sent, since `since`.

    Rows another dispatcher is sending right now count as sent (at their claim time):
    caps must hold across batches and across dispatchers. Bounded by the cap's window,
    not by what the residents were ever sent: the sent rows come from the partial index
    on (resident_id, sent_at) (`ix_outbox_resident_sent`); the rows being sent right now
    (a handful, whoever they are for) from the live rows' index, picked out here. A row
    is sent after it is claimed, so a sent row's `sent_at` is in the window whenever its
    claim is.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    wanted = set(resident_ids)
    columns = (table.c.resident_id, table.c.sent_at, table.c.claimed_at)
    sent = select(*columns).where(
        table.c.resident_id.in_(sorted(wanted)),
        text(NOT_A_REPLY),
        table.c.status.in_([OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.SENDING]),
        table.c.sent_at >= since,
    )
    being_sent = select(*columns).where(
        text(LIVE_OUTBOX),
        table.c.status == OutboxStatus.SENDING,
        text(NOT_A_REPLY),
        table.c.claimed_at >= since,
        or_(table.c.sent_at.is_(None), table.c.sent_at < since),
    )
    sends: list[tuple[int, datetime]] = []
    for resident_id, sent_at, claimed_at in session.execute(union_all(sent, being_sent)).all():
        at = sent_at or claimed_at
        if resident_id in wanted and at is not None:
            sends.append((resident_id, at))
    return sends


def appointments(session: Session, *, ids: Collection[int]) -> list[Appointment]:
    return list(session.exec(select(Appointment).where(col(Appointment.id).in_(ids))).all())


def feedback_given(session: Session, *, appointment_ids: Collection[int]) -> set[int]:
    """The visits whose feedback the resident has finished giving."""
    return set(
        session.exec(
            select(Feedback.appointment_id).where(
                id_in(session, col(Feedback.appointment_id), appointment_ids),
                col(Feedback.completed_at).is_not(None),
            )
        ).all()
    )


def booked_days(session: Session, *, operative_ids: Collection[int]) -> set[tuple[int, date]]:
    """(operative, day) for every visit still booked (a briefing is live while one is)."""
    return {
        (operative_id, day)
        for operative_id, day in session.exec(
            select(col(Appointment.operative_id), col(Appointment.day)).where(
                col(Appointment.operative_id).in_(operative_ids),
                Appointment.status == AppointmentStatus.BOOKED,
            )
        ).all()
    }
