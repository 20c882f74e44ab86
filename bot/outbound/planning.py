"""The planner's database side: load live visits, enqueue what they need, judge it once.

`plan` runs on the scheduler's leader every minute or so. It reads each live appointment
as it stands, asks the pure planner (flows.planner) what that visit needs, and enqueues
each message under its (appointment, version, kind) key, so a second run adds nothing.
New rows are judged by the contact policy straight away and the decision is recorded:
a reminder planned for a Sunday is deferred on the spot (and shows why in the outbox),
one for a resident who opted out is blocked before it is ever due. The dispatcher
judges every row again at the moment of sending.

A pass lists the live visits once (`visits.live_visits`: ids, residents, statuses and
starts, read through indexes bounded by the live window, so a pass costs what is live,
not the years of history behind it) and works out each resident's next visit from that
list. The visits are then planned a chunk at a time by id (an IN of at most the chunk's
ids), each chunk in its own transaction; the keys the chunk's visits have in the outbox
already are read first, so their texts are not written again (`flows.planner.plan_new`).
On PostgreSQL the chunk's appointments are locked with SKIP LOCKED, so a resident
changing a visit at that moment is planned on the next run, never for the version they
just replaced.

`on_sent` is the dispatcher's hook for messages that start something in the resident's
conversation: the feedback request opens the feedback flow, a reminder or disruption
notice makes "1" mean "change this visit".
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from bot.outbound import invitations
from bot.outbound.policy_inputs import PolicyInputs, route
from flows import feedback
from flows.engine import IDLE_FLOW, START_STATE
from flows.local_time import LONDON
from flows.planner import (
    PlannedMessage,
    VisitEvent,
    VisitFacts,
    plan_new,
)
from flows.policy import Verdict
from flows.windows import format_day, format_visit, window_named, windows_from_config
from storage.db import Database
from storage.enums import AppointmentStatus, Channel, Decision, OutboxStatus
from storage.models import (
    Appointment,
    Contractor,
    Conversation,
    Landlord,
    Operative,
    OutboxMessage,
    RepairJob,
    Resident,
)
from storage.repositories import contact_policy, conversations, outbox, visits
from storage.repositories._batch import columns_with_ids, with_ids
from storage.repositories.conversations import lock_conversation

log = logging.getLogger(__name__)

CHUNK = 500
#: Status news (running late, can't get in) can be worth sending a few hours after the window.
BOOKED_LOOKBACK = timedelta(hours=6)
FEEDBACK_LOOKBACK = feedback.WINDOW
CANCELLED_LOOKBACK = timedelta(days=2)
_STATUS_FOR = {
    Decision.DEFER: OutboxStatus.PENDING,
    Decision.SEND: OutboxStatus.PENDING,
    Decision.EXPIRE: OutboxStatus.EXPIRED,
    Decision.BLOCK: OutboxStatus.BLOCKED,
}


@dataclass
class PlanStats:
    """What one planning run did; `queued` counts new rows the policy allows now."""

    appointments: int = 0
    planned: int = 0
    already_planned: int = 0
    queued: int = 0
    deferred: int = 0
    expired: int = 0
    blocked: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def count(self, verdict: Verdict) -> None:
        name = {
            Decision.SEND: "queued",
            Decision.DEFER: "deferred",
            Decision.EXPIRE: "expired",
            Decision.BLOCK: "blocked",
        }[verdict.decision]
        setattr(self, name, getattr(self, name) + 1)
        reason = str(verdict.reason)
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1


def plan(db: Database, *, now: datetime, zone: ZoneInfo = LONDON, chunk: int = CHUNK) -> PlanStats:
    """Plan every live appointment's messages; safe to run as often as you like."""
    stats = PlanStats()
    with db.session() as session:
        live = _live_visits(session, now=now)
    # Each resident's next visit and each visit's resident, from the one list: a booked
    # visit still to start is live, so no chunk reads the booked visits again.
    next_visit = _earliest_booked(live, now=now)
    resident_of = {v.appointment_id: v.resident_id for v in live if v.resident_id is not None}
    for start in range(0, len(live), chunk):
        ids = [v.appointment_id for v in live[start : start + chunk]]
        with db.session() as session:
            appointments = visits.lock_chunk(session, ids=ids)
            stats.appointments += len(appointments)
            facts = load_facts(session, appointments, now=now, zone=zone, next_visits=next_visit)
            # What these visits have in the outbox already is not worded again.
            planned = outbox.keys_of_visits(session, appointment_ids=ids)
            wanted = []
            for f in facts:
                messages, known = plan_new(f, now=now, zone=zone, planned=planned)
                wanted.extend(messages)
                stats.already_planned += known
            enqueue_planned(
                session, wanted, now=now, zone=zone, stats=stats, resident_of=resident_of
            )
    # Jobs from the landlord's systems with no visit booked: invite, follow up, list.
    judge = partial(judge_new_rows, now=now, zone=zone, stats=stats)
    invitations.plan_invitations(db, now=now, judge=judge, chunk=chunk)
    if stats.planned:
        log.info(
            "planned appointments=%d new=%d queued=%d deferred=%d expired=%d blocked=%d",
            stats.appointments,
            stats.planned,
            stats.queued,
            stats.deferred,
            stats.expired,
            stats.blocked,
        )
    return stats


def _live_visits(session: Session, *, now: datetime) -> list[visits.LiveVisit]:
    return visits.live_visits(
        session,
        now=now,
        booked_lookback=BOOKED_LOOKBACK,
        feedback_lookback=FEEDBACK_LOOKBACK,
        cancelled_lookback=CANCELLED_LOOKBACK,
    )


def _earliest_booked(live: Iterable[visits.LiveVisit], *, now: datetime) -> dict[int, int]:
    """Each resident's earliest booked visit still to start, among the live visits."""
    result: dict[int, tuple[datetime, int]] = {}
    for visit in live:
        if (
            visit.resident_id is None
            or visit.status != AppointmentStatus.BOOKED
            or visit.starts_at <= now
        ):
            continue
        known = result.get(visit.resident_id)
        if known is None or (visit.starts_at, visit.appointment_id) < known:
            result[visit.resident_id] = (visit.starts_at, visit.appointment_id)
    return {resident_id: pair[1] for resident_id, pair in result.items()}


def load_facts(
    session: Session,
    appointments: Sequence[Appointment],
    *,
    now: datetime,
    zone: ZoneInfo,
    next_visits: Mapping[int, int] | None = None,
) -> list[VisitFacts]:
    """The planner's view of a batch of appointments, in a fixed number of queries.

    `next_visits` (resident -> their earliest booked visit still to start) when the
    caller knows it already (a planning pass); otherwise it is read for the batch."""
    ids = [a.id for a in appointments if a.id is not None]
    # Just the columns a visit's facts use, as plain rows: ORM objects with every column
    # (JSON and dates decoded) were most of a planning pass.
    jobs = columns_with_ids(
        session, RepairJob, {a.job_id for a in appointments}, "resident_id", "description"
    )
    resident_ids = {j.resident_id for j in jobs.values() if j.resident_id is not None}
    residents = columns_with_ids(session, Resident, resident_ids, "name", "landlord_id")
    operatives = columns_with_ids(
        session,
        Operative,
        {a.operative_id for a in appointments},
        "name",
        "badge_number",
        "contractor_id",
    )
    employers = columns_with_ids(
        session, Contractor, {o.contractor_id for o in operatives.values()}, "name"
    )
    landlords = with_ids(session, Landlord, {r.landlord_id for r in residents.values()})
    events: dict[int, list[VisitEvent]] = defaultdict(list)
    for event in visits.events(session, appointment_ids=ids):
        assert event.id is not None
        events[event.appointment_id].append(
            VisitEvent(event.id, event.kind, event.at, event.actor, dict(event.data))
        )
    reviews: dict[int, list[date]] = defaultdict(list)
    for resident_id, review_by in visits.access_reviews(session, resident_ids=resident_ids):
        reviews[resident_id].append(review_by)
    given = contact_policy.feedback_given(session, appointment_ids=ids)
    next_visit = (
        next_visits if next_visits is not None else _next_visits(session, resident_ids, now=now)
    )
    facts = []
    for appointment in appointments:
        job = jobs.get(appointment.job_id)
        resident = residents.get(job.resident_id) if job and job.resident_id else None
        if resident is None or appointment.id is None:
            continue  # a visit with nobody to tell
        operative = operatives.get(appointment.operative_id)
        employer = employers.get(operative.contractor_id) if operative else None
        landlord = landlords.get(resident.landlord_id)
        facts.append(
            VisitFacts(
                appointment_id=appointment.id,
                version=appointment.version,
                status=AppointmentStatus(appointment.status),
                day=appointment.day,
                label=visit_label(appointment, landlord),
                starts_at=appointment.starts_at,
                ends_at=appointment.ends_at,
                created_at=appointment.created_at,
                resident_first_name=resident.name.split()[0] if resident.name else "there",
                operative_name=operative.name if operative else "Your operative",
                visit_code=appointment.visit_code,
                events=tuple(events.get(appointment.id, ())),
                review_dates=tuple(reviews.get(resident.id or -1, ())),
                is_next_visit=next_visit.get(resident.id or -1) == appointment.id,
                feedback_given=appointment.id in given,
                operative_employer=employer.name if employer else "",
                operative_badge=operative.badge_number if operative else "",
                job_description=job.description if job else "",
                job_id=job.id if job else None,
            )
        )
    return facts


def visit_label(appointment: Appointment, landlord: Landlord | None) -> str:
    """How residents see the visit, with the landlord's own windows where configured."""
    try:
        windows = windows_from_config(landlord.visit_windows if landlord else None)
        return format_visit(appointment.day, window_named(appointment.window, windows))
    except (KeyError, ValueError):
        return f"{format_day(appointment.day)}, {appointment.window}"


def _next_visits(session: Session, resident_ids: Iterable[int], *, now: datetime) -> dict[int, int]:
    """Each resident's earliest booked visit still to start."""
    return visits.next_booked(session, resident_ids=list(resident_ids), now=now)


def enqueue_planned(
    session: Session,
    messages: Sequence[PlannedMessage],
    *,
    now: datetime,
    zone: ZoneInfo,
    stats: PlanStats,
    resident_of: Mapping[int, int] | None = None,
) -> list[tuple[OutboxMessage, Verdict]]:
    """Enqueue the messages not yet in the outbox and judge each new row once.

    Returns the new rows with their verdicts (broadcasts show them). Rows already in the
    outbox, whatever their state, are left alone: that is what makes re-planning safe.
    """
    if not messages:
        return []
    existing = outbox.existing_keys(session, keys=[m.key for m in messages])
    residents = resident_of or visits.residents_of(
        session, appointment_ids={m.appointment_id for m in messages}
    )
    fresh: dict[str, dict[str, Any]] = {}
    for message in messages:
        if message.key in existing or message.key in fresh:
            stats.already_planned += 1
            continue
        resident_id = residents.get(message.appointment_id)
        if resident_id is not None:
            fresh[message.key] = _outbox_values(message, resident_id=resident_id, now=now)
    if not fresh:
        return []
    # One multi-row INSERT ... ON CONFLICT DO NOTHING for the batch.
    new_ids = outbox.insert_many(session, rows=list(fresh.values()))
    stats.already_planned += len(fresh) - len(new_ids)  # planned by someone else meanwhile
    return judge_new_rows(session, new_ids, now=now, zone=zone, stats=stats)


def _outbox_values(message: PlannedMessage, *, resident_id: int, now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": message.key,
        "kind": message.kind,
        "purpose": message.purpose,
        "text": message.text,
        "not_before": message.not_before,
        "created_at": now,
        "channel": None,  # the dispatcher routes: the resident's channel, SMS as fall-back
        "address": None,
        "resident_id": resident_id,
        "operative_id": None,
        "appointment_id": message.appointment_id,
        "appointment_version": message.appointment_version,
        "conversation_id": None,
        "expires_at": message.expires_at,
        "time_critical": message.time_critical,
        "payload": dict(message.payload),
        "status": "pending",
        "attempts": 0,
    }


def judge_new_rows(
    session: Session, row_ids: Sequence[int], *, now: datetime, zone: ZoneInfo, stats: PlanStats
) -> list[tuple[OutboxMessage, Verdict]]:
    """The policy's verdict on freshly planned rows, recorded as each row's first decision."""
    if not row_ids:
        return []
    rows = outbox.rows_by_id(session, ids=row_ids)
    inputs = PolicyInputs.load(session, rows, now, zone=zone)
    judged = []
    for row in rows:
        channel, address = route(row, inputs.residents.get(row.resident_id or -1))
        verdict = inputs.verdict(row, channel, address)
        stats.planned += 1
        stats.count(verdict)
        judged.append((row, verdict))
    settle_at_plan(session, judged, now=now)
    return judged


def settle_at_plan(
    session: Session, judged: Sequence[tuple[OutboxMessage, Verdict]], *, now: datetime
) -> None:
    """Record the plan-time decisions: deferred rows move, expired and blocked ones stop.

    Two executemany statements rather than ORM objects (`outbox.settle_at_plan`): at
    50,000 visits the per-object cost dominated planning.
    """
    if not judged:
        return
    changes, records = [], []
    for row, verdict in judged:
        assert row.id is not None
        decision = Decision(verdict.decision)
        # Keep the loaded rows true to the database without making them dirty (the
        # UPDATE below writes them; a flush at commit would write them again).
        set_committed_value(row, "status", _STATUS_FOR[decision])
        if decision == Decision.DEFER:
            set_committed_value(row, "not_before", verdict.at)
        changes.append(
            {"row_id": row.id, "new_status": row.status.value, "new_not_before": row.not_before}
        )
        records.append(
            {
                "outbox_id": row.id,
                "decision": decision.value,
                "reason_code": str(verdict.reason),
                "detail": f"at plan time: {verdict.detail}" if verdict.detail else "at plan time",
                "at": now,
            }
        )
    outbox.settle_at_plan(session, changes=changes, decisions=records)


# -- after a message is sent ----------------------------------------------------------------


def on_sent(session: Session, row: OutboxMessage, now: datetime) -> None:
    """Let the resident's next message answer what was just sent.

    Called by the dispatcher in the transaction that records the send, so the
    conversation changes if and only if the message went. A feedback request opens the
    feedback flow at its first question (the message is that question); a message with
    a `menu` makes the resident's bare "1" mean what the message said. A resident in the
    middle of another flow (booking, say) is not interrupted; they can still ask for
    feedback or change the visit in words.
    """
    payload = row.payload or {}
    if row.resident_id is None or not ("start_flow" in payload or "menu" in payload):
        return
    for conversation in _conversations(session, row, now):
        busy = (
            conversation.flow != IDLE_FLOW
            and conversation.expires_at is not None
            and conversation.expires_at > now
        )
        if busy:
            log.info(
                "conversation busy; not redirected outbox_id=%s flow=%s", row.id, conversation.flow
            )
            continue
        if payload.get("start_flow") == "feedback" and payload.get("appointment_id") is not None:
            state = feedback.FLOW.enter(now, appointment_id=int(payload["appointment_id"]))
            conversation.flow, conversation.state = state.flow, state.state
            conversation.data, conversation.expires_at = dict(state.data), state.expires_at
        elif isinstance(payload.get("menu"), list):
            conversation.flow, conversation.state = IDLE_FLOW, START_STATE
            conversation.data, conversation.expires_at = {"menu": payload["menu"]}, None
        # updated_at is left alone: it tells the policy when the resident last wrote.
        session.add(conversation)


def _conversations(session: Session, row: OutboxMessage, now: datetime) -> list[Conversation]:
    """Every conversation the resident has (SMS, Telegram, the simulator), or a new one
    on the channel the message went out on."""
    assert row.resident_id is not None
    found = conversations.of_resident(session, resident_id=row.resident_id, lock=True)
    if found or row.channel is None or not row.address:
        return found
    return [
        lock_conversation(
            session,
            channel=Channel(row.channel),
            address=row.address,
            resident_id=row.resident_id,
            now=now,
        )
    ]
