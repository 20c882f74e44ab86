"""Browser fixtures: the real app under uvicorn on loopback, driven by Debian's Chromium.

One server (with the demo data in a temporary SQLite database) and one browser per
module keep the tests fast; each test gets a fresh browser context, so nothing in
localStorage leaks between tests. Tests use different demo residents, so their
conversations do not meet in the shared database.

Chromium is expected at /usr/bin/chromium (`.ci/ensure_chromium.sh` installs it). Without
it the tests skip with a reason on a developer machine and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from bot.app import create_app
from bot.cli.demo import load_demo
from bot.common.clock import FixedClock
from bot.settings import load_settings
from mandatory import unavailable
from storage.db import Database
from storage.migrate import upgrade

CHROMIUM = Path(os.environ.get("DOORSTEP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A Monday morning in winter (GMT): inside contact hours, far from the clock changes.
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class LiveServer:
    url: str
    clock: FixedClock

    def api(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app with the demo data, on a free loopback port, in a background thread."""
    database = tmp_path_factory.mktemp("simulator") / "sim.sqlite3"
    url = f"sqlite:///{database}"
    upgrade(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # bound before the server starts: no race for the port
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    assert load_demo(Database(url), now=START, public_base_url=base_url)
    settings = load_settings(
        database_url=url,
        simulator=True,
        scheduler_in_process=False,  # tests drive time; no background jobs
        nlu="keyword",
        public_base_url=base_url,
        nlu_cache_dir=tmp_path_factory.mktemp("nlu-cache"),
    )
    # A fixed clock keeps the conversations deterministic; the page can still move it.
    clock = FixedClock(START)
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_healthy(base_url, thread)
        yield LiveServer(url=base_url, clock=clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_healthy(base_url: str, thread: threading.Thread, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("the app server stopped while starting; see the log above")
        try:
            response = httpx.get(f"{base_url}/healthz", timeout=2)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = exc.__class__.__name__
        time.sleep(0.1)
    pytest.fail(f"the app did not become healthy within {timeout:.0f}s ({last})")


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A phone-sized page in a fresh context; console errors fail the test."""
    context = browser.new_context(
        viewport=PHONE, locale="en-GB", timezone_id="Europe/London", base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: DOORSTEP_SCREENSHOT_DIR (e.g. /tmp) or the test's tmp dir."""
    configured = os.environ.get("DOORSTEP_SCREENSHOT_DIR")
    return Path(configured) if configured else tmp_path
