"""Staff test helpers: accounts made the way an administrator makes them, and signing in.

Accounts are created with the real password hashing (no default credentials exist in the
product). Signing in goes through the real login form, CSRF token and all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from fastapi.testclient import TestClient

from bot.common.clock import FixedClock
from bot.web.staff.passwords import hash_password
from storage.db import Database
from storage.enums import StaffRole
from storage.models import StaffUser

PASSWORD = "plum-orchard-kettle-42"
USERS = {
    StaffRole.ADMIN: ("ada@landlord.example", "Ada Admin"),
    StaffRole.STAFF: ("sam@landlord.example", "Sam Staff"),
    StaffRole.VIEWER: ("vic@landlord.example", "Vic Viewer"),
}
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
    home = client.get("/staff")
    assert home.status_code == 200
    return SignedIn(client, email, csrf_of(home.text))
