"""Server-side staff sessions (issue 13, item 6): sign-out, password changes and
administrators revoke them, and staff see where they are signed in.

Every check goes through the real app, its login form and its database (both databases).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import select
from staff.helpers import PASSWORD, USERS, SignedIn, sign_in

from bot.web.staff.auth import COOKIE_NAME
from storage.db import Database
from storage.enums import StaffRole
from storage.models import AuditEvent, StaffSession, StaffUser

NEW_PASSWORD = "copper-lantern-meadow-58"


def second_browser(client: TestClient, address: str = "198.51.100.20") -> TestClient:
    """Another browser (its own cookies) on the same running app."""
    return TestClient(client.app, client=(address, 50000))


def test_a_cookie_copied_before_sign_out_does_not_work_after_it(
    client: TestClient, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    staff = signed_in(StaffRole.STAFF)
    copied = client.cookies.get(COOKIE_NAME)
    assert copied and len(copied) >= 40
    assert staff.post("/staff/logout").headers["location"] == "/staff/login"
    thief = second_browser(client)
    thief.cookies.set(COOKIE_NAME, copied, path="/staff")
    response = thief.get("/staff/tasks", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")


def test_the_cookie_holds_only_a_random_token_and_the_table_only_its_hash(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    signed_in(StaffRole.VIEWER)
    token = client.cookies.get(COOKIE_NAME)
    assert token is not None and "." not in token  # not a signed payload
    with staff_users.session() as session:
        rows = session.exec(select(StaffSession)).all()
    assert len(rows) == 1
    assert token not in rows[0].token_hash and len(rows[0].token_hash) == 64


def test_changing_the_password_signs_out_every_other_session(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    email = USERS[StaffRole.STAFF][0]
    other = second_browser(client)
    sign_in(other, email)
    assert other.get("/staff", follow_redirects=False).status_code == 200
    staff = signed_in(StaffRole.STAFF)
    changed = staff.post(
        "/staff/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 303, changed.text
    # The other browser is signed out; this one carries on with a new session.
    assert other.get("/staff", follow_redirects=False).status_code == 303
    page = client.get(changed.headers["location"])
    assert page.status_code == 200
    assert "Your password is changed" in page.text
    assert page.text.count("Sign out this session</button>") == 1
    client.cookies.clear()
    sign_in(client, email, NEW_PASSWORD)
    with staff_users.session() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "staff.password_changed")
        ).all()
    assert len(events) == 1 and NEW_PASSWORD not in str(events[0].detail)


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    staff = signed_in(StaffRole.STAFF)

    def change(current: str, new: str, again: str | None = None) -> tuple[int, str]:
        response = staff.post(
            "/staff/account/password",
            {"current_password": current, "new_password": new, "new_password_again": again or new},
        )
        return response.status_code, response.text

    assert change("not-my-password-at-all", NEW_PASSWORD)[0] == 401
    for weak in (
        "Landlord2026!",
        "P@ssw0rd2026!!",
        "short-1A!",
        "Summer2026!!!!",
        "Sam Staff 2026!",
    ):
        status, text = change(PASSWORD, weak)
        assert status == 400, weak
        assert "refused" in text and weak not in text
    assert change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")[0] == 400
    with staff_users.session() as session:
        user = session.exec(select(StaffUser).where(StaffUser.email == staff.email)).one()
    client.cookies.clear()
    sign_in(client, staff.email, PASSWORD)
    assert user.password_hash.startswith("scrypt$")


def test_staff_see_their_sessions_and_sign_one_out(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    email = USERS[StaffRole.VIEWER][0]
    sign_in(second_browser(client, "192.0.2.45"), USERS[StaffRole.STAFF][0])
    laptop = second_browser(client, "192.0.2.44")
    laptop.headers["user-agent"] = "LaptopBrowser/1.0"
    sign_in(laptop, email)
    viewer = signed_in(StaffRole.VIEWER)
    page = client.get("/staff/account")
    assert page.status_code == 200
    assert "LaptopBrowser/1.0" in page.text and "192.0.2.44" in page.text
    assert "(this browser)" in page.text
    with staff_users.session() as session:
        laptop_row = session.exec(
            select(StaffSession).where(StaffSession.user_agent == "LaptopBrowser/1.0")
        ).one()
    # Viewers manage their own sessions (self-service), but not someone else's.
    assert viewer.post(f"/staff/account/sessions/{laptop_row.id}/revoke").status_code == 303
    assert laptop.get("/staff", follow_redirects=False).status_code == 303
    assert "LaptopBrowser/1.0" not in client.get("/staff/account").text
    with staff_users.session() as session:
        others = session.exec(select(StaffSession)).all()
    sams = [row.id for row in others if row.user_id != laptop_row.user_id]
    assert sams
    assert all(
        viewer.post(f"/staff/account/sessions/{row_id}/revoke").status_code == 404
        for row_id in sams
    )
    # Signing out this browser's own session from the list signs this browser out.
    with staff_users.session() as session:
        mine = session.exec(
            select(StaffSession).where(
                StaffSession.user_id == laptop_row.user_id,
                StaffSession.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).one()
    assert viewer.post(f"/staff/account/sessions/{mine.id}/revoke").status_code == 303
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_an_administrator_signs_out_someone_elses_sessions(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    sam = USERS[StaffRole.STAFF][0]
    lost_phone = second_browser(client)
    sign_in(lost_phone, sam)
    admin = signed_in(StaffRole.ADMIN)
    page = client.get("/staff/admin/staff")
    assert page.status_code == 200 and sam in page.text
    with staff_users.session() as session:
        sam_id = session.exec(select(StaffUser.id).where(StaffUser.email == sam)).one()
    assert admin.post(f"/staff/admin/staff/{sam_id}/sessions/revoke").status_code == 303
    assert lost_phone.get("/staff", follow_redirects=False).status_code == 303
    assert client.get("/staff", follow_redirects=False).status_code == 200  # admin still in
    # Staff and viewers cannot do it to anyone.
    for role in (StaffRole.STAFF, StaffRole.VIEWER):
        other = second_browser(client, "192.0.2.7")
        signed = sign_in(other, USERS[role][0])
        assert signed.post("/staff/admin/staff").status_code in (403, 405)
        refused = signed.post(f"/staff/admin/staff/{sam_id}/sessions/revoke")
        assert refused.status_code == 403
        assert other.get("/staff/admin/staff").status_code == 403
        assert "Staff accounts" not in other.get("/staff").text
