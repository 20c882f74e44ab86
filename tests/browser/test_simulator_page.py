"""The simulator page as a person uses it: pick a resident, text the bot, tap options,
move the clock, reload. Assertions are about what is on the screen."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from playwright.sync_api import Locator, Page, Request, ViewportSize, expect

from bot.common.clock import FixedClock

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


class LiveServer(Protocol):
    """What the `live_server` fixture (conftest.py) gives a test."""

    url: str
    clock: FixedClock

    def api(self, path: str) -> httpx.Response: ...


def open_page(page: Page) -> None:
    page.goto("/simulator")
    expect(page.get_by_role("heading", name="Residents")).to_be_visible()
    expect(page.locator("#residents-status")).to_contain_text("demo residents")


def pick(page: Page, name: str) -> None:
    page.get_by_role("button", name=re.compile(re.escape(name))).click()
    expect(page.locator("#phone-who")).to_contain_text(f"Texting as {name}")
    expect(message_box(page)).to_be_enabled()


def message_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message to the repairs service")


def conversation(page: Page) -> Locator:
    return page.locator("#conversation")


def say(page: Page, text: str) -> None:
    message_box(page).fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def service_messages(page: Page) -> Locator:
    return conversation(page).locator(".msg-out")


def test_page_lists_the_demo_residents(page: Page, live_server: LiveServer) -> None:
    residents = live_server.api("/simulator/api/residents").json()
    assert len(residents) >= 5
    open_page(page)
    expect(page).to_have_title(re.compile("Simulator"))
    cards = page.locator("#resident-list .resident-card")
    expect(cards).to_have_count(len(residents))
    for resident in residents:
        card = cards.filter(has_text=resident["name"])
        expect(card).to_be_visible()
        for job in resident["open_jobs"]:
            expect(card).to_contain_text(job["reference"])
    # Until someone is picked there is nothing to type into.
    expect(message_box(page)).to_be_disabled()


def test_hello_gets_a_greeting_by_first_name_with_options(page: Page) -> None:
    open_page(page)
    pick(page, "Margaret Okafor")
    say(page, "hello")
    expect(conversation(page).locator(".msg-in").last).to_contain_text("hello")
    greeting = service_messages(page).last
    expect(greeting).to_contain_text("Hello Margaret")
    options = greeting.get_by_role("group", name="Reply options").get_by_role("button")
    expect(options.first).to_be_visible()
    expect(options.first).to_be_enabled()
    assert options.count() >= 2
    expect(message_box(page)).to_have_value("")


def test_tapping_an_option_sends_it_and_shows_the_reply(page: Page) -> None:
    open_page(page)
    pick(page, "David Price")
    say(page, "hello")
    expect(service_messages(page).last).to_contain_text("Hello David")
    before = service_messages(page).count()
    option = service_messages(page).last.locator(".option-button").first
    label = option.inner_text().split("\n")[-1].strip()
    label = re.sub(r"^\d+\s*", "", label)  # the key is shown beside the label
    with page.expect_request(_is_message_post) as request_info:
        option.click()
    sent = request_info.value.post_data_json
    assert isinstance(sent, dict)
    assert sent["option_key"]
    assert sent["text"] == label
    expect(conversation(page).locator(".msg-in").last).to_contain_text(label)
    expect(service_messages(page)).to_have_count(before + 1)
    expect(service_messages(page).last.locator(".bubble")).not_to_be_empty()
    # Options on older messages can no longer be tapped.
    expect(service_messages(page).nth(before - 1).locator(".option-button").first).to_be_disabled()


def test_empty_and_bad_input_are_refused_politely(page: Page) -> None:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if _is_message_post(r) else None)
    open_page(page)
    pick(page, "Aisha Rahman")

    say(page, "   ")
    expect(page.get_by_role("alert").filter(has_text="Type a message first")).to_be_visible()
    assert posts == []

    # Longer than the service accepts: the page may cap typing, so set it directly.
    message_box(page).evaluate("(box, text) => { box.value = text; }", "x" * 10_001)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#compose-error")).to_contain_text("Not sent")
    assert len(posts) == 1
    expect(conversation(page).locator(".msg")).to_have_count(0)
    expect(conversation(page)).to_contain_text("No messages yet")

    # A number that is not a UK mobile is refused too, and the page keeps working.
    page.get_by_label("Or text from another mobile number").fill("12345")
    page.get_by_role("button", name="Use number").click()
    expect(page.locator("#other-error")).to_contain_text("cannot be used")
    expect(page.locator("#phone-who")).to_contain_text("Aisha Rahman")
    say(page, "hello")
    expect(service_messages(page).last).to_contain_text("Hello Aisha")


def test_plus_one_day_moves_the_service_clock(page: Page, live_server: LiveServer) -> None:
    open_page(page)
    clock = page.locator("#clock-now")
    expect(clock).not_to_have_text("…")
    before_text = clock.inner_text()
    before = datetime.fromisoformat(clock.get_attribute("datetime") or "")
    page.get_by_role("button", name="+1 day").click()
    expect(clock).not_to_have_text(before_text)
    after = datetime.fromisoformat(clock.get_attribute("datetime") or "")
    assert abs((after - before) - timedelta(days=1)) < timedelta(minutes=1)
    assert live_server.clock.now() - before > timedelta(hours=23)
    # The day is shown the way residents see dates: weekday, day, month.
    day_name = after.strftime("%a")
    expect(clock).to_contain_text(day_name)

    one_day_later = clock.inner_text()
    page.get_by_role("button", name="+1 hour").click()
    expect(clock).not_to_have_text(one_day_later)

    # Setting an exact UK time.
    page.get_by_label("Set the time (UK time)").fill("2026-12-03T14:30")
    page.get_by_role("button", name="Set time").click()
    expect(clock).to_contain_text("3 Dec 2026")
    expect(clock).to_contain_text("14:30")
    assert live_server.clock.now().isoformat().startswith("2026-12-03T14:30")


def test_the_conversation_survives_a_reload(page: Page) -> None:
    open_page(page)
    pick(page, "Tomasz Nowak")
    say(page, "hello")
    expect(service_messages(page).last).to_contain_text("Hello Tomasz")
    page.reload()
    expect(page.locator("#phone-who")).to_contain_text("Texting as Tomasz Nowak")
    expect(conversation(page).locator(".msg-in").first).to_contain_text("hello")
    expect(service_messages(page).last).to_contain_text("Hello Tomasz")
    expect(page.get_by_role("button", name=re.compile("Tomasz Nowak"))).to_have_attribute(
        "aria-pressed", "true"
    )


def test_layout_fits_a_phone_and_a_desktop(page: Page, screenshot_dir: Path) -> None:
    open_page(page)
    pick(page, "Kelly Morgan")
    say(page, "hello")
    expect(service_messages(page).last).to_contain_text("Hello Kelly")
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    for name in ("#conversation", "#compose-text", "#compose-send"):
        box = page.locator(name).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    page.screenshot(path=str(screenshot_dir / "simulator.png"), full_page=True)

    page.set_viewport_size(DESKTOP)
    page.evaluate("window.scrollTo(0, 0)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"]
    phone = page.locator(".phone").bounding_box()
    residents = page.locator(".residents").bounding_box()
    assert phone is not None and residents is not None
    assert phone["x"] > residents["x"], "on a desktop the residents sit beside the phone"
    page.screenshot(path=str(screenshot_dir / "simulator-desktop.png"))


HOSTILE = '<img src=x onerror="window.__owned = true">'


def test_service_text_is_shown_as_text_and_photos_as_images(
    page: Page, live_server: LiveServer
) -> None:
    """Whatever the service sends is displayed literally; a photo_url becomes an image."""
    photo = f"{live_server.url}/static/simulator.css#photo"
    reply = {
        "replies": [
            {
                "text": f"Your operative is Sam. {HOSTILE}",
                "options": [{"key": "1", "label": f"Yes {HOSTILE}"}],
                "photo_url": photo,
            }
        ],
        "duplicate": False,
    }
    outbox = [
        {
            "id": 1,
            "kind": "reminder",
            "purpose": "appointment 7 v1",
            "text": f"Reminder: visit tomorrow {HOSTILE}",
            "status": "deferred",
            "not_before": "2026-12-01T08:00:00+00:00",
            "expires_at": "2026-12-01T12:00:00+00:00",
            "decisions": [
                {
                    "decision": "defer",
                    "reason": "outside_hours",
                    "detail": HOSTILE,
                    "at": "2026-11-30T21:00:00+00:00",
                }
            ],
        }
    ]
    page.route("**/simulator/api/messages", lambda route: route.fulfill(json=reply))
    page.route("**/simulator/api/outbox?*", lambda route: route.fulfill(json=outbox))
    open_page(page)
    pick(page, "Arthur Bennett")
    say(page, "who is coming")
    last = service_messages(page).last
    expect(last).to_contain_text(f"Your operative is Sam. {HOSTILE}")
    expect(last.get_by_role("button", name=f"Yes {HOSTILE}")).to_be_visible()
    image = last.get_by_role("img", name="Photo sent by the repairs service")
    expect(image).to_have_attribute("src", photo)
    item = page.locator("#outbox-list .outbox-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"Reminder: visit tomorrow {HOSTILE}")
    expect(item).to_contain_text("defer (outside_hours)")
    expect(item).to_contain_text("deferred")
    expect(page.locator("#outbox-status")).to_contain_text("1 message")
    assert page.locator("#conversation img, #outbox-list img").count() == 1
    assert page.evaluate("window.__owned === undefined")


def _is_message_post(request: Request) -> bool:
    return request.method == "POST" and request.url.endswith("/simulator/api/messages")
