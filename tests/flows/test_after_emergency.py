"""After emergency advice, the resident's next text ("ok im outside now") gets what to do
next, not the menu; anything else is routed as usual."""

from __future__ import annotations

from fastapi.testclient import TestClient

from flows.after_emergency import answers_the_advice
from flows.sms import sms_cost
from simphone import Phone

EMERGENCY_LINE = "0300 555 0199"


def test_ok_im_outside_now_after_a_gas_leak(phone: Phone, client: TestClient) -> None:
    (advice,) = phone.say("smell of gas really strong in the hall")
    assert "0800 111 999" in advice["text"] and EMERGENCY_LINE in advice["text"]
    (next_step,) = phone.say("ok im outside now")
    text = next_step["text"]
    assert "Stay outside" in text and "0800 111 999" in text and EMERGENCY_LINE in text
    assert "Book a repair visit" not in [o["label"] for o in next_step["options"]]
    assert sms_cost(text).segments == 1
    (again,) = phone.say("done what now")
    assert "Stay outside" in again["text"]


def test_after_a_leak_the_next_step_is_about_the_water(phone: Phone, client: TestClient) -> None:
    phone.say("water pouring through the ceiling from upstairs")
    (next_step,) = phone.say("ok turned it off")
    assert "electrics" in next_step["text"] and EMERGENCY_LINE in next_step["text"]


def test_another_request_after_the_advice_is_routed_as_usual(
    phone: Phone, client: TestClient
) -> None:
    phone.say("i can smell gas")
    (answer,) = phone.say("when is my appointment")
    assert "Stay outside" not in answer["text"]


def test_the_advice_is_not_answered_hours_later(phone: Phone, client: TestClient) -> None:
    phone.say("i can smell gas")
    client.post("/simulator/api/clock", json={"advance_minutes": 180})
    (answer,) = phone.say("ok")
    assert "Stay outside" not in answer["text"]


def test_a_booking_interrupted_by_an_emergency_carries_on(phone: Phone, client: TestClient) -> None:
    phone.say("book a visit")
    phone.say("1")
    phone.inbox.clear()
    phone.say("gas smell in the kitchen!!")
    (next_step,) = phone.say("ok im out")
    assert "Stay outside" in next_step["text"]
    phone.say("1")  # the first window still on offer
    assert phone.inbox[-1]["text"].startswith("Booked: ")


def test_what_counts_as_answering_the_advice() -> None:
    for said in (
        "ok",
        "OK done",
        "ok im outside now",
        "were all out",
        "we are outside",
        "turned it off at the meter",
        "switched off",
        "rang them",
        "what now?",
        "is someone coming",
        "how long will they be",
        "thanks",
    ):
        assert answers_the_advice(said), said
    for said in (
        "",
        "1",
        "yes",
        "can i book a plumber for friday",
        "when is my appointment",
        "ok " + "really " * 20 + "long",
    ):
        assert not answers_the_advice(said), said
