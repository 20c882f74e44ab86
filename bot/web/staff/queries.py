"""Read models for the staff pages: plain frozen rows, built in one session, safe to render.

Pages never get ORM objects (no lazy loads after the session closes, no password hashes
or secrets reaching a template by accident). Related rows are batch-loaded by id, which
keeps each page to a handful of queries on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_
from sqlmodel import Session, SQLModel, col, select

from flows.slots import label
from storage.enums import (
    AppointmentStatus,
    Decision,
    Direction,
    OutboxStatus,
    TaskKind,
    TaskStatus,
)
from storage.models import (
    AccessNeed,
    Appointment,
    Complaint,
    ContactDecision,
    Contractor,
    Conversation,
    Feedback,
    Message,
    Operative,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffTask,
    StaffUser,
)

T = TypeVar("T", bound=SQLModel)

#: Outbox rows not yet (or never) in the transcript: staff see what is queued or stuck.
UNSENT = (
    OutboxStatus.PENDING,
    OutboxStatus.SENDING,
    OutboxStatus.FAILED,
    OutboxStatus.EXPIRED,
    OutboxStatus.BLOCKED,
)
QUEUE_KINDS = (TaskKind.CALLBACK, TaskKind.HANDOFF)
PAGE_SIZE = 200


def by_id(session: Session, model: type[T], ids: Iterable[int | None]) -> dict[int, T]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(wanted))).all()  # type: ignore[attr-defined]
    return {row.id: row for row in rows}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    name: str


def operatives_and_contractors(session: Session) -> tuple[list[Choice], list[Choice]]:
    """For filter menus."""
    operatives = session.exec(select(Operative).order_by(col(Operative.name))).all()
    contractors = session.exec(select(Contractor).order_by(col(Contractor.name))).all()
    return (
        [Choice(o.id, o.name) for o in operatives if o.id is not None],
        [Choice(c.id, c.name) for c in contractors if c.id is not None],
    )


def resident_choices(session: Session) -> list[Choice]:
    rows = session.exec(select(Resident).order_by(col(Resident.name))).all()
    return [Choice(r.id, r.name) for r in rows if r.id is not None]


# --- transcripts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    at: datetime
    direction: str  # "in" | "out"
    channel: str
    text: str
    status: str  # delivery status, or the outbox status of a message not sent yet
    by_staff: bool = False
    queued: bool = False


def _lines_from(
    messages: Sequence[Message], pending: Sequence[OutboxMessage], staff_rows: set[int]
) -> list[TranscriptLine]:
    lines = [
        TranscriptLine(
            at=m.created_at,
            direction=m.direction.value,
            channel=m.channel.value,
            text=m.text,
            status=m.delivery_status or ("received" if m.direction == Direction.INBOUND else ""),
            by_staff=m.id in staff_rows,
        )
        for m in messages
    ]
    lines += [
        TranscriptLine(
            at=o.created_at,
            direction=Direction.OUTBOUND.value,
            channel=o.channel.value if o.channel else "",
            text=o.text,
            status=o.status.value,
            by_staff=o.kind == "staff_reply",
            queued=True,
        )
        for o in pending
    ]
    return sorted(lines, key=lambda line: line.at)


def _unsent_outbox(session: Session, *conditions: Any) -> list[OutboxMessage]:
    """Outbox rows for these conditions that have no transcript row yet."""
    sent_ids = select(Message.outbox_id).where(col(Message.outbox_id).is_not(None))
    return list(
        session.exec(
            select(OutboxMessage).where(
                or_(*conditions),
                col(OutboxMessage.status).in_(UNSENT),
                col(OutboxMessage.id).not_in(sent_ids),
                col(OutboxMessage.kind) != "operative_briefing",
            )
        ).all()
    )


def _staff_marks(session: Session, messages: Sequence[Message]) -> set[int]:
    """Transcript rows that were sent by staff (their outbox row says so)."""
    outbox_ids = [m.outbox_id for m in messages if m.outbox_id is not None]
    rows = by_id(session, OutboxMessage, outbox_ids)
    return {
        m.id
        for m in messages
        if m.id is not None and m.outbox_id in rows and rows[m.outbox_id].kind == "staff_reply"
    }


def conversation_transcript(
    session: Session,
    *,
    resident: Resident | None,
    conversation: Conversation | None,
    since: datetime | None = None,
    until: datetime | None = None,
    appointment_id: int | None = None,
    limit: int = 300,
) -> list[TranscriptLine]:
    """Everything said with this resident (on any channel) in the period, plus what is queued."""
    message_match: list[Any] = []
    outbox_match: list[Any] = []
    if resident is not None and resident.id is not None:
        message_match.append(col(Message.resident_id) == resident.id)
        outbox_match.append(col(OutboxMessage.resident_id) == resident.id)
        addresses = [a for a in (resident.mobile, _tg(resident.telegram_id)) if a]
        if addresses:
            message_match.append(col(Message.address).in_(addresses))
    if conversation is not None and conversation.id is not None:
        message_match.append(col(Message.conversation_id) == conversation.id)
        outbox_match.append(col(OutboxMessage.conversation_id) == conversation.id)
        message_match.append(
            (col(Message.channel) == conversation.channel)
            & (col(Message.address) == conversation.address)
        )
    if appointment_id is not None:
        message_match.append(col(Message.appointment_id) == appointment_id)
    if not message_match:
        return []
    query = select(Message).where(or_(*message_match))
    if since is not None:
        query = query.where(col(Message.created_at) >= since)
    if until is not None:
        query = query.where(col(Message.created_at) <= until)
    messages = list(
        session.exec(
            query.order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(limit)
        )
    )[::-1]
    staff_rows = _staff_marks(session, messages)
    pending = _unsent_outbox(session, *outbox_match) if outbox_match else []
    if since is not None:
        pending = [o for o in pending if o.created_at >= since]
    return _lines_from(messages, pending, staff_rows)


def _tg(telegram_id: int | None) -> str | None:
    return str(telegram_id) if telegram_id is not None else None


# --- feedback -------------------------------------------------------------------------


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

    @property
    def conduct_problems(self) -> list[str]:
        checks = (
            ("no ID shown", self.showed_id),
            ("did not ask before using facilities", self.asked_before_facilities),
            ("left untidy", self.left_tidy),
            ("not respectful", self.respectful),
        )
        return [name for name, value in checks if value is False]


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


def feedback_rows(
    session: Session, filters: FeedbackFilters, *, limit: int | None = PAGE_SIZE
) -> list[FeedbackRow]:
    query = _feedback_query(filters)
    if limit is not None:
        query = query.limit(limit)
    pairs: list[tuple[Feedback, Appointment]] = list(session.exec(query).all())
    return _feedback_rows(session, pairs)


def _feedback_rows(
    session: Session, pairs: list[tuple[Feedback, Appointment]]
) -> list[FeedbackRow]:
    operatives = by_id(session, Operative, (a.operative_id for _, a in pairs))
    contractors = by_id(session, Contractor, (o.contractor_id for o in operatives.values()))
    residents = by_id(session, Resident, (f.resident_id for f, _ in pairs))
    reviewers = by_id(session, StaffUser, (f.reviewed_by for f, _ in pairs))
    feedback_ids = [f.id for f, _ in pairs if f.id is not None]
    complaints: dict[int, int] = {}
    if feedback_ids:
        for complaint in session.exec(
            select(Complaint).where(col(Complaint.feedback_id).in_(feedback_ids))
        ):
            if complaint.feedback_id is not None and complaint.id is not None:
                complaints[complaint.feedback_id] = complaint.id
    rows = []
    for fb, appointment in pairs:
        assert fb.id is not None and appointment.id is not None
        operative = operatives.get(appointment.operative_id)
        contractor = contractors.get(operative.contractor_id) if operative else None
        resident = residents.get(fb.resident_id)
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
                complaint_id=complaints.get(fb.id),
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
    session: Session, feedback_id: int, *, now: datetime
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
    pairs: list[tuple[Feedback, Appointment]] = list(session.exec(_feedback_query(filters)).all())
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


# --- staff tasks ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: int
    kind: str
    status: str
    urgent: bool
    summary: str
    created_at: datetime
    closed_at: datetime | None
    resident: str | None
    resident_id: int | None
    appointment_id: int | None
    claimed_by: str | None
    claimed_by_id: int | None
    channel: str | None
    paused: bool


def task_rows(
    session: Session,
    *,
    kinds: Sequence[TaskKind],
    include_closed: bool = False,
    limit: int = PAGE_SIZE,
) -> list[TaskRow]:
    query = select(StaffTask).where(col(StaffTask.kind).in_(kinds))
    if not include_closed:
        query = query.where(col(StaffTask.status) != TaskStatus.CLOSED)
    query = query.order_by(
        col(StaffTask.urgent).desc(), col(StaffTask.created_at), col(StaffTask.id)
    ).limit(limit)
    return _task_rows(session, list(session.exec(query)))


def _task_rows(session: Session, tasks: list[StaffTask]) -> list[TaskRow]:
    residents = by_id(session, Resident, (t.resident_id for t in tasks))
    users = by_id(session, StaffUser, (t.claimed_by for t in tasks))
    conversations = by_id(session, Conversation, (t.conversation_id for t in tasks))
    rows = []
    for task in tasks:
        assert task.id is not None
        resident = residents.get(task.resident_id) if task.resident_id is not None else None
        user = users.get(task.claimed_by) if task.claimed_by is not None else None
        conversation = (
            conversations.get(task.conversation_id) if task.conversation_id is not None else None
        )
        rows.append(
            TaskRow(
                id=task.id,
                kind=task.kind.value,
                status=task.status.value,
                urgent=task.urgent,
                summary=task.summary,
                created_at=task.created_at,
                closed_at=task.closed_at,
                resident=resident.name if resident else None,
                resident_id=task.resident_id,
                appointment_id=task.appointment_id,
                claimed_by=user.email if user else None,
                claimed_by_id=task.claimed_by,
                channel=conversation.channel.value if conversation else None,
                paused=conversation.paused if conversation else False,
            )
        )
    return rows


def task_row(session: Session, task_id: int) -> TaskRow | None:
    task = session.get(StaffTask, task_id)
    return _task_rows(session, [task])[0] if task else None


def task_transcript(session: Session, task_id: int) -> list[TranscriptLine]:
    task = session.get(StaffTask, task_id)
    if task is None:
        return []
    resident = session.get(Resident, task.resident_id) if task.resident_id else None
    conversation = session.get(Conversation, task.conversation_id) if task.conversation_id else None
    since = task.created_at - timedelta(days=7)
    return conversation_transcript(
        session, resident=resident, conversation=conversation, since=since
    )


# --- contact log ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactFilters:
    resident_id: int | None = None
    decision: Decision | None = None
    reason: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class ContactRow:
    at: datetime
    decision: str
    reason_code: str
    detail: str
    kind: str
    purpose: str
    channel: str
    status: str
    resident: str | None
    resident_id: int | None
    appointment_id: int | None
    text: str


def contact_rows(
    session: Session,
    filters: ContactFilters,
    *,
    zone_start: datetime | None = None,
    zone_end: datetime | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> list[ContactRow]:
    """Every contact decision, newest first; times bound in UTC by the caller's zone."""
    query = select(ContactDecision, OutboxMessage).join(
        OutboxMessage, col(OutboxMessage.id) == col(ContactDecision.outbox_id)
    )
    if filters.resident_id is not None:
        query = query.where(col(OutboxMessage.resident_id) == filters.resident_id)
    if filters.decision is not None:
        query = query.where(col(ContactDecision.decision) == filters.decision)
    if filters.reason:
        query = query.where(col(ContactDecision.reason_code) == filters.reason)
    if zone_start is not None:
        query = query.where(col(ContactDecision.at) >= zone_start)
    if zone_end is not None:
        query = query.where(col(ContactDecision.at) < zone_end)
    query = (
        query.order_by(col(ContactDecision.at).desc(), col(ContactDecision.id).desc())
        .offset(offset)
        .limit(limit)
    )
    pairs: list[tuple[ContactDecision, OutboxMessage]] = list(session.exec(query).all())
    residents = by_id(session, Resident, (o.resident_id for _, o in pairs))
    rows = []
    for decision, outbox in pairs:
        resident = residents.get(outbox.resident_id) if outbox.resident_id is not None else None
        rows.append(
            ContactRow(
                at=decision.at,
                decision=decision.decision.value,
                reason_code=decision.reason_code,
                detail=decision.detail,
                kind=outbox.kind,
                purpose=outbox.purpose,
                channel=outbox.channel.value if outbox.channel else "",
                status=outbox.status.value,
                resident=resident.name if resident else None,
                resident_id=outbox.resident_id,
                appointment_id=outbox.appointment_id,
                text=outbox.text,
            )
        )
    return rows


def reason_codes(session: Session) -> list[str]:
    return sorted(
        {r for r in session.exec(select(ContactDecision.reason_code).distinct()).all() if r}
    )


# --- access needs, operatives, visits -------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessNeedRow:
    id: int
    resident: str
    resident_id: int
    category: str
    own_words: str
    consent_to_share: bool
    review_by: date
    overdue: bool


def access_needs_due(session: Session, *, today: date, horizon: timedelta) -> list[AccessNeedRow]:
    rows = session.exec(
        select(AccessNeed)
        .where(
            col(AccessNeed.active).is_(True),
            col(AccessNeed.review_by).is_not(None),
            col(AccessNeed.review_by) <= today + horizon,
        )
        .order_by(col(AccessNeed.review_by), col(AccessNeed.id))
    ).all()
    residents = by_id(session, Resident, (r.resident_id for r in rows))
    out = []
    for need in rows:
        assert need.id is not None and need.review_by is not None
        resident = residents.get(need.resident_id)
        out.append(
            AccessNeedRow(
                id=need.id,
                resident=resident.name if resident else "?",
                resident_id=need.resident_id,
                category=need.category.value,
                own_words=need.own_words,
                consent_to_share=need.consent_to_share,
                review_by=need.review_by,
                overdue=need.review_by < today,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class OperativeRow:
    id: int
    name: str
    badge_number: str
    contractor: str
    trades: tuple[str, ...]
    linked: bool
    code_outstanding: bool
    active: bool


def operative_rows(session: Session) -> list[OperativeRow]:
    operatives = session.exec(select(Operative).order_by(col(Operative.name))).all()
    contractors = by_id(session, Contractor, (o.contractor_id for o in operatives))
    rows = []
    for op in operatives:
        assert op.id is not None
        contractor = contractors.get(op.contractor_id)
        rows.append(
            OperativeRow(
                id=op.id,
                name=op.name,
                badge_number=op.badge_number,
                contractor=contractor.name if contractor else "?",
                trades=tuple(op.trades),
                linked=op.telegram_id is not None,
                code_outstanding=op.link_code_hash is not None,
                active=op.active,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class VisitFilters:
    date_from: date
    date_to: date
    status: AppointmentStatus | None = None
    operative_id: int | None = None
    contractor_id: int | None = None


@dataclass(frozen=True, slots=True)
class VisitRow:
    id: int
    day: date
    when: str
    status: str
    reference: str
    description: str
    resident: str
    resident_id: int | None
    operative: str
    contractor: str
    version: int
    events: int = 0
    last_event: str = ""
    badges: tuple[str, ...] = field(default_factory=tuple)


def visit_rows(
    session: Session, filters: VisitFilters, *, limit: int = PAGE_SIZE
) -> list[VisitRow]:
    query = select(Appointment).where(
        col(Appointment.day) >= filters.date_from, col(Appointment.day) <= filters.date_to
    )
    if filters.status is not None:
        query = query.where(col(Appointment.status) == filters.status)
    if filters.operative_id is not None:
        query = query.where(col(Appointment.operative_id) == filters.operative_id)
    if filters.contractor_id is not None:
        query = query.join(Operative, col(Operative.id) == col(Appointment.operative_id)).where(
            col(Operative.contractor_id) == filters.contractor_id
        )
    query = query.order_by(
        col(Appointment.day), col(Appointment.starts_at), col(Appointment.id)
    ).limit(limit)
    appointments = list(session.exec(query))
    return _visit_rows(session, appointments)


def _visit_rows(session: Session, appointments: list[Appointment]) -> list[VisitRow]:
    jobs = by_id(session, RepairJob, (a.job_id for a in appointments))
    operatives = by_id(session, Operative, (a.operative_id for a in appointments))
    contractors = by_id(session, Contractor, (o.contractor_id for o in operatives.values()))
    residents = by_id(session, Resident, (j.resident_id for j in jobs.values()))
    rows = []
    for appointment in appointments:
        assert appointment.id is not None
        job = jobs.get(appointment.job_id)
        operative = operatives.get(appointment.operative_id)
        contractor = contractors.get(operative.contractor_id) if operative else None
        resident = residents.get(job.resident_id) if job and job.resident_id else None
        rows.append(
            VisitRow(
                id=appointment.id,
                day=appointment.day,
                when=label(appointment.day, appointment.window),
                status=appointment.status.value,
                reference=job.reference if job else "?",
                description=job.description if job else "",
                resident=resident.name if resident else "?",
                resident_id=resident.id if resident else None,
                operative=operative.name if operative else "?",
                contractor=contractor.name if contractor else "?",
                version=appointment.version,
            )
        )
    return rows


def visit_row(session: Session, appointment_id: int) -> VisitRow | None:
    appointment = session.get(Appointment, appointment_id)
    return _visit_rows(session, [appointment])[0] if appointment else None


@dataclass(frozen=True, slots=True)
class Dashboard:
    queue: int
    urgent: int
    alerts: int
    feedback_to_review: int
    access_needs_due: int
    visits_today: int


def dashboard(session: Session, *, today: date, horizon: timedelta) -> Dashboard:
    open_tasks = session.exec(
        select(StaffTask).where(col(StaffTask.status) != TaskStatus.CLOSED)
    ).all()
    to_review = session.exec(
        select(Feedback.id).where(
            col(Feedback.flagged).is_(True), col(Feedback.reviewed_at).is_(None)
        )
    ).all()
    visits = session.exec(select(Appointment.id).where(col(Appointment.day) == today)).all()
    return Dashboard(
        queue=sum(1 for t in open_tasks if t.kind != TaskKind.ALERT),
        urgent=sum(1 for t in open_tasks if t.urgent),
        alerts=sum(1 for t in open_tasks if t.kind == TaskKind.ALERT),
        feedback_to_review=len(to_review),
        access_needs_due=len(access_needs_due(session, today=today, horizon=horizon)),
        visits_today=len(visits),
    )
