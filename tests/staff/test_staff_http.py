"""The staff web app over HTTP: who may see and change what, and the security measures.

Routes are enumerated from the app itself, so a new staff page is covered by these tests
the day it is added. Runs on SQLite and PostgreSQL (the `client` fixture's database).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import col, func, select
from staff.helpers import PASSWORD, USERS, SignedIn, csrf_of, sign_in
from typer.testing import CliRunner

from bot.cli.main import app as cli_app
from bot.common.clock import FixedClock
from bot.operatives import link_codes
from bot.web.staff.auth import COOKIE_NAME
from simphone import Phone
from storage.db import Database
from storage.enums import Channel, Direction, StaffRole, TaskKind, TaskStatus
from storage.models import (
    AuditEvent,
    Complaint,
    Conversation,
    Feedback,
    Message,
    Operative,
    OutboxMessage,
    StaffTask,
    StaffUser,
)

PUBLIC = {"/staff/login"}
#: Your own password, sessions and two-factor sign-in: viewers may change these.
SELF_SERVICE = {
    "/staff/login/code",
    "/staff/2fa",
    "/staff/account/password",
    "/staff/account/sessions/1/revoke",
}


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside routers that newer FastAPI keeps as included branches
    (our staff routers carry full paths, so no prefix needs adding)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(inner.routes)


def staff_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) for every staff route, path parameters filled with 1."""
    out: list[tuple[str, str]] = []
    for route in _api_routes(client.app.routes):  # type: ignore[attr-defined]
        if route.path.startswith("/staff"):
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            out.extend((method, path) for method in sorted(route.methods or ()))
    assert len(out) >= 20, "the staff routes were not found on the app"
    return out


def changing_routes(client: TestClient) -> list[str]:
    return [
        path
        for method, path in staff_routes(client)
        if method == "POST" and path not in PUBLIC | SELF_SERVICE and path != "/staff/logout"
    ]


def audit_count(db: Database) -> int:
    with db.session() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(AuditEvent)
                .where(col(AuditEvent.action).not_in(["staff.login", "staff.login_failed"]))
            ).one()
        )


def test_every_staff_route_sends_an_anonymous_visitor_to_sign_in(
    client: TestClient, staff_users: Database
) -> None:
    for method, path in staff_routes(client):
        if path in PUBLIC:
            continue
        response = client.request(method, path, follow_redirects=False)
        assert response.status_code in (303, 401, 403), (method, path, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"].startswith("/staff/login?next=")
    assert audit_count(staff_users) == 0


def test_every_post_refuses_a_missing_or_forged_csrf_token(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    posts = [path for method, path in staff_routes(client) if method == "POST"]
    assert "/staff/login" in posts and "/staff/feedback/1/review" in posts
    for path in posts:
        missing = client.post(path, data={"note": "x"}, follow_redirects=False)
        assert missing.status_code == 403, (path, missing.status_code)
        forged = client.post(
            path, data={"csrf_token": admin.csrf[:-4] + "AAAA"}, follow_redirects=False
        )
        assert forged.status_code == 403, (path, forged.status_code)
        assert "did not come from Doorstep" in forged.text
    assert audit_count(staff_users) == 0
    # Still signed in: the refusals changed nothing.
    assert client.get("/staff").status_code == 200


def test_a_token_from_another_session_is_refused(client: TestClient, staff_users: Database) -> None:
    other = sign_in(client, USERS[StaffRole.STAFF][0]).csrf
    client.cookies.clear()
    sign_in(client, USERS[StaffRole.ADMIN][0])
    response = client.post(
        "/staff/feedback/1/review", data={"csrf_token": other}, follow_redirects=False
    )
    assert response.status_code == 403


def test_viewers_can_read_every_page_but_change_nothing(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    viewer = signed_in(StaffRole.VIEWER)
    for path in changing_routes(client):
        response = viewer.post(path, {"note": "n", "summary": "s", "message": "m"})
        assert response.status_code == 403, (path, response.status_code)
        assert "view pages but not change" in response.text
    assert audit_count(staff_users) == 0
    with staff_users.session() as session:
        assert session.exec(select(Complaint)).first() is None
        assert all(f.reviewed_at is None for f in session.exec(select(Feedback)))
    for path in ("/staff/feedback", "/staff/visits", "/staff/tasks", "/staff/operatives"):
        page = client.get(path)
        assert page.status_code == 200
        assert (
            'method="post"'
            not in page.text.replace('action="/staff/logout"', "").split("</header>")[1]
        )


def test_wrong_passwords_slow_the_account_down_without_locking_it(
    client: TestClient, staff_users: Database, clock: FixedClock
) -> None:
    email = USERS[StaffRole.STAFF][0]
    token = csrf_of(client.get("/staff/login").text)

    def attempt(password: str) -> int:
        response = client.post(
            "/staff/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        return int(response.status_code)

    assert [attempt("wrong-guess-123") for _ in range(5)] == [401, 401, 401, 401, 401]
    assert attempt(PASSWORD) == 429, "no password is checked during the back-off"
    clock.advance(timedelta(seconds=1))
    assert attempt(PASSWORD) == 303, "a second later the rightful user signs in"
    with staff_users.session() as session:
        failures = session.exec(
            select(AuditEvent).where(AuditEvent.action == "staff.login_failed")
        ).all()
    assert len(failures) == 5
    assert all(f.actor == email and f.detail["ip"] for f in failures)


def test_unknown_accounts_get_the_same_answer_as_wrong_passwords(
    client: TestClient, staff_users: Database
) -> None:
    token = csrf_of(client.get("/staff/login").text)
    unknown = client.post(
        "/staff/login",
        data={"email": "nobody@example.org", "password": PASSWORD, "csrf_token": token},
    )
    wrong = client.post(
        "/staff/login",
        data={"email": USERS[StaffRole.ADMIN][0], "password": "not-it-at-all", "csrf_token": token},
    )
    assert unknown.status_code == wrong.status_code == 401
    assert "do not match an active account" in unknown.text
    assert "do not match an active account" in wrong.text


def test_session_cookie_is_flagged_random_and_expires(
    client: TestClient, staff_users: Database, clock: FixedClock
) -> None:
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={
            "email": USERS[StaffRole.STAFF][0],
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # http://127.0.0.1 in tests; see the https test below
    assert PASSWORD not in cookie and "sam@" not in cookie
    assert client.get("/staff", follow_redirects=False).status_code == 200
    # A tampered cookie is no session at all.
    good = client.cookies.get(COOKIE_NAME)
    assert good is not None
    client.cookies.set(COOKIE_NAME, good[:-2] + "xx", path="/staff")
    assert client.get("/staff", follow_redirects=False).status_code == 303
    client.cookies.set(COOKIE_NAME, good, path="/staff")
    clock.advance(timedelta(hours=8, minutes=1))
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_cookie_is_secure_when_served_over_https(
    staff_users: Database, clock: FixedClock, interpreter: object
) -> None:
    from bot.app import create_app
    from bot.settings import load_settings

    settings = load_settings(
        database_url=staff_users.url,
        simulator=False,
        secret_key="4f9c0e7a2b6d1f8e3c5a9b0d7e2f4a6c1b8d3e5f7a9c0b2d4e6f8a1c3e5b7d9f",
        public_base_url="https://doorstep.example",
    )
    app = create_app(settings, clock=clock, interpreter=interpreter)  # type: ignore[arg-type]
    with TestClient(app, base_url="https://testserver") as secure:
        page = secure.get("/staff/login")
        assert "Secure" in page.headers["set-cookie"]
        signed = sign_in(secure, USERS[StaffRole.ADMIN][0])
        assert signed.csrf


def test_logout_revokes_the_session_so_an_old_cookie_is_worthless(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    stolen = client.cookies.get(COOKIE_NAME)
    assert admin.post("/staff/logout").status_code == 303
    assert client.get("/staff", follow_redirects=False).status_code == 303
    # The session is revoked on the server: a copy of the old cookie is worth nothing.
    client.cookies.set(COOKIE_NAME, stolen or "", path="/staff")
    reused = client.get("/staff/feedback", follow_redirects=False)
    assert reused.status_code == 303
    assert reused.headers["location"].startswith("/staff/login?next=")


def test_resident_text_is_escaped_everywhere_staff_see_it(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    signed_in(StaffRole.STAFF)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with staff_users.session() as session:
        feedback = session.exec(select(Feedback).where(col(Feedback.flagged).is_(True))).first()
        assert feedback is not None
        feedback.comment = evil
        session.add(feedback)
        session.add(
            Message(
                direction=Direction.INBOUND,
                channel=Channel.SMS,
                address="+447400123458",
                text=evil,
                channel_message_id="evil-1",
                created_at=feedback.created_at + timedelta(minutes=30),
                resident_id=feedback.resident_id,
                appointment_id=feedback.appointment_id,
            )
        )
        feedback_id = feedback.id
    for path in (f"/staff/feedback/{feedback_id}", "/staff/feedback"):
        page = client.get(path)
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    rows = csv.DictReader(io.StringIO(client.get("/staff/feedback.csv").text))
    assert evil in [r["comment"] for r in rows]  # CSV is data, not HTML: kept verbatim


def test_review_escalate_and_export_feedback(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    staff = signed_in(StaffRole.STAFF)
    listing = client.get("/staff/feedback", params={"flagged": "yes", "reviewed": "no"})
    assert "He used the toilet without asking" in listing.text
    assert "Sam was lovely" not in listing.text
    feedback_id = int(re.search(r'href="/staff/feedback/(\d+)"', listing.text).group(1))  # type: ignore[union-attr]
    detail = client.get(f"/staff/feedback/{feedback_id}")
    assert "Did they ask before using your facilities?" in detail.text  # the transcript
    assert (
        staff.post(f"/staff/feedback/{feedback_id}/review", {"note": "Called her back"}).status_code
        == 303
    )
    again = staff.post(f"/staff/feedback/{feedback_id}/escalate", {"summary": "Mud and toilet"})
    assert again.status_code == 303
    staff.post(f"/staff/feedback/{feedback_id}/escalate", {"summary": "twice"})
    with staff_users.session() as session:
        complaints = session.exec(select(Complaint)).all()
        fb = session.get(Feedback, feedback_id)
        actions = [e.action for e in session.exec(select(AuditEvent)) if e.actor == staff.email]
    assert len(complaints) == 1 and complaints[0].text == "Mud and toilet"
    assert fb is not None and fb.review_note == "Called her back" and fb.reviewed_at is not None
    assert actions.count("staff.feedback.reviewed") == 1
    assert actions.count("staff.feedback.escalated") == 1
    reviewed = client.get("/staff/feedback", params={"reviewed": "yes"})
    assert f"complaint CMP-2026-{complaints[0].id:06d}" in reviewed.text
    export = client.get("/staff/feedback.csv", params={"flagged": "yes"})
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["review_note"] for r in rows] == ["Called her back"]
    assert rows[0]["asked_before_facilities"] == "no"
    assert list(rows[0].values())[-1] == f"CMP-2026-{complaints[0].id:06d}"  # the complaint
    bad = client.get("/staff/feedback", params={"rating": "nine"})
    assert bad.status_code == 400 and "Rating" in bad.text


def test_csv_cells_cannot_become_spreadsheet_formulas(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    signed_in(StaffRole.VIEWER)
    with staff_users.session() as session:
        feedback = session.exec(select(Feedback)).first()
        assert feedback is not None
        feedback.comment = '=HYPERLINK("http://evil.example","click")'
        session.add(feedback)
    rows = list(csv.DictReader(io.StringIO(client.get("/staff/feedback.csv").text)))
    comments = [r["comment"] for r in rows if "HYPERLINK" in r["comment"]]
    assert comments == ['\'=HYPERLINK("http://evil.example","click")']


def test_answering_a_handoff_through_the_residents_channel(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    phone = Phone(client, "+447400123457")
    phone.say("I want to talk to a real person please")
    with staff_users.session() as session:
        task = session.exec(select(StaffTask).where(StaffTask.kind == TaskKind.HANDOFF)).one()
        conversation = session.get(Conversation, task.conversation_id)
        assert conversation is not None and conversation.paused
    staff = signed_in(StaffRole.STAFF)
    queue = client.get("/staff/tasks")
    assert f'href="/staff/tasks/{task.id}"' in queue.text
    page = client.get(f"/staff/tasks/{task.id}")
    assert "talk to a real person" in page.text
    assert staff.post(f"/staff/tasks/{task.id}/claim").status_code == 303
    token = re.search(r'name="reply_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    reply = {"message": "Hello, this is Sam from the repairs team.", "reply_token": token}
    assert staff.post(f"/staff/tasks/{task.id}/reply", reply).status_code == 303
    assert staff.post(f"/staff/tasks/{task.id}/reply", reply).status_code == 303  # double submit
    with staff_users.session() as session:
        queued = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "staff_reply")
        ).all()
    assert len(queued) == 1
    assert queued[0].channel == conversation.channel and queued[0].address == "+447400123457"
    assert queued[0].purpose == "reply" and queued[0].conversation_id == conversation.id
    shown = client.get(f"/staff/tasks/{task.id}")
    assert "Hello, this is Sam from the repairs team." in shown.text
    assert "pending" in shown.text  # queued, not yet sent by the dispatcher
    assert staff.post(f"/staff/tasks/{task.id}/close", {"note": "sorted"}).status_code == 303
    with staff_users.session() as session:
        closed = session.get(StaffTask, task.id)
        resumed = session.get(Conversation, conversation.id)
        actions = sorted(
            e.action for e in session.exec(select(AuditEvent)) if e.actor == staff.email
        )
    assert closed is not None and closed.status == TaskStatus.CLOSED
    assert resumed is not None and not resumed.paused
    assert [a for a in actions if a.startswith("staff.task.")] == [
        "staff.task.claimed",
        "staff.task.closed",
        "staff.task.replied",
    ]
    # Automated replies are back: the bot answers the resident again.
    assert phone.say("hello")


def test_a_task_claimed_by_one_person_is_not_taken_by_another(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    Phone(client, "+447400123457").say("I want to talk to a real person please")
    with staff_users.session() as session:
        task = session.exec(select(StaffTask).where(StaffTask.kind == TaskKind.HANDOFF)).one()
    first = signed_in(StaffRole.ADMIN)
    assert first.post(f"/staff/tasks/{task.id}/claim").headers["location"].endswith("done=claimed")
    second = signed_in(StaffRole.STAFF)
    late = second.post(f"/staff/tasks/{task.id}/claim")
    assert late.headers["location"].endswith("done=taken")
    page = client.get(late.headers["location"])
    assert "Someone else claimed this task first." in page.text
    assert USERS[StaffRole.ADMIN][0] in page.text  # still the first person's
    assert second.post("/staff/tasks/999999/claim").status_code == 404


def test_issuing_an_operative_link_code_shows_it_once(
    client: TestClient,
    staff_users: Database,
    signed_in: Callable[[StaffRole], SignedIn],
    clock: FixedClock,
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    with staff_users.session() as session:
        operative = session.exec(select(Operative)).first()
        assert operative is not None
    response = admin.post(f"/staff/operatives/{operative.id}/link-code")
    assert response.status_code == 200
    code = re.search(r'id="link-code">([A-Z0-9-]+)<', response.text).group(1)  # type: ignore[union-attr]
    assert code not in client.get("/staff/operatives").text
    with staff_users.session() as session:
        found = link_codes.find_operative(session, code.lower(), now=clock.now())
        assert found is not None and found.id == operative.id
        assert code not in (found.link_code_hash or "")
    clock.advance(link_codes.VALID_FOR + timedelta(minutes=1))
    with staff_users.session() as session:
        assert link_codes.find_operative(session, code, now=clock.now()) is None


def test_visit_evidence_exports_as_json_and_a_printable_page(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    signed_in(StaffRole.VIEWER)
    with staff_users.session() as session:
        feedback = session.exec(select(Feedback).where(col(Feedback.flagged).is_(True))).first()
        assert feedback is not None
    exported = client.get(f"/staff/visits/{feedback.appointment_id}/timeline.json")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    body = exported.json()
    assert body["exported_by"] == USERS[StaffRole.VIEWER][0]
    sources = [entry["source"] for entry in body["timeline"]]
    assert "message" in sources and "feedback" in sources
    printable = client.get(f"/staff/visits/{feedback.appointment_id}/timeline")
    assert "Did they show you their ID?" in printable.text
    assert client.get("/staff/visits/999999").status_code == 404


def test_create_user_command_refuses_weak_passwords_and_makes_an_account(
    staff_users: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", staff_users.url)
    runner = CliRunner()
    args = ["staff", "create-user", "--email", "Kim@Landlord.example", "--name", "Kim Lee"]
    weak = runner.invoke(
        cli_app, [*args, "--role", "admin", "--password-stdin"], input="tooshort1\n"
    )
    assert weak.exit_code == 2 and "refused" in weak.output
    made = runner.invoke(
        cli_app, [*args, "--role", "admin", "--password-stdin"], input="violet-harbour-tram-9\n"
    )
    assert made.exit_code == 0, made.output
    twice = runner.invoke(
        cli_app, [*args, "--role", "staff", "--password-stdin"], input="violet-harbour-tram-9\n"
    )
    assert twice.exit_code == 2 and "already" in twice.output
    prompted = runner.invoke(
        cli_app,
        [
            "staff",
            "create-user",
            "--email",
            "jo@landlord.example",
            "--name",
            "Jo",
            "--role",
            "viewer",
        ],
        input="green-lantern-oak-77\ngreen-lantern-oak-78\n",
    )
    assert prompted.exit_code == 2 and "differ" in prompted.output
    with staff_users.session() as session:
        user = session.exec(
            select(StaffUser).where(StaffUser.email == "kim@landlord.example")
        ).one()
    assert user.role == StaffRole.ADMIN and "violet" not in user.password_hash
