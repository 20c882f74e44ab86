"""What a flow step may look at, read for one resident or a batch of them at once.

The reads behind `bot/inbound/context.py`: the residents' repair jobs under way, active
access needs, their visits from a recent cutoff on (with each visit's job), the feedback
completed on those visits, the operatives named on them, their newest live-status events,
and the bookable visit windows. Each is one query for the whole batch (a batch of texts
costs one round trip per table, not one per table per text), and none reads a resident's
whole history: a resident of twenty years costs what one of twenty days does.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus
from storage.models import (
    AccessNeed,
    Appointment,
    AppointmentEvent,
    Availability,
    Contractor,
    Feedback,
    Operative,
    RepairJob,
)
from storage.models.work import JOB_UNDER_WAY


def jobs_under_way(session: Session, *, resident_ids: Collection[int]) -> Sequence[RepairJob]:
    """These residents' jobs not yet completed or cancelled (triage, open, booked), oldest
    first: from the partial index `ix_repair_jobs_resident_under_way`, whose predicate
    `JOB_UNDER_WAY` is repeated word for word."""
    return session.exec(
        select(RepairJob)
        .where(col(RepairJob.resident_id).in_(resident_ids), text(JOB_UNDER_WAY))
        .order_by(col(RepairJob.id))
    ).all()


def active_needs_of(session: Session, *, resident_ids: Collection[int]) -> Sequence[AccessNeed]:
    """The access needs in force for these residents, in the order they were recorded."""
    return session.exec(
        select(AccessNeed)
        .where(col(AccessNeed.resident_id).in_(resident_ids), col(AccessNeed.active).is_(True))
        .order_by(col(AccessNeed.id))
    ).all()


def visits_ending_since(
    session: Session, *, resident_ids: Collection[int], since: datetime
) -> Sequence[tuple[Appointment, RepairJob]]:
    """These residents' visits not cancelled that end at or after `since` (every one to
    come, and the recent past), each with its job, by start time: the older history is
    not read."""
    if not resident_ids:
        return []
    return session.exec(
        select(Appointment, RepairJob)
        .join(RepairJob, col(RepairJob.id) == col(Appointment.job_id))
        .where(
            col(RepairJob.resident_id).in_(resident_ids),
            col(Appointment.status) != AppointmentStatus.CANCELLED,
            col(Appointment.ends_at) >= since,
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    ).all()


def completed_feedback(session: Session, *, appointment_ids: Collection[int]) -> set[int]:
    """Which of these visits have their feedback completed."""
    if not appointment_ids:
        return set()
    return set(
        session.exec(
            select(Feedback.appointment_id).where(
                col(Feedback.appointment_id).in_(appointment_ids),
                col(Feedback.completed_at).is_not(None),
            )
        ).all()
    )


def operatives_with_employers(
    session: Session, *, operative_ids: Collection[int]
) -> Sequence[tuple[Operative, str | None]]:
    """These operatives, each with their employer's name (None when they have none)."""
    if not operative_ids:
        return []
    return session.exec(
        select(Operative, Contractor.name)
        .join(Contractor, col(Contractor.id) == col(Operative.contractor_id), isouter=True)
        .where(col(Operative.id).in_(sorted(operative_ids)))
    ).all()


def latest_events(
    session: Session, *, appointment_ids: Collection[int], kinds: Collection[str]
) -> dict[int, AppointmentEvent]:
    """The newest event of one of `kinds` for each appointment, in one query."""
    latest: dict[int, AppointmentEvent] = {}
    if not appointment_ids:
        return latest
    for event in session.exec(
        select(AppointmentEvent)
        .where(
            col(AppointmentEvent.appointment_id).in_(appointment_ids),
            col(AppointmentEvent.kind).in_(kinds),
        )
        .order_by(col(AppointmentEvent.at), col(AppointmentEvent.id))
    ).all():
        latest[event.appointment_id] = event
    return latest


def active_operative_trades(session: Session) -> dict[int, tuple[str, ...]]:
    """The trades of every active operative, by operative id."""
    return {
        o.id: tuple(o.trades)
        for o in session.exec(select(Operative).where(col(Operative.active).is_(True))).all()
        if o.id is not None
    }


def bookable_windows(session: Session, *, after: date, until: date) -> Sequence[Availability]:
    """Visit windows with room left on days after `after` up to `until`, by day and window."""
    return session.exec(
        select(Availability)
        .where(
            col(Availability.day) > after,
            col(Availability.day) <= until,
            col(Availability.booked) < col(Availability.capacity),
        )
        .order_by(col(Availability.day), col(Availability.window))
    ).all()


def visits_of(session: Session, *, resident_id: int) -> Sequence[tuple[Appointment, RepairJob]]:
    """A resident's appointments with their jobs, by start time (the simulator's list)."""
    return session.exec(
        select(Appointment, RepairJob)
        .where(Appointment.job_id == RepairJob.id, RepairJob.resident_id == resident_id)
        .order_by(col(Appointment.starts_at))
    ).all()
