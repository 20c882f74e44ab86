"""A landlord's system keeps its records in Doorstep by its own references: PUT creates or
replaces, a batch reports each record, reads see only the landlord's own records."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from api.world import Api, landlord_id
from fastapi.testclient import TestClient

from storage.db import Database
from storage.models import Operative
from storage.repositories import booking, landlord_records

HOME = {"address_line_1": "4 Ash Court", "town_or_city": "Leeds", "postcode": "ls6 2ab"}
MARGARET = {"name": "Margaret Hughes", "mobile": "07400 555111", "property": "P-1"}
DAVE = {
    "name": "Dave Price",
    "employer": "Price Plumbing Ltd",
    "badge_number": "PP-0421",
    "trades": ["plumbing"],
}
TAP = {
    "property": "P-1",
    "resident": "R-1",
    "trade": "plumbing",
    "description": "Kitchen tap drips",
    "priority": "routine",
    "raised_at": "2026-11-30T08:00:00+00:00",
}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


def test_a_property_is_created_then_unchanged_then_updated(api: Api) -> None:
    first = api.put("/properties/P-1", HOME | {"uprn": "100023336956"})
    assert first.status_code == 201
    assert first.json() == {
        "reference": "P-1",
        "status": "created",
        "record": {
            "reference": "P-1",
            "uprn": "100023336956",
            "address": "4 Ash Court, Leeds",
            "postcode": "LS6 2AB",
            "nation": "england",
            "updated_at": "2026-11-30T09:00:00Z",
        },
    }
    again = api.put("/properties/P-1", HOME | {"uprn": "100023336956"})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    moved = api.put("/properties/P-1", HOME | {"address_line_2": "Headingley", "nation": "wales"})
    assert moved.status_code == 200 and moved.json()["status"] == "updated"
    assert api.get("/properties/P-1").json()["address"] == "4 Ash Court, Headingley, Leeds"
    assert api.get("/properties/P-1").json()["uprn"] is None


def test_residents_operatives_and_jobs_by_reference(api: Api) -> None:
    api.put("/properties/P-1", HOME)
    made = api.put("/residents/R-1", MARGARET | {"door_password": "bluebell"})
    assert made.status_code == 201, made.text
    record = made.json()["record"]
    assert record["mobile"] == "+447400555111" and record["property"] == "P-1"
    assert record["has_door_password"] is True and "bluebell" not in made.text
    assert (
        api.put("/residents/R-1", MARGARET | {"door_password": "bluebell"}).json()["status"]
        == "unchanged"
    )
    assert "bluebell" not in api.get("/residents/R-1").text

    op = api.put("/operatives/O-1", DAVE)
    assert op.status_code == 201 and op.json()["record"]["employer"] == "Price Plumbing Ltd"
    assert api.put("/operatives/O-1", DAVE).json()["status"] == "unchanged"
    assert api.put("/operatives/O-1", DAVE | {"active": False}).json()["status"] == "updated"

    job = api.put("/jobs/J-1", TAP)
    assert job.status_code == 201, job.text
    assert job.json()["record"]["status"] == "open"
    assert job.json()["record"]["resident"] == "R-1"
    assert api.put("/jobs/J-1", TAP).json()["status"] == "unchanged"
    urgent = api.put("/jobs/J-1", TAP | {"priority": "urgent", "hazard_category": "leak"})
    assert urgent.json()["status"] == "updated"
    assert api.get("/jobs/J-1").json()["priority"] == "urgent"


def test_invalid_records_are_422_problems_naming_each_field(api: Api) -> None:
    api.put("/properties/P-1", HOME)
    body = _problem(api.put("/properties/P-2", HOME | {"colour": "red", "postcode": 7}), 422)
    assert _fields(body) == {"colour", "postcode"}
    batch = api.put("/properties", {"records": [HOME | {"reference": "P-2", "colour": "red"}]})
    assert batch.json()["results"][0]["errors"] == [
        {"field": "colour", "reason": "extra fields not permitted"}
    ]
    body = _problem(api.put("/residents/R-1", MARGARET | {"mobile": "01132 496000"}), 422)
    assert _fields(body) == {"mobile"}
    body = _problem(api.put("/residents/R-1", MARGARET | {"property": "P-404"}), 422)
    assert _fields(body) == {"property"}
    body = _problem(api.put("/residents/R-1", MARGARET | {"name": "Mar\u0000garet"}), 422)
    assert _fields(body) == {"name"}
    body = _problem(api.put("/properties/P-3", HOME | {"reference": "P-4"}), 422)
    assert _fields(body) == {"reference"}
    assert api.get("/residents/R-1").status_code == 404
    assert api.get("/properties/P-2").status_code == 404


def test_a_mobile_or_badge_held_by_another_is_a_409(api: Api, acme: Api) -> None:
    api.put("/properties/P-1", HOME)
    api.put("/residents/R-1", MARGARET)
    acme.put("/properties/A-1", HOME)
    clash = _problem(acme.put("/residents/X-1", MARGARET | {"property": "A-1"}), 409)
    assert _fields(clash) == {"mobile"} and "demo" not in clash["detail"]
    api.put("/operatives/O-1", DAVE)
    assert _fields(_problem(acme.put("/operatives/X-1", DAVE), 409)) == {"badge_number"}
    assert acme.get("/residents/X-1").status_code == 404


def test_a_batch_reports_each_record_and_writes_the_good_ones(api: Api) -> None:
    records = [HOME | {"reference": f"P-{n}"} for n in range(5)]
    records[2] = records[2] | {"postcode": "nowhere"}
    answer = api.put("/properties", {"records": records})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [r["status"] for r in body["results"]] == ["created"] * 2 + ["invalid"] + ["created"] * 2
    assert body["results"][2]["errors"] == [{"field": "postcode", "reason": "not a UK postcode"}]
    assert body["counts"] == {
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "invalid": 1,
        "conflict": 0,
    }
    assert api.get("/properties/P-3").status_code == 200
    assert api.get("/properties/P-2").status_code == 404
    before = api.get("/properties/P-4").json()
    again = api.put("/properties", {"records": records}).json()
    assert again["counts"]["unchanged"] == 4 and again["counts"]["invalid"] == 1
    assert api.get("/properties/P-4").json() == before

    residents = [
        MARGARET | {"reference": "R-1", "property": "P-0"},
        MARGARET | {"reference": "R-2", "property": "P-2"},  # the property was refused
        MARGARET | {"reference": "R-3", "property": "P-1", "mobile": "+447400555112"},
        MARGARET | {"reference": "R-4", "property": "P-1", "contact_hours": {"weekday": [9]}},
    ]
    results = api.put("/residents", {"records": residents}).json()["results"]
    assert [r["status"] for r in results] == ["created", "invalid", "created", "invalid"]
    assert results[1]["errors"][0]["field"] == "property"
    assert results[3]["errors"][0]["field"].startswith("contact_hours")


def test_a_batch_over_1000_records_or_a_10mb_body_is_refused(api: Api, client: TestClient) -> None:
    records = [HOME | {"reference": f"P-{n}"} for n in range(1001)]
    body = _problem(api.put("/properties", {"records": records}), 422)
    assert _fields(body) == {"records"}
    assert api.get("/properties/P-1").status_code == 404
    huge = b'{"records": ["' + b"x" * (10 * 1024 * 1024) + b'"]}'
    response = client.put(
        "/api/v1/properties",
        content=huge,
        headers=api.headers | {"Content-Type": "application/json"},
    )
    _problem(response, 413)


def test_windows_set_capacity_per_named_window(api: Api) -> None:
    api.put("/operatives/O-1", DAVE)
    day = date(2026, 12, 2).isoformat()
    answer = api.put(f"/operatives/O-1/windows/{day}", {"windows": {"morning": 2, "afternoon": 0}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["windows"] == {
        "morning": {"capacity": 2, "booked": 0},
        "afternoon": {"capacity": 0, "booked": 0},
    }
    assert [r["status"] for r in answer.json()["results"]] == ["created", "created"]
    again = api.put(f"/operatives/O-1/windows/{day}", {"windows": {"morning": 2}})
    assert [r["status"] for r in again.json()["results"]] == ["unchanged"]
    body = _problem(api.put(f"/operatives/O-1/windows/{day}", {"windows": {"morning": -1}}), 422)
    assert _fields(body) == {"windows.morning"}
    body = _problem(api.put(f"/operatives/O-1/windows/{day}", {"windows": {"evening": 1}}), 422)
    assert _fields(body) == {"windows.evening"}
    assert api.put("/operatives/O-9/windows/" + day, {"windows": {"morning": 1}}).status_code == 404
    batch = api.put(
        "/windows",
        {
            "records": [
                {"operative": "O-1", "date": day, "window": "morning", "capacity": 3},
                {"operative": "O-1", "date": day, "window": "afternoon", "capacity": -2},
            ]
        },
    ).json()
    assert [r["reference"] for r in batch["results"]] == [
        f"O-1/{day}/morning",
        f"O-1/{day}/afternoon",
    ]
    assert [r["status"] for r in batch["results"]] == ["updated", "invalid"]
    assert api.get(f"/operatives/O-1/windows/{day}").json()["windows"]["morning"]["capacity"] == 3


def test_capacity_below_what_is_booked_is_a_409(api: Api, demo_db: Database) -> None:
    api.put("/operatives/O-1", DAVE)
    day = "2026-12-02"
    api.put(f"/operatives/O-1/windows/{day}", {"windows": {"morning": 2, "afternoon": 2}})
    with demo_db.session() as session:  # two residents book the morning
        operative = landlord_records.one(
            session, model=Operative, landlord_id=landlord_id(demo_db, "demo"), reference="O-1"
        )
        assert operative is not None and operative.id is not None
        slots = landlord_records.operative_slots(
            session, operative_id=operative.id, day=date(2026, 12, 2)
        )
        morning = next(s for s in slots if s.window == "morning")
        assert morning.id is not None
        assert booking.claim_capacity(session, availability_id=morning.id)
        assert booking.claim_capacity(session, availability_id=morning.id)
    answer = api.put(f"/operatives/O-1/windows/{day}", {"windows": {"afternoon": 5, "morning": 1}})
    assert _fields(_problem(answer, 409)) == {"windows.morning"}
    assert api.get(f"/operatives/O-1/windows/{day}").json()["windows"] == {
        "morning": {"capacity": 2, "booked": 2},
        "afternoon": {"capacity": 2, "booked": 0},
    }
    batch = api.put(
        "/windows",
        {
            "records": [
                {"operative": "O-1", "date": day, "window": "morning", "capacity": 1},
                {"operative": "O-1", "date": day, "window": "afternoon", "capacity": 5},
            ]
        },
    ).json()
    assert [r["status"] for r in batch["results"]] == ["conflict", "updated"]
    assert batch["results"][0]["errors"][0]["field"] == "capacity"


def test_another_landlords_records_are_never_visible_or_usable(api: Api, acme: Api) -> None:
    api.put("/properties/P-1", HOME)
    api.put("/residents/R-1", MARGARET)
    assert acme.get("/properties/P-1").status_code == 404
    assert acme.get("/residents/R-1").status_code == 404
    body = _problem(acme.put("/jobs/J-1", TAP | {"resident": None}), 422)
    assert _fields(body) == {"property"}
    assert acme.get("/properties").json() == {"records": [], "next": None}
    acme.put("/properties/P-1", HOME | {"address_line_1": "1 Acme Road"})
    assert api.get("/properties/P-1").json()["address"] == "4 Ash Court, Leeds"


def test_a_read_key_cannot_write(reader: Api) -> None:
    _problem(reader.put("/properties/P-1", HOME), 403)
    _problem(reader.put("/properties", {"records": []}), 403)
    assert reader.get("/properties/P-1").status_code == 404


def test_listings_are_paginated_by_key(api: Api) -> None:
    records = [HOME | {"reference": f"P-{n}"} for n in range(5)]
    api.put("/properties", {"records": records})
    seen: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"after": after} if after else {})
        page = api.get("/properties", **params).json()
        seen += [r["reference"] for r in page["records"]]
        after = page["next"]
        if after is None:
            break
    assert [s for s in seen if s.startswith("P-")] == [f"P-{n}" for n in range(5)]
    _problem(api.get("/properties", after="x1"), 422)
    _problem(api.get("/properties", limit=201), 422)


def test_two_systems_sending_the_same_new_records_at_once_both_succeed(api: Api) -> None:
    """The second batch to reach a new reference waits for the first, then finds it stored
    (no deadlock, no 500): every record is created once and reported by one of the two."""
    forward = [HOME | {"reference": f"C-{n}"} for n in range(300)]
    backward = list(reversed(forward))
    answers: list[Any] = []

    def send(records: list[Any]) -> None:
        answers.append(api.put("/properties", {"records": records}))

    threads = [threading.Thread(target=send, args=(batch,)) for batch in (forward, backward)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200], [a.text[:200] for a in answers]
    created = sum(a.json()["counts"]["created"] for a in answers)
    unchanged = sum(a.json()["counts"]["unchanged"] for a in answers)
    assert (created, unchanged) == (300, 300)
    again = api.put("/properties", {"records": forward}).json()
    assert again["counts"]["unchanged"] == 300
