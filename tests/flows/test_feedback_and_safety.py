"""Feedback after a visit, complaints, handoff to a person, and emergencies."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import select

from simphone import Phone
from storage.db import Database
from storage.models import Appointment, Complaint, Conversation, Feedback, RepairJob, StaffTask


def _db(client: TestClient) -> Database:
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    return db


def _completed_visit(phone: Phone, client: TestClient) -> Appointment:
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")  # Tue 1 Dec morning
    phone.inbox.clear()
    with _db(client).session() as session:
        appointment = session.exec(select(Appointment).where(Appointment.status == "booked")).one()
        appointment.status = "completed"
        session.add(appointment)
    client.post("/simulator/api/clock", json={"set": "2026-12-01T15:00:00+00:00"})
    return appointment


def test_good_feedback_in_six_answers(phone: Phone, client: TestClient) -> None:
    appointment = _completed_visit(phone, client)
    phone.say("I'd like to leave some feedback about the visit")
    assert "from 1 (very poor) to 5 (very good)" in phone.pop_text()
    phone.say("5")
    for expected in ("ID badge", "ask before using", "clean and tidy", "respect"):
        question = phone.pop()
        assert expected in question["text"]
        assert [o["label"] for o in question["options"]] == ["Yes", "No"]
        phone.say("yes")
    assert "Reply 0 to skip" in phone.pop_text()
    phone.say("0")
    assert phone.pop_text().startswith("Thank you for your feedback")
    with _db(client).session() as session:
        row = session.exec(select(Feedback).where(Feedback.appointment_id == appointment.id)).one()
    assert (row.rating, row.showed_id, row.left_tidy, row.flagged) == (5, True, True, False)
    assert row.completed_at is not None
    phone.say("can i give feedback")
    assert "cannot find a recent visit waiting for feedback" in phone.pop_text()


def test_poor_feedback_is_flagged_and_offers_a_complaint(phone: Phone, client: TestClient) -> None:
    appointment = _completed_visit(phone, client)
    phone.say("the visit today was 2 out of 5")
    assert "ID badge" in phone.pop_text()  # the rating in the first message counts
    for answer in ("yes", "no", "no", "yes"):
        phone.say(answer)
        phone.pop()
    phone.say("he used the toilet without asking and left mud on the carpet")
    sorry = phone.pop()
    assert "formal complaint, reply 1" in sorry["text"]
    with _db(client).session() as session:
        row = session.exec(select(Feedback).where(Feedback.appointment_id == appointment.id)).one()
    assert row.flagged and row.rating == 2 and row.asked_before_facilities is False
    assert row.comment == "he used the toilet without asking and left mud on the carpet"
    phone.say("1")
    assert "in your own words" in phone.pop_text()
    phone.say("The operative was rude to my daughter and tracked mud through the flat")
    logged = phone.pop_text()
    assert logged.startswith("Complaint logged")
    assert "by Tue 15 Dec" in logged  # 10 working days from Tue 1 Dec
    with _db(client).session() as session:
        complaint = session.exec(select(Complaint)).one()
    # A landlord-style reference, not a bare sequence number.
    assert complaint.id is not None
    assert f"ref CMP-2026-{complaint.id:06d}." in logged
    assert complaint.appointment_id == appointment.id
    assert "rude" in complaint.text


def test_feedback_expires_after_seven_days(phone: Phone, client: TestClient) -> None:
    _completed_visit(phone, client)
    client.post("/simulator/api/clock", json={"set": "2026-12-09T15:00:00+00:00"})
    phone.say("I want to give feedback on my repair")
    assert "cannot find a recent visit" in phone.pop_text()


def test_talking_to_a_person_pauses_automatic_replies(phone: Phone, client: TestClient) -> None:
    phone.say("can i speak to a real person please")
    text = phone.pop_text()
    assert text.startswith("Our team will contact you")
    assert "today by 11am" in text  # Monday 9am: within two hours
    assert "0300 555 0199" in text  # the emergency line, with its number
    # Never silent while waiting: acknowledged, with the same time and the emergency line.
    (waiting,) = phone.say("hello? anyone there?")
    assert "our team has your message" in waiting["text"]
    assert "today by 11am" in waiting["text"] and "0300 555 0199" in waiting["text"]
    emergency = phone.say("now i can smell gas in the kitchen")
    assert "0800 111 999" in emergency[0]["text"]
    with _db(client).session() as session:
        tasks = session.exec(select(StaffTask)).all()
        conversation = session.exec(select(Conversation)).one()
    assert {t.kind for t in tasks} >= {"handoff", "alert"}
    assert conversation.paused


def test_emergency_mid_booking_then_carry_on(phone: Phone, client: TestClient) -> None:
    phone.say("book a visit")
    phone.say("1")
    phone.inbox.clear()
    reply = phone.say("water is pouring through my ceiling!!")[0]["text"]
    phone.inbox.clear()
    assert "stopcock" in reply and "0300 555 0199" in reply
    with _db(client).session() as session:
        urgent = session.exec(select(RepairJob).where(RepairJob.priority == "emergency")).one()
        alert = session.exec(select(StaffTask).where(StaffTask.urgent)).one()
    assert "pouring" in urgent.description and "EMERGENCY" in alert.summary
    phone.say("1")  # the booking carries on where it was
    assert phone.pop_text().startswith("Booked: ")


def test_what_do_you_tell_the_engineer_about_me(client: TestClient) -> None:
    arthur = Phone(client, "+447400123461")
    arthur.say("what do you tell the engineer about me?")
    text = arthur.pop_text()
    assert "I am slow to get to the door" in text
    assert "not shared" in text
    priya = Phone(client, "+447400123462")
    priya.say("what information do you have on me")
    assert "no access needs on record" in priya.pop_text()


def test_telling_us_a_need_records_it_with_consent(client: TestClient) -> None:
    from storage.models import AccessNeed

    priya = Phone(client, "+447400123462")
    priya.say("I have a big dog, please call before you come")
    assert "May we share" in priya.pop_text()
    priya.say("yes share it")
    assert "We will share it with the operative" in priya.pop_text()
    with _db(client).session() as session:
        need = session.exec(
            select(AccessNeed).where(AccessNeed.own_words.contains("please call before"))
        ).one()
    assert need.category in {"pet", "call_ahead"}
    assert need.consent_to_share
