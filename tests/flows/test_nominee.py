"""A resident's nominee texting from their own number (issue 15, item 9).

Arthur Bennett (demo resident) has his daughter Susan as nominee. Susan is recognised as
his nominee: she can see his visits, check a caller at the door and ask for a person;
she cannot change his visits or needs, see his needs, or opt him out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlmodel import col, select

from flows.windows import window_named
from simphone import Phone
from storage.db import Database
from storage.enums import AppointmentStatus, JobStatus, TaskKind
from storage.models import (
    AccessNeed,
    Appointment,
    AppointmentEvent,
    Conversation,
    Operative,
    RepairJob,
    Resident,
    StaffTask,
)

ARTHUR = "+447400123461"
SUSAN = "+447400123470"  # Arthur's nominee (his daughter)
TUESDAY = date(2026, 12, 1)


def _db(client: TestClient) -> Database:
    db: Database = client.app.state.runtime.db  # type: ignore[attr-defined]
    return db


def _arthur(db: Database) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.mobile == ARTHUR)).one()


def _book_arthur_for_tuesday(db: Database) -> int:
    """Arthur's open repair booked for Tue 1 Dec, morning, as the booking flow makes it."""
    with db.session() as session:
        arthur = session.exec(select(Resident).where(Resident.mobile == ARTHUR)).one()
        job = session.exec(
            select(RepairJob).where(
                RepairJob.resident_id == arthur.id, RepairJob.status == JobStatus.OPEN
            )
        ).first()
        operative = session.exec(select(Operative).order_by(col(Operative.id))).first()
        assert job is not None and job.id is not None
        assert operative is not None and operative.id is not None
        starts, ends = window_named("morning").bounds(TUESDAY)
        job.status = JobStatus.BOOKED
        appointment = Appointment(
            job_id=job.id,
            operative_id=operative.id,
            day=TUESDAY,
            window="morning",
            starts_at=starts,
            ends_at=ends,
            status=AppointmentStatus.BOOKED,
            visit_code="4821",
            created_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
            updated_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
        )
        session.add_all([job, appointment])
        session.flush()
        assert appointment.id is not None
        session.add(
            AppointmentEvent(
                appointment_id=appointment.id,
                kind="booked",
                at=appointment.created_at,
                actor="resident",
            )
        )
        return appointment.id


def test_the_nominee_is_recognised_and_told_what_they_can_do(client: TestClient) -> None:
    susan = Phone(client, SUSAN)
    susan.say("hi its susan, arthurs daughter")
    hello = susan.pop()
    assert "do not recognise" not in hello["text"]
    assert "Susan" in hello["text"] and "Arthur's nominee" in hello["text"]
    assert [o["label"] for o in hello["options"]] == [
        "Their visits",
        "Check a caller at the door",
        "Talk to a person",
    ]


def test_the_nominee_sees_the_residents_visits(client: TestClient) -> None:
    _book_arthur_for_tuesday(_db(client))
    susan = Phone(client, SUSAN)
    susan.say("when is my dads appointment")
    text = susan.pop_text()
    assert "Arthur's next visit" in text
    assert "Tue 1 Dec" in text and "4821" in text
    susan.say("1")  # the menu's "Their visits"
    assert "Arthur's next visit" in susan.pop_text()


def test_the_nominee_cannot_change_or_call_off_a_visit(client: TestClient) -> None:
    appointment_id = _book_arthur_for_tuesday(_db(client))
    susan = Phone(client, SUSAN)
    for asked in ("cancel the visit pls", "can u move it to thursday", "book a repair"):
        susan.say(asked)
        assert "only Arthur can do that" in susan.pop_text()
    with _db(client).session() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.status == AppointmentStatus.BOOKED and appointment.version == 1


def test_the_nominee_never_sees_or_changes_the_residents_needs(client: TestClient) -> None:
    db = _db(client)
    susan = Phone(client, SUSAN)
    for asked in (
        "what do u tell the engineer about him",
        "he needs the operative to wait at the door, hes slow",
    ):
        susan.say(asked)
        text = susan.pop_text()
        assert "slow to get to the door" not in text
    with db.session() as session:
        needs = session.exec(select(AccessNeed).where(AccessNeed.resident_id == _arthur(db).id))
        assert [n.own_words for n in needs] == ["I am slow to get to the door, please wait"]


def test_stop_from_the_nominees_phone_does_not_opt_the_resident_out(client: TestClient) -> None:
    susan = Phone(client, SUSAN)
    susan.say("STOP")
    susan.say("stop texting my dad")
    assert _arthur(_db(client)).sms_opted_out_at is None


def test_the_nominee_can_ask_for_a_person_without_pausing_the_residents_texts(
    client: TestClient,
) -> None:
    db = _db(client)
    arthur = Phone(client, ARTHUR)
    arthur.say("hello")
    susan = Phone(client, SUSAN)
    susan.say("3")  # "Talk to a person" from the nominee's menu, unmistakable
    assert "Our team will" in susan.pop_text()
    with db.session() as session:
        task = session.exec(select(StaffTask).where(StaffTask.kind == TaskKind.HANDOFF)).one()
        conversations = {c.address: c for c in session.exec(select(Conversation)).all()}
    assert task.resident_id == _arthur(db).id
    assert "nominee Susan Bennett (daughter)" in task.summary
    assert conversations[SUSAN].paused and conversations[SUSAN].resident_id is None
    assert not conversations[ARTHUR].paused
    arthur.inbox.clear()
    arthur.say("hello")
    assert "Hello Arthur" in arthur.pop_text()


def test_the_nominee_can_check_a_caller_at_the_door(client: TestClient) -> None:
    _book_arthur_for_tuesday(_db(client))
    client.post("/simulator/api/clock", json={"set": "2026-12-01T10:00:00+00:00"})
    susan = Phone(client, SUSAN)
    susan.say("theres a man at my dads door saying hes the plumber, is he real")
    text = susan.pop_text().lower()
    assert "do not recognise" not in text and "only arthur" not in text
    assert "code" in text


def test_a_number_that_is_two_residents_nominee_is_not_recognised(client: TestClient) -> None:
    db = _db(client)
    with db.session() as session:
        priya = session.exec(select(Resident).where(Resident.mobile == "+447400123462")).one()
        priya.nominee_name, priya.nominee_phone = "Susan Bennett", SUSAN
        session.add(priya)
    susan = Phone(client, SUSAN)
    susan.say("hi")
    text = susan.pop_text()
    assert "do not recognise" in text or "do not know" in text
    assert "Arthur" not in text and "Priya" not in text
