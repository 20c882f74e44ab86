"""Visits: today and upcoming, and each visit's evidence timeline with its exports."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.web.staff import cursors, read_models
from bot.web.staff.audit import record
from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, current_user
from bot.web.staff.forms import bad, opt_date, opt_enum, opt_int
from bot.web.staff.timeline import Evidence, evidence
from bot.web.staff.web import StaffRoute, StaffServices, render, services
from storage.enums import AppointmentStatus
from storage.repositories.visit_listing import VisitFilters, VisitKey

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])

UPCOMING = timedelta(days=13)
MAX_RANGE = timedelta(days=366)


def _filters(request: Request, staff: StaffServices) -> VisitFilters:
    q = request.query_params
    today = staff.today()
    start = opt_date(q.get("date_from"), "From") or today
    end = opt_date(q.get("date_to"), "To") or start + UPCOMING
    if end < start:
        raise bad("The 'to' date is before the 'from' date.")
    if end - start > MAX_RANGE:
        raise bad("Pick at most a year at a time.")
    return VisitFilters(
        date_from=start,
        date_to=end,
        status=opt_enum(q.get("status"), AppointmentStatus, "Status"),
        operative_id=opt_int(q.get("operative_id"), "Operative"),
        contractor_id=opt_int(q.get("contractor_id"), "Contractor"),
    )


@router.get("/staff/visits", response_class=HTMLResponse)
def visit_list(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    filters = _filters(request, staff)
    found = cursors.decode(request.query_params.get("after"), (date, datetime, int))
    after = None if found is None else VisitKey(day=found[0], starts_at=found[1], id=found[2])
    with staff.runtime.db.session() as session:
        rows, following = read_models.visit_rows(session, filters, after=after)
        contractors = read_models.contractor_choices(session)
        operatives = read_models.operative_choices(
            session, contractor_id=filters.contractor_id, chosen=filters.operative_id
        )
    kept = {
        name: str(value)
        for name, value in (
            ("date_from", filters.date_from),
            ("date_to", filters.date_to),
            ("status", filters.status.value if filters.status else None),
            ("operative_id", filters.operative_id),
            ("contractor_id", filters.contractor_id),
        )
        if value is not None
    }
    return render(
        request,
        staff,
        "visits.html",
        {
            "title": "Visits",
            "rows": rows,
            "filters": filters,
            "today": staff.today(),
            "operatives": operatives,
            "contractors": contractors,
            "statuses": [s.value for s in AppointmentStatus],
            "first_page": after is None,
            "kept": urlencode(kept),
            "next_page": (
                urlencode(
                    {
                        **kept,
                        "after": cursors.encode(following.day, following.starts_at, following.id),
                    }
                )
                if following
                else None
            ),
        },
    )


def _evidence(
    staff: StaffServices, user: CurrentUser, appointment_id: int, action: str
) -> Evidence:
    with staff.runtime.db.session() as session:
        found = evidence(
            session, appointment_id, show_needs=read_models.sees_access_needs(user.role)
        )
        if found is None:
            raise HTTPException(status_code=404, detail="No such visit.")
        record(
            session,
            user=user,
            action=action,
            subject_type="appointment",
            subject_id=appointment_id,
            now=staff.now(),
        )
    return found


@router.get("/staff/visits/{appointment_id}", response_class=HTMLResponse)
def visit_detail(
    appointment_id: int,
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    found = _evidence(staff, user, appointment_id, "visit.viewed")
    return render(
        request,
        staff,
        "visit_detail.html",
        {"title": f"Visit {found.visit.reference}", "evidence": found, "printable": False},
    )


@router.get("/staff/visits/{appointment_id}/timeline.json")
def visit_json(
    appointment_id: int,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    found = _evidence(staff, user, appointment_id, "visit.exported_json")
    body = found.as_json(exported_at=staff.now(), exported_by=user.email)
    name = f"visit-{appointment_id}-timeline.json"
    return Response(
        json.dumps(body, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/staff/visits/{appointment_id}/timeline", response_class=HTMLResponse)
def visit_printable(
    appointment_id: int,
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    found = _evidence(staff, user, appointment_id, "visit.exported_page")
    return render(
        request,
        staff,
        "visit_print.html",
        {
            "title": f"Evidence: visit {found.visit.reference}",
            "evidence": found,
            "exported_at": staff.now(),
        },
    )
