"""Inviting residents to book the landlord's jobs (issue 14, item 3), through the planner
and the real dispatcher with a recording sender in place of Twilio.

A job is made the way the landlord's API makes one: open, the resident's own, with a
source hash, no visit. Monday 30 Nov 2026 09:00 UTC is 09:00 in London.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlmodel import col, select

from bot.channels.senders import senders_from_settings
from bot.channels.telegram.sender import inline_keyboard
from bot.common.clock import FixedClock
from bot.integration.sync import RecordKind, upsert_batch
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.planning import on_sent, plan
from flows.codes import new_visit_code
from flows.sms import sms_cost
from flows.windows import window_named
from simphone import Phone
from storage.db import Database
from storage.enums import Channel, JobPriority, JobStatus, TaskKind
from storage.models import (
    Appointment,
    Availability,
    ContactDecision,
    Landlord,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffTask,
)
from storage.repositories.booking import book_appointment

LONDON = ZoneInfo("Europe/London")
MARGARET = "+447400123456"
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WEDNESDAY = MONDAY + timedelta(days=2)
FRIDAY = MONDAY + timedelta(days=4)
LEAK = "Leak from the bathroom ceiling into the hall, reported by phone"


def make_job(
    db: Database,
    *,
    priority: JobPriority = JobPriority.ROUTINE,
    description: str = LEAK,
    opted_out: bool = False,
    raised_at: datetime = MONDAY,
    reference: str = "HMS-77001",
) -> int:
    """Margaret's new job as the landlord's system sends it."""
    with db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        assert resident.id is not None and resident.property_id is not None
        resident.preferred_channel = Channel.SMS
        if opted_out:
            resident.sms_opted_out_at = raised_at - timedelta(days=30)
        session.add(resident)
        job = RepairJob(
            landlord_id=resident.landlord_id,
            reference=reference,
            property_id=resident.property_id,
            resident_id=resident.id,
            description=description,
            priority=priority,
            status=JobStatus.OPEN,
            raised_at=raised_at,
            source_hash="a" * 64,
            updated_at=raised_at,
            created_at=raised_at,
        )
        session.add(job)
        session.flush()
        assert job.id is not None
        return job.id


def dispatch_at(db: Database, moment: datetime) -> RecordingSender:
    sender = RecordingSender()
    dispatcher = Dispatcher(
        db=db, senders={Channel.SMS: sender}, clock=FixedClock(moment), zone=LONDON, on_sent=on_sent
    )
    asyncio.run(dispatcher.run_once())
    return sender


def rows(db: Database) -> dict[str, OutboxMessage]:
    with db.session() as session:
        found = session.exec(select(OutboxMessage).where(col(OutboxMessage.kind).like("job_%")))
        return {r.kind: r for r in found.all()}


def decisions(db: Database, outbox_id: int | None) -> list[tuple[str, str]]:
    with db.session() as session:
        found = session.exec(
            select(ContactDecision)
            .where(ContactDecision.outbox_id == outbox_id)
            .order_by(col(ContactDecision.id))
        ).all()
        return [(str(d.decision), d.reason_code) for d in found]


def job(db: Database, job_id: int) -> RepairJob:
    with db.session() as session:
        found = session.get(RepairJob, job_id)
        assert found is not None
        return found


def book(db: Database, job_id: int, *, now: datetime) -> None:
    """The job booked meanwhile (by text or the landlord's scheduler): a booked visit."""
    with db.session() as session:
        found = session.get(RepairJob, job_id)
        slot = session.exec(
            select(Availability).where(Availability.day == date(2026, 12, 8))
        ).first()
        assert found is not None and slot is not None
        starts, ends = window_named(slot.window).bounds(slot.day)
        book_appointment(
            session,
            job=found,
            availability=slot,
            starts_at=starts,
            ends_at=ends,
            visit_code=new_visit_code(random.Random(1)),
            now=now,
        )


def tasks(db: Database) -> list[StaffTask]:
    with db.session() as session:
        return list(session.exec(select(StaffTask).where(StaffTask.kind == TaskKind.CALLBACK)))


def test_a_new_job_invites_the_resident_once(demo_db: Database) -> None:
    job_id = make_job(demo_db)
    plan(demo_db, now=MONDAY)
    plan(demo_db, now=MONDAY + timedelta(minutes=1))
    assert list(rows(demo_db)) == ["job_invite"]
    sent = dispatch_at(demo_db, MONDAY + timedelta(minutes=1)).sent
    assert [m.address for m in sent] == [MARGARET]
    # The description is cut at a word where that keeps the invitation to one SMS segment.
    assert sent[0].text.startswith(
        "Hello Margaret, we have a repair to book at your home: Leak from the bathroom ceiling"
    )
    assert sent[0].text.endswith("... Reply 1 to choose a time for the visit.")
    assert sms_cost(f"{sent[0].text}\n1 Choose a time").segments == 1
    assert [(o.key, o.label) for o in sent[0].options] == [("1", "Choose a time")]
    assert job(demo_db, job_id).invited_at == MONDAY
    plan(demo_db, now=MONDAY + timedelta(hours=5))
    assert dispatch_at(demo_db, MONDAY + timedelta(hours=5)).sent == []


def test_a_job_sent_by_the_landlords_sync_is_invited(demo_db: Database) -> None:
    """Home, resident and job upserted as the API and the CSV import do (upsert_batch)."""
    records = {
        RecordKind.PROPERTIES: {
            "reference": "PR-9001",
            "address_line_1": "14 Orchard Row",
            "town_or_city": "Leeds",
            "postcode": "ls6 2ab",
        },
        RecordKind.RESIDENTS: {
            "reference": "TN-9001",
            "name": "Priya Shah",
            "mobile": "07400 900123",
            "property": "PR-9001",
        },
        RecordKind.JOBS: {
            "reference": "JB-9001",
            "property": "PR-9001",
            "resident": "TN-9001",
            "trade": "plumbing",
            "description": "Toilet cistern keeps running",
            "raised_at": "2026-11-30T08:40:00+00:00",
        },
    }
    with demo_db.session() as session:
        landlord = session.exec(select(Landlord).where(Landlord.reference == "demo")).one()
        assert landlord.id is not None
        for kind, record in records.items():
            [outcome] = upsert_batch(
                session, landlord_id=landlord.id, kind=kind, records=[record], now=MONDAY
            )
            assert outcome.status == "created", outcome
    plan(demo_db, now=MONDAY)
    sent = dispatch_at(demo_db, MONDAY).sent
    assert [(m.address, m.text[:81]) for m in sent] == [
        (
            "+447400900123",
            "Hello Priya, we have a repair to book at your home: Toilet cistern keeps running.",
        )
    ]


def test_on_telegram_the_invite_carries_a_button(demo_db: Database) -> None:
    make_job(demo_db)
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        resident.telegram_id, resident.preferred_channel = 900001, Channel.TELEGRAM
        session.add(resident)
    plan(demo_db, now=MONDAY)
    telegram = RecordingSender()
    dispatcher = Dispatcher(
        db=demo_db,
        senders={Channel.SMS: RecordingSender(), Channel.TELEGRAM: telegram},
        clock=FixedClock(MONDAY),
        zone=LONDON,
        on_sent=on_sent,
    )
    asyncio.run(dispatcher.run_once())
    [sent] = telegram.sent
    assert sent.address == "900001"
    keyboard = inline_keyboard(sent.outbox_id, sent.options)
    assert keyboard is not None
    assert [[b.text for b in row] for row in keyboard.inline_keyboard] == [["Choose a time"]]


def test_demo_jobs_and_jobs_with_a_visit_are_not_invited(demo_db: Database) -> None:
    job_id = make_job(demo_db)
    book(demo_db, job_id, now=MONDAY)
    plan(demo_db, now=MONDAY)
    assert rows(demo_db) == {}  # the demo's own open jobs have no source hash either


def test_follow_up_after_two_days_then_the_unbooked_list(demo_db: Database) -> None:
    job_id = make_job(demo_db)
    plan(demo_db, now=MONDAY)
    dispatch_at(demo_db, MONDAY)
    plan(demo_db, now=WEDNESDAY - timedelta(minutes=1))
    assert list(rows(demo_db)) == ["job_invite"]
    plan(demo_db, now=WEDNESDAY)
    sent = dispatch_at(demo_db, WEDNESDAY).sent
    assert [m.text[:50] for m in sent] == ["Hello Margaret, your repair still needs a visit: L"]
    assert "Reply 1 to choose a time, or we will call you to arrange it." in sent[0].text
    assert job(demo_db, job_id).invite_followed_up_at == WEDNESDAY
    plan(demo_db, now=FRIDAY - timedelta(minutes=1))
    assert job(demo_db, job_id).unbooked_listed_at is None
    plan(demo_db, now=FRIDAY)
    assert job(demo_db, job_id).unbooked_listed_at == FRIDAY
    plan(demo_db, now=FRIDAY + timedelta(days=3))
    assert sorted(rows(demo_db)) == ["job_invite", "job_invite_followup"]  # nothing more


def test_booked_in_between_means_no_follow_up_and_no_list(demo_db: Database) -> None:
    job_id = make_job(demo_db)
    plan(demo_db, now=MONDAY)
    dispatch_at(demo_db, MONDAY)
    book(demo_db, job_id, now=MONDAY + timedelta(hours=3))
    for moment in (WEDNESDAY, FRIDAY, FRIDAY + timedelta(days=3)):
        plan(demo_db, now=moment)
    assert list(rows(demo_db)) == ["job_invite"]
    assert job(demo_db, job_id).unbooked_listed_at is None


def test_a_pending_invite_for_a_job_booked_meanwhile_is_not_sent(demo_db: Database) -> None:
    job_id = make_job(demo_db)
    evening = MONDAY.replace(hour=21)
    plan(demo_db, now=evening)  # held to Tuesday 08:00
    invite = rows(demo_db)["job_invite"]
    assert decisions(demo_db, invite.id) == [("defer", "outside_hours")]
    book(demo_db, job_id, now=evening + timedelta(minutes=30))
    assert dispatch_at(demo_db, MONDAY + timedelta(days=1, hours=-1)).sent == []
    assert decisions(demo_db, invite.id)[-1] == ("block", "job_booked")
    assert rows(demo_db)["job_invite"].status == "blocked"


def test_sunday_invite_is_deferred_to_monday_and_recorded(demo_db: Database) -> None:
    sunday = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    make_job(demo_db, raised_at=sunday)
    plan(demo_db, now=sunday)
    invite = rows(demo_db)["job_invite"]
    assert decisions(demo_db, invite.id) == [("defer", "sunday_or_holiday")]
    assert invite.not_before == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert dispatch_at(demo_db, sunday + timedelta(hours=2)).sent == []
    assert len(dispatch_at(demo_db, datetime(2026, 12, 7, 8, 0, tzinfo=UTC)).sent) == 1


def test_the_follow_up_waits_two_days_after_a_deferred_invite_went(demo_db: Database) -> None:
    saturday_night = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
    job_id = make_job(demo_db, raised_at=saturday_night)
    plan(demo_db, now=saturday_night)
    monday_8 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    dispatch_at(demo_db, monday_8)
    plan(demo_db, now=saturday_night + timedelta(days=2, hours=1))  # Monday 22:00
    assert list(rows(demo_db)) == ["job_invite"]
    plan(demo_db, now=monday_8 + timedelta(days=2))
    assert job(demo_db, job_id).invite_followed_up_at == monday_8 + timedelta(days=2)


def test_an_opted_out_resident_is_not_invited_and_the_job_is_listed_at_once(
    demo_db: Database,
) -> None:
    job_id = make_job(demo_db, opted_out=True)
    plan(demo_db, now=MONDAY)
    invite = rows(demo_db)["job_invite"]
    assert decisions(demo_db, invite.id) == [("block", "opted_out")]
    assert dispatch_at(demo_db, MONDAY).sent == []
    assert job(demo_db, job_id).unbooked_listed_at == MONDAY


def test_a_resident_with_no_mobile_is_listed_at_once(demo_db: Database) -> None:
    job_id = make_job(demo_db)
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        resident.mobile = None
        session.add(resident)
    plan(demo_db, now=MONDAY)
    assert decisions(demo_db, rows(demo_db)["job_invite"].id) == [("block", "not_uk_mobile")]
    assert job(demo_db, job_id).unbooked_listed_at == MONDAY


def test_a_job_with_no_resident_named_is_listed_at_once(demo_db: Database) -> None:
    routine = make_job(demo_db)
    emergency = make_job(demo_db, priority=JobPriority.EMERGENCY, reference="HMS-77002")
    with demo_db.session() as session:
        for job_id in (routine, emergency):
            found = session.get(RepairJob, job_id)
            assert found is not None
            found.resident_id = None
            session.add(found)
    plan(demo_db, now=MONDAY)
    assert rows(demo_db) == {}
    assert job(demo_db, routine).unbooked_listed_at == MONDAY
    assert job(demo_db, emergency).unbooked_listed_at == MONDAY
    [task] = tasks(demo_db)
    assert task.urgent and task.summary.startswith("EMERGENCY repair HMS-77002")
    assert task.summary.endswith("no resident named to contact: arrange it today")


def test_an_emergency_is_called_at_once_even_at_nine_at_night(demo_db: Database) -> None:
    night = MONDAY.replace(hour=21)
    job_id = make_job(demo_db, priority=JobPriority.EMERGENCY, raised_at=night)
    plan(demo_db, now=night)
    [task] = tasks(demo_db)
    assert task.urgent and task.summary.startswith("EMERGENCY repair HMS-77001 (Leak from")
    assert task.summary.endswith("call the resident and arrange it today")
    sent = dispatch_at(demo_db, night).sent
    assert [m.text for m in sent] == [
        "Hello Margaret, we have an emergency repair for your home: Leak from the bathroom "
        "ceiling into the hall, reported by phone. We will call you today to arrange it. "
        "If it gets worse, call our emergency line on 0300 555 0199."
    ]
    assert sent[0].options == ()  # nothing waits for a reply
    message = rows(demo_db)["job_emergency_call"]
    assert message.time_critical
    assert decisions(demo_db, message.id)[-1] == ("send", "urgent_override")
    assert job(demo_db, job_id).unbooked_listed_at == night
    plan(demo_db, now=night + timedelta(days=3))
    assert len(tasks(demo_db)) == 1 and list(rows(demo_db)) == ["job_emergency_call"]


def test_a_job_made_an_emergency_after_its_invite_is_called_at_once(demo_db: Database) -> None:
    job_id = make_job(demo_db)
    plan(demo_db, now=MONDAY)
    dispatch_at(demo_db, MONDAY)
    with demo_db.session() as session:  # the landlord's next sync raises the priority
        found = session.get(RepairJob, job_id)
        assert found is not None
        found.priority = JobPriority.EMERGENCY
        session.add(found)
    plan(demo_db, now=MONDAY + timedelta(hours=2))
    assert len(tasks(demo_db)) == 1
    sent = dispatch_at(demo_db, MONDAY + timedelta(hours=2)).sent
    assert [m.text[:58] for m in sent] == [
        "Hello Margaret, we have an emergency repair for your home:"
    ]
    assert job(demo_db, job_id).unbooked_listed_at == MONDAY + timedelta(hours=2)


def test_an_emergency_for_an_opted_out_resident_raises_the_task_but_sends_nothing(
    demo_db: Database,
) -> None:
    make_job(demo_db, priority=JobPriority.EMERGENCY, opted_out=True)
    plan(demo_db, now=MONDAY)
    assert len(tasks(demo_db)) == 1
    assert decisions(demo_db, rows(demo_db)["job_emergency_call"].id) == [("block", "opted_out")]
    assert dispatch_at(demo_db, MONDAY).sent == []


def test_reply_1_to_the_invite_books_that_job(phone: Phone, client: TestClient) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    db: Database = runtime.db
    phone.say("hello")  # Margaret has used the service before (the simulator's conversation)
    job_id = make_job(
        db, description="Bedroom window will not close", raised_at=runtime.clock.now()
    )
    plan(db, now=runtime.clock.now())
    dispatcher = Dispatcher(
        db=db,
        senders=senders_from_settings(runtime.settings),
        clock=runtime.clock,
        zone=LONDON,
        on_sent=on_sent,
    )
    asyncio.run(dispatcher.run_once())
    transcript = client.get("/simulator/api/transcript", params={"phone": phone.number}).json()
    assert transcript[-1]["text"].startswith(
        "Hello Margaret, we have a repair to book at your home: Bedroom window will not close."
    )
    # Margaret has other open repairs, but "1" books this one: no "Which repair?" question.
    [check] = phone.say("1")
    assert check["text"].startswith("Before we book: we have noted")
    [offer] = phone.say("1")  # yes, still right
    assert "Which suits you?" in offer["text"]
    assert offer["options"][0]["label"] == "Tue 1 Dec, morning 8am-12pm"
    confirmation = phone.say("1")
    assert "Tue 1 Dec" in confirmation[0]["text"]
    with db.session() as session:
        booked = session.exec(select(Appointment).where(Appointment.job_id == job_id)).all()
        assert [(a.status, a.day) for a in booked] == [("booked", date(2026, 12, 1))]
        found = session.get(RepairJob, job_id)
        assert found is not None and found.status == JobStatus.BOOKED
