"""What an operative's briefing reads about a visit (shared access needs, the property's
history) and which needs were already disclosed to them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from storage.enums import JobStatus
from storage.models import AccessNeed, Complaint, Disclosure, RepairJob, Resident


def shareable_needs(session: Session, *, resident_id: int | None) -> Sequence[AccessNeed]:
    """The resident's active needs they consented to share, oldest first."""
    return session.exec(
        select(AccessNeed)
        .where(
            AccessNeed.resident_id == resident_id,
            col(AccessNeed.consent_to_share).is_(True),
            col(AccessNeed.active).is_(True),
        )
        .order_by(col(AccessNeed.id))
    ).all()


def completed_jobs_at(
    session: Session, *, property_id: int, except_job_id: int | None
) -> Sequence[str]:
    """Descriptions of the other completed repairs at the property, newest first."""
    return session.exec(
        select(RepairJob.description)
        .where(
            RepairJob.property_id == property_id,
            RepairJob.status == JobStatus.COMPLETED,
            col(RepairJob.id) != except_job_id,
        )
        .order_by(col(RepairJob.created_at).desc())
    ).all()


def complaints_at(session: Session, *, property_id: int) -> int:
    """How many complaints residents of the property have made."""
    return int(
        session.exec(
            select(func.count(col(Complaint.id)))
            .join(Resident, col(Resident.id) == col(Complaint.resident_id))
            .where(Resident.property_id == property_id)
        ).one()
    )


def disclosed_need_ids(session: Session, *, appointment_id: int, operative_id: int) -> set[int]:
    """The access needs already shown to this operative for this visit."""
    return set(
        session.exec(
            select(Disclosure.access_need_id).where(
                Disclosure.appointment_id == appointment_id,
                Disclosure.operative_id == operative_id,
            )
        ).all()
    )
