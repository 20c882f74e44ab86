"""Booking, as transcripts: a resident says this, the bot answers that."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlmodel import col, select

from simphone import Phone
from storage.db import Database
from storage.enums import AppointmentStatus, JobStatus
from storage.models import (
    Appointment,
    Availability,
    Message,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffTask,
)


def _appointments(db: Database, reference: str) -> list[Appointment]:
    with db.session() as session:
        job = session.exec(select(RepairJob).where(RepairJob.reference == reference)).one()
        return list(
            session.exec(
                select(Appointment)
                .where(Appointment.job_id == job.id)
                .order_by(col(Appointment.id))
            )
        )


def test_margaret_books_a_visit_and_is_told_who_is_coming(phone: Phone, demo_db: Database) -> None:
    phone.say("hi can someone come and fix my tap")
    check = phone.pop()
    assert "I use a wheelchair, please use the side ramp" in check["text"]
    assert [o["key"] for o in check["options"]] == ["1", "2"]

    phone.say("1")
    offer = phone.pop()
    labels = [o["label"] for o in offer["options"]]
    assert labels[:3] == [
        "Tue 1 Dec, morning 8am-12pm",
        "Wed 2 Dec, morning 8am-12pm",
        "Thu 3 Dec, morning 8am-12pm",
    ]
    assert labels[3].startswith("None of these")

    phone.say("the second one")
    confirmed = phone.pop()
    text = confirmed["text"]
    assert text.startswith("Booked: Wed 2 Dec, morning 8am-12pm")
    assert "Sam Carter" in text and "Brightwater Plumbing Ltd" in text
    assert "badge 55101" in text
    assert "/v/" in text  # the photo page link: the photo and what to expect
    assert confirmed["photo_url"]
    (appointment,) = _appointments(demo_db, "RH-10421")
    assert f"code {appointment.visit_code}" in text
    assert [o["label"] for o in confirmed["options"]] == ["Change the time", "Call the visit off"]
    assert "CANCEL" not in text and "STOP" not in text
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.version == 1
    assert appointment.day == date(2026, 12, 2)
    assert len(appointment.visit_code) == 4
    with demo_db.session() as session:
        job = session.exec(select(RepairJob).where(RepairJob.reference == "RH-10421")).one()
        slot = session.get(Availability, appointment.availability_id)
    assert job.status == JobStatus.BOOKED
    assert slot is not None and slot.booked == 1
    with demo_db.session() as session:
        linked = session.exec(select(Message).where(Message.appointment_id == appointment.id)).all()
    # the choice and the confirmation are evidence for this visit
    assert [m.text for m in linked][-2:] == ["the second one", text]


def test_the_photo_page_shows_the_operative_and_expires(
    phone: Phone, client: TestClient, demo_db: Database
) -> None:
    phone.say("book a repair visit")
    phone.say("yes")
    phone.inbox.clear()
    phone.say("1")
    first = phone.pop_text()
    link = next(w for w in first.split() if "/v/" in w)
    path = link[link.index("/v/") :]
    page = client.get(path)
    assert page.status_code == 200
    assert "Sam Carter" in page.text and "55101" in page.text
    assert "What to expect at your visit" in page.text and "/code-of-conduct" in page.text
    assert client.get(path + "/photo").headers["content-type"] == "image/png"
    assert client.get(path[:-3] + "xyz").status_code == 404  # tampered
    client.post("/simulator/api/clock", json={"set": "2026-12-03T13:00:00+00:00"})
    assert client.get(path).status_code == 404  # a day after the visit


def test_free_text_preference_and_a_night_worker_gets_no_mornings(client: TestClient) -> None:
    kelly = Phone(client, "+447400123460")
    kelly.say("can someone come about my socket, any time after 2 on friday")
    assert "I work nights" in kelly.pop_text()
    kelly.say("yes thats right")
    # Visits are 12pm-5pm in the afternoon: none can promise "after 2", and she is told so.
    told = kelly.pop()
    assert "none of our visit times fit Fri 4 Dec after 2pm" in told["text"]
    kelly.say("1")  # the nearest anyway
    offer = kelly.pop()
    labels = [o["label"] for o in offer["options"]]
    assert labels[0] == "Fri 4 Dec, afternoon 12pm-5pm"
    assert not any("morning" in label for label in labels)
    kelly.say(offer["options"][-1]["key"])  # "None of these"
    assert "When suits you?" in kelly.pop_text()
    kelly.say("next wednesday maybe")
    later = [o["label"] for o in kelly.pop()["options"]]
    assert later[0] == "Wed 9 Dec, afternoon 12pm-5pm"
    assert all("morning" not in label for label in later)


def test_naming_an_offered_window_books_it(client: TestClient, demo_db: Database) -> None:
    tomasz = Phone(client, "+447400123459")
    tomasz.say("I need to book a visit for my radiator")
    tomasz.pop()
    tomasz.say("1")
    offered = [o["label"] for o in tomasz.pop()["options"]]
    assert "Thu 3 Dec, morning 8am-12pm" in offered
    tomasz.say("thursday morning please")
    assert tomasz.pop_text().startswith("Booked: Thu 3 Dec, morning 8am-12pm")
    assert _appointments(demo_db, "RH-10424")[0].day == date(2026, 12, 3)


def test_a_window_taken_meanwhile_gets_an_apology_and_fresh_options(
    phone: Phone, demo_db: Database
) -> None:
    phone.say("book a visit please")
    phone.say("1")
    phone.inbox.clear()
    # Everyone else books Tuesday morning while Margaret is deciding.
    with demo_db.session() as session:
        for slot in session.exec(
            select(Availability).where(
                Availability.day == date(2026, 12, 1), Availability.window == "morning"
            )
        ).all():
            slot.booked = slot.capacity
            session.add(slot)
    phone.say("1")
    sorry = phone.pop()
    assert sorry["text"] == "Sorry, that time has just been taken by someone else."
    fresh = [o["label"] for o in phone.pop()["options"]]
    assert "Tue 1 Dec, morning 8am-12pm" not in fresh
    assert _appointments(demo_db, "RH-10421") == []


def test_resident_without_an_open_job_describes_a_new_problem(
    client: TestClient, demo_db: Database
) -> None:
    margaret = Phone(client, "+447400123456")
    margaret.say("book a visit")
    margaret.say("1")
    margaret.say("1")
    margaret.inbox.clear()
    margaret.say("can someone come out to fix something else")
    reply = margaret.pop_text()
    assert "no repairs waiting for a visit" in reply
    margaret.say("the bathroom light pull cord has snapped")
    assert "passed" in margaret.pop_text()
    with demo_db.session() as session:
        triage = session.exec(select(RepairJob).where(RepairJob.status == JobStatus.TRIAGE)).one()
        task = session.exec(select(StaffTask).where(StaffTask.kind == "triage")).one()
    assert triage.description == "the bathroom light pull cord has snapped"
    assert "pull cord" in task.summary


def test_changing_needs_before_booking_records_them_in_own_words(
    client: TestClient, demo_db: Database
) -> None:
    from storage.models import AccessNeed

    david = Phone(client, "+447400123457")
    david.say("need someone out to look at my fan")
    david.say("2")
    assert "in your own words" in david.pop_text().lower() or david.inbox
    david.inbox.clear()
    david.say("I am deaf and also have a guide dog")
    assert "May we share" in david.pop_text()
    david.say("2")
    assert "keep it private" in david.pop_text()  # said no to sharing
    with demo_db.session() as session:
        david_id = session.exec(select(Resident.id).where(Resident.name == "David Price")).one()
        needs = session.exec(select(AccessNeed).where(AccessNeed.resident_id == david_id)).all()
    active = [n for n in needs if n.active]
    assert [n.own_words for n in active] == ["I am deaf and also have a guide dog"]
    assert active[0].consent_to_share is False
    assert active[0].review_by == date(2027, 11, 30)
    assert any(not n.active for n in needs)  # the old record is kept, not deleted


def test_rebooking_moves_the_visit_and_voids_old_messages(phone: Phone, demo_db: Database) -> None:
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")
    (appointment,) = _appointments(demo_db, "RH-10421")
    with demo_db.session() as session:
        session.add(
            OutboxMessage(
                resident_id=session.exec(
                    select(Resident.id).where(Resident.mobile == phone.number)
                ).one(),
                appointment_id=appointment.id,
                appointment_version=1,
                kind="reminder_evening",
                purpose="appointment",
                text="Reminder: your visit is tomorrow morning",
                idempotency_key=f"{appointment.id}:1:reminder_evening",
                not_before=datetime(2026, 11, 30, 18, 0, tzinfo=UTC),
                created_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
            )
        )
    phone.inbox.clear()
    phone.say("1")  # "To change the time reply 1"
    offer = phone.pop()
    assert "Tue 1 Dec, morning 8am-12pm" not in [o["label"] for o in offer["options"]]
    phone.say("2")
    assert phone.pop_text().startswith("Booked: ")
    (moved,) = _appointments(demo_db, "RH-10421")
    assert moved.version == 2
    assert moved.day != date(2026, 12, 1) or moved.window != "morning"
    with demo_db.session() as session:
        old = session.exec(select(OutboxMessage)).one()
        old_slot = session.exec(
            select(Availability).where(
                Availability.day == date(2026, 12, 1),
                Availability.window == "morning",
                Availability.operative_id == appointment.operative_id,
            )
        ).one()
    assert old.status == "expired"
    assert old_slot.booked == 0


def test_nominee_gets_a_copy_of_the_confirmation(client: TestClient, demo_db: Database) -> None:
    arthur = Phone(client, "+447400123461")
    arthur.say("please book my repair")
    arthur.say("1")
    arthur.say("1")
    with demo_db.session() as session:
        copy = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "nominee_copy")).one()
    assert copy.address == "+447400123470"
    assert copy.text.startswith("Copy for Susan Bennett: Arthur's repair visit is")
    assert "Tue 1 Dec, morning 8am-12pm" in copy.text
    assert copy.appointment_version == 1


def test_abandoned_booking_resets_after_a_day_and_reaches_the_staff_list(
    phone: Phone, client: TestClient, demo_db: Database
) -> None:
    from bot.common.flowset import default_flows
    from bot.outbound.sweeps import expire_conversations

    phone.say("book a visit")
    phone.say("1")
    phone.inbox.clear()
    reset = expire_conversations(
        demo_db, default_flows(), now=datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    )
    assert reset == 1
    with demo_db.session() as session:
        task = session.exec(select(StaffTask).where(StaffTask.kind == "unbooked")).one()
    assert "RH-10421" in task.summary
    client.post("/simulator/api/clock", json={"set": "2026-12-01T09:31:00+00:00"})
    phone.say("2")  # the old offer is gone: "2" is now the main menu's "My appointments"
    assert "no visits booked" in phone.pop_text()
