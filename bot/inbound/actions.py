"""Apply the domain actions a flow step asked for, inside the step's transaction.

Each returns outcomes the flow may need on its follow-up step (the new appointment's
id, whether the window was taken meanwhile). Changing or cancelling a visit bumps its
version and voids every pending outbox message for the old version, so a reminder for
the old time can never go out.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from flows.access import REVIEW_AFTER
from flows.actions import Do
from flows.codes import new_visit_code
from flows.door import MAX_WRONG_CODES
from flows.messages import Action
from flows.windows import VisitWindow, window_named
from storage.enums import (
    AccessNeedCategory,
    AppointmentStatus,
    Channel,
    Decision,
    JobPriority,
    JobStatus,
    OutboxStatus,
    TaskKind,
)
from storage.models import (
    AccessNeed,
    Appointment,
    AppointmentEvent,
    Availability,
    Complaint,
    ContactDecision,
    Conversation,
    Feedback,
    Operative,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffTask,
)
from storage.repositories.booking import (
    SlotTaken,
    book_appointment,
    claim_capacity,
    release_capacity,
)
from storage.repositories.outbox import enqueue

log = logging.getLogger(__name__)
FEEDBACK_FIELDS = ("rating", "showed_id", "asked_before_facilities", "left_tidy", "respectful")


@dataclass
class ActionContext:
    session: Session
    resident: Resident | None
    conversation: Conversation
    now: datetime
    zone: ZoneInfo
    windows: tuple[VisitWindow, ...]
    rng: random.Random
    channel: Channel


def apply_actions(actions: tuple[Action, ...], ctx: ActionContext) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    for action in actions:
        handler = _HANDLERS.get(action.kind)
        if handler is None:
            log.warning("flow asked for an unknown action %r; ignored", action.kind)
            continue
        outcomes.update(handler(action.data, ctx) or {})
    return outcomes


def _resident_id(ctx: ActionContext) -> int:
    assert ctx.resident is not None
    assert ctx.resident.id is not None
    return ctx.resident.id


def _owned_appointment(ctx: ActionContext, appointment_id: object) -> Appointment | None:
    """The resident's own appointment, or None: a flow can never touch someone else's."""
    if appointment_id is None:
        return None
    appointment = ctx.session.get(Appointment, int(str(appointment_id)))
    if appointment is None:
        return None
    job = ctx.session.get(RepairJob, appointment.job_id)
    if job is None or job.resident_id != _resident_id(ctx):
        return None
    return appointment


def _pick_availability(
    ctx: ActionContext, *, trade: str, day: date, window: str
) -> list[Availability]:
    rows = ctx.session.exec(
        select(Availability)
        .where(
            Availability.day == day,
            Availability.window == window,
            col(Availability.booked) < col(Availability.capacity),
        )
        .order_by(col(Availability.booked), col(Availability.id))
    ).all()
    result = []
    for row in rows:
        operative = ctx.session.get(Operative, row.operative_id)
        if operative is not None and operative.active and trade in operative.trades:
            result.append(row)
    return result


def _book(data: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
    job = ctx.session.get(RepairJob, int(data["job_id"]))
    if job is None or job.resident_id != _resident_id(ctx) or job.status != JobStatus.OPEN:
        return {"taken": True}
    day, window = date.fromisoformat(str(data["day"])), str(data["window"])
    start, end = window_named(window, ctx.windows).bounds(day, ctx.zone)
    for availability in _pick_availability(ctx, trade=str(job.trade), day=day, window=window):
        try:
            appointment = book_appointment(
                ctx.session,
                job=job,
                availability=availability,
                starts_at=start,
                ends_at=end,
                visit_code=new_visit_code(ctx.rng),
                now=ctx.now,
            )
        except SlotTaken:
            continue  # another resident took it between our read and our update
        assert appointment.id is not None
        _event(ctx, appointment.id, "booked", {"window": f"{day} {window}"}, actor="resident")
        return {"booked": appointment.id}
    return {"taken": True}


def _changeable(appointment: Appointment, data: Mapping[str, Any]) -> bool:
    """Still booked and at the version the resident saw: a visit that was done or called off
    since is history, and moving or cancelling it would reopen a finished repair."""
    return appointment.status == AppointmentStatus.BOOKED and appointment.version == int(
        data["version"]
    )


def _rebook(data: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
    appointment = _owned_appointment(ctx, data.get("appointment_id"))
    if appointment is None or not _changeable(appointment, data):
        return {"taken": True}
    job = ctx.session.get(RepairJob, appointment.job_id)
    assert job is not None
    day, window = date.fromisoformat(str(data["day"])), str(data["window"])
    start, end = window_named(window, ctx.windows).bounds(day, ctx.zone)
    for availability in _pick_availability(ctx, trade=str(job.trade), day=day, window=window):
        assert availability.id is not None
        if not claim_capacity(ctx.session, availability_id=availability.id):
            continue
        old = f"{appointment.day} {appointment.window}"
        if appointment.availability_id is not None:
            release_capacity(ctx.session, availability_id=appointment.availability_id)
        appointment.availability_id = availability.id
        appointment.operative_id = availability.operative_id
        appointment.day, appointment.window = day, window
        appointment.starts_at, appointment.ends_at = start, end
        appointment.visit_code = new_visit_code(ctx.rng)
        appointment.code_attempts = 0
        appointment.code_locked_at = None
        _bump(ctx, appointment, "rebooked", {"from": old, "to": f"{day} {window}"})
        return {"booked": appointment.id}
    return {"taken": True}


def _cancel(data: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
    appointment = _owned_appointment(ctx, data.get("appointment_id"))
    if appointment is None or not _changeable(appointment, data):
        return {"cancelled": False}
    if appointment.availability_id is not None:
        release_capacity(ctx.session, availability_id=appointment.availability_id)
    appointment.status = AppointmentStatus.CANCELLED
    job = ctx.session.get(RepairJob, appointment.job_id)
    if job is not None:
        job.status = JobStatus.OPEN
        job.history = [*job.history, {"at": ctx.now.isoformat(), "event": "visit cancelled"}]
        ctx.session.add(job)
    _bump(ctx, appointment, "cancelled", {})
    return {"cancelled": True}


def _bump(ctx: ActionContext, appointment: Appointment, kind: str, data: dict[str, Any]) -> None:
    """A new version: every pending message about the old one is void, with the reason kept."""
    assert appointment.id is not None
    old_version = appointment.version
    appointment.version += 1
    appointment.updated_at = ctx.now
    ctx.session.add(appointment)
    stale = ctx.session.exec(
        select(OutboxMessage).where(
            OutboxMessage.appointment_id == appointment.id,
            OutboxMessage.appointment_version == old_version,
            col(OutboxMessage.status).in_([OutboxStatus.PENDING]),
        )
    ).all()
    for row in stale:
        assert row.id is not None
        row.status = OutboxStatus.EXPIRED
        ctx.session.add(row)
        ctx.session.add(
            ContactDecision(
                outbox_id=row.id,
                decision=Decision.EXPIRE,
                reason_code="stale_version",
                detail=f"appointment {kind}: version {old_version} replaced",
                at=ctx.now,
            )
        )
    _event(ctx, appointment.id, kind, {**data, "version": appointment.version}, actor="resident")


def _event(
    ctx: ActionContext, appointment_id: int, kind: str, data: Mapping[str, Any], actor: str
) -> None:
    ctx.session.add(
        AppointmentEvent(
            appointment_id=appointment_id, kind=kind, at=ctx.now, actor=actor, data=dict(data)
        )
    )


def _record_need(data: Mapping[str, Any], ctx: ActionContext) -> None:
    resident_id = _resident_id(ctx)
    if data.get("replace_all"):
        ctx.session.execute(
            update(AccessNeed)
            .where(col(AccessNeed.resident_id) == resident_id, col(AccessNeed.active).is_(True))
            .values(active=False)
        )
    category = str(data.get("category") or "other")
    if category not in AccessNeedCategory.__members__.values():
        category = "other"
    ctx.session.add(
        AccessNeed(
            resident_id=resident_id,
            category=AccessNeedCategory(category),
            own_words=str(data.get("own_words", ""))[:1000],
            consent_to_share=bool(data.get("consent")),
            recorded_at=ctx.now,
            review_by=(ctx.now.astimezone(ctx.zone).date() + REVIEW_AFTER),
            source=f"resident ({ctx.channel.value})",
        )
    )


def _confirm_needs(data: Mapping[str, Any], ctx: ActionContext) -> None:
    review = ctx.now.astimezone(ctx.zone).date() + REVIEW_AFTER
    ctx.session.execute(
        update(AccessNeed)
        .where(col(AccessNeed.resident_id) == _resident_id(ctx), col(AccessNeed.active).is_(True))
        .values(review_by=review)
    )


def _opt(data: Mapping[str, Any], ctx: ActionContext, *, out: bool) -> None:
    resident = ctx.resident
    assert resident is not None
    when = ctx.now if out else None
    if data.get("channel") == "telegram":
        resident.telegram_opted_out_at = when
    else:
        resident.sms_opted_out_at = when
    ctx.session.add(resident)


def _task(data: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
    appointment_id = data.get("appointment_id")
    if appointment_id is not None and _owned_appointment(ctx, appointment_id) is None:
        appointment_id = None
    task = StaffTask(
        kind=TaskKind(str(data.get("kind", "alert"))),
        urgent=bool(data.get("urgent")),
        summary=str(data.get("summary", ""))[:1000],
        resident_id=ctx.resident.id if ctx.resident else None,
        appointment_id=appointment_id,
        conversation_id=ctx.conversation.id,
        created_at=ctx.now,
    )
    ctx.session.add(task)
    ctx.session.flush()
    return {"task_id": task.id}


def _appointment_event(data: Mapping[str, Any], ctx: ActionContext) -> None:
    appointment = _owned_appointment(ctx, data.get("appointment_id"))
    if appointment is not None and appointment.id is not None:
        _event(ctx, appointment.id, str(data["kind"]), data.get("data") or {}, actor="resident")


def _code_attempt(data: Mapping[str, Any], ctx: ActionContext) -> None:
    appointment = _owned_appointment(ctx, data.get("appointment_id"))
    if appointment is None or appointment.id is None:
        return
    appointment.code_attempts += 1
    if appointment.code_attempts >= MAX_WRONG_CODES and appointment.code_locked_at is None:
        appointment.code_locked_at = ctx.now
    ctx.session.add(appointment)
    _event(
        ctx,
        appointment.id,
        "door_check",
        {"matched": False, "attempt": appointment.code_attempts},
        actor="resident",
    )


def _repair_request(data: Mapping[str, Any], ctx: ActionContext) -> None:
    resident = ctx.resident
    if resident is None or resident.property_id is None:
        return
    priority = JobPriority(str(data.get("priority", "routine")))
    count = len(ctx.session.exec(select(RepairJob.id)).all())
    ctx.session.add(
        RepairJob(
            reference=f"RQ-{ctx.now:%y%m%d}-{count + 1}",
            property_id=resident.property_id,
            resident_id=resident.id,
            description=str(data.get("description", ""))[:2000],
            priority=priority,
            status=JobStatus.TRIAGE,
            history=[{"at": ctx.now.isoformat(), "event": "reported by text", "by": "resident"}],
            created_at=ctx.now,
        )
    )
    if priority != JobPriority.EMERGENCY:
        _task(
            {"kind": "triage", "summary": f"New repair reported: {data.get('description', '')}"},
            ctx,
        )


def _feedback(data: Mapping[str, Any], ctx: ActionContext) -> None:
    appointment = _owned_appointment(ctx, data.get("appointment_id"))
    if appointment is None or appointment.id is None:
        return
    row = ctx.session.exec(
        select(Feedback).where(Feedback.appointment_id == appointment.id)
    ).first()
    if row is None:
        row = Feedback(
            appointment_id=appointment.id,
            resident_id=_resident_id(ctx),
            conversation_id=ctx.conversation.id,
            created_at=ctx.now,
        )
    if row.completed_at is not None:
        return  # once per visit
    for name in FEEDBACK_FIELDS:
        if name in data:
            setattr(row, name, data[name])
    if "comment" in data:
        row.comment = data["comment"]
    if data.get("flagged"):
        row.flagged = True
    if data.get("complete"):
        row.completed_at = ctx.now
    ctx.session.add(row)


def _complaint(data: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
    appointment = _owned_appointment(ctx, data.get("appointment_id"))
    respond_by = date.fromisoformat(str(data["respond_by"]))
    complaint = Complaint(
        resident_id=_resident_id(ctx),
        appointment_id=appointment.id if appointment else None,
        text=str(data.get("text", ""))[:5000],
        created_at=ctx.now,
        respond_by=datetime.combine(respond_by, datetime.min.time(), tzinfo=ctx.zone)
        + timedelta(hours=17),
    )
    ctx.session.add(complaint)
    ctx.session.flush()
    _task(
        {"kind": "alert", "summary": f"Formal complaint C{complaint.id} logged", "urgent": False},
        ctx,
    )
    return {"complaint_id": complaint.id}


def _pause(data: Mapping[str, Any], ctx: ActionContext) -> None:
    ctx.conversation.paused = True
    ctx.session.add(ctx.conversation)


def _notify(data: Mapping[str, Any], ctx: ActionContext) -> None:
    """A message to this resident on another channel; it goes through the outbox and policy."""
    resident = ctx.resident
    if resident is None or resident.id is None:
        return
    channel = Channel(str(data.get("channel", "sms")))
    address = str(resident.telegram_id) if channel == Channel.TELEGRAM else resident.mobile
    if not address:
        return
    _outbox(
        ctx,
        kind=str(data.get("kind", "notice")),
        purpose="conversation",
        channel=channel,
        address=address,
        text=str(data["text"]),
        key=f"{data.get('kind', 'notice')}:{ctx.conversation.id}:{ctx.now.isoformat()}",
    )


def _notify_nominee(data: Mapping[str, Any], ctx: ActionContext) -> None:
    resident = ctx.resident
    appointment = _owned_appointment(ctx, data.get("appointment_id"))
    if resident is None or appointment is None or not resident.nominee_phone:
        return
    _outbox(
        ctx,
        kind="nominee_copy",
        purpose="appointment",
        channel=Channel.SMS,
        address=resident.nominee_phone,
        text=str(data["text"]),
        key=f"{appointment.id}:{appointment.version}:nominee_copy",
        appointment=appointment,
    )


def _outbox(
    ctx: ActionContext,
    *,
    kind: str,
    purpose: str,
    channel: Channel,
    address: str,
    text: str,
    key: str,
    appointment: Appointment | None = None,
) -> None:
    enqueue(
        ctx.session,
        key=key,
        kind=kind,
        purpose=purpose,
        text=text,
        not_before=ctx.now,
        now=ctx.now,
        channel=channel,
        address=address,
        resident_id=ctx.resident.id if ctx.resident else None,
        appointment_id=appointment.id if appointment else None,
        appointment_version=appointment.version if appointment else None,
        conversation_id=ctx.conversation.id,
        expires_at=appointment.ends_at if appointment else ctx.now + timedelta(days=2),
    )


_HANDLERS: dict[str, Any] = {
    Do.BOOK: _book,
    Do.REBOOK: _rebook,
    Do.CANCEL: _cancel,
    Do.RECORD_NEED: _record_need,
    Do.CONFIRM_NEEDS: _confirm_needs,
    Do.OPT_OUT: lambda d, c: _opt(d, c, out=True),
    Do.OPT_IN: lambda d, c: _opt(d, c, out=False),
    Do.TASK: _task,
    Do.EVENT: _appointment_event,
    Do.CODE_ATTEMPT: _code_attempt,
    Do.REPAIR_REQUEST: _repair_request,
    Do.FEEDBACK: _feedback,
    Do.COMPLAINT: _complaint,
    Do.PAUSE: _pause,
    Do.NOTIFY: _notify,
    Do.NOTIFY_NOMINEE: _notify_nominee,
}
