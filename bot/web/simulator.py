"""The simulator channel: a phone-like web page and a JSON API over the same pipeline.

It is a channel adapter like SMS or Telegram: it turns a JSON post into an
InboundMessage and renders replies as JSON with options as buttons. Being able to move
the clock and read anyone's outbox, it only exists when DOORSTEP_SIMULATOR is on.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field, field_validator, model_validator

from bot.common.bodies import bounded_route
from bot.common.clock import FixedClock, SimulatedClock
from bot.common.events import InboundMessage
from bot.inbound.ingest import storable_text
from bot.inbound.pipeline import parse_time
from bot.inbound.ratelimit import over_limit, retry_after_header
from bot.operatives.visit_status import StatusRefused, VisitStatus, record_status
from bot.outbound.outbox_view import outbox_rows
from bot.runtime import Runtime
from bot.web.public_pages import photo_response
from storage.enums import Channel
from storage.models import Appointment, RepairJob
from storage.phones import PhoneNumberError, normalise_uk_mobile
from storage.repositories import resident_world
from storage.repositories.people import list_residents, open_jobs, resident_by_address
from storage.repositories.transcript import transcript

MAX_TEXT = 10_000
#: The largest request body read: 10,000 characters of text JSON-escaped as surrogate
#: pairs (12 bytes each) and the other fields fit; more is refused with 413 unread.
MAX_BODY_BYTES = 256 * 1024

router = APIRouter(
    prefix="/simulator", tags=["simulator"], route_class=bounded_route(MAX_BODY_BYTES)
)


class OptionOut(BaseModel):
    key: str
    label: str


class ReplyOut(BaseModel):
    text: str
    options: list[OptionOut] = []
    photo_url: str | None = None


class MessageIn(BaseModel):
    phone: str
    text: str = Field(max_length=MAX_TEXT)
    #: The key of an option button the resident pressed, if any.
    option_key: str | None = Field(default=None, max_length=64)
    #: Lets a client retry safely: the same id is processed once.
    message_id: str | None = Field(default=None, max_length=128)

    @field_validator("text", mode="before")
    @classmethod
    def _storable(cls, value: object) -> object:
        """A lone surrogate (valid JSON, not valid text) is shown as U+FFFD, as the other
        channels store it, instead of a refusal that cannot even be written out."""
        return storable_text(value) if isinstance(value, str) else value


class MessagesOut(BaseModel):
    replies: list[ReplyOut]
    duplicate: bool = False


class ClockIn(BaseModel):
    advance_minutes: int | None = Field(default=None, ge=-60 * 24 * 366, le=60 * 24 * 366)
    set: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ClockIn:
        if (self.advance_minutes is None) == (self.set is None):
            raise ValueError("give exactly one of advance_minutes or set")
        return self


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _phone(raw: str) -> str:
    try:
        return normalise_uk_mobile(raw)
    except PhoneNumberError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    runtime = _runtime(request)
    return runtime.templates.TemplateResponse(request, "simulator.html", {"title": "Simulator"})


@router.get("/photos/{name}", include_in_schema=False)
async def photo(name: str, request: Request) -> FileResponse:
    """Operative photos for the simulator page (the real channels use the signed link)."""
    return photo_response(name, _runtime(request).settings.photos_dir)


@router.get("/api/residents")
async def residents(request: Request) -> list[dict[str, Any]]:
    runtime = _runtime(request)

    def load() -> list[dict[str, Any]]:
        with runtime.db.session() as session:
            result = []
            for resident in list_residents(session):
                assert resident.id is not None
                jobs: list[RepairJob] = open_jobs(session, resident_id=resident.id)
                result.append(
                    {
                        "id": resident.id,
                        "name": resident.name,
                        "phone": resident.mobile,
                        "telegram_linked": resident.telegram_id is not None,
                        "sms_opted_out": resident.sms_opted_out_at is not None,
                        "open_jobs": [
                            {"reference": j.reference, "description": j.description} for j in jobs
                        ],
                    }
                )
            return result

    return await asyncio.to_thread(load)


@router.post("/api/messages")
async def send_message(body: MessageIn, request: Request) -> MessagesOut:
    runtime = _runtime(request)
    phone = _phone(body.phone)
    # A blank text is answered like any other (a polite prompt, flows/router.py), as
    # it would be on SMS or Telegram.
    text = body.text.strip()
    limit = runtime.settings.webhook_rate_per_minute  # bot/inbound/ratelimit.py
    verdict = over_limit(request.app.state, limit, channel="simulator", sender=phone, text=text)
    if verdict is not None:
        raise HTTPException(
            status_code=429, detail="too many messages", headers=retry_after_header(verdict)
        )
    inbound = InboundMessage(
        channel=Channel.SIMULATOR,
        address=phone,
        text=text or body.option_key or "",
        channel_message_id=body.message_id or f"sim-{uuid.uuid4()}",
        received_at=runtime.clock.now(),
        option_key=body.option_key,
    )
    handled = await runtime.pipeline.receive(inbound)
    return MessagesOut(
        duplicate=handled.duplicate,
        replies=[
            ReplyOut(
                text=r.text,
                options=[OptionOut(key=o.key, label=o.label) for o in r.options],
                photo_url=runtime.photo_url(r.photo_path),
            )
            for r in handled.replies
        ],
    )


@router.get("/api/transcript")
async def get_transcript(
    request: Request, phone: Annotated[str, Query(max_length=40)]
) -> list[dict[str, Any]]:
    runtime = _runtime(request)
    address = _phone(phone)

    def load() -> list[dict[str, Any]]:
        with runtime.db.session() as session:
            return [
                {
                    "direction": m.direction,
                    "text": m.text,
                    "at": m.created_at.isoformat(),
                    "options": m.options,
                }
                for m in transcript(session, channel=Channel.SIMULATOR, address=address)
            ]

    return await asyncio.to_thread(load)


class VisitStatusIn(BaseModel):
    status: VisitStatus
    eta_minutes: int | None = Field(default=None, ge=0, le=600)


@router.get("/api/visits")
async def visits(
    request: Request, phone: Annotated[str, Query(max_length=40)]
) -> list[dict[str, Any]]:
    """A resident's visits, so a tester can play the operative for one of them."""
    runtime = _runtime(request)
    address = _phone(phone)

    def load() -> list[dict[str, Any]]:
        with runtime.db.session() as session:
            resident = resident_by_address(session, channel=Channel.SMS, address=address)
            if resident is None:
                return []
            assert resident.id is not None
            rows = resident_world.visits_of(session, resident_id=resident.id)
            return [
                {
                    "id": a.id,
                    "reference": j.reference,
                    "day": a.day.isoformat(),
                    "window": a.window,
                    "status": a.status,
                    "version": a.version,
                }
                for a, j in rows
            ]

    return await asyncio.to_thread(load)


@router.post("/api/visits/{appointment_id}/status")
async def visit_status(
    appointment_id: int, body: VisitStatusIn, request: Request
) -> dict[str, Any]:
    """Play the operative: on the way, arrived, running late, can't get in, done."""
    runtime = _runtime(request)

    def apply() -> dict[str, Any]:
        with runtime.db.session() as session:
            appointment = session.get(Appointment, appointment_id)
            if appointment is None:
                raise HTTPException(status_code=404, detail="no such visit")
            try:
                event = record_status(
                    session,
                    appointment=appointment,
                    status=body.status,
                    now=runtime.clock.now(),
                    actor="simulator",
                    eta_minutes=body.eta_minutes,
                )
            except StatusRefused as exc:
                raise HTTPException(status_code=409, detail=str(exc)) from exc
            return {"event": event.kind, "at": event.at.isoformat(), "status": appointment.status}

    return await asyncio.to_thread(apply)


@router.post("/api/clock")
async def move_clock(body: ClockIn, request: Request) -> dict[str, str]:
    clock = _runtime(request).clock
    if not isinstance(clock, SimulatedClock | FixedClock):
        raise HTTPException(status_code=409, detail="this service runs on the real clock")
    try:
        if body.advance_minutes is not None:
            now = clock.advance(timedelta(minutes=body.advance_minutes))
        else:
            assert body.set is not None
            now = clock.set(parse_time(body.set))
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return {"now": now.isoformat()}


@router.get("/api/clock")
async def read_clock(request: Request) -> dict[str, str]:
    return {"now": _runtime(request).clock.now().isoformat()}


@router.get("/api/outbox")
async def outbox(
    request: Request, phone: Annotated[str, Query(max_length=40)]
) -> list[dict[str, Any]]:
    """What the service sent (or decided not to send) this resident on its own initiative."""
    runtime = _runtime(request)
    address = _phone(phone)

    def load() -> list[dict[str, Any]]:
        with runtime.db.session() as session:
            return outbox_rows(session, mobile=address, limit=500)

    return await asyncio.to_thread(load)
