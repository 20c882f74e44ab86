"""Read models for the feedback pages: each answer as a plain frozen row with its visit,
resident, operative, contractor, reviewer and complaint; the transcript that collected it;
and the weekly chart's figures.

The queries are storage/repositories/feedback.py's; transcripts come from
read_models.conversation_transcript (access-need lines withheld unless `show_needs`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.web.staff.read_models import PAGE_SIZE, TranscriptLine, conversation_transcript
from flows.slots import label
from storage.models import (
    Appointment,
    Contractor,
    Conversation,
    Feedback,
    Operative,
    Resident,
    StaffUser,
)
from storage.repositories._batch import by_id
from storage.repositories.feedback import (
    FeedbackFilters,
    complaints_by_feedback,
    feedback_with_visits,
)


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    id: int
    visit_day: date
    visit: str
    appointment_id: int
    resident: str
    resident_id: int
    operative: str
    contractor: str
    rating: int | None
    showed_id: bool | None
    asked_before_facilities: bool | None
    left_tidy: bool | None
    respectful: bool | None
    comment: str | None
    flagged: bool
    completed: bool
    asked_at: datetime
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_note: str | None
    complaint_id: int | None
    #: CMP-2026-000123 (storage.models.records.complaint_reference).
    complaint_reference: str | None = None

    @property
    def conduct_problems(self) -> list[str]:
        checks = (
            ("no ID shown", self.showed_id),
            ("did not ask before using facilities", self.asked_before_facilities),
            ("left untidy", self.left_tidy),
            ("not respectful", self.respectful),
        )
        return [name for name, value in checks if value is False]


def feedback_rows(
    session: Session, filters: FeedbackFilters, *, limit: int | None = PAGE_SIZE
) -> list[FeedbackRow]:
    pairs = feedback_with_visits(session, filters=filters, limit=limit)
    return _feedback_rows(session, pairs)


def _feedback_rows(
    session: Session, pairs: list[tuple[Feedback, Appointment]]
) -> list[FeedbackRow]:
    operatives = by_id(session, Operative, (a.operative_id for _, a in pairs))
    contractors = by_id(session, Contractor, (o.contractor_id for o in operatives.values()))
    residents = by_id(session, Resident, (f.resident_id for f, _ in pairs))
    reviewers = by_id(session, StaffUser, (f.reviewed_by for f, _ in pairs))
    complaints = complaints_by_feedback(
        session, feedback_ids=[f.id for f, _ in pairs if f.id is not None]
    )
    rows = []
    for fb, appointment in pairs:
        assert fb.id is not None and appointment.id is not None
        operative = operatives.get(appointment.operative_id)
        contractor = contractors.get(operative.contractor_id) if operative else None
        resident = residents.get(fb.resident_id)
        complaint = complaints.get(fb.id)
        reviewer = reviewers.get(fb.reviewed_by) if fb.reviewed_by is not None else None
        rows.append(
            FeedbackRow(
                id=fb.id,
                visit_day=appointment.day,
                visit=label(appointment.day, appointment.window),
                appointment_id=appointment.id,
                resident=resident.name if resident else "?",
                resident_id=fb.resident_id,
                operative=operative.name if operative else "?",
                contractor=contractor.name if contractor else "?",
                rating=fb.rating,
                showed_id=fb.showed_id,
                asked_before_facilities=fb.asked_before_facilities,
                left_tidy=fb.left_tidy,
                respectful=fb.respectful,
                comment=fb.comment,
                flagged=fb.flagged,
                completed=fb.completed_at is not None,
                asked_at=fb.created_at,
                reviewed_at=fb.reviewed_at,
                reviewed_by=reviewer.email if reviewer else None,
                review_note=fb.review_note,
                complaint_id=complaint.id if complaint else None,
                complaint_reference=complaint.reference if complaint else None,
            )
        )
    return rows


def feedback_row(session: Session, feedback_id: int) -> FeedbackRow | None:
    fb = session.get(Feedback, feedback_id)
    if fb is None:
        return None
    appointment = session.get(Appointment, fb.appointment_id)
    if appointment is None:
        return None
    return _feedback_rows(session, [(fb, appointment)])[0]


def feedback_transcript(
    session: Session, feedback_id: int, *, now: datetime, show_needs: bool = False
) -> list[TranscriptLine]:
    """The conversation that collected the answers: from the request to a day after the end."""
    fb = session.get(Feedback, feedback_id)
    if fb is None:
        return []
    resident = session.get(Resident, fb.resident_id)
    conversation = session.get(Conversation, fb.conversation_id) if fb.conversation_id else None
    until = (fb.completed_at or now) + timedelta(days=1)
    return conversation_transcript(
        session,
        resident=resident,
        conversation=conversation,
        since=fb.created_at - timedelta(hours=1),
        until=until,
        appointment_id=fb.appointment_id,
        show_needs=show_needs,
    )


@dataclass(frozen=True, slots=True)
class WeekSummary:
    """One week of answers, for the chart: averages and the share of 'yes' per point."""

    week_start: date
    answers: int
    average_rating: float | None
    showed_id: float | None
    asked_before_facilities: float | None
    left_tidy: float | None
    respectful: float | None
    ratings: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)


def weekly_summary(session: Session, filters: FeedbackFilters) -> list[WeekSummary]:
    pairs = feedback_with_visits(session, filters=filters, limit=None)
    weeks: dict[date, list[Feedback]] = defaultdict(list)
    for fb, appointment in pairs:
        weeks[appointment.day - timedelta(days=appointment.day.weekday())].append(fb)

    def share(rows: list[Feedback], name: str) -> float | None:
        answered = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        return sum(1 for a in answered if a) / len(answered) if answered else None

    out = []
    for start in sorted(weeks):
        rows = weeks[start]
        rated = [r.rating for r in rows if r.rating is not None]
        counts = [0, 0, 0, 0, 0]
        for rating in rated:
            if 1 <= rating <= 5:
                counts[rating - 1] += 1
        out.append(
            WeekSummary(
                week_start=start,
                answers=len(rows),
                average_rating=sum(rated) / len(rated) if rated else None,
                showed_id=share(rows, "showed_id"),
                asked_before_facilities=share(rows, "asked_before_facilities"),
                left_tidy=share(rows, "left_tidy"),
                respectful=share(rows, "respectful"),
                ratings=(counts[0], counts[1], counts[2], counts[3], counts[4]),
            )
        )
    return out
