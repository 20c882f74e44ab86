"""Cancelling, the carrier's CANCEL keyword, and asking about a visit."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import select

from simphone import Phone
from storage.db import Database
from storage.enums import AppointmentStatus, JobStatus
from storage.models import Appointment, Availability, OutboxMessage, RepairJob, Resident, StaffTask


def _book(phone: Phone) -> None:
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")
    phone.inbox.clear()


def _resident(db: Database, number: str) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.mobile == number)).one()


def test_cancel_in_words_confirms_then_calls_off(phone: Phone, demo_db: Database) -> None:
    _book(phone)
    phone.say("I need to cancel my appointment")
    confirm = phone.pop()
    assert confirm["text"].startswith("Call off your visit on Tue 1 Dec, morning 8am-12pm")
    assert [o["label"] for o in confirm["options"]] == ["Yes, call it off", "No, keep it"]
    phone.say("1")
    done = phone.pop_text()
    assert done.startswith("Done: your visit on Tue 1 Dec, morning 8am-12pm is called off.")
    with demo_db.session() as session:
        appointment = session.exec(select(Appointment).where(Appointment.version == 2)).one()
        job = session.get(RepairJob, appointment.job_id)
        slot = session.get(Availability, appointment.availability_id)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert job is not None and job.status == JobStatus.OPEN
    assert slot is not None and slot.booked == 0
    phone.say("1")  # "Reply 1 to book a new time"
    assert phone.pop_text().startswith("Before we book")


def test_keeping_the_visit_changes_nothing(phone: Phone, demo_db: Database) -> None:
    _book(phone)
    phone.say("2")  # "to call the visit off reply 2"
    phone.pop()
    phone.say("no keep it")
    assert phone.pop_text() == "OK, your visit on Tue 1 Dec, morning 8am-12pm stays as it is."
    with demo_db.session() as session:
        appointment = session.exec(
            select(Appointment).where(Appointment.day == date(2026, 12, 1))
        ).one()
    assert appointment.status == AppointmentStatus.BOOKED and appointment.version == 1


def test_bare_cancel_on_sms_is_a_carrier_opt_out(client: TestClient, demo_db: Database) -> None:
    gareth = Phone(client, "+447400123463")  # linked to Telegram too
    assert gareth.say("CANCEL") == []  # the carrier has unsubscribed them: we stay silent
    resident = _resident(demo_db, gareth.number)
    assert resident.sms_opted_out_at is not None
    with demo_db.session() as session:
        task = session.exec(select(StaffTask).where(StaffTask.kind == "callback")).one()
        notice = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "carrier_cancel_notice")
        ).one()
    assert "CANCEL" in task.summary and task.resident_id == resident.id
    assert notice.channel == "telegram" and notice.address == "700000001"
    assert "call off a visit" in notice.text
    gareth.say("START")
    assert "again" in gareth.pop_text()
    assert _resident(demo_db, gareth.number).sms_opted_out_at is None


def test_stop_words_and_opting_back_in(phone: Phone, demo_db: Database) -> None:
    phone.say("please stop texting me")
    assert phone.pop_text().startswith("Do you want us to stop sending you messages here")
    assert _resident(demo_db, phone.number).sms_opted_out_at is None
    phone.say("1")
    assert "will not send you any more messages" in phone.pop_text()
    assert _resident(demo_db, phone.number).sms_opted_out_at is not None
    phone.say("you can text me again")
    assert "again" in phone.pop_text()
    assert _resident(demo_db, phone.number).sms_opted_out_at is None
    assert phone.say("STOP") == []
    assert _resident(demo_db, phone.number).sms_opted_out_at is not None


def test_asking_about_the_appointment(phone: Phone) -> None:
    phone.say("when is my appointment")
    assert "no visits booked" in phone.pop_text()
    _book(phone)
    phone.say("whens the plumber coming")
    text = phone.pop_text()
    assert "Tue 1 Dec, morning 8am-12pm" in text
    assert "Sam Carter" in text and "55101" in text
    assert "visit code " in text


def test_code_of_conduct_and_help(phone: Phone) -> None:
    phone.say("what should the workman do when he comes in")
    text = phone.pop_text()
    assert "shows photo ID" in text and "code-of-conduct" in text
    phone.say("help")
    assert phone.pop_text().startswith("I can book, change or call off a visit")
