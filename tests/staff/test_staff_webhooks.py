"""Webhooks in the staff admin (issue 14, item 4): an administrator adds a webhook and sees
its signing secret once, removes one after a confirmation, and resends a dead letter from
the paged list; each is audited; staff and viewers are refused; forms need the CSRF token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from staff.helpers import SignedIn

from bot.common.clock import FixedClock
from bot.common.webhook_signing import verify
from bot.outbound.webhooks import WebhookWorker
from bot.web.staff.routes_webhooks import PAGE
from fakes.webhook_receiver import Receiver
from storage.db import Database
from storage.enums import StaffRole
from storage.models import AuditEvent, Landlord, WebhookSubscription
from storage.repositories import landlord_events

HOOKS = "/staff/admin/webhooks"
_SECRET = re.compile(r'value="(whsec_[A-Za-z0-9_-]+)"')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.up()
    yield r
    r.down()


def _add(admin: SignedIn, url: str, events: list[str] | None = None) -> str:
    response = admin.client.post(
        HOOKS,
        data={"csrf_token": admin.csrf, "url": url, "events": events or []},
        follow_redirects=False,
    )
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    assert "shown only this once" in response.text
    found = _SECRET.search(response.text)
    assert found, "the secret is not on the page"
    return found.group(1)


def _event(db: Database, clock: FixedClock) -> int:
    with db.session() as session:
        landlord = session.exec(select(Landlord).where(Landlord.reference == "demo")).one()
        assert landlord.id is not None
        event = landlord_events.record(
            session,
            landlord_id=landlord.id,
            kind=landlord_events.CALLBACK_REQUESTED,
            now=clock.now(),
            data={},
        )
        assert event.id is not None
        return event.id


def _deliver(db: Database, clock: FixedClock, **kw: int) -> None:
    asyncio.run(WebhookWorker(db=db, clock=clock, timeout=0.5, **kw).run_once())


def test_an_admin_adds_a_webhook_that_receives_signed_events(
    signed_in: Callable[[StaffRole], SignedIn],
    client: TestClient,
    staff_users: Database,
    clock: FixedClock,
    receiver: Receiver,
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    assert f'href="{HOOKS}"' in client.get("/staff").text
    secret = _add(admin, receiver.url, ["callback.requested", "appointment.booked"])
    listing = client.get(HOOKS)
    assert listing.status_code == 200
    assert receiver.url in listing.text and "callback.requested, appointment.booked" in listing.text
    assert secret not in listing.text
    event = _event(staff_users, clock)
    _deliver(staff_users, clock)
    (got,) = receiver.got
    assert got.event["id"] == event
    assert verify(secret, got.headers["Doorstep-Signature"], got.body, now=clock.now().timestamp())
    with staff_users.session() as session:
        (audit,) = session.exec(
            select(AuditEvent).where(AuditEvent.action == "staff.webhook_subscribed")
        ).all()
    assert audit.actor == "ada@landlord.example" and secret not in str(audit.detail)


def test_a_bad_url_or_type_is_refused_with_the_reason(
    signed_in: Callable[[StaffRole], SignedIn], client: TestClient, staff_users: Database
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    for url, events, reason in (
        ("http://hms.example.org/hooks", [], "https"),
        ("https://hms.example.org/" + "a" * 2001, [], "2000"),
        ("https://hms.example.org/hooks", ["appointment.exploded"], "unknown event type"),
    ):
        response = admin.client.post(
            HOOKS, data={"csrf_token": admin.csrf, "url": url, "events": events}
        )
        assert response.status_code == 400
        assert reason in response.text and "was not added" in response.text
    with staff_users.session() as session:
        assert session.exec(select(WebhookSubscription)).all() == []


def test_removing_asks_first(
    signed_in: Callable[[StaffRole], SignedIn], client: TestClient, staff_users: Database
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    _add(admin, "https://hms.example.org/hooks")
    with staff_users.session() as session:
        (sub,) = session.exec(select(WebhookSubscription)).all()
    confirm = client.get(f"{HOOKS}/{sub.id}/remove")
    assert confirm.status_code == 200 and "Remove the webhook to" in confirm.text
    assert admin.post(f"{HOOKS}/{sub.id}/remove").headers["location"] == f"{HOOKS}?done=removed"
    page = client.get(f"{HOOKS}?done=removed")
    assert "The webhook is removed" in page.text and "There are no webhooks yet." in page.text
    assert admin.post(f"{HOOKS}/{sub.id}/remove").status_code == 404
    assert client.get(f"{HOOKS}/{sub.id}/remove").status_code == 404


def test_dead_letters_are_paged_and_resent(
    signed_in: Callable[[StaffRole], SignedIn],
    client: TestClient,
    staff_users: Database,
    clock: FixedClock,
    receiver: Receiver,
) -> None:
    admin = signed_in(StaffRole.ADMIN)
    _add(admin, receiver.url)
    receiver.mode = "500"
    events = [_event(staff_users, clock) for _ in range(PAGE + 2)]
    _deliver(staff_users, clock, max_attempts=1)
    first = client.get(HOOKS)
    assert "No dead letters" not in first.text
    assert first.text.count("HTTP 500") == PAGE
    assert f"#{events[-1]}<" in first.text and f"#{events[1]}<" not in first.text
    older = re.search(r'href="(/staff/admin/webhooks\?before=\d+)">Older dead letters', first.text)
    assert older
    second = client.get(older.group(1))
    assert second.text.count("HTTP 500") == 2
    assert f"#{events[0]}<" in second.text and f"#{events[1]}<" in second.text
    resend = re.search(r'action="(/staff/admin/webhooks/deliveries/\d+/resend)"', second.text)
    assert resend
    receiver.mode = "ok"
    response = admin.post(resend.group(1))
    assert response.status_code == 303 and response.headers["location"] == f"{HOOKS}?done=resent"
    assert admin.post(resend.group(1)).status_code == 404  # queued already
    clock.advance(timedelta(seconds=1))
    _deliver(staff_users, clock)
    assert [g.event["id"] for g in receiver.got] == [events[1]]
    after = client.get(HOOKS)
    assert after.text.count("HTTP 500") == PAGE
    with staff_users.session() as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.subject_type == "webhook_delivery")
        ).all()
    assert actions == ["staff.webhook_resent"]


@pytest.mark.parametrize("role", [StaffRole.STAFF, StaffRole.VIEWER])
def test_only_admins_may(
    role: StaffRole,
    signed_in: Callable[[StaffRole], SignedIn],
    client: TestClient,
    staff_users: Database,
) -> None:
    user = signed_in(role)
    assert f'href="{HOOKS}"' not in client.get("/staff").text
    assert client.get(HOOKS).status_code == 403
    response = user.client.post(
        HOOKS, data={"csrf_token": user.csrf, "url": "https://hms.example.org/"}
    )
    assert response.status_code == 403
    assert user.post(f"{HOOKS}/1/remove").status_code == 403
    assert user.post(f"{HOOKS}/deliveries/1/resend").status_code == 403
    with staff_users.session() as session:
        assert session.exec(select(WebhookSubscription)).all() == []


def test_a_form_without_the_csrf_token_is_refused(
    signed_in: Callable[[StaffRole], SignedIn], client: TestClient, staff_users: Database
) -> None:
    signed_in(StaffRole.ADMIN)
    response = client.post(HOOKS, data={"url": "https://hms.example.org/"})
    assert response.status_code == 403
    with staff_users.session() as session:
        assert session.exec(select(WebhookSubscription)).all() == []
