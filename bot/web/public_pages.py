"""Public pages, no login: the landlord's code of conduct, and who is coming.

The visit page has no login (the resident follows a link from a text), so the link itself is the
credential: signed, tied to the visit's version, and dead a day after the visit.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot.common.calendar import MEDIA_TYPE as CALENDAR_TYPE
from bot.common.calendar import CalendarVisit, visit_calendar
from bot.common.photos import media_type, resolve_photo
from bot.runtime import Runtime
from flows.slots import label
from flows.wording import calendar as calendar_wording
from storage.enums import AppointmentStatus
from storage.models import (
    Appointment,
    Contractor,
    Landlord,
    Operative,
    Property,
    RepairJob,
)
from storage.repositories.people import primary_landlord

router = APIRouter(tags=["visit"])


def _visit(runtime: Runtime, token: str) -> dict[str, Any]:
    found = runtime.links.read(token)
    if found is None:
        raise HTTPException(status_code=404, detail="This link has expired or is not valid.")
    appointment_id, version = found
    with runtime.db.session() as session:
        appointment = session.get(Appointment, appointment_id)
        if (
            appointment is None
            or appointment.version != version
            or appointment.status != AppointmentStatus.BOOKED
        ):
            raise HTTPException(status_code=404, detail="This visit has changed or ended.")
        operative = session.get(Operative, appointment.operative_id)
        assert operative is not None
        contractor = session.get(Contractor, operative.contractor_id)
        landlord = session.get(Landlord, operative.landlord_id)
        return {
            "when": label(appointment.day, appointment.window),
            "name": operative.name,
            "employer": contractor.name if contractor else "",
            "badge": operative.badge_number,
            "photo": operative.photo_path,
            "has_photo": resolve_photo(operative.photo_path, runtime.settings.photos_dir)
            is not None,
            # The confirmation text points here for "what to expect" as well as the photo.
            "conduct_url": (landlord.code_of_conduct_url if landlord else "") or "/code-of-conduct",
        }


def photo_response(photo_path: str | None, photos_dir: Path | None) -> FileResponse:
    """The operative's photo (bot.common.photos.resolve_photo: bare names in the photos
    folder or the demo folder only, no path tricks), or 404."""
    path = resolve_photo(photo_path, photos_dir)
    if path is None:
        raise HTTPException(status_code=404, detail="No photo.")
    return FileResponse(path, media_type=media_type(path))


@router.get("/v/{token}", response_class=HTMLResponse)
async def visit_page(token: str, request: Request) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    visit = await asyncio.to_thread(_visit, runtime, token)
    return runtime.templates.TemplateResponse(
        request, "visit.html", {"visit": visit, "token": token, "title": "Who is coming"}
    )


@router.get("/v/{token}/photo")
async def visit_photo(token: str, request: Request) -> FileResponse:
    runtime: Runtime = request.app.state.runtime
    visit = await asyncio.to_thread(_visit, runtime, token)
    return photo_response(visit["photo"], runtime.settings.photos_dir)


def _calendar_visit(runtime: Runtime, token: str) -> CalendarVisit:
    """The visit as the calendar should now show it.

    The same signed, expiring link as the page; unlike the page, a link of an older
    version still answers until it expires, with the visit as it is now (no operative for a
    version the link never showed), so a calendar that refreshes it follows a move and a
    cancellation. A visit that has been done (or failed) is over: 404, like the page.
    """
    found = runtime.links.read(token)
    if found is None:
        raise HTTPException(status_code=404, detail="This link has expired or is not valid.")
    appointment_id, version = found
    with runtime.db.session() as session:
        appointment = session.get(Appointment, appointment_id)
        live = (AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED)
        if appointment is None or appointment.version < version or appointment.status not in live:
            raise HTTPException(status_code=404, detail="This visit has changed or ended.")
        job = session.get(RepairJob, appointment.job_id)
        assert job is not None
        home = session.get(Property, job.property_id)
        cancelled = appointment.status == AppointmentStatus.CANCELLED
        if cancelled:
            description = calendar_wording.called_off()
        elif appointment.version != version:
            description = calendar_wording.changed()
        else:
            operative = session.get(Operative, appointment.operative_id)
            assert operative is not None
            contractor = session.get(Contractor, operative.contractor_id)
            description = calendar_wording.who_is_coming(
                operative.name, contractor.name if contractor else "", operative.badge_number
            )
        assert appointment.id is not None
        return CalendarVisit(
            appointment_id=appointment.id,
            version=appointment.version,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            summary=calendar_wording.summary(job.description),
            location=f"{home.address}, {home.postcode}" if home else "",
            description=description,
            cancelled=cancelled,
        )


@router.get(
    "/v/{token}/visit.ics",
    response_class=Response,
    responses={200: {"content": {CALENDAR_TYPE: {}}}},
)
async def visit_calendar_file(token: str, request: Request) -> Response:
    """The visit for the resident's calendar app; Cache-Control no-store (bot/web/headers.py)."""
    runtime: Runtime = request.app.state.runtime
    visit = await asyncio.to_thread(_calendar_visit, runtime, token)
    host = urlsplit(runtime.settings.public_base_url).hostname or "doorstep"
    body = visit_calendar(visit, host=host, now=runtime.clock.now())
    return Response(
        body,
        media_type=f"{CALENDAR_TYPE}; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="repair-visit.ics"'},
    )


@router.get("/code-of-conduct", response_class=HTMLResponse)
async def code_of_conduct(request: Request) -> HTMLResponse:
    """The landlord's published operatives' code of conduct, linked from every confirmation."""
    runtime: Runtime = request.app.state.runtime

    def load() -> dict[str, str]:
        with runtime.db.session() as session:
            landlord = primary_landlord(session)
            if landlord is None:
                raise HTTPException(status_code=404, detail="No landlord is set up yet.")
            return {
                "name": landlord.name,
                "text": landlord.code_of_conduct_text,
                "phone": landlord.phone,
            }

    landlord = await asyncio.to_thread(load)
    return runtime.templates.TemplateResponse(
        request, "code_of_conduct.html", {"landlord": landlord, "title": "Code of conduct"}
    )
