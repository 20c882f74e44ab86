"""The contact log (every outbound decision with its reason), access needs due for review,
and operatives with their Telegram link codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.operatives import link_codes
from bot.web.staff import cursors, read_models
from bot.web.staff.audit import record
from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, current_user, require_editor
from bot.web.staff.forms import opt_date, opt_enum, opt_int
from bot.web.staff.routes_auth import REVIEW_HORIZON
from bot.web.staff.web import StaffRoute, StaffServices, render, services
from storage.enums import Decision
from storage.models import Operative
from storage.repositories.access_needs import NeedKey
from storage.repositories.contact_log import ContactFilters, ContactKey
from storage.repositories.operatives import OperativeKey

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])


@router.get("/staff/contact-log", response_class=HTMLResponse)
def contact_log(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    """The contact log a page at a time, newest first. The resident is found by a search
    (name, reference or mobile number), never picked from a list of every resident: a
    search naming one resident filters by them, several are offered as links."""
    q = request.query_params
    search = " ".join((q.get("resident") or "").split())[:100]
    filters = ContactFilters(
        resident_id=None if search else opt_int(q.get("resident_id"), "Resident"),
        decision=opt_enum(q.get("decision"), Decision, "Decision"),
        reason=(q.get("reason") or "").strip()[:64] or None,
        date_from=opt_date(q.get("date_from"), "From"),
        date_to=opt_date(q.get("date_to"), "To"),
    )
    after = cursors.decode(q.get("after"), (datetime, int))
    zone = staff.zone
    start = datetime.combine(filters.date_from, time(), tzinfo=zone) if filters.date_from else None
    end = (
        datetime.combine(filters.date_to + timedelta(days=1), time(), tzinfo=zone)
        if filters.date_to
        else None
    )
    matches: list[read_models.Choice] = []
    chosen: read_models.Choice | None = None
    rows: list[read_models.ContactRow] = []
    following = None
    with staff.runtime.db.session() as session:
        if search:
            matches = read_models.resident_matches(session, search)
            if len(matches) == 1:
                filters = replace(filters, resident_id=matches[0].id)
        if filters.resident_id is not None:
            chosen = read_models.resident_choice(session, filters.resident_id)
        if not search or len(matches) == 1:
            rows, following = read_models.contact_rows(
                session,
                filters,
                zone_start=start,
                zone_end=end,
                after=None if after is None else ContactKey(at=after[0], id=after[1]),
                show_needs=read_models.sees_access_needs(user.role),
            )
        reasons = read_models.reason_codes(session)
    kept = _contact_query(filters)
    return render(
        request,
        staff,
        "contact_log.html",
        {
            "title": "Contact log",
            "rows": rows,
            "filters": filters,
            "search": search if len(matches) != 1 else "",
            "matches": matches if len(matches) != 1 else [],
            "searched": bool(search) and len(matches) != 1,
            "match_limit": read_models.RESIDENT_MATCHES,
            "chosen": chosen,
            "reasons": reasons,
            "decisions": [d.value for d in Decision],
            "first_page": after is None,
            "kept": kept,
            "kept_without_resident": _contact_query(replace(filters, resident_id=None)),
            "next_page": (
                urlencode({**kept, "after": cursors.encode(following.at, following.id)})
                if following
                else None
            ),
        },
    )


def _contact_query(filters: ContactFilters) -> dict[str, str]:
    """The filters as query parameters, for the links that keep them."""
    values = {
        "resident_id": filters.resident_id,
        "decision": filters.decision.value if filters.decision else None,
        "reason": filters.reason,
        "date_from": filters.date_from,
        "date_to": filters.date_to,
    }
    return {name: str(value) for name, value in values.items() if value is not None}


@router.get("/staff/access-needs", response_class=HTMLResponse)
def access_needs(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    found = cursors.decode(request.query_params.get("after"), (date, int))
    after = None if found is None else NeedKey(review_by=found[0], id=found[1])
    with staff.runtime.db.session() as session:
        rows, following = read_models.access_needs_due(
            session, today=staff.today(), horizon=REVIEW_HORIZON, after=after
        )
    return render(
        request,
        staff,
        "access_needs.html",
        {
            "title": "Access needs due for review",
            "rows": rows,
            "horizon": REVIEW_HORIZON.days,
            "first_page": after is None,
            "next_page": (
                urlencode({"after": cursors.encode(following.review_by, following.id)})
                if following
                else None
            ),
        },
    )


@router.get("/staff/operatives", response_class=HTMLResponse)
def operatives(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    found = cursors.decode(request.query_params.get("after"), (str, int))
    after = None if found is None else OperativeKey(name=found[0], id=found[1])
    with staff.runtime.db.session() as session:
        rows, following = read_models.operative_rows(session, after=after)
    return render(
        request,
        staff,
        "operatives.html",
        {
            "title": "Operatives",
            "rows": rows,
            "first_page": after is None,
            "next_page": (
                urlencode({"after": cursors.encode(following.name, following.id)})
                if following
                else None
            ),
        },
    )


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
        rows, following = read_models.operative_rows(session)
    return render(
        request,
        staff,
        "operatives.html",
        {
            "title": "Operatives",
            "rows": rows,
            "first_page": True,
            "next_page": (
                urlencode({"after": cursors.encode(following.name, following.id)})
                if following
                else None
            ),
            "issued": {
                "name": name,
                "code": code,
                "expires": now + link_codes.VALID_FOR,
            },
        },
    )
