"""The visit page offers the visit as an iCalendar file (issue 14, item 6): one event per
appointment whose SEQUENCE follows every change, so the resident's calendar app updates
the same entry when they move the visit by text and drops it when they call it off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar

from bot.common.clock import FixedClock
from flows.wording.calendar import summary
from simphone import Phone


def _link(text: str) -> str:
    link = next(w for w in text.split() if "/v/" in w)
    return link[link.index("/v/") :]


def _book(phone: Phone) -> str:
    phone.say("book a repair visit")
    phone.say("yes")
    phone.inbox.clear()
    phone.say("1")
    link = _link(phone.pop_text())
    phone.inbox.clear()
    return link


def _event(client: TestClient, path: str) -> tuple[Calendar, dict[str, Any]]:
    response = client.get(path + "/visit.ics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    assert "no-store" in response.headers["cache-control"]
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    return calendar, {
        "uid": str(event["uid"]),
        "sequence": int(event.decoded("sequence")),
        "start": event.decoded("dtstart"),
        "end": event.decoded("dtend"),
        "stamp": event.decoded("dtstamp"),
        "summary": str(event["summary"]),
        "location": str(event["location"]),
        "description": str(event["description"]),
        "status": str(event["status"]),
    }


def test_the_visit_page_offers_the_visit_for_a_calendar(phone: Phone, client: TestClient) -> None:
    path = _book(phone)
    page = client.get(path)
    assert f'href="{path}/visit.ics"' in page.text and "Add to calendar" in page.text

    calendar, event = _event(client, path)
    assert str(calendar["method"]) == "PUBLISH"
    assert event["start"] == datetime(2026, 12, 1, 8, tzinfo=UTC)  # Tue 1 Dec, 8am-12pm
    assert event["end"] == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert event["stamp"] == datetime(2026, 11, 30, 9, tzinfo=UTC)  # the service's clock
    assert event["sequence"] == 1
    assert event["status"] == "CONFIRMED"
    assert str(event["summary"]).startswith("Repair visit: ")
    assert "Sam Carter from Brightwater Plumbing Ltd, ID badge 55101" in str(event["description"])
    assert str(event["uid"]).startswith("appointment-")
    assert str(event["location"])  # the home's address
    # The code is said at the door, never written into a calendar that syncs elsewhere.
    assert "code is" not in str(event["description"])


def test_a_move_by_text_bumps_the_sequence_of_the_same_event(
    phone: Phone, client: TestClient
) -> None:
    first_path = _book(phone)
    _, before = _event(client, first_path)

    phone.say("1")  # "To change the time reply 1"
    offer = phone.pop()
    phone.say("2")
    confirmation = phone.pop_text()
    assert confirmation.startswith("Booked: ")
    new_path = _link(confirmation)
    assert new_path != first_path

    _, after = _event(client, new_path)
    assert after["uid"] == before["uid"]
    assert after["sequence"] == 2
    assert after["start"] != before["start"]
    assert offer["options"][1]["label"].startswith(after["start"].strftime("%a %-d %b"))
    assert "ID badge" in str(after["description"])
    # The old link's page is dead, but its calendar file follows the move (a calendar app that
    # refreshes it updates the entry) without naming whoever is coming now.
    assert client.get(first_path).status_code == 404
    _, followed = _event(client, first_path)
    assert (followed["uid"], followed["sequence"], followed["start"]) == (
        after["uid"],
        2,
        after["start"],
    )
    assert "ID badge" not in str(followed["description"])
    assert "changed" in str(followed["description"])


def test_a_cancelled_visit_cancels_the_calendar_entry(phone: Phone, client: TestClient) -> None:
    path = _book(phone)
    _, booked = _event(client, path)
    phone.say("I need to cancel my appointment")
    phone.say("1")
    assert "called off" in phone.pop_text() or "called off" in phone.pop_text()

    calendar, cancelled = _event(client, path)
    assert str(calendar["method"]) == "CANCEL"
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["uid"] == booked["uid"]
    assert cancelled["sequence"] == 2
    assert "ID badge" not in str(cancelled["description"])


def test_a_bad_or_expired_link_has_no_calendar(
    phone: Phone, client: TestClient, clock: FixedClock
) -> None:
    path = _book(phone)
    assert client.get(path + "/visit.ics").status_code == 200
    assert client.get(path[:-3] + "xyz/visit.ics").status_code == 404  # tampered
    assert client.get("/v/nonsense/visit.ics").status_code == 404
    clock.advance(timedelta(days=2, hours=4))  # a day after the visit ended
    assert client.get(path + "/visit.ics").status_code == 404


def test_the_title_is_the_repair_shortened_at_a_word() -> None:
    long = "Kitchen tap dripping constantly and the cupboard under it is wet through"
    title = summary(long)
    assert title.startswith("Repair visit: Kitchen tap dripping")
    assert title.endswith("...") and len(title) <= len("Repair visit: ") + 60
    assert summary("  Boiler   not working ") == "Repair visit: Boiler not working"
