"""The contact log (every outbound decision with its reason), access needs due for review,
and operatives with their Telegram link codes."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.operatives import link_codes
from bot.web.staff import read_models
from bot.web.staff.audit import record
from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, current_user, require_editor
from bot.web.staff.forms import opt_date, opt_enum, opt_int
from bot.web.staff.routes_auth import REVIEW_HORIZON
from bot.web.staff.web import StaffRoute, StaffServices, render, services
from storage.enums import Decision
from storage.models import Operative
from storage.repositories.contact_log import ContactFilters

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])


@router.get("/staff/contact-log", response_class=HTMLResponse)
def contact_log(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    q = request.query_params
    filters = ContactFilters(
        resident_id=opt_int(q.get("resident_id"), "Resident"),
        decision=opt_enum(q.get("decision"), Decision, "Decision"),
        reason=(q.get("reason") or "").strip()[:64] or None,
        date_from=opt_date(q.get("date_from"), "From"),
        date_to=opt_date(q.get("date_to"), "To"),
    )
    page = opt_int(q.get("page"), "Page", low=1, high=100_000) or 1
    zone = staff.zone
    start = datetime.combine(filters.date_from, time(), tzinfo=zone) if filters.date_from else None
    end = (
        datetime.combine(filters.date_to + timedelta(days=1), time(), tzinfo=zone)
        if filters.date_to
        else None
    )
    with staff.runtime.db.session() as session:
        rows = read_models.contact_rows(
            session,
            filters,
            zone_start=start,
            zone_end=end,
            offset=(page - 1) * read_models.PAGE_SIZE,
            show_needs=read_models.sees_access_needs(user.role),
        )
        residents = read_models.resident_choices(session)
        reasons = read_models.reason_codes(session)
    return render(
        request,
        staff,
        "contact_log.html",
        {
            "title": "Contact log",
            "rows": rows,
            "filters": filters,
            "residents": residents,
            "reasons": reasons,
            "decisions": [d.value for d in Decision],
            "page": page,
            "more": len(rows) == read_models.PAGE_SIZE,
            "query_without_page": "&".join(
                f"{k}={v}" for k, v in request.query_params.multi_items() if k != "page"
            ),
        },
    )


@router.get("/staff/access-needs", response_class=HTMLResponse)
def access_needs(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    with staff.runtime.db.session() as session:
        rows = read_models.access_needs_due(session, today=staff.today(), horizon=REVIEW_HORIZON)
    return render(
        request,
        staff,
        "access_needs.html",
        {"title": "Access needs due for review", "rows": rows, "horizon": REVIEW_HORIZON.days},
    )


@router.get("/staff/operatives", response_class=HTMLResponse)
def operatives(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    with staff.runtime.db.session() as session:
        rows = read_models.operative_rows(session)
    return render(request, staff, "operatives.html", {"title": "Operatives", "rows": rows})


@router.post("/staff/operatives/{operative_id}/link-code", response_class=HTMLResponse)
def issue_link_code(
    operative_id: int,
    request: Request,
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    """Shown once, on this response only; reloading issues a new code (the old one dies)."""
    now = staff.now()
    with staff.runtime.db.session() as session:
        operative = session.get(Operative, operative_id)
        if operative is None:
            raise HTTPException(status_code=404, detail="No such operative.")
        if not operative.active:
            raise HTTPException(status_code=409, detail="This operative is not active.")
        code = link_codes.issue(session, operative, now=now)
        record(
            session,
            user=user,
            action="operative.link_code_issued",
            subject_type="operative",
            subject_id=operative_id,
            now=now,
        )
        name = operative.name
        rows = read_models.operative_rows(session)
    return render(
        request,
        staff,
        "operatives.html",
        {
            "title": "Operatives",
            "rows": rows,
            "issued": {
                "name": name,
                "code": code,
                "expires": now + link_codes.VALID_FOR,
            },
        },
    )
