"""Done-when for the resident conversations: every demo resident can book, be told who
is coming and the visit code, check them at the door, rebook, cancel and give feedback."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from simphone import Phone

DEMO_NUMBERS = [f"+4474001234{n}" for n in range(56, 64)]


def _book(
    phone: Phone, opener: str = "I need a repair visit booked please"
) -> list[dict[str, Any]]:
    replies = phone.say(opener)
    for _ in range(6):
        last = replies[-1]
        if last["text"].startswith("Booked:"):
            return replies
        labels = [o["label"] for o in last["options"]]
        if "Yes, still right" in labels:
            replies = phone.say("1")
        elif "should know before they come" in last["text"]:
            replies = phone.say("0")
        elif labels and "None of these" in labels:
            replies = phone.say("1")
        else:
            pytest.fail(f"unexpected question while booking: {last['text']}")
    pytest.fail("booking did not finish")


def _visit_code(confirmation: str) -> str:
    found = re.search(r"visit code (\d{4})", confirmation)
    assert found, confirmation
    return found.group(1)


@pytest.mark.parametrize("number", DEMO_NUMBERS)
def test_a_demo_resident_does_everything(client: TestClient, number: str) -> None:
    phone = Phone(client, number)
    replies = _book(phone)
    confirmation = replies[-1]["text"]
    assert "badge" in confirmation
    code = _visit_code(confirmation)
    visits = client.get("/simulator/api/visits", params={"phone": number}).json()
    (visit,) = [v for v in visits if v["status"] == "booked"]

    # rebook: reply 1 from the confirmation, pick the first new time
    offer = phone.say("1")[-1]
    assert "Which suits you?" in offer["text"]
    (moved,) = phone.say("1")
    assert moved["text"].startswith("Booked:")
    code = _visit_code(moved["text"])

    # on the day: who is coming, then the code the operative says
    (visit,) = [
        v
        for v in client.get("/simulator/api/visits", params={"phone": number}).json()
        if v["status"] == "booked"
    ]
    assert visit["version"] == 2
    client.post("/simulator/api/clock", json={"set": f"{visit['day']}T10:30:00+00:00"})
    client.post(
        f"/simulator/api/visits/{visit['id']}/status",
        json={"status": "on_the_way", "eta_minutes": 20},
    )
    who = phone.say("who is coming today?")[-1]["text"]
    assert "is on the way, due about 10:50am" in who
    check = phone.say(f"check code {code}")[-1]["text"]
    assert check.startswith("That matches.")

    # done: feedback
    done = client.post(f"/simulator/api/visits/{visit['id']}/status", json={"status": "done"})
    assert done.json()["status"] == "completed"
    assert "1 (very poor)" in phone.say("I want to leave feedback")[-1]["text"]
    for answer in ("4", "1", "1", "1", "1"):
        phone.say(answer)
    assert phone.say("all good thanks")[-1]["text"].startswith("Thank you for your feedback")


def test_cancel_for_every_resident(client: TestClient) -> None:
    for number in DEMO_NUMBERS:
        phone = Phone(client, number)
        _book(phone)
        assert phone.say("2")[-1]["text"].startswith("Call off your visit on")
        assert phone.say("1")[-1]["text"].startswith("Done: your visit on")
