"""Residents' feedback on visits as staff review it: the filtered list a page at a time
(keyset on the visit day and the answer's id, newest first), the same list in batches for
the CSV export, the weekly chart's figures (GROUP BY week in SQL, over a bounded window),
complaints opened from feedback, and how many flagged answers await review.

Nothing here reads more rows than the caller shows: pages and batches are LIMITed, the
chart returns one row per week, counts are COUNTs, and IN lists hold at most one page's or
one batch's ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import (
    Appointment,
    Complaint,
    Contractor,
    Feedback,
    Operative,
    Resident,
    StaffUser,
)
from storage.models.records import complaint_reference
from storage.repositories._dialect import week_start


@dataclass(frozen=True, slots=True)
class FeedbackFilters:
    date_from: date | None = None
    date_to: date | None = None
    contractor_id: int | None = None
    operative_id: int | None = None
    rating: int | None = None
    flagged: bool | None = None
    reviewed: bool | None = None


@dataclass(frozen=True, slots=True)
class FeedbackCursor:
    """Where a page ends: the list continues with answers whose (visit day, id) sort after
    this one (day descending, then id descending)."""

    day: date
    feedback_id: int


def _filtered(query: Any, filters: FeedbackFilters) -> Any:
    """`query` (already joining Feedback to its Appointment) narrowed by the filters."""
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
    return query


def _joined(*columns: Any) -> Any:
    return (
        select(*columns)
        .select_from(Feedback)
        .join(Appointment, col(Appointment.id) == col(Feedback.appointment_id))
    )


@dataclass(frozen=True, slots=True)
class FeedbackLine:
    """One answer as the list and the export show it: its own columns, its visit's, and the
    names of the people around it (plain values, no ORM objects)."""

    id: int
    appointment_id: int
    visit_day: date
    visit_window: str
    resident_id: int
    resident: str | None
    operative: str | None
    contractor: str | None
    rating: int | None
    showed_id: bool | None
    asked_before_facilities: bool | None
    left_tidy: bool | None
    respectful: bool | None
    comment: str | None
    flagged: bool
    created_at: datetime
    completed_at: datetime | None
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_note: str | None
    complaint_id: int | None = None
    complaint_reference: str | None = None


def feedback_lines(
    session: Session, *, filters: FeedbackFilters, after: FeedbackCursor | None, limit: int
) -> list[FeedbackLine]:
    """At most `limit` answers matching the filters, latest visit first (ties by the newest
    answer), starting after the cursor (from the top if None): one statement joining each
    answer to its visit, resident, operative, contractor, reviewer and the latest complaint
    opened from it (columns only; each join an index lookup, no IN list)."""
    # Aliased people tables: the contractor filter joins operatives itself.
    operative, contractor = aliased(Operative), aliased(Contractor)
    resident, reviewer = aliased(Resident), aliased(StaffUser)
    complaint = aliased(Complaint)
    latest_complaint = (
        select(func.max(col(Complaint.id)))
        .where(col(Complaint.feedback_id) == col(Feedback.id))
        .correlate(Feedback)
        .scalar_subquery()
    )
    query = (
        _joined(
            col(Feedback.id).label("id"),
            col(Feedback.appointment_id).label("appointment_id"),
            col(Appointment.day).label("visit_day"),
            col(Appointment.window).label("visit_window"),
            col(Feedback.resident_id).label("resident_id"),
            col(resident.name).label("resident"),
            col(operative.name).label("operative"),
            col(contractor.name).label("contractor"),
            col(Feedback.rating).label("rating"),
            col(Feedback.showed_id).label("showed_id"),
            col(Feedback.asked_before_facilities).label("asked_before_facilities"),
            col(Feedback.left_tidy).label("left_tidy"),
            col(Feedback.respectful).label("respectful"),
            col(Feedback.comment).label("comment"),
            col(Feedback.flagged).label("flagged"),
            col(Feedback.created_at).label("created_at"),
            col(Feedback.completed_at).label("completed_at"),
            col(Feedback.reviewed_at).label("reviewed_at"),
            col(reviewer.email).label("reviewed_by"),
            col(Feedback.review_note).label("review_note"),
            col(complaint.id).label("complaint_id"),
            col(complaint.created_at).label("complaint_at"),
        )
        .outerjoin(resident, col(resident.id) == col(Feedback.resident_id))
        .outerjoin(operative, col(operative.id) == col(Appointment.operative_id))
        .outerjoin(contractor, col(contractor.id) == col(operative.contractor_id))
        .outerjoin(reviewer, col(reviewer.id) == col(Feedback.reviewed_by))
        .outerjoin(complaint, col(complaint.id) == latest_complaint)
    )
    rows = session.exec(_keyset(_filtered(query, filters), after, limit)).all()
    lines = []
    for row in rows:
        fields = dict(row._mapping)
        opened_at = fields.pop("complaint_at")
        if fields["complaint_id"] is not None:
            fields["complaint_reference"] = complaint_reference(fields["complaint_id"], opened_at)
        lines.append(FeedbackLine(**fields))
    return lines


def _keyset(query: Any, after: FeedbackCursor | None, limit: int) -> Any:
    """Latest visit first (ties by the newest answer), starting after the cursor."""
    if after is not None:
        query = query.where(
            # The plain bound lets the day index start at the cursor's day.
            col(Appointment.day) <= after.day,
            or_(
                col(Appointment.day) < after.day,
                and_(col(Appointment.day) == after.day, col(Feedback.id) < after.feedback_id),
            ),
        )
    return query.order_by(col(Appointment.day).desc(), col(Feedback.id).desc()).limit(limit)


def feedback_count(session: Session, *, filters: FeedbackFilters) -> int:
    """How many answers match the filters (for the export's audit record). Without a
    filter on the visit, the answers alone are counted (every answer has its visit), which
    PostgreSQL can do from an index."""
    on_visit = (filters.date_from, filters.date_to, filters.operative_id, filters.contractor_id)
    if all(value is None for value in on_visit):
        query = select(func.count()).select_from(Feedback)
    else:
        query = _joined(func.count())
    return int(session.exec(_filtered(query, filters)).one())


@dataclass(frozen=True, slots=True)
class WeekCounts:
    """One week's answers as sums and counts (exact; the page turns them into shares).

    `answered_<point>` is how many answered that conduct question; `yes_<point>` how many
    said yes. `ratings[k]` is how many rated k + 1.
    """

    week_start: date
    answers: int
    rated: int
    rating_sum: int
    ratings: tuple[int, int, int, int, int]
    answered: tuple[int, int, int, int]
    yes: tuple[int, int, int, int]


#: The conduct questions, in the order of WeekCounts.answered and .yes.
CONDUCT_POINTS = ("showed_id", "asked_before_facilities", "left_tidy", "respectful")


def weekly_counts(
    session: Session, *, filters: FeedbackFilters, since: date, until: date
) -> list[WeekCounts]:
    """The answers matching the filters whose visit fell between `since` and `until`
    (inclusive), grouped by the week (starting Monday) of the visit, oldest week first.
    The caller bounds the window; one row comes back per week."""
    week = week_start(col(Appointment.day)).label("week")

    def ones(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    points = [getattr(Feedback, name) for name in CONDUCT_POINTS]
    query = _joined(
        week,
        func.count(),
        func.count(col(Feedback.rating)),
        func.coalesce(func.sum(col(Feedback.rating)), 0),
        *(ones(col(Feedback.rating) == k) for k in range(1, 6)),
        *(func.count(col(point)) for point in points),
        *(ones(col(point).is_(True)) for point in points),
    )
    query = _filtered(query, filters).where(
        col(Appointment.day) >= since, col(Appointment.day) <= until
    )
    rows = session.exec(query.group_by(week).order_by(week)).all()
    out = []
    for row in rows:
        start, answers, rated, rating_sum = row[0], row[1], row[2], row[3]
        counts = [int(v) for v in row[4:]]
        out.append(
            WeekCounts(
                week_start=start if isinstance(start, date) else date.fromisoformat(str(start)),
                answers=int(answers),
                rated=int(rated),
                rating_sum=int(rating_sum),
                ratings=(counts[0], counts[1], counts[2], counts[3], counts[4]),
                answered=(counts[5], counts[6], counts[7], counts[8]),
                yes=(counts[9], counts[10], counts[11], counts[12]),
            )
        )
    return out


def filter_contractors(session: Session) -> list[Contractor]:
    """The contractors the filters offer, by name (a landlord has tens, not thousands)."""
    return list(session.exec(select(Contractor).order_by(col(Contractor.name))).all())


def filter_operatives(
    session: Session, *, contractor_id: int | None, chosen: int | None, limit: int
) -> list[Operative]:
    """The operatives the filters offer: the chosen contractor's (at most `limit`, by name)
    and the one already chosen; none else, so the page never lists every operative."""
    found: list[Operative] = []
    if contractor_id is not None:
        found = list(
            session.exec(
                select(Operative)
                .where(col(Operative.contractor_id) == contractor_id)
                .order_by(col(Operative.name), col(Operative.id))
                .limit(limit)
            ).all()
        )
    if chosen is not None and all(o.id != chosen for o in found):
        operative = session.get(Operative, chosen)
        if operative is not None:
            found.insert(0, operative)
    return found


def complaints_by_feedback(
    session: Session, *, feedback_ids: Sequence[int]
) -> dict[int, Complaint]:
    """The complaint opened from each of these answers (one page's or batch's), where there
    is one."""
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
    """Flagged answers no one has reviewed yet: a COUNT over the partial index of them."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Feedback)
            .where(col(Feedback.flagged).is_(True), col(Feedback.reviewed_at).is_(None))
        ).one()
    )
