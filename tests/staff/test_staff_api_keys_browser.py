"""The API keys admin pages in Chromium, phone-sized: an administrator makes a key, copies it
from the one page that shows it, and revokes it after the confirmation; axe-core finds no
accessibility violation on any of the pages on the way."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect
from staff.helpers import ADMIN_TOTP, PASSWORD, USERS
from staff.test_staff_browser import START, assert_accessible, browser, page, server  # noqa: F401

from bot.web.staff.totp import code_at
from storage.enums import StaffRole

pytestmark = pytest.mark.browser


def test_an_admin_makes_and_revokes_a_key(page: Page, server: str) -> None:  # noqa: F811
    page.goto("/staff/admin/api-keys")
    page.get_by_label("Email").fill(USERS[StaffRole.ADMIN][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(code_at(ADMIN_TOTP, START))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.get_by_text("There are no keys yet.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Make the key").click()  # no name: the browser asks
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.get_by_label("What it is for").fill("Kirona DRS bookings")
    page.get_by_label("Scope").select_option("read")
    page.get_by_role("button", name="Make the key").click()
    expect(page.get_by_role("heading", name="New API key")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("shown only this once")
    key = page.get_by_label('API key for "Kirona DRS bookings"').input_value()
    assert key.startswith("dsk_")
    assert_accessible(page)
    me = httpx.get(f"{server}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert me.json() == {"landlord": "demo", "scope": "read"}

    page.get_by_role("link", name="Back to API keys").click()
    table = page.locator("#api-keys-table")
    expect(table).to_contain_text("Kirona DRS bookings")
    expect(table).not_to_contain_text(key)
    assert_accessible(page)
    page.get_by_role("link", name="Revoke the key Kirona DRS bookings").click()
    expect(page.get_by_role("heading", name="Revoke API key")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_role("status")).to_contain_text("calls with it are refused")
    assert_accessible(page)
    again = httpx.get(f"{server}/api/v1/me", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert again.status_code == 401
