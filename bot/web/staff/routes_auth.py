"""Signing in (password, then the two-factor code where set up) and out, and the home page."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from bot.web.staff import read_models
from bot.web.staff.audit import record
from bot.web.staff.auth import (
    LoginResult,
    authenticate,
    complete_with_code,
    csrf_for,
    find_session,
    new_token,
    normalise_email,
    open_session,
    revoke,
)
from bot.web.staff.csrf import check_token, protect
from bot.web.staff.deps import CurrentUser, cookie_token, current_user, live_session
from bot.web.staff.web import (
    LoginRequired,
    StaffRoute,
    StaffServices,
    clear_session_cookie,
    redirect,
    render,
    safe_next,
    services,
    set_session_cookie,
)
from storage.models import StaffSession

#: Access needs due within this horizon appear on the home page and the review list.
REVIEW_HORIZON = timedelta(days=14)
CODE_PATH = "/staff/login/code"

public = APIRouter(route_class=StaffRoute)
router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])


def client_ip(request: Request) -> str:
    """The TCP peer, which uvicorn replaces with the forwarded client only when the peer is
    one of DOORSTEP_TRUSTED_PROXIES (see login_limits.proxy_options)."""
    return request.client.host if request.client else "unknown"


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:300]


def wait_message(retry_at: datetime, now: datetime) -> tuple[str, int]:
    """What a refused sign-in says, and the Retry-After seconds."""
    seconds = max(1, math.ceil((retry_at - now).total_seconds()))
    if seconds < 120:
        wait = "1 second" if seconds == 1 else f"{seconds} seconds"
    else:
        wait = f"{math.ceil(seconds / 60)} minutes"
    return f"Too many sign-in attempts. Wait {wait}, then try again.", seconds


def _form_token(request: Request, staff: StaffServices) -> tuple[str, bool]:
    """The browser's cookie token (a new one if it has none) and whether it is new."""
    token = cookie_token(request)
    if token and len(token) <= 200:
        return token, False
    return new_token(), True


def _login_page(
    request: Request,
    staff: StaffServices,
    token: str,
    *,
    next: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        staff,
        "login.html",
        {
            "title": "Sign in",
            "csrf_token": csrf_for(staff.csrf_key, token),
            "next": safe_next(next),
            "email": email,
            "error": error,
        },
        status_code=status_code,
    )


@public.get("/staff/login", response_class=HTMLResponse)
async def login_page(
    request: Request, next: str | None = None, staff: StaffServices = Depends(services)
) -> Response:
    found = await live_session(request, staff)
    if found is not None and found.row.second_factor_done:
        return redirect(safe_next(next))
    token, fresh = _form_token(request, staff)
    response = _login_page(request, staff, token, next=safe_next(next))
    if fresh:
        set_session_cookie(response, staff, token)
    return response


async def _checked_form(request: Request, staff: StaffServices) -> str:
    """The cookie token, once the form's CSRF token is checked against it."""
    token = cookie_token(request) or ""
    form = await request.form()
    check_token(csrf_for(staff.csrf_key, token) if token else "", form.get("csrf_token"))
    return token


@dataclass(frozen=True, slots=True)
class _SignIn:
    result: LoginResult
    token: str | None = None


@public.post("/staff/login", response_class=HTMLResponse)
async def login(
    request: Request,
    email: str = Form("", max_length=320),
    password: str = Form("", max_length=1024),
    next: str = Form("/staff", max_length=500),
    staff: StaffServices = Depends(services),
) -> Response:
    token = await _checked_form(request, staff)
    now = staff.now()
    ip = client_ip(request)

    def attempt() -> _SignIn:
        with staff.runtime.db.session() as session:
            result = authenticate(session, email=email, password=password, ip=ip, now=now)
            if result.user is None:
                return _SignIn(result)
            # A new token on every sign-in: a cookie planted before it (fixation) is useless.
            fresh = open_session(
                session,
                user=result.user,
                now=now,
                user_agent=user_agent(request),
                ip=ip,
                second_factor_done=not result.needs_code,
            )
            return _SignIn(result, fresh)

    signed = await asyncio.to_thread(attempt)
    if signed.token is None:
        if signed.result.retry_at is not None:
            error, seconds = wait_message(signed.result.retry_at, now)
            response = _login_page(
                request,
                staff,
                token,
                next=next,
                email=normalise_email(email),
                error=error,
                status_code=429,
            )
            response.headers["Retry-After"] = str(seconds)
            return response
        return _login_page(
            request,
            staff,
            token,
            next=next,
            email=normalise_email(email),
            error="That email and password do not match an active account.",
            status_code=401,
        )
    target = safe_next(next)
    if signed.result.needs_code:
        response = redirect(f"{CODE_PATH}?next={quote(target, safe='/')}")
    else:
        response = redirect(target)
    set_session_cookie(response, staff, signed.token)
    return response


def _code_page(
    request: Request,
    staff: StaffServices,
    token: str,
    *,
    next: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        staff,
        "login_code.html",
        {
            "title": "Enter your code",
            "csrf_token": csrf_for(staff.csrf_key, token),
            "next": safe_next(next),
            "error": error,
        },
        status_code=status_code,
    )


@public.get(CODE_PATH, response_class=HTMLResponse)
async def code_page(
    request: Request, next: str | None = None, staff: StaffServices = Depends(services)
) -> Response:
    found = await live_session(request, staff)
    if found is None:
        raise LoginRequired
    if found.row.second_factor_done:
        return redirect(safe_next(next))
    return _code_page(request, staff, cookie_token(request) or "", next=safe_next(next))


@public.post(CODE_PATH, response_class=HTMLResponse)
async def enter_code(
    request: Request,
    code: str = Form("", max_length=20),
    next: str = Form("/staff", max_length=500),
    staff: StaffServices = Depends(services),
) -> Response:
    token = await _checked_form(request, staff)
    now = staff.now()
    ip = client_ip(request)

    def attempt() -> _SignIn | None:
        with staff.runtime.db.session() as session:
            found = find_session(session, token=token, now=now)
            if found is None or found.row.second_factor_done:
                return None
            result = complete_with_code(session, user=found.user, code=code, ip=ip, now=now)
            if result.user is None:
                return _SignIn(result)
            revoke(session, found.row, now=now)
            fresh = open_session(
                session,
                user=found.user,
                now=now,
                user_agent=user_agent(request),
                ip=ip,
                second_factor_done=True,
            )
            return _SignIn(result, fresh)

    signed = await asyncio.to_thread(attempt)
    if signed is None:
        raise LoginRequired
    if signed.token is None:
        if signed.result.retry_at is not None:
            error, seconds = wait_message(signed.result.retry_at, now)
            response = _code_page(request, staff, token, next=next, error=error, status_code=429)
            response.headers["Retry-After"] = str(seconds)
            return response
        return _code_page(
            request,
            staff,
            token,
            next=next,
            error="That code is not right, or was already used. Enter the newest code.",
            status_code=401,
        )
    response = redirect(safe_next(next))
    set_session_cookie(response, staff, signed.token)
    return response


@router.post("/staff/logout")
async def logout(
    user: CurrentUser = Depends(current_user), staff: StaffServices = Depends(services)
) -> Response:
    def write() -> None:
        with staff.runtime.db.session() as session:
            now = staff.now()
            row = session.get(StaffSession, user.session_id)
            if row is not None:
                revoke(session, row, now=now)
            record(
                session,
                user=user,
                action="logout",
                subject_type="staff_user",
                subject_id=user.id,
                now=now,
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
