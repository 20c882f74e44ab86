"""Signing in and out, and the staff home page."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from bot.web.staff import read_models
from bot.web.staff.audit import record
from bot.web.staff.auth import LoginResult, authenticate, new_session, normalise_email
from bot.web.staff.csrf import check_token, protect
from bot.web.staff.deps import CurrentUser, current_user, read_session
from bot.web.staff.web import (
    StaffRoute,
    StaffServices,
    clear_session_cookie,
    redirect,
    render,
    safe_next,
    services,
    set_session_cookie,
)

#: Access needs due within this horizon appear on the home page and the review list.
REVIEW_HORIZON = timedelta(days=14)

public = APIRouter(route_class=StaffRoute)
router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])


def _client_ip(request: Request) -> str:
    # Behind a proxy, run uvicorn with --proxy-headers so this is the real address.
    return request.client.host if request.client else "unknown"


@public.get("/staff/login", response_class=HTMLResponse)
async def login_page(
    request: Request, next: str | None = None, staff: StaffServices = Depends(services)
) -> Response:
    data = read_session(request, staff)
    if data is not None and data.user_id is not None:
        return redirect(safe_next(next))
    data = data or new_session(now=staff.now())
    response = render(
        request,
        staff,
        "login.html",
        {"title": "Sign in", "csrf_token": data.csrf, "next": safe_next(next), "email": ""},
    )
    set_session_cookie(response, staff, data)
    return response


@public.post("/staff/login", response_class=HTMLResponse)
async def login(
    request: Request,
    email: str = Form("", max_length=320),
    password: str = Form("", max_length=1024),
    next: str = Form("/staff", max_length=500),
    staff: StaffServices = Depends(services),
) -> Response:
    data = read_session(request, staff)
    form = await request.form()
    check_token(data.csrf if data else "", form.get("csrf_token"))
    assert data is not None
    now = staff.now()

    def attempt() -> LoginResult:
        with staff.runtime.db.session() as session:
            return authenticate(
                session, email=email, password=password, ip=_client_ip(request), now=now
            )

    result = await asyncio.to_thread(attempt)
    if result.user is None:
        if result.locked_until is not None:
            error = (
                "Too many wrong passwords. Sign-in for this account is paused for 15 minutes; "
                "ask an administrator if you are locked out."
            )
            status = 429
        else:
            error = "That email and password do not match an active account."
            status = 401
        return render(
            request,
            staff,
            "login.html",
            {
                "title": "Sign in",
                "csrf_token": data.csrf,
                "next": safe_next(next),
                "email": normalise_email(email),
                "error": error,
            },
            status_code=status,
        )
    response = redirect(safe_next(next))
    set_session_cookie(response, staff, new_session(now=now, user=result.user))
    return response


@router.post("/staff/logout")
async def logout(
    user: CurrentUser = Depends(current_user), staff: StaffServices = Depends(services)
) -> Response:
    def write() -> None:
        with staff.runtime.db.session() as session:
            record(
                session,
                user=user,
                action="logout",
                subject_type="staff_user",
                subject_id=user.id,
                now=staff.now(),
            )

    await asyncio.to_thread(write)
    response = redirect("/staff/login")
    clear_session_cookie(response, staff)
    return response


@router.get("/staff", response_class=HTMLResponse)
def home(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    with staff.runtime.db.session() as session:
        summary = read_models.dashboard(session, today=staff.today(), horizon=REVIEW_HORIZON)
    return render(request, staff, "home.html", {"title": "Doorstep staff", "summary": summary})
