"""Residents' feedback on visits as staff review it: the filtered list (with each
answer's visit), complaints opened from feedback, and what still awaits review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Appointment, Complaint, Feedback, Operative


@dataclass(frozen=True, slots=True)
class FeedbackFilters:
    date_from: date | None = None
    date_to: date | None = None
    contractor_id: int | None = None
    operative_id: int | None = None
    rating: int | None = None
    flagged: bool | None = None
    reviewed: bool | None = None


def _feedback_query(filters: FeedbackFilters) -> Any:
    query = select(Feedback, Appointment).join(
        Appointment, col(Appointment.id) == col(Feedback.appointment_id)
    )
    if filters.date_from is not None:
        query = query.where(col(Appointment.day) >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(col(Appointment.day) <= filters.date_to)
    if filters.operative_id is not None:
        query = query.where(col(Appointment.operative_id) == filters.operative_id)
    if filters.contractor_id is not None:
        query = query.join(Operative, col(Operative.id) == col(Appointment.operative_id)).where(
            col(Operative.contractor_id) == filters.contractor_id
        )
    if filters.rating is not None:
        query = query.where(col(Feedback.rating) == filters.rating)
    if filters.flagged is not None:
        query = query.where(col(Feedback.flagged).is_(filters.flagged))
    if filters.reviewed is True:
        query = query.where(col(Feedback.reviewed_at).is_not(None))
    elif filters.reviewed is False:
        query = query.where(col(Feedback.reviewed_at).is_(None))
    return query.order_by(col(Appointment.day).desc(), col(Feedback.id).desc())


def feedback_with_visits(
    session: Session, *, filters: FeedbackFilters, limit: int | None
) -> list[tuple[Feedback, Appointment]]:
    """Answers matching the filters with their visit, latest visit first (all if no limit)."""
    query = _feedback_query(filters)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def complaints_by_feedback(
    session: Session, *, feedback_ids: Sequence[int]
) -> dict[int, Complaint]:
    """The complaint opened from each of these answers, where there is one."""
    complaints: dict[int, Complaint] = {}
    if feedback_ids:
        for complaint in session.exec(
            select(Complaint).where(col(Complaint.feedback_id).in_(feedback_ids))
        ):
            if complaint.feedback_id is not None and complaint.id is not None:
                complaints[complaint.feedback_id] = complaint
    return complaints


def feedback_for_update(session: Session, *, feedback_id: int) -> Feedback | None:
    """The answer, locked (FOR UPDATE where the database has it) until the transaction ends."""
    return session.exec(
        select(Feedback).where(col(Feedback.id) == feedback_id).with_for_update()
    ).first()


def complaint_from_feedback(session: Session, *, feedback_id: int) -> Complaint | None:
    return session.exec(select(Complaint).where(col(Complaint.feedback_id) == feedback_id)).first()


def flagged_unreviewed_count(session: Session) -> int:
    """Flagged answers no one has reviewed yet."""
    return len(
        session.exec(
            select(Feedback.id).where(
                col(Feedback.flagged).is_(True), col(Feedback.reviewed_at).is_(None)
            )
        ).all()
    )
