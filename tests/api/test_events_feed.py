"""The events feed (issue 14): what a resident does by text reaches their landlord's system
as events, in order, by the landlord's own references, with a cursor to page on; another
landlord sees none of them; bad cursors are problems."""

from __future__ import annotations

import re
from typing import Any

from api.world import Api
from fastapi.testclient import TestClient

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


def test_a_move_is_a_change_with_the_new_time(api: Api, phone: Phone) -> None:
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")
    phone.inbox.clear()
    phone.say("1")  # "To change the time reply 1"
    phone.say("2")
    booked, changed = _feed(api)["events"]
    assert changed["type"] == "appointment.changed" and changed["job"] == booked["job"]
    before, after = booked["data"]["appointment"], changed["data"]["appointment"]
    assert after["version"] == 2 and (after["date"], after["window"]) != (
        before["date"],
        before["window"],
    )


def test_a_visit_done_then_feedback_and_a_complaint(
    api: Api, phone: Phone, client: TestClient
) -> None:
    _book(phone)
    visits = client.get("/simulator/api/visits", params={"phone": phone.number}).json()
    (visit,) = [v for v in visits if v["status"] == "booked"]
    client.post("/simulator/api/clock", json={"set": "2026-12-01T11:00:00+00:00"})
    done = client.post(f"/simulator/api/visits/{visit['id']}/status", json={"status": "done"})
    assert done.status_code == 200, done.text
    client.post("/simulator/api/clock", json={"set": "2026-12-01T15:00:00+00:00"})
    phone.say("the visit today was 2 out of 5")
    for answer in ("yes", "no", "no", "yes"):
        phone.say(answer)
    phone.say("he left mud on the carpet")
    phone.say("1")
    phone.say("The operative tracked mud through the flat")
    events = _feed(api)["events"]
    assert [e["type"] for e in events] == [
        "appointment.booked",
        "visit.completed",
        "feedback.received",
        "complaint.raised",
    ]
    job = events[0]["job"]
    assert all(e["job"] == job for e in events)
    completed, feedback, complaint = events[1:]
    assert completed["data"]["by"] == "operative"
    assert completed["data"]["appointment"]["status"] == "completed"
    assert feedback["data"]["feedback"] == {
        "rating": 2,
        "showed_id": True,
        "asked_before_facilities": False,
        "left_tidy": False,
        "respectful": True,
        "comment": "he left mud on the carpet",
        "flagged": True,
    }
    assert feedback["data"]["resident"].startswith("TN-")
    assert feedback["data"]["operative"].startswith("OP-")
    assert re.fullmatch(r"CMP-2026-\d{6}", complaint["data"]["complaint"])
    assert complaint["data"]["text"] == "The operative tracked mud through the flat"
    assert complaint["data"]["respond_by"].startswith("2026-12-15")


def test_asking_for_a_person_is_a_call_back_request_without_their_words(
    api: Api, phone: Phone
) -> None:
    phone.say("can i speak to a real person please")
    (event,) = _feed(api)["events"]
    assert event["type"] == "callback.requested"
    assert event["data"]["resident"].startswith("TN-")
    assert event["data"]["reason"] == "asked for a person"
    assert "real person" not in str(event)
