"""Every page carries the security headers (bot/web/headers.py): a Content-Security-Policy
that allows nothing inline, no framing, no sniffing, no referrer, and `no-store` on
anything personal, the public visit pages included (issue 13, "Beyond the fixes")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.runtime import TEMPLATES_DIR
from simphone import Phone

PERSONAL = [
    "/simulator",
    "/simulator/api/residents",
    "/staff/login",
    "/staff",
    "/code-of-conduct",
    "/healthz",
    "/v/not-a-real-token",
]


def visit_link_path(phone: Phone) -> str:
    """Book a visit as Margaret does and take the visit page's path from the confirmation."""
    phone.say("book a repair visit")
    phone.say("yes")
    phone.inbox.clear()
    phone.say("1")
    link = next(w for w in phone.pop_text().split() if "/v/" in w)
    return link[link.index("/v/") :]


def assert_protected(response: object, *, cached: bool = False) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    if not cached:
        assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", PERSONAL)
def test_every_page_carries_the_headers(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code < 500
    assert_protected(response)


def test_the_public_visit_page_and_its_photo_are_protected_and_never_cached(
    client: TestClient, phone: Phone
) -> None:
    path = visit_link_path(phone)
    page = client.get(path)
    assert page.status_code == 200
    assert_protected(page)
    photo = client.get(path + "/photo")
    assert_protected(photo)


def test_stylesheets_may_be_cached_but_are_still_protected(client: TestClient) -> None:
    response = client.get("/static/staff.css")
    assert response.status_code == 200
    assert_protected(response, cached=True)
    assert response.headers.get("cache-control") != "no-store"


def test_a_refused_webhook_and_a_post_carry_them_too(client: TestClient) -> None:
    response = client.post("/simulator/api/messages", json={})
    assert response.status_code == 422
    assert_protected(response)


INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.I)


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES_DIR.rglob("*.html")), ids=lambda p: str(Path(p).name)
)
def test_no_template_needs_inline_script_or_style(template: Path) -> None:
    """The policy allows no inline script or style, so a page that had one would break."""
    assert not INLINE.findall(template.read_text()), template
