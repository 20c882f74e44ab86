"""While staff have the conversation: never silent, facts still answered, nothing changed
behind the back of the person who has it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import col, select

from flows.sms import sms_cost
from simphone import Phone
from storage.db import Database
from storage.models import Appointment, AppointmentEvent, Conversation, StaffTask

VISIT_DAY_10AM = "2026-12-01T10:00:00+00:00"
EMERGENCY_LINE = "0300 555 0199"


def _db(client: TestClient) -> Database:
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    return db


def _book_tuesday_morning(phone: Phone) -> None:
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")  # Tue 1 Dec, morning
    phone.inbox.clear()


def _hand_over(phone: Phone) -> str:
    phone.say("can i speak to a real person please")
    text = phone.pop_text()
    assert text.startswith("Our team will contact you")
    return text


def _booked(client: TestClient) -> list[Appointment]:
    with _db(client).session() as session:
        return list(session.exec(select(Appointment).where(Appointment.status == "booked")))


def _paused(client: TestClient, number: str) -> bool:
    with _db(client).session() as session:
        conversation = session.exec(
            select(Conversation).where(Conversation.address == number)
        ).one()
        return conversation.paused


def test_the_handover_names_the_emergency_line_and_when_staff_will_reply(
    phone: Phone, client: TestClient
) -> None:
    text = _hand_over(phone)
    assert "today by 11am" in text  # Monday 9am, within two hours
    assert f"emergency line on {EMERGENCY_LINE}" in text
    assert "your visits" in text  # they may still ask about them
    assert sms_cost(text).segments == 1


def test_while_waiting_the_resident_is_acknowledged_every_time_with_the_same_time(
    phone: Phone, client: TestClient
) -> None:
    _hand_over(phone)
    client.post("/simulator/api/clock", json={"advance_minutes": 45})
    for text in ("hello? anyone there?", "still waiting", "can i talk to someone"):
        (answer,) = phone.say(text)
        assert "our team has your message" in answer["text"]
        assert "today by 11am" in answer["text"]  # not pushed back by the wait
        assert EMERGENCY_LINE in answer["text"]
        assert answer["options"] == []
        assert sms_cost(answer["text"]).segments == 1
    with _db(client).session() as session:
        handoffs = session.exec(select(StaffTask).where(StaffTask.kind == "handoff")).all()
    assert len(handoffs) == 1  # asking again does not queue a second request
    assert _paused(client, phone.number)


def test_whens_my_appointment_is_answered_while_waiting(phone: Phone, client: TestClient) -> None:
    _book_tuesday_morning(phone)
    _hand_over(phone)
    (answer,) = phone.say("whens my appointment")
    assert "Tue 1 Dec" in answer["text"] and "Sam Carter" in answer["text"]
    # Changing or calling off the visit waits for the person who has the conversation.
    assert answer["options"] == []
    (after,) = phone.say("1")
    assert "our team has your message" in after["text"]
    assert len(_booked(client)) == 1


def test_no_visits_booked_is_answered_while_waiting(phone: Phone, client: TestClient) -> None:
    _hand_over(phone)
    (answer,) = phone.say("when is the plumber coming")
    assert "no repair visits booked" in answer["text"]
    assert "our team has your message" in answer["text"].lower()
    assert answer["options"] == []


def test_booking_waits_for_staff_while_paused(phone: Phone, client: TestClient) -> None:
    _hand_over(phone)
    (answer,) = phone.say("can i book a repair for thursday morning")
    assert "our team has your message" in answer["text"]
    phone.say("1")
    assert _booked(client) == []
    assert _paused(client, phone.number)


def test_the_door_check_works_while_waiting(phone: Phone, client: TestClient) -> None:
    _book_tuesday_morning(phone)
    _hand_over(phone)
    client.post("/simulator/api/clock", json={"set": VISIT_DAY_10AM})
    (identity,) = phone.say("someone at the door says hes from you is he legit")
    assert "Sam Carter" in identity["text"] and "visit code" in identity["text"]
    (code,) = _booked(client)
    (answer,) = phone.say(code.visit_code)
    assert answer["text"].startswith("That matches. Sam Carter")
    with _db(client).session() as session:
        checks = session.exec(
            select(AppointmentEvent).where(AppointmentEvent.kind == "door_check")
        ).all()
    assert [c.data.get("matched") for c in checks] == [True]
    assert _paused(client, phone.number)


def test_a_wrong_door_code_still_warns_while_waiting(phone: Phone, client: TestClient) -> None:
    _book_tuesday_morning(phone)
    _hand_over(phone)
    client.post("/simulator/api/clock", json={"set": VISIT_DAY_10AM})
    (code,) = _booked(client)
    wrong = "0000" if code.visit_code != "0000" else "9999"
    (answer,) = phone.say(f"is {wrong} the right code")
    assert answer["text"].startswith("That does NOT match. Do not let them in.")
    with _db(client).session() as session:
        alerts = session.exec(select(StaffTask).where(col(StaffTask.kind) == "alert")).all()
    assert len(alerts) == 1 and alerts[0].urgent


def test_an_emergency_is_answered_while_waiting(phone: Phone, client: TestClient) -> None:
    _hand_over(phone)
    (answer,) = phone.say("theres water pouring through the ceiling now")
    assert "stopcock" in answer["text"] and EMERGENCY_LINE in answer["text"]


def test_nobody_here_yet_while_waiting_gets_the_live_status(
    phone: Phone, client: TestClient
) -> None:
    _book_tuesday_morning(phone)
    _hand_over(phone)
    client.post("/simulator/api/clock", json={"set": VISIT_DAY_10AM})
    (answer,) = phone.say("no ones here yet been waiting ages")
    assert "Sam has not set off yet" in answer["text"]
    client.post("/simulator/api/clock", json={"set": "2026-12-01T12:30:00+00:00"})
    replies = phone.say("nobody came, waited all morning")
    assert len(replies) == 1  # sorry and recorded, but no offer to rebook while paused
    assert replies[0]["text"].startswith("I am very sorry nobody came")
    assert replies[0]["options"] == []


def test_stopping_messages_is_still_possible_while_waiting(
    phone: Phone, client: TestClient
) -> None:
    _hand_over(phone)
    (question,) = phone.say("please stop texting me")
    assert [o["label"] for o in question["options"]] == [
        "Yes, no more messages",
        "No, keep them coming",
    ]
    (done,) = phone.say("1")
    assert "will not send you any more messages" in done["text"]
