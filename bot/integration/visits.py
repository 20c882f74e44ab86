"""Visits booked, moved and reported on by the landlord's own systems (issue 14).

A landlord's scheduler may book a job's visit itself (`PUT /api/v1/jobs/{ref}/appointment`):
the scheduler is the source of truth, so the visit is booked even when Doorstep holds no
free place for that operative then (the answer says so). The resident hears of it through
the planner (flows/planner.py), exactly as they would of a change staff made: a booking
confirmation naming the day, window, operative and visit code; a move is re-confirmed and
the old version's reminders are voided (storage.repositories.appointments.bump_version).

Status from the landlord's side (`POST /api/v1/jobs/{ref}/events`) drives the messages an
operative's status does: completed (the feedback request follows), cancelled (the
cancellation is confirmed), no access (the resident is offered a new time) and follow-on
needed (the visit is done, the repair needs another: the resident is asked to book).

Every operation is idempotent: the same values or the same event again change nothing, so
a nightly sync can send everything again. Nothing here logs a visit code.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.operatives.visit_status import VisitStatus, record_status
from flows.codes import new_visit_code
from flows.context import AppointmentView, JobView, OperativeView, ResidentView
from flows.windows import VisitWindow, windows_from_config
from flows.wording.visits import nominee_copy
from storage.enums import AppointmentStatus, Channel, JobStatus
from storage.models import Appointment, Contractor, Landlord, Operative, RepairJob, Resident
from storage.repositories import appointments as visits
from storage.repositories import landlord_events, outbox
from storage.repositories.booking import claim_capacity, release_capacity

log = logging.getLogger(__name__)

#: The actor of every change the landlord's systems make (flows.planner.LANDLORD).
LANDLORD = "landlord"
#: A nominee's copy waits this long, so the resident's own confirmation goes first.
NOMINEE_AFTER = timedelta(minutes=2)
#: How long ago an event may have happened and still be reported.
OLDEST_REPORT = timedelta(days=366)
#: Job statuses a visit can no longer be booked for or reported on.
FINISHED = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED})


class Refused(Exception):
    """The call cannot be done: `status` is the HTTP status that fits (404, 409, 422)."""

    def __init__(self, status: int, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


class Change(StrEnum):
    CREATED = "created"
    MOVED = "moved"
    UNCHANGED = "unchanged"


class JobEvent(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_ACCESS = "no_access"
    FOLLOW_ON_NEEDED = "follow_on_needed"


@dataclass(frozen=True, slots=True)
class VisitRequest:
    """The scheduler's booking: a day, one of the landlord's windows, an operative."""

    day: date
    window: str
    operative: str


@dataclass(frozen=True, slots=True)
class VisitState:
    """An appointment as the landlord's system sees it."""

    job: str
    day: date
    window: str
    starts_at: datetime
    ends_at: datetime
    operative: str | None
    status: str
    version: int
    visit_code: str
    #: Whether the visit holds a place in the operative's availability for its window.
    capacity_claimed: bool


@dataclass(frozen=True, slots=True)
class BookingOutcome:
    visit: VisitState
    change: Change
    #: Why no place was claimed, when none was (booked anyway).
    note: str | None = None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    job: str
    job_status: str
    visit: VisitState | None
    changed: bool


def _job(session: Session, *, landlord_id: int, reference: str) -> RepairJob:
    job = visits.job_of(session, landlord_id=landlord_id, reference=reference, lock=True)
    if job is None or job.id is None:
        raise Refused(404, f"No job with reference {reference!r}.", field="ref")
    return job


def _state(session: Session, job: RepairJob, appointment: Appointment) -> VisitState:
    operative = session.get(Operative, appointment.operative_id)
    return VisitState(
        job=job.reference,
        day=appointment.day,
        window=appointment.window,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        operative=operative.reference if operative else None,
        status=str(appointment.status),
        version=appointment.version,
        visit_code=appointment.visit_code,
        capacity_claimed=appointment.availability_id is not None,
    )


def _history(job: RepairJob, now: datetime, event: str, **more: str) -> None:
    job.history = [*job.history, {"at": now.isoformat(), "event": event, "by": LANDLORD, **more}]


# -- booking and moving ------------------------------------------------------------------


def book(
    session: Session,
    *,
    landlord_id: int,
    job_reference: str,
    request: VisitRequest,
    now: datetime,
    zone: ZoneInfo,
    rng: random.Random,
) -> BookingOutcome:
    """Book the job's visit as the scheduler says, move it there, or change nothing."""
    job = _job(session, landlord_id=landlord_id, reference=job_reference)
    operative = visits.operative_of(session, landlord_id=landlord_id, reference=request.operative)
    if operative is None or operative.id is None:
        raise Refused(422, f"No operative with reference {request.operative!r}.", field="operative")
    assert job.id is not None
    live = visits.live_for_job(session, job_id=job.id, lock=True)
    latest = live or visits.latest_for_job(session, job_id=job.id)
    # The visit as it stands, sent again (a nightly sync): unchanged, even once it is over.
    # A called-off visit sent again is a new booking.
    if (
        latest is not None
        and latest.status != AppointmentStatus.CANCELLED
        and (latest.day, latest.window, latest.operative_id)
        == (request.day, request.window, operative.id)
    ):
        return BookingOutcome(_state(session, job, latest), Change.UNCHANGED)
    if job.status in FINISHED:
        raise Refused(409, f"The job is {job.status}: no visit can be booked for it.")
    window = _window(session, landlord_id, request, now=now, zone=zone)
    if not operative.active:
        raise Refused(422, "That operative is no longer active.", field="operative")
    availability_id, note = _claim(session, operative, request.day, window)
    starts_at, ends_at = window.bounds(request.day, zone)
    where = f"{request.day} {window.name}"
    if live is None:
        appointment = Appointment(
            job_id=job.id,
            operative_id=operative.id,
            availability_id=availability_id,
            day=request.day,
            window=window.name,
            starts_at=starts_at,
            ends_at=ends_at,
            status=AppointmentStatus.BOOKED,
            version=1,
            visit_code=new_visit_code(rng),
            created_at=now,
            updated_at=now,
        )
        session.add(appointment)
        job.status = JobStatus.BOOKED
        _history(job, now, "booked", window=where)
        session.add(job)
        session.flush()
        visits.add_event(
            session,
            appointment=appointment,
            kind="booked",
            actor=LANDLORD,
            now=now,
            data={"window": where},
        )
        kind, change = landlord_events.APPOINTMENT_BOOKED, Change.CREATED
    else:
        appointment = live
        old = f"{appointment.day} {appointment.window}"
        if appointment.availability_id is not None:
            release_capacity(session, availability_id=appointment.availability_id)
        appointment.availability_id = availability_id
        appointment.operative_id = operative.id
        appointment.day, appointment.window = request.day, window.name
        appointment.starts_at, appointment.ends_at = starts_at, ends_at
        appointment.visit_code = new_visit_code(rng)
        appointment.code_attempts = 0
        appointment.code_locked_at = None
        visits.bump_version(
            session,
            appointment=appointment,
            kind="rebooked",
            data={"from": old, "to": where},
            actor=LANDLORD,
            now=now,
        )
        _history(job, now, "visit moved", window=where)
        session.add(job)
        kind, change = landlord_events.APPOINTMENT_CHANGED, Change.MOVED
    session.flush()
    _copy_to_nominee(session, job, appointment, now=now)
    landlord_events.record_for_appointment(
        session, appointment=appointment, kind=kind, by=LANDLORD, now=now
    )
    log.info("landlord %s visit job_id=%s appointment_id=%s", change, job.id, appointment.id)
    return BookingOutcome(_state(session, job, appointment), change, note)


def _copy_to_nominee(
    session: Session, job: RepairJob, appointment: Appointment, *, now: datetime
) -> None:
    """The resident's nominee gets the copy a booking by text sends them (flows/booking.py,
    bot/inbound/actions.py `_notify_nominee`), for this version of the visit: after the
    resident's own confirmation, which the planner enqueues within a minute (the copy counts
    towards the resident's message caps, so whichever went first would hold the other)."""
    resident = session.get(Resident, job.resident_id) if job.resident_id else None
    operative = session.get(Operative, appointment.operative_id)
    if resident is None or resident.id is None or not resident.nominee_phone:
        return
    if operative is None or operative.id is None or job.id is None or appointment.id is None:
        return
    employer = session.get(Contractor, operative.contractor_id)
    view = AppointmentView(
        id=appointment.id,
        version=appointment.version,
        job=JobView(job.id, job.reference, job.description, str(job.status), str(job.trade)),
        operative=OperativeView(
            operative.id, operative.name, employer.name if employer else "", operative.badge_number
        ),
        day=appointment.day,
        window=appointment.window,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        status=str(appointment.status),
        visit_code=appointment.visit_code,
    )
    who = ResidentView(id=resident.id, name=resident.name, nominee_name=resident.nominee_name)
    outbox.enqueue(
        session,
        key=f"{appointment.id}:{appointment.version}:nominee_copy",
        kind="nominee_copy",
        purpose="appointment",
        text=nominee_copy(who, view),
        not_before=now + NOMINEE_AFTER,
        now=now,
        channel=Channel.SMS,
        address=resident.nominee_phone,
        resident_id=resident.id,
        appointment_id=appointment.id,
        appointment_version=appointment.version,
        expires_at=appointment.ends_at,
    )


def _window(
    session: Session, landlord_id: int, request: VisitRequest, *, now: datetime, zone: ZoneInfo
) -> VisitWindow:
    landlord = session.get(Landlord, landlord_id)
    try:
        windows = windows_from_config(landlord.visit_windows if landlord else None)
    except ValueError:
        windows = windows_from_config(None)
    names = {w.name: w for w in windows}
    window = names.get(request.window)
    if window is None:
        known = ", ".join(names)
        raise Refused(422, f"Not one of the landlord's visit windows ({known}).", field="window")
    if request.day < now.astimezone(zone).date():
        raise Refused(422, "The date is in the past.", field="date")
    if window.bounds(request.day, zone)[1] <= now:
        raise Refused(422, "That window has already ended.", field="window")
    return window


def _claim(
    session: Session, operative: Operative, day: date, window: VisitWindow
) -> tuple[int | None, str | None]:
    """A place in the operative's availability, if there is one with room; the scheduler
    booked the visit either way, so a missing or full window only leaves a note."""
    assert operative.id is not None
    row = visits.availability_of(session, operative_id=operative.id, day=day, window=window.name)
    if row is None or row.id is None:
        return None, "No availability is held for that operative then: booked anyway."
    if not claim_capacity(session, availability_id=row.id):
        return None, "That operative's window is full: booked anyway, over capacity."
    return row.id, None


# -- status from the landlord's side -----------------------------------------------------


def report(
    session: Session,
    *,
    landlord_id: int,
    job_reference: str,
    event: JobEvent,
    note: str | None,
    at: datetime | None,
    now: datetime,
    zone: ZoneInfo,
) -> EventOutcome:
    """Apply what the landlord's system says happened to the job."""
    job = _job(session, landlord_id=landlord_id, reference=job_reference)
    assert job.id is not None
    when = at or now
    if when > now:
        raise Refused(422, "The event cannot have happened in the future.", field="at")
    if when < now - OLDEST_REPORT:
        raise Refused(422, "The event is more than a year old.", field="at")
    live = visits.live_for_job(session, job_id=job.id, lock=True)
    latest = live or visits.latest_for_job(session, job_id=job.id)
    if event == JobEvent.CANCELLED:
        changed = _cancel(session, job, live, note=note, now=now)
    elif event == JobEvent.COMPLETED:
        changed = _complete(session, job, live, note=note, when=when, zone=zone)
    elif event == JobEvent.NO_ACCESS:
        changed = _no_access(session, job, live, latest, note=note, when=when, now=now, zone=zone)
    else:
        changed = _follow_on(session, job, live, latest, note=note, when=when, now=now, zone=zone)
    session.flush()
    if changed:
        log.info("landlord reported %s job_id=%s", event, job.id)
    shown = live or visits.latest_for_job(session, job_id=job.id)
    return EventOutcome(
        job=job.reference,
        job_status=str(job.status),
        visit=_state(session, job, shown) if shown is not None else None,
        changed=changed,
    )


def _noted(note: str | None) -> dict[str, str]:
    return {"note": note} if note else {}


def _cancel(
    session: Session, job: RepairJob, live: Appointment | None, *, note: str | None, now: datetime
) -> bool:
    if job.status == JobStatus.CANCELLED:
        return False
    if job.status == JobStatus.COMPLETED:
        raise Refused(409, "The job is completed: it cannot be cancelled.")
    if live is not None:
        if live.availability_id is not None:
            release_capacity(session, availability_id=live.availability_id)
        live.status = AppointmentStatus.CANCELLED
        # "job": the repair is cancelled too, so the resident is not offered a new time.
        visits.bump_version(
            session,
            appointment=live,
            kind="cancelled",
            data={"job": "cancelled", **_noted(note)},
            actor=LANDLORD,
            now=now,
        )
        session.flush()
        landlord_events.record_for_appointment(
            session,
            appointment=live,
            kind=landlord_events.APPOINTMENT_CANCELLED,
            by=LANDLORD,
            now=now,
        )
    job.status = JobStatus.CANCELLED
    _history(job, now, "cancelled")
    session.add(job)
    return True


def _reopen(job: RepairJob, when: datetime, now: datetime, event: str) -> None:
    """The repair needs a visit again. The resident's message (flows/planner.py) offers one,
    so it counts as the job's invitation to book (flows/invitations.py): no second invite,
    and the follow-up and the unbooked list follow from it."""
    job.status = JobStatus.OPEN
    if job.invited_at is None:
        job.invited_at = now
    _history(job, when, event)


def _visit_started(live: Appointment, when: datetime, zone: ZoneInfo) -> None:
    """An outcome is reported for a visit on or before the day it happened."""
    if live.day > when.astimezone(zone).date():
        raise Refused(
            409,
            f"The job's visit is on {live.day}: report how it went on or after that day, "
            "or move the visit first.",
        )


def _complete(
    session: Session,
    job: RepairJob,
    live: Appointment | None,
    *,
    note: str | None,
    when: datetime,
    zone: ZoneInfo,
) -> bool:
    if job.status == JobStatus.COMPLETED:
        return False
    if job.status == JobStatus.CANCELLED:
        raise Refused(409, "The job is cancelled: it cannot be completed.")
    if live is None:
        # Done without a visit booked here: the job is closed, nobody is asked for feedback.
        job.status = JobStatus.COMPLETED
        _history(job, when, "completed")
        session.add(job)
        return True
    _visit_started(live, when, zone)
    _done(session, live, note=note, when=when)
    return True


def _done(session: Session, live: Appointment, *, note: str | None, when: datetime) -> None:
    """The operative's DONE (job and visit completed, the landlord's `visit.completed`
    event recorded), said by the landlord."""
    record_status(session, appointment=live, status=VisitStatus.DONE, now=when, actor=LANDLORD)
    if note:
        visits.add_event(
            session,
            appointment=live,
            kind="landlord_note",
            actor=LANDLORD,
            now=when,
            data={"note": note},
        )


def _no_access(
    session: Session,
    job: RepairJob,
    live: Appointment | None,
    latest: Appointment | None,
    *,
    note: str | None,
    when: datetime,
    now: datetime,
    zone: ZoneInfo,
) -> bool:
    if live is None:
        if (
            latest is not None
            and latest.status == AppointmentStatus.NO_ACCESS
            and job.status == JobStatus.OPEN
        ):
            return False  # said before
        raise Refused(409, f"The job has no booked visit (it is {job.status}).")
    _visit_started(live, when, zone)
    live.status = AppointmentStatus.NO_ACCESS
    live.updated_at = now
    session.add(live)
    visits.add_event(
        session, appointment=live, kind="no_access", actor=LANDLORD, now=when, data=_noted(note)
    )
    _reopen(job, when, now, "no_access")
    session.flush()
    landlord_events.record_for_appointment(
        session,
        appointment=live,
        kind=landlord_events.VISIT_NO_ACCESS,
        by=LANDLORD,
        now=when,
        extra=_noted(note),
    )
    return True


def _follow_on(
    session: Session,
    job: RepairJob,
    live: Appointment | None,
    latest: Appointment | None,
    *,
    note: str | None,
    when: datetime,
    now: datetime,
    zone: ZoneInfo,
) -> bool:
    if job.status == JobStatus.CANCELLED:
        raise Refused(409, "The job is cancelled: it needs no follow-on visit.")
    if live is not None:
        _visit_started(live, when, zone)
        _done(session, live, note=note, when=when)
        visit = live
    elif latest is not None and latest.status == AppointmentStatus.COMPLETED:
        assert latest.id is not None
        said = visits.last_event(session, appointment_id=latest.id, kinds=("follow_on_needed",))
        if said is not None and job.status == JobStatus.OPEN:
            return False  # said before
        visit = latest
    else:
        raise Refused(409, f"The job has no visit to follow on from (it is {job.status}).")
    visit.updated_at = now
    session.add(visit)
    visits.add_event(
        session,
        appointment=visit,
        kind="follow_on_needed",
        actor=LANDLORD,
        now=when,
        data=_noted(note),
    )
    _reopen(job, when, now, "follow-on visit needed")
    return True
