"""Staff test helpers: accounts made the way an administrator makes them, and signing in.

Accounts are created with the real password hashing (no default credentials exist in the
product). Signing in goes through the real login form, CSRF token and all, and for the
administrator (who must use two-factor sign-in) the code page with the code an
authenticator app would show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlmodel import select

from bot.common.clock import FixedClock
from bot.web.staff.passwords import hash_password
from bot.web.staff.totp import code_at
from storage.db import Database
from storage.enums import StaffRole
from storage.models import StaffUser

PASSWORD = "plum-orchard-kettle-42"
USERS = {
    StaffRole.ADMIN: ("ada@landlord.example", "Ada Admin"),
    StaffRole.STAFF: ("sam@landlord.example", "Sam Staff"),
    StaffRole.VIEWER: ("vic@landlord.example", "Vic Viewer"),
}
#: The administrator's authenticator secret (administrators must use two-factor sign-in).
ADMIN_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def make_staff_users(db: Database, clock: FixedClock) -> None:
    with db.session() as session:
        for role, (email, name) in USERS.items():
            session.add(
                StaffUser(
                    email=email,
                    name=name,
                    password_hash=hash_password(PASSWORD),
                    role=role,
                    created_at=clock.now(),
                    totp_secret=ADMIN_TOTP if role == StaffRole.ADMIN else None,
                )
            )


@dataclass
class SignedIn:
    client: TestClient
    email: str
    csrf: str

    def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """A form POST from the signed-in page: the session's CSRF token included."""
        response: httpx.Response = self.client.post(
            path, data={"csrf_token": self.csrf, **(data or {})}, follow_redirects=False
        )
        return response


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> SignedIn:
    page = client.get("/staff/login")
    assert page.status_code == 200
    response = client.post(
        "/staff/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    if response.headers["location"].startswith("/staff/login/code"):
        enter_code(client, email)
    home = client.get("/staff")
    assert home.status_code == 200
    return SignedIn(client, email, csrf_of(home.text))


def fresh_code(client: TestClient, email: str, secret: str = ADMIN_TOTP) -> str:
    """The authenticator's code now; if this step's code was used already (the tests' clock
    stands still), the clock moves on 30 seconds, as a person would wait for the next."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.db.session() as session:
        user = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        last = user.totp_last_step
    now = runtime.clock.now()
    if last is not None and last >= int(now.timestamp()) // 30:
        assert isinstance(runtime.clock, FixedClock)
        now = runtime.clock.advance(timedelta(seconds=30))
    return code_at(secret, now)


def enter_code(client: TestClient, email: str, secret: str = ADMIN_TOTP) -> httpx.Response:
    page = client.get("/staff/login/code")
    assert page.status_code == 200, page.text
    response: httpx.Response = client.post(
        "/staff/login/code",
        data={"code": fresh_code(client, email, secret), "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response
