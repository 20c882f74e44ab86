"""Inviting residents to book the landlord's jobs (issue 14, item 3): the queries.

Only jobs that came from a landlord's system (`source_hash` set by the API or a CSV
import) are invited; the demo's own jobs and jobs residents reported by text are not.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Exists, and_, exists, or_
from sqlmodel import Session, col, select

from storage.enums import AppointmentStatus, JobPriority, JobStatus, OutboxStatus, TaskKind
from storage.models import Appointment, OutboxMessage, Property, RepairJob, Resident, StaffTask


def _booked() -> Exists:
    """A booked visit exists for the job (the row the outer query is on)."""
    return exists().where(
        col(Appointment.job_id) == col(RepairJob.id),
        col(Appointment.status) == AppointmentStatus.BOOKED,
    )


def due_chunk(
    session: Session,
    *,
    now: datetime,
    after: int,
    size: int,
    follow_up_after: timedelta,
    list_after: timedelta,
) -> list[RepairJob]:
    """Up to `size` jobs with id above `after` that may need their next step now.

    Open, from a landlord's system, not listed yet, no booked visit, and either never
    invited, an emergency, or invited (or followed up) long enough ago for the next step.
    On PostgreSQL the rows are locked SKIP LOCKED: a job being booked or changed right now
    is looked at on the next run.
    """
    query = (
        select(RepairJob)
        .where(
            col(RepairJob.id) > after,
            col(RepairJob.status) == JobStatus.OPEN,
            col(RepairJob.source_hash).is_not(None),
            col(RepairJob.unbooked_listed_at).is_(None),
            or_(
                col(RepairJob.invited_at).is_(None),
                col(RepairJob.priority) == JobPriority.EMERGENCY,
                and_(
                    col(RepairJob.invite_followed_up_at).is_(None),
                    col(RepairJob.invited_at) <= now - follow_up_after,
                ),
                col(RepairJob.invite_followed_up_at) <= now - list_after,
            ),
            ~_booked(),
        )
        .order_by(col(RepairJob.id))
        .limit(size)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=RepairJob)
    return list(session.exec(query).all())


def outcomes(
    session: Session, *, keys: Collection[str]
) -> dict[str, tuple[OutboxStatus, datetime | None]]:
    """Each planned message's outbox status and when it went, by idempotency key."""
    if not keys:
        return {}
    found = session.exec(
        select(OutboxMessage.idempotency_key, OutboxMessage.status, OutboxMessage.sent_at).where(
            col(OutboxMessage.idempotency_key).in_(list(keys))
        )
    ).all()
    return {k: (OutboxStatus(status), sent_at) for k, status, sent_at in found}


def add_task(
    session: Session,
    *,
    kind: TaskKind,
    summary: str,
    urgent: bool,
    resident_id: int | None,
    now: datetime,
) -> None:
    session.add(
        StaffTask(
            kind=kind,
            urgent=urgent,
            summary=summary[:1000],
            resident_id=resident_id,
            created_at=now,
        )
    )


def job_states(session: Session, *, job_ids: Collection[int]) -> dict[int, tuple[JobStatus, bool]]:
    """For the contact policy: each job's status and whether a visit is booked for it."""
    if not job_ids:
        return {}
    booked = set(
        session.exec(
            select(Appointment.job_id).where(
                col(Appointment.job_id).in_(list(job_ids)),
                col(Appointment.status) == AppointmentStatus.BOOKED,
            )
        ).all()
    )
    return {
        job_id: (JobStatus(status), job_id in booked)
        for job_id, status in session.exec(
            select(RepairJob.id, RepairJob.status).where(col(RepairJob.id).in_(list(job_ids)))
        ).all()
        if job_id is not None
    }


# -- the staff's unbooked list --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnbookedRow:
    job_id: int
    reference: str
    description: str
    priority: JobPriority
    address: str
    postcode: str
    resident_name: str | None
    invited_at: datetime | None
    followed_up_at: datetime | None
    listed_at: datetime
    target_date: date | None


def unbooked_page(session: Session, *, after: int, limit: int) -> list[UnbookedRow]:
    """Listed jobs still open with no booked visit, by job id from `after`, `limit` of them."""
    query = (
        select(RepairJob, Property.address, Property.postcode, Resident.name)
        .join(Property, col(Property.id) == col(RepairJob.property_id))
        .outerjoin(Resident, col(Resident.id) == col(RepairJob.resident_id))
        .where(
            col(RepairJob.id) > after,
            col(RepairJob.unbooked_listed_at).is_not(None),
            col(RepairJob.status) == JobStatus.OPEN,
            ~_booked(),
        )
        .order_by(col(RepairJob.id))
        .limit(limit)
    )
    rows = []
    for job, address, postcode, name in session.exec(query).all():
        assert job.id is not None and job.unbooked_listed_at is not None
        rows.append(
            UnbookedRow(
                job_id=job.id,
                reference=job.reference,
                description=job.description,
                priority=JobPriority(job.priority),
                address=address,
                postcode=postcode,
                resident_name=name,
                invited_at=job.invited_at,
                followed_up_at=job.invite_followed_up_at,
                listed_at=job.unbooked_listed_at,
                target_date=job.target_date,
            )
        )
    return rows
