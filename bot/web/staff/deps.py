"""FastAPI dependencies: who is signed in, and what their role lets them do."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

from bot.web.staff.auth import (
    COOKIE_NAME,
    LiveSession,
    can_change,
    csrf_for,
    find_session,
    needs_enrolment,
)
from bot.web.staff.web import EnrolmentRequired, LoginRequired, StaffServices, services
from storage.enums import StaffRole


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in member of staff as pages see them (no password hash in templates)."""

    id: int
    email: str
    name: str
    role: StaffRole
    csrf: str
    #: The `staff_sessions` row this request belongs to.
    session_id: int
    has_totp: bool = False

    @property
    def can_change(self) -> bool:
        return can_change(self.role)

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN


def cookie_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE_NAME)


def page_csrf(request: Request, staff: StaffServices) -> str:
    """The CSRF token for this browser's cookie ('' without one: every POST then fails)."""
    token = cookie_token(request)
    return csrf_for(staff.csrf_key, token) if token else ""


async def live_session(request: Request, staff: StaffServices) -> LiveSession | None:
    """The request's session row and user, if its cookie names a live session."""
    token = cookie_token(request)
    if not token:
        return None

    def load() -> LiveSession | None:
        with staff.runtime.db.session() as session:
            return find_session(session, token=token, now=staff.now())

    return await asyncio.to_thread(load)


def _current(found: LiveSession, request: Request, staff: StaffServices) -> CurrentUser:
    user = found.user
    assert user.id is not None
    current = CurrentUser(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        csrf=page_csrf(request, staff),
        session_id=found.id,
        has_totp=user.totp_secret is not None,
    )
    request.state.staff_user = current
    return current


async def signed_in_user(request: Request, staff: StaffServices = Depends(services)) -> CurrentUser:
    """Signed in (password and, where set up, the code), two-factor set up or not: the
    two-factor set-up page itself depends on this."""
    found = await live_session(request, staff)
    if found is None or not found.row.second_factor_done:
        raise LoginRequired
    return _current(found, request, staff)


async def current_user(request: Request, staff: StaffServices = Depends(services)) -> CurrentUser:
    """Every staff route but sign-in depends on this: no session, no page; an
    administrator without two-factor sign-in is sent to set it up first."""
    found = await live_session(request, staff)
    if found is None or not found.row.second_factor_done:
        raise LoginRequired
    if needs_enrolment(found.user):
        raise EnrolmentRequired
    return _current(found, request, staff)


async def require_editor(user: CurrentUser = Depends(current_user)) -> CurrentUser:
    """Changing anything needs the staff or admin role; viewers only read."""
    if not user.can_change:
        raise HTTPException(status_code=403, detail="Your account can view pages but not change.")
    return user


async def require_admin(user: CurrentUser = Depends(require_editor)) -> CurrentUser:
    """Other people's accounts are for administrators only."""
    if not user.is_admin:
        raise HTTPException(status_code=403, detail="Only an administrator can do this.")
    return user
