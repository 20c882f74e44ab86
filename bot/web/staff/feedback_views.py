"""Read models for the feedback pages: each answer as a plain frozen row with its visit,
resident, operative, contractor, reviewer and complaint; the transcript that collected it;
and the weekly chart's figures.

The list pages by key (visit day, feedback id), newest first, behind an opaque cursor; the
export walks the same order in batches of CSV_BATCH; the chart covers the CHART_WEEKS weeks
up to the "To" date (or today), its sums and counts computed by the database.

The queries are storage/repositories/feedback.py's; transcripts come from
read_models.conversation_transcript (access-need lines withheld unless `show_needs`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlmodel import Session

from bot.web.staff import cursors
from bot.web.staff.read_models import (
    PAGE_SIZE,
    Choice,
    TranscriptLine,
    conversation_transcript,
)
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
from storage.repositories import feedback
from storage.repositories._batch import by_id
from storage.repositories.feedback import FeedbackCursor, FeedbackFilters, complaints_by_feedback

#: Rows per statement when the CSV export walks the whole list.
CSV_BATCH = 1000
#: How many weeks the chart shows (ending with the "To" date's week, or this week).
CHART_WEEKS = 12


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


def filter_choices(session: Session, filters: FeedbackFilters) -> tuple[list[Choice], list[Choice]]:
    """(operatives, contractors) for the filter menus: every contractor, but only the chosen
    contractor's operatives (and the chosen operative), never every operative there is."""
    operatives = feedback.filter_operatives(
        session, contractor_id=filters.contractor_id, chosen=filters.operative_id, limit=PAGE_SIZE
    )
    contractors = feedback.filter_contractors(session)
    return (
        [Choice(o.id, o.name) for o in operatives if o.id is not None],
        [Choice(c.id, c.name) for c in contractors if c.id is not None],
    )


@dataclass(frozen=True, slots=True)
class FeedbackPage:
    rows: list[FeedbackRow]
    #: The opaque cursor of the next page, None on the last page.
    next_cursor: str | None


def encode_cursor(cursor: FeedbackCursor) -> str:
    """Opaque to the browser (bot.web.staff.cursors): the visit day and the feedback id."""
    return cursors.encode(cursor.day, cursor.feedback_id)


def decode_cursor(value: str | None) -> FeedbackCursor | None:
    """The cursor from a "next page" link (None when absent); a 400 if it is not one we made."""
    key = cursors.decode(value, (date, int))
    return None if key is None else FeedbackCursor(day=key[0], feedback_id=key[1])


def feedback_page(
    session: Session,
    filters: FeedbackFilters,
    *,
    after: FeedbackCursor | None = None,
    limit: int = PAGE_SIZE,
) -> FeedbackPage:
    """One page of answers, latest visit first, and the cursor of the next page."""
    lines = feedback.feedback_lines(session, filters=filters, after=after, limit=limit + 1)
    rows = [_row(line) for line in lines[:limit]]
    next_cursor = None
    if len(lines) > limit and rows:
        next_cursor = encode_cursor(FeedbackCursor(day=rows[-1].visit_day, feedback_id=rows[-1].id))
    return FeedbackPage(rows=rows, next_cursor=next_cursor)


def feedback_batches(
    session: Session, filters: FeedbackFilters, *, batch: int | None = None
) -> Iterator[list[FeedbackRow]]:
    """Every answer matching the filters, in the list's order, `batch` rows a statement
    (joined to their people; one more query for the batch's complaints): plain values,
    nothing kept between batches, so memory stays flat however many there are."""
    size = batch or CSV_BATCH
    after: FeedbackCursor | None = None
    while True:
        lines = feedback.feedback_lines(session, filters=filters, after=after, limit=size)
        if not lines:
            return
        rows = [_row(line) for line in lines]
        after = FeedbackCursor(day=rows[-1].visit_day, feedback_id=rows[-1].id)
        session.expunge_all()  # the complaints loaded for the batch
        yield rows
        if len(lines) < size:
            return


#: A visit's label ("Tuesday 3 December, morning (8am-12pm)"): an export's rows share a few
#: hundred days and windows, so each is formatted once (a bounded cache, memory stays flat).
_visit_label = lru_cache(maxsize=4096)(label)


def _row(line: feedback.FeedbackLine) -> FeedbackRow:
    return FeedbackRow(
        id=line.id,
        visit_day=line.visit_day,
        visit=_visit_label(line.visit_day, line.visit_window),
        appointment_id=line.appointment_id,
        resident=line.resident or "?",
        resident_id=line.resident_id,
        operative=line.operative or "?",
        contractor=line.contractor or "?",
        rating=line.rating,
        showed_id=line.showed_id,
        asked_before_facilities=line.asked_before_facilities,
        left_tidy=line.left_tidy,
        respectful=line.respectful,
        comment=line.comment,
        flagged=line.flagged,
        completed=line.completed_at is not None,
        asked_at=line.created_at,
        reviewed_at=line.reviewed_at,
        reviewed_by=line.reviewed_by,
        review_note=line.review_note,
        complaint_id=line.complaint_id,
        complaint_reference=line.complaint_reference,
    )


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


@dataclass(frozen=True, slots=True)
class WeeklyChart:
    """The chart's window (visit days, inclusive) and its weeks, oldest first."""

    since: date
    until: date
    weeks: list[WeekSummary]


def chart_window(filters: FeedbackFilters, *, today: date) -> tuple[date, date]:
    """The last CHART_WEEKS weeks (from a Monday) up to the "To" date or today, starting no
    earlier than the "From" date."""
    until = filters.date_to or today
    since = until - timedelta(days=until.weekday() + 7 * (CHART_WEEKS - 1))
    if filters.date_from is not None and filters.date_from > since:
        since = filters.date_from
    return since, until


def weekly_summary(session: Session, filters: FeedbackFilters, *, today: date) -> WeeklyChart:
    """The chart over `chart_window`: figures computed by the database, one row a week."""
    since, until = chart_window(filters, today=today)
    counts = (
        feedback.weekly_counts(session, filters=filters, since=since, until=until)
        if since <= until
        else []
    )

    def share(yes: int, answered: int) -> float | None:
        return yes / answered if answered else None

    weeks = [
        WeekSummary(
            week_start=w.week_start,
            answers=w.answers,
            average_rating=w.rating_sum / w.rated if w.rated else None,
            showed_id=share(w.yes[0], w.answered[0]),
            asked_before_facilities=share(w.yes[1], w.answered[1]),
            left_tidy=share(w.yes[2], w.answered[2]),
            respectful=share(w.yes[3], w.answered[3]),
            ratings=w.ratings,
        )
        for w in counts
    ]
    return WeeklyChart(since=since, until=until, weeks=weeks)
