"""Apply the domain actions a flow step asked for, inside the step's transaction.

`apply_actions` dispatches on the action's type (flows/actions.py) and returns the
outcomes the flow may need on its follow-up step (the new appointment's id, whether the
window was taken meanwhile). The statements live in storage/repositories. Changing or
cancelling a visit bumps its version and voids every pending outbox message for the old
version, so a reminder for the old time can never go out.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, assert_never
from zoneinfo import ZoneInfo

from sqlmodel import Session

from flows.access import REVIEW_AFTER
from flows.actions import (
    Action,
    BookVisit,
    CancelVisit,
    ConfirmAccessNeeds,
    HandToPerson,
    LogComplaint,
    MoveVisit,
    NotifyNominee,
    NotifyOtherChannel,
    OptIn,
    OptOut,
    Outcomes,
    RaiseTask,
    RecordAccessNeed,
    RecordVisitEvent,
    ReportRepair,
    SaveFeedback,
    SetLanguage,
    ShareNeeds,
    WrongDoorCode,
)
from flows.codes import new_visit_code
from flows.door import MAX_WRONG_CODES
from flows.windows import VisitWindow, window_named
from storage.enums import (
    AccessNeedCategory,
    AppointmentStatus,
    Channel,
    JobPriority,
    JobStatus,
    TaskKind,
)
from storage.models import (
    Appointment,
    AppointmentEvent,
    Availability,
    Complaint,
    Conversation,
    Feedback,
    Operative,
    RepairJob,
    Resident,
    StaffTask,
)
from storage.repositories import landlord_events, reachability
from storage.repositories.appointments import bump_version
from storage.repositories.booking import (
    SlotTaken,
    book_appointment,
    claim_capacity,
    open_availability,
    release_capacity,
)
from storage.repositories.outbox import enqueue
from storage.repositories.resident_records import (
    feedback_for_visit,
    record_need,
    repair_job_count,
    review_active_needs_by,
    set_language,
    share_active_needs,
)

log = logging.getLogger(__name__)


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


def apply_actions(actions: tuple[Action, ...], ctx: ActionContext) -> Outcomes:
    """Apply each action in order; later outcomes of the same name win."""
    outcomes = Outcomes()
    for action in actions:
        outcomes = _apply(action, ctx, outcomes)
    return outcomes


def _apply(action: Action, ctx: ActionContext, outcomes: Outcomes) -> Outcomes:
    match action:
        case BookVisit():
            return _booked(outcomes, _book(action, ctx))
        case MoveVisit():
            return _booked(outcomes, _rebook(action, ctx))
        case CancelVisit():
            return replace(outcomes, cancelled=_cancel(action, ctx))
        case RecordAccessNeed():
            _record_need(action, ctx)
        case ConfirmAccessNeeds():
            _confirm_needs(ctx)
        case ShareNeeds():
            share_active_needs(ctx.session, resident_id=_resident_id(ctx), consent=action.consent)
        case SetLanguage():
            set_language(
                ctx.session, resident_id=_resident_id(ctx), language=action.language, at=ctx.now
            )
        case OptOut():
            _opt(action.channel, ctx, out=True)
        case OptIn():
            _opt(action.channel, ctx, out=False)
        case RaiseTask():
            return replace(outcomes, task_id=_task(action, ctx))
        case RecordVisitEvent():
            _appointment_event(action, ctx)
        case WrongDoorCode():
            _code_attempt(action, ctx)
        case ReportRepair():
            task_id = _repair_request(action, ctx)
            return replace(outcomes, task_id=task_id) if task_id is not None else outcomes
        case SaveFeedback():
            _feedback(action, ctx)
        case LogComplaint():
            complaint, task_id = _complaint(action, ctx)
            return replace(
                outcomes,
                complaint_id=complaint.id,
                complaint_reference=complaint.reference,
                task_id=task_id,
            )
        case HandToPerson():
            _pause(ctx)
        case NotifyOtherChannel():
            _notify(action, ctx)
        case NotifyNominee():
            _notify_nominee(action, ctx)
        case _:
            assert_never(action)
    return outcomes


def _booked(outcomes: Outcomes, appointment_id: int | None) -> Outcomes:
    if appointment_id is None:
        return replace(outcomes, taken=True)
    return replace(outcomes, booked=appointment_id)


def _resident_id(ctx: ActionContext) -> int:
    assert ctx.resident is not None
    assert ctx.resident.id is not None
    return ctx.resident.id


def _owned_appointment(ctx: ActionContext, appointment_id: int | None) -> Appointment | None:
    """The resident's own appointment, or None: a flow can never touch someone else's."""
    if appointment_id is None:
        return None
    appointment = ctx.session.get(Appointment, appointment_id)
    if appointment is None:
        return None
    job = ctx.session.get(RepairJob, appointment.job_id)
    if job is None or job.resident_id != _resident_id(ctx):
        return None
    return appointment


def _pick_availability(
    ctx: ActionContext, *, trade: str, day: date, window: str
) -> list[Availability]:
    result = []
    for row in open_availability(ctx.session, day=day, window=window):
        operative = ctx.session.get(Operative, row.operative_id)
        if operative is not None and operative.active and trade in operative.trades:
            result.append(row)
    return result


def _book(action: BookVisit, ctx: ActionContext) -> int | None:
    """The new appointment's id, or None when the window was taken."""
    job = ctx.session.get(RepairJob, action.job_id)
    if job is None or job.resident_id != _resident_id(ctx) or job.status != JobStatus.OPEN:
        return None
    day, window = action.day, action.window
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
        landlord_events.record_for_appointment(
            ctx.session,
            appointment=appointment,
            kind=landlord_events.APPOINTMENT_BOOKED,
            by="resident",
            now=ctx.now,
        )
        return appointment.id
    return None


def _changeable(appointment: Appointment, version: int) -> bool:
    """Still booked and at the version the resident saw: a visit that was done or called off
    since is history, and moving or cancelling it would reopen a finished repair."""
    return appointment.status == AppointmentStatus.BOOKED and appointment.version == version


def _rebook(action: MoveVisit, ctx: ActionContext) -> int | None:
    """The moved appointment's id, or None when it could not be moved there."""
    appointment = _owned_appointment(ctx, action.appointment_id)
    if appointment is None or not _changeable(appointment, action.version):
        return None
    job = ctx.session.get(RepairJob, appointment.job_id)
    assert job is not None
    day, window = action.day, action.window
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
        landlord_events.record_for_appointment(
            ctx.session,
            appointment=appointment,
            kind=landlord_events.APPOINTMENT_CHANGED,
            by="resident",
            now=ctx.now,
        )
        return appointment.id
    return None


def _cancel(action: CancelVisit, ctx: ActionContext) -> bool:
    appointment = _owned_appointment(ctx, action.appointment_id)
    if appointment is None or not _changeable(appointment, action.version):
        return False
    if appointment.availability_id is not None:
        release_capacity(ctx.session, availability_id=appointment.availability_id)
    appointment.status = AppointmentStatus.CANCELLED
    job = ctx.session.get(RepairJob, appointment.job_id)
    if job is not None:
        job.status = JobStatus.OPEN
        job.history = [*job.history, {"at": ctx.now.isoformat(), "event": "visit cancelled"}]
        ctx.session.add(job)
    _bump(ctx, appointment, "cancelled", {})
    landlord_events.record_for_appointment(
        ctx.session,
        appointment=appointment,
        kind=landlord_events.APPOINTMENT_CANCELLED,
        by="resident",
        now=ctx.now,
    )
    return True


def _bump(ctx: ActionContext, appointment: Appointment, kind: str, data: dict[str, Any]) -> None:
    """A new version made by the resident (storage.repositories.appointments.bump_version)."""
    bump_version(
        ctx.session, appointment=appointment, kind=kind, data=data, actor="resident", now=ctx.now
    )


def _event(
    ctx: ActionContext, appointment_id: int, kind: str, data: Mapping[str, Any], actor: str
) -> None:
    ctx.session.add(
        AppointmentEvent(
            appointment_id=appointment_id, kind=kind, at=ctx.now, actor=actor, data=dict(data)
        )
    )


def _record_need(action: RecordAccessNeed, ctx: ActionContext) -> None:
    category = action.category or "other"
    if category not in AccessNeedCategory.__members__.values():
        category = "other"
    record_need(
        ctx.session,
        resident_id=_resident_id(ctx),
        category=AccessNeedCategory(category),
        own_words=action.own_words[:1000],
        consent=action.consent,
        at=ctx.now,
        review_by=ctx.now.astimezone(ctx.zone).date() + REVIEW_AFTER,
        source=f"resident ({ctx.channel.value})",
        replace_all=action.replace_all,
    )


def _confirm_needs(ctx: ActionContext) -> None:
    review = ctx.now.astimezone(ctx.zone).date() + REVIEW_AFTER
    review_active_needs_by(ctx.session, resident_id=_resident_id(ctx), review_by=review)


def _opt(to: Channel, ctx: ActionContext, *, out: bool) -> None:
    resident = ctx.resident
    assert resident is not None and resident.id is not None
    channel = Channel.TELEGRAM if to == Channel.TELEGRAM else Channel.SMS
    if out:
        reachability.record_opt_out(
            ctx.session, resident_id=resident.id, channel=channel, at=ctx.now
        )
    else:
        reachability.record_opt_in(
            ctx.session, resident_id=resident.id, channel=channel, at=ctx.now
        )


def _task(action: RaiseTask, ctx: ActionContext) -> int | None:
    appointment_id = action.appointment_id
    if appointment_id is not None and _owned_appointment(ctx, appointment_id) is None:
        appointment_id = None
    task = StaffTask(
        kind=TaskKind(action.kind),
        urgent=action.urgent,
        summary=action.summary[:1000],
        resident_id=ctx.resident.id if ctx.resident else None,
        appointment_id=appointment_id,
        conversation_id=ctx.conversation.id,
        created_at=ctx.now,
    )
    ctx.session.add(task)
    ctx.session.flush()
    if task.kind in (TaskKind.CALLBACK, TaskKind.HANDOFF) and ctx.resident is not None:
        _callback_requested(ctx, ctx.resident, task, appointment_id)
    return task.id


def _callback_requested(
    ctx: ActionContext, resident: Resident, task: StaffTask, appointment_id: int | None
) -> None:
    """The resident asked for a person (or a call): the landlord hears of it, by references
    only; what they said stays with the staff task."""
    appointment = ctx.session.get(Appointment, appointment_id) if appointment_id else None
    job = ctx.session.get(RepairJob, appointment.job_id) if appointment else None
    landlord_events.record(
        ctx.session,
        landlord_id=resident.landlord_id,
        kind=landlord_events.CALLBACK_REQUESTED,
        now=ctx.now,
        data={
            "resident": resident.reference,
            "reason": "asked for a person" if task.kind == TaskKind.HANDOFF else "call back",
            "urgent": task.urgent,
            "channel": ctx.channel.value,
        },
        job=job,
    )


def _appointment_event(action: RecordVisitEvent, ctx: ActionContext) -> None:
    appointment = _owned_appointment(ctx, action.appointment_id)
    if appointment is not None and appointment.id is not None:
        _event(ctx, appointment.id, action.kind, action.data, actor="resident")


def _code_attempt(action: WrongDoorCode, ctx: ActionContext) -> None:
    appointment = _owned_appointment(ctx, action.appointment_id)
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


def _repair_request(action: ReportRepair, ctx: ActionContext) -> int | None:
    """Log the job; a routine one also goes on the triage list, a hazard that is not
    routine on the alert list, urgent (that task's id is returned). An emergency's alert is
    raised by the flow."""
    resident = ctx.resident
    if resident is None or resident.property_id is None:
        return None
    priority = JobPriority(action.priority)
    count = repair_job_count(ctx.session)
    job = RepairJob(
        landlord_id=resident.landlord_id,
        reference=f"RQ-{ctx.now:%y%m%d}-{count + 1}",
        property_id=resident.property_id,
        resident_id=resident.id,
        description=action.description[:2000],
        priority=priority,
        hazard_category=action.hazard.value if action.hazard is not None else None,
        status=JobStatus.TRIAGE,
        history=[{"at": ctx.now.isoformat(), "event": "reported by text", "by": "resident"}],
        created_at=ctx.now,
    )
    ctx.session.add(job)
    if priority == JobPriority.EMERGENCY:
        ctx.session.flush()
        landlord_events.record(
            ctx.session,
            landlord_id=resident.landlord_id,
            kind=landlord_events.EMERGENCY_REPORTED,
            now=ctx.now,
            data={
                "resident": resident.reference,
                "description": job.description,
                "channel": ctx.channel.value,
                "hazard_category": job.hazard_category,
            },
            job=job,
        )
        return None
    if action.hazard is not None:
        urgent = priority != JobPriority.ROUTINE
        summary = (
            f"{'Urgent hazard' if urgent else 'Hazard'} reported ({action.hazard.value}), "
            f"job {job.reference}: {action.description}"
        )
        kind = TaskKind.ALERT if urgent else TaskKind.TRIAGE
        return _task(RaiseTask(kind=kind, summary=summary, urgent=urgent), ctx)
    summary = f"New repair reported: {action.description}"
    return _task(RaiseTask(kind=TaskKind.TRIAGE, summary=summary), ctx)


def _feedback(action: SaveFeedback, ctx: ActionContext) -> None:
    appointment = _owned_appointment(ctx, action.appointment_id)
    if appointment is None or appointment.id is None:
        return
    row = feedback_for_visit(ctx.session, appointment_id=appointment.id)
    if row is None:
        row = Feedback(
            appointment_id=appointment.id,
            resident_id=_resident_id(ctx),
            conversation_id=ctx.conversation.id,
            created_at=ctx.now,
        )
    if row.completed_at is not None:
        return  # once per visit
    # None is "not answered in this step": an earlier answer is kept.
    if action.rating is not None:
        row.rating = action.rating
    if action.showed_id is not None:
        row.showed_id = action.showed_id
    if action.asked_before_facilities is not None:
        row.asked_before_facilities = action.asked_before_facilities
    if action.left_tidy is not None:
        row.left_tidy = action.left_tidy
    if action.respectful is not None:
        row.respectful = action.respectful
    if action.comment is not None:
        row.comment = action.comment
    if action.flagged:
        row.flagged = True
    if action.complete:
        row.completed_at = ctx.now
    ctx.session.add(row)
    if action.complete:
        _feedback_received(ctx, appointment, row)


def _feedback_received(ctx: ActionContext, appointment: Appointment, row: Feedback) -> None:
    """Completed feedback goes to the landlord: the rating, the code-of-conduct answers and
    the resident's comment (their words to their landlord), by references."""
    operative = ctx.session.get(Operative, appointment.operative_id)
    landlord_events.record_for_appointment(
        ctx.session,
        appointment=appointment,
        kind=landlord_events.FEEDBACK_RECEIVED,
        by="resident",
        now=ctx.now,
        extra={
            "feedback": {
                "rating": row.rating,
                "showed_id": row.showed_id,
                "asked_before_facilities": row.asked_before_facilities,
                "left_tidy": row.left_tidy,
                "respectful": row.respectful,
                "comment": row.comment,
                "flagged": row.flagged,
            },
            "resident": ctx.resident.reference if ctx.resident else None,
            "operative": operative.reference if operative else None,
        },
    )


def _complaint(action: LogComplaint, ctx: ActionContext) -> tuple[Complaint, int | None]:
    """The complaint (stored) and its staff task's id."""
    appointment = _owned_appointment(ctx, action.appointment_id)
    complaint = Complaint(
        resident_id=_resident_id(ctx),
        appointment_id=appointment.id if appointment else None,
        text=action.text[:5000],
        created_at=ctx.now,
        respond_by=datetime.combine(action.respond_by, datetime.min.time(), tzinfo=ctx.zone)
        + timedelta(hours=17),
    )
    ctx.session.add(complaint)
    ctx.session.flush()
    summary = f"Formal complaint {complaint.reference} logged"
    task_id = _task(RaiseTask(kind=TaskKind.ALERT, summary=summary, urgent=False), ctx)
    resident = ctx.resident
    assert resident is not None
    job = ctx.session.get(RepairJob, appointment.job_id) if appointment else None
    landlord_events.record(
        ctx.session,
        landlord_id=resident.landlord_id,
        kind=landlord_events.COMPLAINT_RAISED,
        now=ctx.now,
        data={
            "complaint": complaint.reference,
            "resident": resident.reference,
            "text": complaint.text,
            "respond_by": complaint.respond_by.isoformat() if complaint.respond_by else None,
        },
        job=job,
    )
    return complaint, task_id


def _pause(ctx: ActionContext) -> None:
    ctx.conversation.paused = True
    ctx.session.add(ctx.conversation)


def _notify(action: NotifyOtherChannel, ctx: ActionContext) -> None:
    """A message to this resident on another channel; it goes through the outbox and policy."""
    resident = ctx.resident
    if resident is None or resident.id is None:
        return
    channel = action.channel
    address = str(resident.telegram_id) if channel == Channel.TELEGRAM else resident.mobile
    if not address:
        return
    _outbox(
        ctx,
        kind=action.kind,
        purpose="conversation",
        channel=channel,
        address=address,
        text=action.text,
        key=f"{action.kind}:{ctx.conversation.id}:{ctx.now.isoformat()}",
    )


def _notify_nominee(action: NotifyNominee, ctx: ActionContext) -> None:
    resident = ctx.resident
    appointment = _owned_appointment(ctx, action.appointment_id)
    if resident is None or appointment is None or not resident.nominee_phone:
        return
    _outbox(
        ctx,
        kind="nominee_copy",
        purpose="appointment",
        channel=Channel.SMS,
        address=resident.nominee_phone,
        text=action.text,
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
