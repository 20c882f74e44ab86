"""Read models for the staff pages: plain frozen rows, built in one session, safe to render.

Pages never get ORM objects (no lazy loads after the session closes, no password hashes
or secrets reaching a template by accident). The queries are storage/repositories'
(staff_tasks, contact_log, access_needs, visits, operatives,
conversation_history); related rows are batch-loaded by id (`_batch.by_id`), which keeps
each page to a handful of queries on both SQLite and PostgreSQL.

Access needs are special-category data: every read model that shows what was said
(transcripts, the contact log, a visit's evidence) takes `show_needs`, False unless the
caller says otherwise, and puts "[withheld: access need]" in place of each message that
carries one (flows/needs_privacy.py decides which). Pages pass
`show_needs=sees_access_needs(user.role)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlmodel import Session

from flows.needs_privacy import WITHHELD, Said, carrying_needs, one_carries_need
from flows.slots import label
from storage.enums import Direction, StaffRole, TaskKind
from storage.models import (
    AccessNeed,
    Appointment,
    Contractor,
    Conversation,
    Message,
    Operative,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffTask,
    StaffUser,
)
from storage.repositories import contact_log, staff_tasks
from storage.repositories._batch import by_id
from storage.repositories.access_needs import NeedKey, due_for_review, due_for_review_count
from storage.repositories.contact_log import ContactFilters, ContactKey, decisions_with_messages
from storage.repositories.conversation_history import (
    conversation_messages,
    need_words,
    unsent_outbox,
)
from storage.repositories.feedback import flagged_unreviewed_count
from storage.repositories.operatives import (
    OperativeKey,
    contractors_by_name,
    operatives_by_name,
)
from storage.repositories.people import search_residents
from storage.repositories.staff_tasks import TaskKey
from storage.repositories.visit_listing import VisitFilters, VisitKey, visit_count_on, visits

QUEUE_KINDS = (TaskKind.CALLBACK, TaskKind.HANDOFF)
PAGE_SIZE = 200


def sees_access_needs(role: StaffRole) -> bool:
    """Who may read residents' access needs (special-category data): the roles that act on
    them. A viewer sees that a need exists, and where a message was withheld."""
    return role in (StaffRole.STAFF, StaffRole.ADMIN)


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    name: str


def contractor_choices(session: Session) -> list[Choice]:
    """For filter menus: the contractors (a landlord has tens; at most PAGE_SIZE)."""
    found = contractors_by_name(session, limit=PAGE_SIZE)
    return [Choice(c.id, c.name) for c in found if c.id is not None]


def operative_choices(
    session: Session, *, contractor_id: int | None, chosen: int | None = None
) -> list[Choice]:
    """For filter menus: the operatives of the chosen contractor (at most PAGE_SIZE), and
    the chosen operative. Without a contractor, only the chosen one: a large landlord's
    operatives are too many for one menu, so a contractor is picked first."""
    found = (
        list(operatives_by_name(session, contractor_id=contractor_id, limit=PAGE_SIZE))
        if contractor_id is not None
        else []
    )
    if chosen is not None and all(o.id != chosen for o in found):
        operative = session.get(Operative, chosen)
        if operative is not None:
            found.insert(0, operative)
    return [Choice(o.id, o.name) for o in found if o.id is not None]


#: A resident search lists at most this many matches (residents are never a drop-down).
RESIDENT_MATCHES = 20


def resident_matches(session: Session, text: str) -> list[Choice]:
    """At most RESIDENT_MATCHES residents meant by `text`: a mobile number in any common
    form, a reference, or the start of a name (storage.repositories.people)."""
    found = search_residents(session, text=text, limit=RESIDENT_MATCHES)
    return [Choice(r.id, r.name) for r in found if r.id is not None]


def resident_choice(session: Session, resident_id: int) -> Choice | None:
    """The chosen resident, to name them beside the filter."""
    resident = session.get(Resident, resident_id)
    return Choice(resident_id, resident.name) if resident is not None else None


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
    #: The text carried an access need and this reader's role may not see it.
    withheld: bool = False


def _lines_from(
    messages: Sequence[Message],
    pending: Sequence[OutboxMessage],
    staff_rows: set[int],
    *,
    on_record: Sequence[str],
    show_needs: bool,
) -> list[TranscriptLine]:
    said = [
        (
            TranscriptLine(
                at=m.created_at,
                direction=m.direction.value,
                channel=m.channel.value,
                text=m.text,
                status=m.delivery_status
                or ("received" if m.direction == Direction.INBOUND else ""),
                by_staff=m.id in staff_rows,
            ),
            m.intent if m.direction == Direction.INBOUND else None,
        )
        for m in messages
    ]
    said += [
        (
            TranscriptLine(
                at=o.created_at,
                direction=Direction.OUTBOUND.value,
                channel=o.channel.value if o.channel else "",
                text=o.text,
                status=o.status.value,
                by_staff=o.kind == "staff_reply",
                queued=True,
            ),
            None,
        )
        for o in pending
    ]
    said.sort(key=lambda pair: pair[0].at)
    lines = [line for line, _ in said]
    if show_needs:
        return lines
    carried = carrying_needs(
        [Said(line.direction, line.text, intent) for line, intent in said], on_record=on_record
    )
    return [
        replace(line, text=WITHHELD, withheld=True) if carries else line
        for line, carries in zip(lines, carried, strict=True)
    ]


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
    show_needs: bool = False,
) -> list[TranscriptLine]:
    """Everything said with this resident (on any channel) in the period, plus what is
    queued; lines carrying an access need withheld unless `show_needs`."""
    messages = conversation_messages(
        session,
        resident=resident,
        conversation=conversation,
        since=since,
        until=until,
        appointment_id=appointment_id,
        limit=limit,
    )
    staff_rows = _staff_marks(session, messages)
    pending = unsent_outbox(session, resident=resident, conversation=conversation, since=since)
    on_record: list[str] = []
    if not show_needs:
        resident_ids = {m.resident_id for m in messages} | {o.resident_id for o in pending}
        if resident is not None:
            resident_ids.add(resident.id)
        for words in need_words(session, resident_ids=resident_ids).values():
            on_record += words
    return _lines_from(messages, pending, staff_rows, on_record=on_record, show_needs=show_needs)


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
    after: TaskKey | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[TaskRow], TaskKey | None]:
    """One page of tasks (urgent first, then oldest) after `after`, and the key the next
    page starts after (None on the last page)."""
    tasks = staff_tasks.tasks(
        session, kinds=kinds, include_closed=include_closed, after=after, limit=limit + 1
    )
    more = len(tasks) > limit
    tasks = tasks[:limit]
    last = tasks[-1] if more and tasks else None
    following = None
    if last is not None:
        assert last.id is not None
        following = TaskKey(urgent=last.urgent, created_at=last.created_at, id=last.id)
    return _task_rows(session, tasks), following


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


def task_transcript(
    session: Session, task_id: int, *, show_needs: bool = False
) -> list[TranscriptLine]:
    task = session.get(StaffTask, task_id)
    if task is None:
        return []
    resident = session.get(Resident, task.resident_id) if task.resident_id else None
    conversation = session.get(Conversation, task.conversation_id) if task.conversation_id else None
    since = task.created_at - timedelta(days=7)
    return conversation_transcript(
        session, resident=resident, conversation=conversation, since=since, show_needs=show_needs
    )


# --- contact log ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
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
    after: ContactKey | None = None,
    limit: int = PAGE_SIZE,
    show_needs: bool = False,
) -> tuple[list[ContactRow], ContactKey | None]:
    """One page of contact decisions, newest first, after `after` (the key of the last row
    of the page before); times bound in UTC by the caller's zone. Returns the rows and the
    key the next page starts after (None on the last page). A message carrying an access
    need shows as withheld unless `show_needs`."""
    pairs = decisions_with_messages(
        session,
        filters=filters,
        zone_start=zone_start,
        zone_end=zone_end,
        after=after,
        limit=limit + 1,
    )
    more = len(pairs) > limit
    pairs = pairs[:limit]
    residents = by_id(session, Resident, (o.resident_id for _, o in pairs))
    needs = {} if show_needs else need_words(session, resident_ids=residents)
    rows = []
    for decision, outbox in pairs:
        assert decision.id is not None
        resident = residents.get(outbox.resident_id) if outbox.resident_id is not None else None
        text = outbox.text
        if not show_needs and one_carries_need(
            text, on_record=needs.get(outbox.resident_id or -1, ())
        ):
            text = WITHHELD
        rows.append(
            ContactRow(
                id=decision.id,
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
                text=text,
            )
        )
    last = rows[-1] if more and rows else None
    return rows, (ContactKey(at=last.at, id=last.id) if last else None)


def reason_codes(session: Session) -> list[str]:
    return contact_log.reason_codes(session)


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


def access_needs_due(
    session: Session,
    *,
    today: date,
    horizon: timedelta,
    after: NeedKey | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[AccessNeedRow], NeedKey | None]:
    """One page of active needs due for review within the horizon, soonest first, and the
    key the next page starts after (None on the last page)."""
    found = due_for_review(session, by=today + horizon, after=after, limit=limit + 1)
    rows = found[:limit]
    last = rows[-1] if len(found) > limit and rows else None
    following = None
    if last is not None:
        assert last.id is not None and last.review_by is not None
        following = NeedKey(review_by=last.review_by, id=last.id)
    return _need_rows(session, rows, today=today), following


def _need_rows(session: Session, rows: Sequence[AccessNeed], *, today: date) -> list[AccessNeedRow]:
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


def operative_rows(
    session: Session, *, after: OperativeKey | None = None, limit: int = PAGE_SIZE
) -> tuple[list[OperativeRow], OperativeKey | None]:
    """One page of operatives by name after `after`, and the key the next page starts
    after (None on the last page)."""
    page = operatives_by_name(session, after=after, limit=limit + 1)
    found = page[:limit]
    last = found[-1] if len(page) > limit and found else None
    following = None
    if last is not None:
        assert last.id is not None
        following = OperativeKey(name=last.name, id=last.id)
    return _operative_rows(session, found), following


def _operative_rows(session: Session, found: Sequence[Operative]) -> list[OperativeRow]:
    contractors = by_id(session, Contractor, (o.contractor_id for o in found))
    rows = []
    for op in found:
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
    session: Session,
    filters: VisitFilters,
    *,
    after: VisitKey | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[VisitRow], VisitKey | None]:
    """One page of visits matching the filters after `after`, by day and start, and the key
    the next page starts after (None on the last page)."""
    found = visits(session, filters=filters, after=after, limit=limit + 1)
    appointments = found[:limit]
    last = appointments[-1] if len(found) > limit and appointments else None
    following = None
    if last is not None:
        assert last.id is not None
        following = VisitKey(day=last.day, starts_at=last.starts_at, id=last.id)
    return _visit_rows(session, appointments), following


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
    """The home page's counts, each a COUNT in the database."""
    tasks = staff_tasks.open_counts(session)
    return Dashboard(
        queue=tasks.queue,
        urgent=tasks.urgent,
        alerts=tasks.alerts,
        feedback_to_review=flagged_unreviewed_count(session),
        access_needs_due=due_for_review_count(session, by=today + horizon),
        visits_today=visit_count_on(session, day=today),
    )
