"""FastAPI dependencies: who is signed in, and what their role lets them do."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

from bot.web.staff.auth import COOKIE_NAME, SessionData, can_change, session_user
from bot.web.staff.web import LoginRequired, StaffServices, services
from storage.enums import StaffRole


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in member of staff as pages see them (no password hash in templates)."""

    id: int
    email: str
    name: str
    role: StaffRole
    csrf: str

    @property
    def can_change(self) -> bool:
        return can_change(self.role)

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN


def read_session(request: Request, staff: StaffServices) -> SessionData | None:
    return staff.codec.loads(request.cookies.get(COOKIE_NAME), now=staff.now())


async def current_user(request: Request, staff: StaffServices = Depends(services)) -> CurrentUser:
    """Every staff route but the login page depends on this: no session, no page."""
    data = read_session(request, staff)
    if data is None or data.user_id is None:
        raise LoginRequired

    def load() -> CurrentUser | None:
        with staff.runtime.db.session() as session:
            user = session_user(session, data)
            if user is None or user.id is None:
                return None
            return CurrentUser(
                id=user.id, email=user.email, name=user.name, role=user.role, csrf=data.csrf
            )

    user = await asyncio.to_thread(load)
    if user is None:
        raise LoginRequired
    request.state.staff_user = user
    return user


async def require_editor(user: CurrentUser = Depends(current_user)) -> CurrentUser:
    """Changing anything needs the staff or admin role; viewers only read."""
    if not user.can_change:
        raise HTTPException(status_code=403, detail="Your account can view pages but not change.")
    return user
