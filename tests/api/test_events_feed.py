"""The events feed (issue 14): what a resident does by text reaches their landlord's system
as events, in order, by the landlord's own references, with a cursor to page on; another
landlord sees none of them; bad cursors are problems."""

from __future__ import annotations

from typing import Any

from api.world import Api

from simphone import Phone


def _feed(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get("/events", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _book(phone: Phone) -> None:
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")
    phone.inbox.clear()


def test_a_booking_and_its_cancellation_are_events_in_order(api: Api, phone: Phone) -> None:
    assert _feed(api) == {"events": [], "next": "0"}
    _book(phone)
    phone.say("I need to cancel my appointment")
    phone.say("1")
    page = _feed(api)
    kinds = [e["type"] for e in page["events"]]
    assert kinds == ["appointment.booked", "appointment.cancelled"]
    booked, cancelled = page["events"]
    assert booked["id"] < cancelled["id"] and page["next"] == str(cancelled["id"])
    assert set(booked) == {"id", "type", "occurred_at", "landlord", "job", "data"}
    assert booked["landlord"] == "demo" and booked["job"] == cancelled["job"]
    assert booked["job"].startswith("RH-")
    assert booked["occurred_at"] == "2026-11-30T09:00:00Z"
    assert booked["data"]["by"] == "resident"
    visit = booked["data"]["appointment"]
    assert visit["date"] == "2026-12-01" and visit["window"] == "morning"
    assert visit["operative"].startswith("OP-") and visit["status"] == "booked"
    assert cancelled["data"]["appointment"]["status"] == "cancelled"
    assert cancelled["data"]["appointment"]["version"] == 2
    # Never a phone number: the landlord's system knows its resident by reference.
    assert "7400" not in str(page)
    # Nothing new: the same cursor comes back.
    assert _feed(api, after=page["next"]) == {"events": [], "next": page["next"]}


def test_paging_with_the_cursor_gives_each_event_once(api: Api, phone: Phone) -> None:
    _book(phone)
    phone.say("STOP")
    phone.say("START")
    everything = [e["id"] for e in _feed(api)["events"]]
    assert len(everything) == 3
    seen: list[int] = []
    cursor = ""
    while True:
        page = _feed(api, after=cursor, limit=1)
        if not page["events"]:
            break
        assert len(page["events"]) == 1
        seen += [e["id"] for e in page["events"]]
        cursor = page["next"]
    assert seen == everything


def test_opting_out_and_back_in_are_events_by_reference(api: Api, phone: Phone) -> None:
    phone.say("STOP")
    phone.say("START")
    events = _feed(api)["events"]
    assert [e["type"] for e in events] == ["resident.opted_out", "resident.opted_in"]
    for event in events:
        assert event["job"] is None
        assert event["data"]["channel"] == "sms"
        assert event["data"]["resident"].startswith("TN-")


def test_an_emergency_is_an_event(api: Api, phone: Phone) -> None:
    phone.say("I can smell gas in the kitchen")
    (event,) = _feed(api, types="emergency.reported")["events"]
    assert event["data"]["description"] == "I can smell gas in the kitchen"
    assert event["data"]["resident"].startswith("TN-") and event["job"]


def test_types_filter_the_feed(api: Api, phone: Phone) -> None:
    _book(phone)
    phone.say("STOP")
    only = _feed(api, types="resident.opted_out")["events"]
    assert [e["type"] for e in only] == ["resident.opted_out"]
    both = _feed(api, types="resident.opted_out,appointment.booked")["events"]
    assert [e["type"] for e in both] == ["appointment.booked", "resident.opted_out"]


def test_another_landlord_sees_none_of_them(api: Api, acme: Api, phone: Phone) -> None:
    _book(phone)
    assert len(_feed(api)["events"]) == 1
    assert _feed(acme) == {"events": [], "next": "0"}
    assert _feed(acme, after="0", limit=500)["events"] == []


def test_a_read_key_reads_the_feed(api: Api, reader: Api, phone: Phone) -> None:
    _book(phone)
    assert _feed(reader) == _feed(api)


def test_a_bad_cursor_or_type_is_a_problem(api: Api) -> None:
    for params in (
        {"after": "abc"},
        {"after": "-1"},
        {"after": "99999999999999999999"},
        {"after": "１２"},
        {"limit": "0"},
        {"limit": "501"},
        {"types": "appointment.exploded"},
    ):
        response = api.get("/events", **params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], params


def test_the_feed_needs_a_key(client: Any) -> None:
    response = client.get("/api/v1/events")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
