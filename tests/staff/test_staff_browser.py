"""The staff web app in a real browser (Debian's Chromium, headless), phone-sized: sign in,
filter and review feedback beside its transcript, answer a call-back, send reminders."""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlmodel import select
from staff.helpers import ADMIN_TOTP, PASSWORD, USERS, make_staff_users

from bot.app import create_app
from bot.cli.demo import load_demo
from bot.common.clock import FixedClock
from bot.settings import load_settings
from bot.web.staff.totp import code_at
from flows.codes import new_visit_code
from flows.windows import window_named
from mandatory import unavailable
from storage.db import Database
from storage.enums import JobStatus, StaffRole
from storage.migrate import upgrade
from storage.models import Availability, RepairJob
from storage.repositories.booking import book_appointment

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("DOORSTEP_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"]
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
VISIT_DAY = date(2026, 12, 1)


def _book_open_jobs(db: Database, *, day: date) -> None:
    """Residents' open repairs booked into that day's free windows, as the booking flow does."""
    rng = random.Random(3)
    with db.session() as session:
        jobs = session.exec(select(RepairJob).where(RepairJob.status == JobStatus.OPEN)).all()
        slots = session.exec(select(Availability).where(Availability.day == day)).all()
        for job, slot in zip(jobs[:3], slots, strict=False):
            starts, ends = window_named(slot.window).bounds(day)
            book_appointment(
                session,
                job=job,
                availability=slot,
                starts_at=starts,
                ends_at=ends,
                visit_code=new_visit_code(rng),
                now=START,
            )


def serve_staff_app(
    tmp_path_factory: pytest.TempPathFactory, name: str, prepare: Callable[[Database], None]
) -> Iterator[str]:
    """The real app on the demo data plus the staff accounts and whatever `prepare` adds, on
    a free loopback port in a background thread; yields its base URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'staff.sqlite3'}"
    upgrade(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clock = FixedClock(START)
    database = Database(url)
    assert load_demo(database, now=START, public_base_url=base)
    make_staff_users(database, clock)
    prepare(database)
    database.dispose()
    settings = load_settings(
        database_url=url,
        simulator=True,
        nlu="keyword",
        public_base_url=base,
        scheduler_in_process=False,
        nlu_cache_dir=tmp_path_factory.mktemp("nlu"),
    )
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        pytest.fail("the app did not start")
    yield base
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_staff_app(
        tmp_path_factory, "staff", lambda database: _book_open_jobs(database, day=VISIT_DAY)
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-GB", base_url=server
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def assert_accessible(page: Page) -> None:
    """axe-core (the copy bundled by axe-playwright-python) finds no violation on the page."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        unavailable("axe-playwright-python is not installed (pip install -e '.[dev]')")
    results = Axe().run(page)
    violations = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results.response["violations"]
    ]
    assert violations == [], f"{page.url}: {violations}"


def sign_in(page: Page, role: StaffRole = StaffRole.STAFF) -> None:
    page.goto("/staff/feedback")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(USERS[role][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Feedback", exact=True)).to_be_visible()


def test_filter_and_review_feedback_with_its_transcript(page: Page) -> None:
    sign_in(page)
    page.get_by_label("Flagged").select_option("yes")
    page.get_by_label("Reviewed").select_option("no")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("#feedback-table")
    expect(table).to_contain_text("He used the toilet without asking")
    expect(table).not_to_contain_text("Sam was lovely")
    table.get_by_role("link").first.click()
    transcript = page.get_by_role("list", name="Conversation")
    expect(transcript).to_contain_text("Did they ask before using your facilities?")
    page.get_by_label("Review note").fill("Spoke to the contractor's supervisor")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_role("status")).to_contain_text("Marked as reviewed")
    expect(page.locator(".quote").last).to_contain_text("Spoke to the contractor's supervisor")


def test_answer_a_call_back_and_resume_automated_replies(page: Page, server: str) -> None:
    said = httpx.post(
        f"{server}/simulator/api/messages",
        json={"phone": "+447400123459", "text": "I want to talk to a person"},
        timeout=10,
    )
    assert said.status_code == 200
    sign_in(page)
    page.get_by_role("navigation").get_by_role("link", name="Call-backs").click()
    page.locator("#tasks-table").get_by_role("link").first.click()
    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_role("status")).to_contain_text("You have claimed this task")
    page.get_by_label("Reply to the resident").fill("Hi, it's Sam from repairs. I'll ring at 2pm.")
    page.get_by_role("button", name="Send reply").click()
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("I'll ring at 2pm.")
    page.get_by_role("button", name="Close and resume automated replies").click()
    expect(page.get_by_role("status")).to_contain_text("Automated replies resume")
    expect(page.locator("#task-status")).to_contain_text("closed")


def test_preview_and_send_a_reminder_broadcast(page: Page) -> None:
    sign_in(page)
    page.get_by_role("navigation").get_by_role("link", name="Reminders").click()
    page.get_by_label("Day of the visits").fill("2026-12-01")
    page.get_by_role("button", name="Preview reminders").click()
    expect(page.locator("#preview-counts")).to_contain_text("Nothing has been sent yet")
    page.get_by_role("button", name="Send to these residents").click()
    expect(page.locator("#broadcast-summary")).to_be_visible()
    expect(page.get_by_role("heading", name="Reminders for 2026-12-01")).to_be_visible()
    expect(page.locator("#broadcast-table")).to_contain_text("send")
    expect(page.locator("#broadcast-progress")).to_contain_text("queued messages")


def test_an_admin_signs_in_with_a_code_and_manages_sessions(page: Page) -> None:
    page.goto("/staff/account")
    page.get_by_label("Email").fill(USERS[StaffRole.ADMIN][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code").fill(code_at(ADMIN_TOTP, START))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    sessions = page.locator("#sessions-table")
    expect(sessions).to_contain_text("(this browser)")
    expect(page.get_by_label("New password again")).to_be_visible()
    expect(page.locator("#totp-status")).to_contain_text("On")
    assert_accessible(page)
    page.get_by_role("navigation").get_by_role("link", name="Staff accounts").click()
    table = page.locator("#staff-table")
    expect(table).to_contain_text(USERS[StaffRole.STAFF][0])
    assert_accessible(page)
    expect(
        page.get_by_role("button", name=f"Sign out every session of {USERS[StaffRole.STAFF][1]}")
    ).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Your account").click()
    page.get_by_role("button", name="Sign out the session started").first.click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_sign_in_errors_and_two_factor_set_up_pass_axe(page: Page) -> None:
    page.goto("/staff/login")
    page.get_by_label("Email").fill(USERS[StaffRole.VIEWER][0])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    assert_accessible(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation").get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    assert_accessible(page)


def test_find_a_resident_in_the_contact_log_by_name_or_mobile(page: Page) -> None:
    """The contact log's resident filter is a labelled search box, not a menu of every
    resident: a name or a mobile number in any common form picks the resident."""
    sign_in(page)
    page.get_by_role("navigation").get_by_role("link", name="Contact log").click()
    page.get_by_label("Find a resident").fill("margaret")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#chosen-resident")).to_contain_text("Margaret Okafor")
    assert_accessible(page)
    page.get_by_label("Find a resident").fill("07400 123456")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#chosen-resident")).to_contain_text("Margaret Okafor")
    page.get_by_label("Find a resident").fill("Zebedee")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#resident-matches")).to_contain_text("No resident matches")
    assert_accessible(page)
