"""What a resident's own messages change on their record: their access needs (retired when
replaced, reviewed when confirmed), repair requests they report by text (the next job's
reference number) and the feedback they give on a visit.

The staff's side of the same tables (review lists, filters) is in access_needs.py and
feedback.py.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import AccessNeed, Feedback, RepairJob


def retire_active_needs(session: Session, *, resident_id: int) -> None:
    """Every active need of the resident stops being active (they are being replaced)."""
    session.execute(
        update(AccessNeed)
        .where(col(AccessNeed.resident_id) == resident_id, col(AccessNeed.active).is_(True))
        .values(active=False)
    )


def review_active_needs_by(session: Session, *, resident_id: int, review_by: date) -> None:
    """The resident confirmed their active needs: check them again on `review_by`."""
    session.execute(
        update(AccessNeed)
        .where(col(AccessNeed.resident_id) == resident_id, col(AccessNeed.active).is_(True))
        .values(review_by=review_by)
    )


def repair_job_count(session: Session) -> int:
    """How many repair jobs exist, for the next text-reported job's reference."""
    return len(session.exec(select(RepairJob.id)).all())


def feedback_for_visit(session: Session, *, appointment_id: int) -> Feedback | None:
    """The feedback on a visit, if any was started (there is at most one per visit)."""
    return session.exec(select(Feedback).where(Feedback.appointment_id == appointment_id)).first()
