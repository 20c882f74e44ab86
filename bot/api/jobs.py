"""Routes of the integration API: a job's visit as the landlord's scheduler books it, and
status from the landlord's side (issue 14). The work is bot/integration/visits.py's; these
routes read the request, answer with the visit, and turn a refusal into a problem detail.

`PUT /jobs/{ref}` (the job record itself) is bot/api/records.py's.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Path, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.api.auth import WriteCaller, runtime_of
from bot.api.problems import CONFLICT, Problem, field_error
from bot.api.routing import api_router
from bot.integration import visits
from bot.integration.records import REFERENCE_PATTERN

router = api_router()

JobRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        pattern=REFERENCE_PATTERN,
        description="The landlord's own job reference",
    ),
]
#: No NUL and no other control character in free text (PostgreSQL refuses NUL).
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"


class AppointmentIn(BaseModel):
    """The visit the landlord's scheduler has booked for the job."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"date": "2026-12-03", "window": "morning", "operative": "OP-55101"}]
        },
    )

    date: dt.date = Field(description="The day of the visit (not in the past)")
    window: str = Field(
        min_length=1,
        max_length=40,
        pattern=PLAIN_TEXT,
        description="One of the landlord's named visit windows",
    )
    operative: str = Field(
        min_length=1,
        max_length=100,
        pattern=REFERENCE_PATTERN,
        description="The landlord's reference for the operative",
    )


class AppointmentOut(BaseModel):
    """The job's visit as it now stands."""

    job: str = Field(examples=["RH-10421"])
    date: dt.date = Field(examples=["2026-12-03"])
    window: str = Field(examples=["morning"])
    starts_at: dt.datetime = Field(examples=["2026-12-03T08:00:00Z"])
    ends_at: dt.datetime = Field(examples=["2026-12-03T12:00:00Z"])
    operative: str | None = Field(examples=["OP-55101"])
    status: str = Field(examples=["booked"])
    version: int = Field(examples=[1], description="Goes up on every change")
    visit_code: str = Field(
        examples=["4827"],
        description="The code the operative says at the door (for the operative's job sheet)",
    )
    capacity_claimed: bool = Field(
        description="Whether the visit holds a place in the operative's availability"
    )


class BookingOut(BaseModel):
    appointment: AppointmentOut
    change: Literal["created", "moved", "unchanged"] = Field(
        description="created (201), moved, or unchanged (the same values again)"
    )
    note: str | None = Field(
        default=None,
        examples=["No availability is held for that operative then: booked anyway."],
        description="Why no place in the operative's availability was claimed, when none was",
    )


class JobEventIn(BaseModel):
    """Something that happened to the job, as the landlord's system knows it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"type": "no_access", "note": "Carded, no answer"}]},
    )

    type: Literal["completed", "cancelled", "no_access", "follow_on_needed"]
    note: str | None = Field(
        default=None, max_length=500, pattern=PLAIN_TEXT, description="Kept with the visit"
    )
    at: AwareDatetime | None = Field(
        default=None, description="When it happened (with its zone); now if left out"
    )


class JobEventOut(BaseModel):
    job: str = Field(examples=["RH-10421"])
    job_status: str = Field(examples=["open"])
    appointment: AppointmentOut | None
    changed: bool = Field(description="False when the same event was sent before")


def _visit(state: visits.VisitState) -> AppointmentOut:
    return AppointmentOut(
        job=state.job,
        date=state.day,
        window=state.window,
        starts_at=state.starts_at,
        ends_at=state.ends_at,
        operative=state.operative,
        status=state.status,
        version=state.version,
        visit_code=state.visit_code,
        capacity_claimed=state.capacity_claimed,
    )


def _problem(refused: visits.Refused) -> Problem:
    errors = [field_error(refused.field, refused.detail)] if refused.field else []
    return Problem(refused.status, refused.detail, errors=errors)


@router.put(
    "/jobs/{ref}/appointment",
    response_model=BookingOut,
    tags=["jobs"],
    summary="Book or move the job's visit, as the landlord's scheduler has it",
    responses={201: {"model": BookingOut, "description": "Booked"}, **CONFLICT},
)
def put_appointment(
    ref: JobRef, body: AppointmentIn, who: WriteCaller, request: Request, response: Response
) -> BookingOut:
    """The resident is told of a new visit (day, window, who is coming, the visit code) and
    of every move, with the old time's reminders called off. The same values again change
    nothing. A visit is booked even when the operative has no free place in Doorstep then
    (the scheduler is the source of truth): `note` says so."""
    runtime = runtime_of(request)
    wanted = visits.VisitRequest(day=body.date, window=body.window, operative=body.operative)
    try:
        with runtime.db.session() as session:
            outcome = visits.book(
                session,
                landlord_id=who.landlord_id,
                job_reference=ref,
                request=wanted,
                now=runtime.clock.now(),
                zone=runtime.settings.zone,
                rng=runtime.pipeline.rng,
            )
    except visits.Refused as refused:
        raise _problem(refused) from None
    if outcome.change == visits.Change.CREATED:
        response.status_code = 201
    return BookingOut(
        appointment=_visit(outcome.visit), change=outcome.change.value, note=outcome.note
    )


@router.post(
    "/jobs/{ref}/events",
    response_model=JobEventOut,
    tags=["jobs"],
    summary="Tell Doorstep what happened to the job: completed, cancelled, no access, follow-on",
    responses=CONFLICT,
)
def post_event(ref: JobRef, body: JobEventIn, who: WriteCaller, request: Request) -> JobEventOut:
    """The resident hears what they would from an operative's report: completed (a
    feedback request follows), cancelled (the visit is called off), no_access (a new time is
    offered; the job is open again), follow_on_needed (the visit is done and the repair
    needs another: the resident is asked to book). The same event again changes nothing."""
    runtime = runtime_of(request)
    try:
        with runtime.db.session() as session:
            outcome = visits.report(
                session,
                landlord_id=who.landlord_id,
                job_reference=ref,
                event=visits.JobEvent(body.type),
                note=body.note,
                at=body.at,
                now=runtime.clock.now(),
                zone=runtime.settings.zone,
            )
    except visits.Refused as refused:
        raise _problem(refused) from None
    return JobEventOut(
        job=outcome.job,
        job_status=outcome.job_status,
        appointment=_visit(outcome.visit) if outcome.visit else None,
        changed=outcome.changed,
    )
