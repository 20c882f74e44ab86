"""The webhooks admin pages in Chromium, phone-sized: an administrator adds a webhook and
copies its secret from the one page that shows it, finds a delivery on the dead-letter list
after the receiver was down, resends it once the receiver is back, and removes the webhook
after the confirmation; axe-core finds no accessibility violation on any page on the way."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from staff.helpers import ADMIN_TOTP, PASSWORD, USERS
from staff.test_staff_browser import START, assert_accessible, browser, page, server  # noqa: F401

from bot.common.clock import FixedClock
from bot.common.webhook_signing import verify
from bot.outbound.webhooks import WebhookStats, WebhookWorker
from bot.web.staff.totp import code_at
from fakes.webhook_receiver import Receiver
from storage.db import Database
from storage.enums import StaffRole

pytestmark = pytest.mark.browser


def _server_database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The database of this module's server (test_staff_browser.server made the newest
    staff<N>/ directory of this session when this module began)."""
    base = tmp_path_factory.getbasetemp()
    made = [p for p in base.glob("staff*/staff.sqlite3") if p.parent.name[5:].isdigit()]
    newest = max(made, key=lambda p: int(p.parent.name[5:]))
    return Database(f"sqlite:///{Path(newest)}")


def _in_a_thread(worker: WebhookWorker) -> WebhookStats:
    """One delivery cycle, on a thread of its own (Playwright's loop runs on this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(worker.run_once())).result()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_admin_adds_a_webhook_resends_a_dead_letter_and_removes_it(
    page: Page,  # noqa: F811
    server: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    page.goto("/staff/admin/webhooks")
    page.get_by_label("Email").fill(USERS[StaffRole.ADMIN][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(code_at(ADMIN_TOTP, START))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    expect(page.get_by_text("There are no webhooks yet.")).to_be_visible()
    assert_accessible(page)

    receiver = Receiver(port=_closed_port())  # down for now
    page.get_by_label("Receiver URL (https)").fill(receiver.url)
    page.get_by_label("callback.requested").check()
    page.get_by_role("button", name="Add the webhook").click()
    expect(page.get_by_role("heading", name="New webhook")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("shown only this once")
    secret = page.get_by_label("Signing secret for webhook").input_value()
    assert secret.startswith("whsec_")
    assert_accessible(page)
    page.get_by_role("link", name="Back to webhooks").click()
    expect(page.locator("#webhooks-table")).to_contain_text("callback.requested")
    expect(page.locator("#webhooks-table")).not_to_contain_text(secret)

    said = httpx.post(
        f"{server}/simulator/api/messages",
        json={"phone": "+447400123459", "text": "I want to talk to a person"},
        timeout=10,
    )
    assert said.status_code == 200
    db = _server_database(tmp_path_factory)
    clock = FixedClock(START)
    try:
        worker = WebhookWorker(db=db, clock=clock, timeout=0.5, max_attempts=1)
        assert _in_a_thread(worker).dead == 1
        page.reload()
        dead = page.locator("#dead-letters-table")
        expect(dead).to_contain_text("callback.requested")
        expect(dead).to_contain_text("could not connect")
        assert_accessible(page)

        receiver.up()
        try:
            dead.get_by_role("button", name="Resend callback.requested event").click()
            expect(page.get_by_role("status")).to_contain_text("queued again")
            expect(page.get_by_text("No dead letters")).to_be_visible()
            assert_accessible(page)
            assert _in_a_thread(worker).delivered == 1
        finally:
            receiver.down()
    finally:
        db.dispose()
    (got,) = receiver.got
    assert got.event["type"] == "callback.requested"
    assert verify(secret, got.headers["Doorstep-Signature"], got.body, now=START.timestamp())

    page.get_by_role("link", name=f"Remove the webhook to {receiver.url}").click()
    expect(page.get_by_role("heading", name="Remove webhook")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Remove the webhook").click()
    expect(page.get_by_role("status")).to_contain_text("The webhook is removed")
    assert_accessible(page)
