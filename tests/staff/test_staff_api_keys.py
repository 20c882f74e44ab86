"""API keys in the staff admin (issue 14, item 1): an administrator makes a key for the
landlord's system and sees it once; it works against the API at once; revoking it (after a
confirmation) stops it at once; each is audited; only administrators may."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from staff.helpers import SignedIn

from bot.web.staff.routes_api_keys import PAGE
from storage.db import Database
from storage.enums import StaffRole
from storage.models import AuditEvent
from storage.repositories import api_keys, landlords

KEYS = "/staff/admin/api-keys"
NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
_KEY = re.compile(r'value="(dsk_[A-Za-z0-9_-]+)"')


def _make(admin: SignedIn, name: str = "NEC nightly sync", scope: str = "write") -> str:
    response = admin.post(KEYS, {"name": name, "scope": scope})
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    assert "shown only this once" in response.text
    found = _KEY.search(response.text)
    assert found, "the new key is not on the page"
    return found.group(1)


def _me(client: TestClient, key: str) -> int:
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    return int(response.status_code)


def _audit(db: Database) -> list[AuditEvent]:
    with db.session() as session:
        return list(
            session.exec(select(AuditEvent).where(AuditEvent.subject_type == "api_key")).all()
        )


def test_an_admin_makes_a_key_that_works_and_is_never_shown_again(
    signed_in: Callable[[StaffRole], SignedIn],
    client: TestClient,
    staff_users: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    assert 'href="/staff/admin/api-keys"' in client.get("/staff").text  # in the admin's nav
    with caplog.at_level(logging.DEBUG):
        key = _make(admin, scope="read")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json() == {
        "landlord": "demo",
        "scope": "read",
    }

    listing = client.get(KEYS)
    assert listing.status_code == 200
    assert key not in listing.text
    prefix = key.split("_")[1]
    assert f"dsk_{prefix}_..." in listing.text
    assert "NEC nightly sync" in listing.text and "read" in listing.text
    assert "never" not in listing.text  # its use through /me is recorded as its last use
    assert key not in caplog.text
    (event,) = _audit(staff_users)
    assert event.action == "staff.api_key_created" and event.actor == "ada@landlord.example"
    assert key not in str(event.detail) and event.detail["prefix"] == prefix


def test_revoking_asks_first_then_the_key_is_refused(
    signed_in: Callable[[StaffRole], SignedIn], client: TestClient, staff_users: Database
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    key = _make(admin)
    assert _me(client, key) == 200
    listing = client.get(KEYS).text
    (confirm,) = re.findall(r'href="(/staff/admin/api-keys/\d+/revoke)"', listing)

    page = client.get(confirm)
    assert page.status_code == 200 and "cannot be undone" in page.text
    assert _me(client, key) == 200  # looking at the question revokes nothing

    assert admin.post(confirm, {"csrf_token": ""}).status_code == 403  # no token, no change
    assert _me(client, key) == 200
    done = admin.post(confirm)
    assert done.status_code == 303 and done.headers["location"] == f"{KEYS}?done=revoked"
    assert _me(client, key) == 401
    after = client.get(f"{KEYS}?done=revoked").text
    assert "calls with it are refused" in after
    assert confirm not in after  # a revoked key offers no revoke
    assert admin.post(confirm).status_code == 404  # nothing left to revoke
    assert [e.action for e in _audit(staff_users)] == [
        "staff.api_key_created",
        "staff.api_key_revoked",
    ]


def test_a_key_needs_a_name_and_a_known_scope(
    signed_in: Callable[[StaffRole], SignedIn], client: TestClient, staff_users: Database
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    blank = admin.post(KEYS, {"name": "   ", "scope": "write"})
    assert blank.status_code == 400 and "Give the key a name" in blank.text
    wrong = admin.post(KEYS, {"name": "Sync", "scope": "admin"})
    assert wrong.status_code == 400 and "Choose read or write" in wrong.text
    assert "dsk_" not in blank.text + wrong.text
    assert _audit(staff_users) == []


@pytest.mark.parametrize("role", [StaffRole.STAFF, StaffRole.VIEWER])
def test_only_administrators_see_or_make_keys(
    role: StaffRole,
    signed_in: Callable[[StaffRole], SignedIn],
    client: TestClient,
    staff_users: Database,
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    key = _make(admin)
    revoke = re.findall(r'href="(/staff/admin/api-keys/\d+/revoke)"', client.get(KEYS).text)[0]
    other = signed_in(role)
    assert 'href="/staff/admin/api-keys"' not in client.get("/staff").text
    assert client.get(KEYS).status_code == 403
    assert client.get(revoke).status_code == 403
    assert other.post(KEYS, {"name": "Mine", "scope": "write"}).status_code == 403
    assert other.post(revoke).status_code == 403
    assert _me(client, key) == 200
    assert [e.action for e in _audit(staff_users)] == ["staff.api_key_created"]


def test_the_list_is_paged_by_key(
    signed_in: Callable[[StaffRole], SignedIn], client: TestClient, staff_users: Database
) -> None:
    signed_in(StaffRole.ADMIN)
    with staff_users.session() as session:
        demo = landlords.by_reference(session, reference="demo")
        assert demo is not None and demo.id is not None
        for n in range(PAGE + 2):
            api_keys.create(session, landlord_id=demo.id, name=f"k{n}", scope="read", now=NOW)
    first = client.get(KEYS).text
    assert first.count("<tr>") == PAGE + 1  # the header row and a page of keys
    (after,) = re.findall(r'href="/staff/admin/api-keys\?after=(\d+)"', first)
    second = client.get(f"{KEYS}?after={after}").text
    assert second.count("<tr>") == 3
    assert "Next page" not in second
