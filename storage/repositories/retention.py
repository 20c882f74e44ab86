"""The SQL of retention (issue 16, docs/retention.md): which rows of each kind have
outlived their period, which of those a complaint or recent activity still holds, and
deleting or anonymising the rest.

Every kind is walked the same way, a batch at a time by primary key
(`WHERE id > :last AND <past its period> ORDER BY id LIMIT n`): `examine` reads one batch
of candidate ids and, per id, whether an open complaint or recent activity holds it;
`apply` deletes (children first) or anonymises the ids that go. Each list of ids is one
batch's, never more. The job (bot/outbound/retention.py) runs each batch in its own short
transaction.

What holds a row:

* **An open complaint** (`status` not one of `CLOSED_COMPLAINT`) of the row's resident,
  or on any visit of the row's job, holds transcripts, outbox rows, the visit's timeline
  and disclosures, feedback, tasks, access needs and the resident: everything a complaint
  handler or the Ombudsman may ask for (the per-visit export, /staff/visits/{id}).
* **Activity on the job**: a job not yet completed or cancelled, or one with anything
  since the cut-off (the job itself changed, a visit changed, a message about a visit, a
  complaint made), holds its whole transcript and outbox; a message or outbox row not
  about a visit is held while any job of its resident is so held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, false, func, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.enums import Channel, JobStatus, OutboxStatus, TaskStatus
from storage.models import (
    AccessNeed,
    Appointment,
    AppointmentEvent,
    AuditEvent,
    Complaint,
    ContactDecision,
    Conversation,
    Disclosure,
    Feedback,
    LandlordEvent,
    LinkToken,
    Message,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffLoginAttempt,
    StaffSession,
    StaffTask,
    WebhookDelivery,
)
from storage.repositories import suppressions

#: Complaint statuses that no longer hold anything; every other status ("open", and any
#: stage a landlord adds, such as "escalated") is open.
CLOSED_COMPLAINT = ("closed", "resolved", "withdrawn")
#: Jobs in these statuses are live: they hold their transcript whatever its age.
LIVE_JOB = (JobStatus.TRIAGE, JobStatus.OPEN, JobStatus.BOOKED)
#: Outbox rows still on their way are never touched.
_UNSENT = (OutboxStatus.PENDING, OutboxStatus.SENDING)
#: Webhook deliveries that are finished with.
_DELIVERY_DONE = ("delivered", "dead")


class Kind(StrEnum):
    """The record kinds, in the order a run takes them (children before their parents)."""

    OUTBOX = "outbox"
    MESSAGES = "messages"
    CONVERSATIONS = "conversations"
    VISIT_TIMELINE = "visit_timeline"
    DISCLOSURES = "disclosures"
    FEEDBACK = "feedback"
    COMPLAINTS = "complaints"
    STAFF_TASKS = "staff_tasks"
    ACCESS_NEEDS = "access_needs"
    RESIDENTS = "residents"
    LINK_TOKENS = "link_tokens"
    STAFF_SESSIONS = "staff_sessions"
    LOGIN_ATTEMPTS = "login_attempts"
    WEBHOOK_DELIVERIES = "webhook_deliveries"
    LANDLORD_EVENTS = "landlord_events"
    AUDIT_EVENTS = "audit_events"


#: Kinds whose rows stay, blanked, rather than being deleted.
ANONYMISED = frozenset({Kind.FEEDBACK, Kind.COMPLAINTS, Kind.RESIDENTS})


@dataclass(frozen=True, slots=True)
class Cutoff:
    """Rows last active before `at` (or, for dates, before `day`) have outlived their period."""

    at: datetime
    day: date


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of candidates, in id order, sorted into what holds them and what goes."""

    examined: tuple[int, ...]
    for_complaint: tuple[int, ...]
    active: tuple[int, ...]
    go: tuple[int, ...]

    @property
    def last_id(self) -> int | None:
        return self.examined[-1] if self.examined else None


# --- what holds a row ------------------------------------------------------------------


def _alias(model: Any) -> Any:
    """An alias of `model`: each subquery names its own, so none correlates by accident."""
    return aliased(model)


def _open(complaint: Any) -> ColumnElement[bool]:
    return col(complaint.status).notin_(CLOSED_COMPLAINT)


def _complaint_of_resident(resident_id: Any) -> ColumnElement[bool]:
    c = _alias(Complaint)
    return select(c.id).where(c.resident_id == resident_id, _open(c)).exists()


def _complaint_on_job_of_visit(appointment_id: Any) -> ColumnElement[bool]:
    """An open complaint on any visit of the job this visit belongs to."""
    c, complained, this = _alias(Complaint), _alias(Appointment), _alias(Appointment)
    return (
        select(c.id)
        .join(complained, complained.id == c.appointment_id)
        .join(this, this.job_id == complained.job_id)
        .where(this.id == appointment_id, _open(c))
        .exists()
    )


def _complaint_hold(appointment_id: Any, resident_id: Any) -> ColumnElement[bool]:
    return or_(_complaint_of_resident(resident_id), _complaint_on_job_of_visit(appointment_id))


def _job_busy(job: Any, since: datetime) -> ColumnElement[bool]:
    """The job is live, or something happened on it at or after `since`."""
    a, m, c = _alias(Appointment), _alias(Message), _alias(Complaint)
    return or_(
        col(job.status).in_(LIVE_JOB),
        job.created_at >= since,
        job.updated_at >= since,
        select(a.id).where(a.job_id == job.id, a.updated_at >= since).exists(),
        select(m.id)
        .join(a, a.id == m.appointment_id)
        .where(a.job_id == job.id, m.created_at >= since)
        .exists(),
        select(c.id)
        .join(a, a.id == c.appointment_id)
        .where(a.job_id == job.id, c.created_at >= since)
        .exists(),
    )


def _visit_job_busy(appointment_id: Any, since: datetime) -> ColumnElement[bool]:
    j, a = _alias(RepairJob), _alias(Appointment)
    return (
        select(j.id)
        .join(a, a.job_id == j.id)
        .where(a.id == appointment_id, _job_busy(j, since))
        .exists()
    )


def _resident_job_busy(resident_id: Any, since: datetime) -> ColumnElement[bool]:
    j = _alias(RepairJob)
    return select(j.id).where(j.resident_id == resident_id, _job_busy(j, since)).exists()


def _activity_hold(appointment_id: Any, resident_id: Any, since: datetime) -> ColumnElement[bool]:
    """About a visit: its job is busy. About no visit: a job of the resident is busy."""
    return or_(
        and_(appointment_id.is_not(None), _visit_job_busy(appointment_id, since)),
        and_(
            appointment_id.is_(None),
            resident_id.is_not(None),
            _resident_job_busy(resident_id, since),
        ),
    )


def _message_goes(m: Any, since: datetime) -> ColumnElement[bool]:
    """A transcript message past its period and held by nothing."""
    return and_(
        m.created_at < since,
        ~_complaint_hold(m.appointment_id, m.resident_id),
        ~_activity_hold(m.appointment_id, m.resident_id, since),
    )


# --- each kind: its rows, what makes one a candidate, what holds it, how it goes -------

#: A rule about one row of a kind: given the row (the table, or one batch of it) and the
#: cut-off, an SQL condition.
_Rule = Callable[[Any, Cutoff], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class _Spec:
    model: Any
    candidate: _Rule
    for_complaint: _Rule | None = None
    active: _Rule | None = None


def _feedback_complaint(f: Any, _: Cutoff) -> ColumnElement[bool]:
    c = _alias(Complaint)
    return or_(
        select(c.id).where(c.feedback_id == f.id, _open(c)).exists(),
        _complaint_hold(f.appointment_id, f.resident_id),
    )


def _access_need_candidate(n: Any, cut: Cutoff) -> ColumnElement[bool]:
    r = _alias(Resident)
    withdrawn = and_(n.active.is_(False), func.coalesce(n.withdrawn_at, n.recorded_at) < cut.at)
    moved_out = select(r.id).where(r.id == n.resident_id, r.tenancy_ended_on < cut.day).exists()
    return or_(withdrawn, moved_out)


def _access_need_complaint(n: Any, _: Cutoff) -> ColumnElement[bool]:
    d = _alias(Disclosure)
    shared_on_complained_job = (
        select(d.id)
        .where(d.access_need_id == n.id, _complaint_on_job_of_visit(d.appointment_id))
        .exists()
    )
    return or_(_complaint_of_resident(n.resident_id), shared_on_complained_job)


def _access_need_still_shapes_a_visit(n: Any, _: Cutoff) -> ColumnElement[bool]:
    """A need still active, of a resident with a job not yet finished (final repairs after
    the tenancy ended): it may still shape that visit."""
    j = _alias(RepairJob)
    live = select(j.id).where(j.resident_id == n.resident_id, col(j.status).in_(LIVE_JOB))
    return and_(n.active.is_(True), live.exists())


def _conversation_keeps_a_message(c: Any, cut: Cutoff) -> ColumnElement[bool]:
    """A message of the conversation stays (by the same test as MESSAGES, so a dry run,
    which deletes no message, counts the same conversations as a real run)."""
    m = _alias(Message)
    return select(m.id).where(m.conversation_id == c.id, ~_message_goes(m, cut.at)).exists()


def _landlord_event_candidate(e: Any, cut: Cutoff) -> ColumnElement[bool]:
    d = _alias(WebhookDelivery)
    undelivered = (
        select(d.id).where(d.event_id == e.id, col(d.status).notin_(_DELIVERY_DONE)).exists()
    )
    return and_(e.occurred_at < cut.at, ~undelivered)


def _complaint_by(t: Any, _: Cutoff) -> ColumnElement[bool]:
    return _complaint_hold(t.appointment_id, t.resident_id)


def _activity_of(t: Any, cut: Cutoff) -> ColumnElement[bool]:
    return _activity_hold(t.appointment_id, t.resident_id, cut.at)


def _complaint_on_visit(t: Any, _: Cutoff) -> ColumnElement[bool]:
    return _complaint_on_job_of_visit(t.appointment_id)


def _visit_busy(t: Any, cut: Cutoff) -> ColumnElement[bool]:
    return _visit_job_busy(t.appointment_id, cut.at)


def _resident_complaint(t: Any, _: Cutoff) -> ColumnElement[bool]:
    return and_(t.resident_id.is_not(None), _complaint_of_resident(t.resident_id))


_SPECS: dict[Kind, _Spec] = {
    Kind.OUTBOX: _Spec(
        OutboxMessage,
        candidate=lambda o, cut: and_(o.created_at < cut.at, o.status.notin_(_UNSENT)),
        for_complaint=_complaint_by,
        active=_activity_of,
    ),
    Kind.MESSAGES: _Spec(
        Message,
        candidate=lambda m, cut: m.created_at < cut.at,
        for_complaint=_complaint_by,
        active=_activity_of,
    ),
    Kind.CONVERSATIONS: _Spec(
        Conversation,
        candidate=lambda c, cut: c.updated_at < cut.at,
        for_complaint=_resident_complaint,
        active=_conversation_keeps_a_message,
    ),
    Kind.VISIT_TIMELINE: _Spec(
        AppointmentEvent,
        candidate=lambda e, cut: e.at < cut.at,
        for_complaint=_complaint_on_visit,
        active=_visit_busy,
    ),
    Kind.DISCLOSURES: _Spec(
        Disclosure,
        candidate=lambda d, cut: d.shared_at < cut.at,
        for_complaint=_complaint_on_visit,
        active=_visit_busy,
    ),
    Kind.FEEDBACK: _Spec(
        Feedback,
        candidate=lambda f, cut: and_(
            f.created_at < cut.at, or_(f.comment.is_not(None), f.review_note.is_not(None))
        ),
        for_complaint=_feedback_complaint,
    ),
    Kind.COMPLAINTS: _Spec(
        Complaint,
        candidate=lambda c, cut: and_(
            c.created_at < cut.at, c.status.in_(CLOSED_COMPLAINT), c.text != ""
        ),
    ),
    Kind.STAFF_TASKS: _Spec(
        StaffTask,
        candidate=lambda t, cut: and_(
            t.status == TaskStatus.CLOSED, func.coalesce(t.closed_at, t.created_at) < cut.at
        ),
        for_complaint=_resident_complaint,
    ),
    Kind.ACCESS_NEEDS: _Spec(
        AccessNeed,
        candidate=_access_need_candidate,
        for_complaint=_access_need_complaint,
        active=_access_need_still_shapes_a_visit,
    ),
    Kind.RESIDENTS: _Spec(
        Resident,
        candidate=lambda r, cut: and_(r.anonymised_at.is_(None), r.tenancy_ended_on < cut.day),
        for_complaint=lambda r, cut: _complaint_of_resident(r.id),
        active=lambda r, cut: _resident_job_busy(r.id, cut.at),
    ),
    Kind.LINK_TOKENS: _Spec(LinkToken, candidate=lambda t, cut: t.expires_at < cut.at),
    Kind.STAFF_SESSIONS: _Spec(StaffSession, candidate=lambda s, cut: s.last_seen_at < cut.at),
    Kind.LOGIN_ATTEMPTS: _Spec(StaffLoginAttempt, candidate=lambda a, cut: a.at < cut.at),
    Kind.WEBHOOK_DELIVERIES: _Spec(
        WebhookDelivery,
        candidate=lambda d, cut: and_(
            d.status.in_(_DELIVERY_DONE), func.coalesce(d.delivered_at, d.created_at) < cut.at
        ),
    ),
    Kind.LANDLORD_EVENTS: _Spec(LandlordEvent, candidate=_landlord_event_candidate),
    Kind.AUDIT_EVENTS: _Spec(AuditEvent, candidate=lambda a, cut: a.at < cut.at),
}


def examine(session: Session, *, kind: Kind, cutoff: Cutoff, after_id: int, limit: int) -> Batch:
    """The next `limit` candidates of `kind` after `after_id`, each sorted: held for a
    complaint, held by activity, or to go. One query; changes nothing."""
    if session.get_bind().dialect.name == "postgresql":
        # Compiling the holds' many subplans to machine code costs more than running them
        # for one batch (130 ms against 60 ms measured), so not for this transaction.
        session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(_examine_statement(kind, cutoff, limit), {"after_id": after_id}).all()
    examined = tuple(int(r[0]) for r in rows)
    held_c = tuple(int(r[0]) for r in rows if r[1])
    held_a = tuple(int(r[0]) for r in rows if not r[1] and r[2])
    go = tuple(int(r[0]) for r in rows if not r[1] and not r[2])
    return Batch(examined=examined, for_complaint=held_c, active=held_a, go=go)


@lru_cache(maxsize=64)
def _examine_statement(kind: Kind, cutoff: Cutoff, limit: int) -> Any:
    """The batch first (`WHERE id > :after_id AND <candidate> ORDER BY id LIMIT n`, a
    subquery), then the holds of its rows only: PostgreSQL then checks each hold by index
    for the batch's rows, rather than working out every busy job once per batch. Built once
    per kind and cut-off: building the holds' subqueries costs more than running them."""
    spec = _SPECS[kind]
    model = spec.model
    batch = (
        select(model)
        .where(model.id > bindparam("after_id"), spec.candidate(model, cutoff))
        .order_by(model.id)
        .limit(limit)
        .subquery("batch")
    )
    row = aliased(model, batch)
    complaint = spec.for_complaint(row, cutoff) if spec.for_complaint else false()
    active = spec.active(row, cutoff) if spec.active else false()
    return select(row.id, complaint.label("complaint"), active.label("active")).order_by(row.id)


def apply(
    session: Session, *, kind: Kind, ids: Sequence[int], cutoff: Cutoff, now: datetime
) -> int:
    """Delete or anonymise these rows of `kind` (one batch's ids, all past their period and
    held by nothing), children first; how many rows of `kind` changed.

    Rows the service may touch meanwhile are locked and checked again first: an outbox row
    made pending again (an opt-in), a conversation a resident has just written to."""
    if not ids:
        return 0
    wanted = list(ids)
    match kind:
        case Kind.OUTBOX:
            wanted = _still(
                session, OutboxMessage, wanted, col(OutboxMessage.status).notin_(_UNSENT)
            )
            if not wanted:
                return 0
            session.execute(
                delete(ContactDecision).where(col(ContactDecision.outbox_id).in_(wanted))
            )
            # A kept message (a reply on record) forgets which outbox row it came from.
            session.execute(
                update(Message).where(col(Message.outbox_id).in_(wanted)).values(outbox_id=None)
            )
            return _delete(session, OutboxMessage, wanted)
        case Kind.MESSAGES:
            return _delete(session, Message, wanted)
        case Kind.CONVERSATIONS:
            wanted = _still(session, Conversation, wanted, col(Conversation.updated_at) < cutoff.at)
            if not wanted:
                return 0
            for model in (Feedback, StaffTask, OutboxMessage):
                session.execute(
                    update(model)
                    .where(col(model.conversation_id).in_(wanted))
                    .values(conversation_id=None)
                )
            # Every message left goes by the same test (a dry run deleted none of them);
            # one written since the batch was read is newer than the cut-off, and stays,
            # and so does its conversation.
            session.execute(
                delete(Message).where(
                    col(Message.conversation_id).in_(wanted), col(Message.created_at) < cutoff.at
                )
            )
            m = _alias(Message)
            emptied = ~select(m.id).where(m.conversation_id == Conversation.id).exists()
            result = session.execute(
                delete(Conversation).where(col(Conversation.id).in_(wanted), emptied)
            )
            return int(getattr(result, "rowcount", 0) or 0)
        case Kind.VISIT_TIMELINE:
            return _delete(session, AppointmentEvent, wanted)
        case Kind.DISCLOSURES:
            return _delete(session, Disclosure, wanted)
        case Kind.FEEDBACK:
            return _update(
                session,
                Feedback,
                wanted,
                comment=None,
                review_note=None,
                conversation_id=None,
            )
        case Kind.COMPLAINTS:
            return _update(session, Complaint, wanted, text="")
        case Kind.STAFF_TASKS:
            return _delete(session, StaffTask, wanted)
        case Kind.ACCESS_NEEDS:
            session.execute(delete(Disclosure).where(col(Disclosure.access_need_id).in_(wanted)))
            return _delete(session, AccessNeed, wanted)
        case Kind.RESIDENTS:
            return _anonymise_residents(session, wanted, now)
        case Kind.LINK_TOKENS:
            return _delete(session, LinkToken, wanted)
        case Kind.STAFF_SESSIONS:
            return _delete(session, StaffSession, wanted)
        case Kind.LOGIN_ATTEMPTS:
            return _delete(session, StaffLoginAttempt, wanted)
        case Kind.WEBHOOK_DELIVERIES:
            return _delete(session, WebhookDelivery, wanted)
        case Kind.LANDLORD_EVENTS:
            session.execute(
                delete(WebhookDelivery).where(col(WebhookDelivery.event_id).in_(wanted))
            )
            return _delete(session, LandlordEvent, wanted)
        case Kind.AUDIT_EVENTS:
            return _delete(session, AuditEvent, wanted)


def _still(session: Session, model: Any, ids: list[int], condition: Any) -> list[int]:
    """Those of `ids` that still meet `condition`, locked until the batch commits (on
    PostgreSQL; an SQLite batch holds the database's write lock from its start)."""
    rows = session.execute(
        select(model.id).where(col(model.id).in_(ids), condition).with_for_update()
    ).all()
    return sorted(int(r[0]) for r in rows)


def _delete(session: Session, model: Any, ids: list[int]) -> int:
    result = session.execute(delete(model).where(col(model.id).in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)


def _update(session: Session, model: Any, ids: list[int], **values: Any) -> int:
    result = session.execute(update(model).where(col(model.id).in_(ids)).values(**values))
    return int(getattr(result, "rowcount", 0) or 0)


def _anonymise_residents(session: Session, ids: list[int], now: datetime) -> int:
    """Blank what identifies each resident; keep the id (jobs, visits, feedback and counts
    refer to it), the landlord's reference, home, language and opt-out times. An opt-out
    outlives the number: it is kept as a hash in contact_suppressions first."""
    rows = session.execute(
        select(
            col(Resident.mobile),
            col(Resident.sms_opted_out_at),
            col(Resident.telegram_id),
            col(Resident.telegram_opted_out_at),
        ).where(col(Resident.id).in_(ids))
    ).all()
    for mobile, sms_out, telegram_id, telegram_out in rows:
        if mobile and sms_out is not None:
            suppressions.suppress(
                session, channel=Channel.SMS, address=mobile, opted_out_at=sms_out, now=now
            )
        if telegram_id is not None and telegram_out is not None:
            suppressions.suppress(
                session,
                channel=Channel.TELEGRAM,
                address=str(telegram_id),
                opted_out_at=telegram_out,
                now=now,
            )
    return _update(
        session,
        Resident,
        ids,
        name="",
        mobile=None,
        telegram_id=None,
        nominee_name=None,
        nominee_phone=None,
        nominee_relationship=None,
        door_password_hash=None,
        contact_hours={},
        anonymised_at=now,
        updated_at=now,
    )


def record_run(
    session: Session, *, at: datetime, actor: str, action: str, detail: dict[str, Any]
) -> None:
    """The audit trail of a run: its figures (kinds and counts, never personal data)."""
    session.add(
        AuditEvent(
            at=at,
            actor=actor,
            action=action,
            subject_type="retention",
            subject_id=None,
            detail=detail,
        )
    )
