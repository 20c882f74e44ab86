"""The pages work in Chromium under the Content-Security-Policy (bot/web/headers.py), which
allows no inline script or style: the browser reports no violation, scripts run and
stylesheets apply, on the simulator, the staff sign-in, the code of conduct and a
resident's visit page."""

from __future__ import annotations

import re

import httpx
import pytest
from browser.test_simulator_page import LiveServer, open_page, pick, say, service_messages
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

#: Collects every violation the page reports, before any of its own code runs.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__violations")
    return found


def visit_path(live_server: LiveServer) -> str:
    """Book a visit as Margaret over the simulator API; the confirmation has the link."""
    replies: list[dict[str, object]] = []
    for text in ("book a repair visit", "yes", "1"):
        response = httpx.post(
            f"{live_server.url}/simulator/api/messages",
            json={"phone": "+447400123456", "text": text},
            timeout=20,
        )
        replies = response.json()["replies"]
    text = " ".join(str(r["text"]) for r in replies)
    link = next(w for w in text.split() if "/v/" in w)
    return link[link.index("/v/") :]


def test_the_simulator_runs_its_script_under_the_policy(page: Page) -> None:
    page.add_init_script(WATCH_VIOLATIONS)
    response = page.goto("/simulator")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    open_page(page)
    pick(page, "David Price")
    say(page, "hello")
    expect(service_messages(page).last).to_contain_text("Hello David")
    assert violations(page) == []


def test_staff_sign_in_and_the_public_pages_are_styled_without_violations(
    page: Page, live_server: LiveServer
) -> None:
    page.add_init_script(WATCH_VIOLATIONS)
    page.goto("/staff/login")
    expect(page.get_by_role("button", name=re.compile("sign in", re.I))).to_be_visible()
    assert violations(page) == []

    page.goto("/code-of-conduct")
    # conduct.css, not an inline <style>: the page's width is its stylesheet's.
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"
    assert violations(page) == []

    page.goto(visit_path(live_server))
    photo = page.locator("img")
    expect(photo).to_be_visible()
    assert photo.evaluate("(img) => getComputedStyle(img).borderRadius") == "50%"
    assert photo.evaluate("(img) => img.naturalWidth") > 0
    assert violations(page) == []
