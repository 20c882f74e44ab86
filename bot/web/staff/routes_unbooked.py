"""The unbooked list (issue 14, item 3): the landlord's jobs whose resident was invited to
book and followed up without booking, or could not be reached, and emergencies staff must
arrange by phone. A job booked meanwhile leaves the list. Every role may read it."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, current_user
from bot.web.staff.web import StaffRoute, StaffServices, render, services
from storage.repositories import invitations

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])

PATH = "/staff/unbooked"
PAGE = 50


def _page(request: Request, staff: StaffServices, *, after: int) -> Response:
    with staff.runtime.db.session() as session:
        rows = invitations.unbooked_page(session, after=after, limit=PAGE + 1)
    shown = rows[:PAGE]
    return render(
        request,
        staff,
        "unbooked.html",
        {
            "title": "Unbooked repairs",
            "rows": shown,
            "next_after": shown[-1].job_id if len(rows) > PAGE else None,
            "first_page": after == 0,
        },
    )


@router.get(PATH, response_class=HTMLResponse)
async def unbooked(
    request: Request,
    after: int = Query(0, ge=0, le=2**63 - 1),
    _: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    return await asyncio.to_thread(_page, request, staff, after=after)
