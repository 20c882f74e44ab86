"""Your account (sessions, password, two-factor sign-in) and, for administrators, everyone's.

- `/staff/account`: your live sessions, each with "Sign out this session"; change password
  (which signs out every session, this browser gets a new one); two-factor status.
- `/staff/2fa`: set up two-factor sign-in. Open to an administrator who has not set it up
  yet (every other page sends them here first).
- `/staff/admin/staff`: administrators sign out another person's sessions or reset their
  two-factor sign-in (lost phone).

Changing your own password, sessions and two-factor sign-in is self-service: viewers may.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.web.staff import cursors, login_limits, totp
from bot.web.staff.audit import record
from bot.web.staff.auth import SESSION_LIFETIME, open_session, revoke, revoke_all
from bot.web.staff.csrf import protect, protect_signed_in
from bot.web.staff.deps import CurrentUser, current_user, require_admin, signed_in_user
from bot.web.staff.passwords import (
    WeakPasswordError,
    check_strength,
    hash_password,
    verify_password,
)
from bot.web.staff.routes_auth import client_ip, user_agent, wait_message
from bot.web.staff.web import (
    ENROL_PATH,
    StaffRoute,
    StaffServices,
    redirect,
    render,
    services,
    set_session_cookie,
)
from storage.models import StaffSession, StaffUser
from storage.repositories.staff_sessions import live_session_counts, live_sessions_of
from storage.repositories.staff_users import StaffKey, staff_users_page

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])
#: The two-factor set-up pages: open to an administrator who has not set it up yet.
enrol_router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect_signed_in)])

DONE = {
    "revoked": "That session is signed out.",
    "password": "Your password is changed. Every other session is signed out.",
    "2fa": "Two-factor sign-in is on. You will be asked for a code when you sign in.",
    "admin-sessions": "Their sessions are signed out.",
    "admin-2fa": "Their two-factor sign-in is reset and their sessions signed out. "
    "They set it up again when they next sign in.",
}


@dataclass(frozen=True, slots=True)
class SessionLine:
    id: int
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    ip: str
    current: bool


def _session_lines(staff: StaffServices, *, user_id: int, current_id: int) -> list[SessionLine]:
    with staff.runtime.db.session() as session:
        rows = live_sessions_of(
            session, user_id=user_id, created_after=staff.now() - SESSION_LIFETIME
        )
        return [
            SessionLine(
                id=row.id or 0,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                user_agent=row.user_agent,
                ip=row.ip,
                current=row.id == current_id,
            )
            for row in rows
            if row.second_factor_done
        ]


def _account_page(
    request: Request,
    staff: StaffServices,
    user: CurrentUser,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    lines = _session_lines(staff, user_id=user.id, current_id=user.session_id)
    return render(
        request,
        staff,
        "account.html",
        {
            "title": "Your account",
            "sessions": lines,
            "done": DONE.get(done or ""),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/staff/account", response_class=HTMLResponse)
async def account(
    request: Request,
    done: str | None = None,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    return await asyncio.to_thread(_account_page, request, staff, user, done=done)


@router.post("/staff/account/sessions/{session_id}/revoke")
async def revoke_session(
    session_id: int,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    def write() -> bool:
        with staff.runtime.db.session() as session:
            row = session.get(StaffSession, session_id)
            if row is None or row.user_id != user.id:
                return False
            revoke(session, row, now=staff.now())
            record(
                session,
                user=user,
                action="session_revoked",
                subject_type="staff_user",
                subject_id=user.id,
                now=staff.now(),
            )
            return True

    if not await asyncio.to_thread(write):
        raise HTTPException(status_code=404, detail="There is no such session of yours.")
    if session_id == user.session_id:
        return redirect("/staff/login")
    return redirect("/staff/account?done=revoked")


@router.post("/staff/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    current_password: str = Form("", max_length=1024),
    new_password: str = Form("", max_length=1024),
    new_password_again: str = Form("", max_length=1024),
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    now = staff.now()
    ip = client_ip(request)

    def write() -> tuple[str | None, int, str | None]:
        """(error, status, new cookie token)."""
        with staff.runtime.db.session() as session:
            wait = login_limits.retry_at(session, account=user.email, address=ip, now=now)
            if wait is not None:
                return wait_message(wait, now)[0], 429, None
            account = session.get(StaffUser, user.id)
            assert account is not None
            if not verify_password(current_password, account.password_hash):
                # Counted like a wrong sign-in: a borrowed session cannot guess the password.
                login_limits.record_attempt(
                    session, account=user.email, address=ip, now=now, succeeded=False
                )
                return "Your current password is not right.", 401, None
            if new_password != new_password_again:
                return "The two new passwords differ.", 400, None
            try:
                check_strength(new_password, email=user.email, name=user.name)
            except WeakPasswordError as exc:
                return f"That new password is refused: {exc}.", 400, None
            account.password_hash = hash_password(new_password)
            session.add(account)
            revoke_all(session, user_id=user.id, now=now)
            record(
                session,
                user=user,
                action="password_changed",
                subject_type="staff_user",
                subject_id=user.id,
                now=now,
            )
            fresh = open_session(
                session,
                user=account,
                now=now,
                user_agent=user_agent(request),
                ip=ip,
                second_factor_done=True,
            )
            return None, 303, fresh

    error, status, token = await asyncio.to_thread(write)
    if token is None:
        return await asyncio.to_thread(
            _account_page, request, staff, user, error=error, status_code=status
        )
    response = redirect("/staff/account?done=password")
    set_session_cookie(response, staff, token)
    return response


@enrol_router.get(ENROL_PATH, response_class=HTMLResponse)
async def enrol_page(
    request: Request,
    user: CurrentUser = Depends(signed_in_user),
    staff: StaffServices = Depends(services),
) -> Response:
    return _enrol_page(request, staff, user, secret=totp.new_secret())


def _enrol_page(
    request: Request,
    staff: StaffServices,
    user: CurrentUser,
    *,
    secret: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        staff,
        "two_factor.html",
        {
            "title": "Two-factor sign-in",
            "user": user,
            "enrolment": None if user.has_totp else totp.enrolment(secret, email=user.email),
            "required": user.is_admin and not user.has_totp,
            "error": error,
        },
        status_code=status_code,
    )


@enrol_router.post(ENROL_PATH, response_class=HTMLResponse)
async def enrol(
    request: Request,
    secret: str = Form("", max_length=64),
    code: str = Form("", max_length=20),
    user: CurrentUser = Depends(signed_in_user),
    staff: StaffServices = Depends(services),
) -> Response:
    if user.has_totp:
        raise HTTPException(
            status_code=409,
            detail="Two-factor sign-in is already on. An administrator can reset it.",
        )
    if not totp.valid_secret(secret):
        raise HTTPException(status_code=400, detail="The set-up form was damaged; start again.")
    now = staff.now()

    def write() -> bool:
        with staff.runtime.db.session() as session:
            step = totp.accepted_step(secret, code, now=now, last_step=None)
            account = session.get(StaffUser, user.id)
            if step is None or account is None:
                return False
            account.totp_secret = secret
            account.totp_last_step = step
            session.add(account)
            record(
                session,
                user=user,
                action="2fa_enrolled",
                subject_type="staff_user",
                subject_id=user.id,
                now=now,
            )
            return True

    if not await asyncio.to_thread(write):
        return _enrol_page(
            request,
            staff,
            user,
            secret=secret,
            error="That code is not right. Check the phone's time and enter the newest code.",
            status_code=400,
        )
    return redirect("/staff/account?done=2fa")


#: The staff admin page lists this many accounts at a time.
ADMIN_PAGE = 200


@dataclass(frozen=True, slots=True)
class StaffLine:
    id: int
    email: str
    name: str
    role: str
    active: bool
    has_totp: bool
    sessions: int


@router.get("/staff/admin/staff", response_class=HTMLResponse)
def staff_admin(
    request: Request,
    done: str | None = None,
    user: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    found = cursors.decode(request.query_params.get("after"), (bool, str, int))
    after = None if found is None else StaffKey(active=found[0], name=found[1], id=found[2])
    with staff.runtime.db.session() as session:
        page = staff_users_page(session, after=after, limit=ADMIN_PAGE + 1)
        members = page[:ADMIN_PAGE]
        counts = live_session_counts(
            session,
            created_after=staff.now() - SESSION_LIFETIME,
            user_ids=[m.id for m in members if m.id is not None],
        )
        lines = [
            StaffLine(
                id=member.id or 0,
                email=member.email,
                name=member.name,
                role=member.role.value,
                active=member.active,
                has_totp=member.totp_secret is not None,
                sessions=counts.get(member.id or 0, 0),
            )
            for member in members
        ]
    last = members[-1] if len(page) > ADMIN_PAGE else None
    return render(
        request,
        staff,
        "staff_admin.html",
        {
            "title": "Staff accounts",
            "staff_lines": lines,
            "done": DONE.get(done or ""),
            "first_page": after is None,
            "next_page": (
                urlencode({"after": cursors.encode(last.active, last.name, last.id or 0)})
                if last is not None
                else None
            ),
        },
    )


def _admin_change(
    staff: StaffServices, user: CurrentUser, member_id: int, *, reset_totp: bool
) -> bool:
    now = staff.now()
    with staff.runtime.db.session() as session:
        member = session.get(StaffUser, member_id)
        if member is None:
            return False
        if reset_totp:
            member.totp_secret = None
            member.totp_last_step = None
            session.add(member)
        revoked = revoke_all(session, user_id=member_id, now=now)
        record(
            session,
            user=user,
            action="2fa_reset" if reset_totp else "sessions_revoked",
            subject_type="staff_user",
            subject_id=member_id,
            now=now,
            sessions=revoked,
        )
        return True


@router.post("/staff/admin/staff/{member_id}/sessions/revoke")
async def admin_revoke_sessions(
    member_id: int,
    user: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    if not await asyncio.to_thread(_admin_change, staff, user, member_id, reset_totp=False):
        raise HTTPException(status_code=404, detail="There is no such account.")
    if member_id == user.id:
        return redirect("/staff/login")
    return redirect("/staff/admin/staff?done=admin-sessions")


@router.post("/staff/admin/staff/{member_id}/2fa/reset")
async def admin_reset_two_factor(
    member_id: int,
    user: CurrentUser = Depends(require_admin),
    staff: StaffServices = Depends(services),
) -> Response:
    if not await asyncio.to_thread(_admin_change, staff, user, member_id, reset_totp=True):
        raise HTTPException(status_code=404, detail="There is no such account.")
    if member_id == user.id:
        return redirect("/staff/login")
    return redirect("/staff/admin/staff?done=admin-2fa")
