"""Visits the landlord's scheduler books and moves through the API, and status from the
landlord's side: the resident hears of each exactly as of a visit booked by text or an
operative's report, through the planner and the dispatcher (issue 14 item 2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from api.world import Api, landlord_id
from sqlmodel import col, select

from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.planning import on_sent, plan
from bot.outbound.sending import OutgoingMessage
from flows.planner import VisitEvent, VisitFacts, plan_visit
from flows.sms import MAX_SEGMENTS, is_gsm7, non_gsm7, sms_cost
from flows.wording import service as words
from simphone import Phone
from storage.db import Database
from storage.enums import AppointmentStatus, Channel
from storage.models import (
    Appointment,
    Availability,
    LandlordEvent,
    Operative,
    OutboxMessage,
    RepairJob,
)
from storage.repositories import landlord_events

LONDON = ZoneInfo("Europe/London")
MARGARET = "+447400123456"
JOB = "/jobs/RH-10421"  # Margaret's open repair: "Kitchen tap dripping constantly"
THURSDAY = {"date": "2026-12-03", "window": "morning", "operative": "OP-55102"}  # Ravi Patel


def dispatch_at(db: Database, moment: datetime) -> list[OutgoingMessage]:
    """Run the real dispatcher once at `moment`; what went to the residents' phones."""
    sender = RecordingSender()
    dispatcher = Dispatcher(
        db=db, senders={Channel.SMS: sender}, clock=FixedClock(moment), zone=LONDON, on_sent=on_sent
    )
    asyncio.run(dispatcher.run_once())
    return sender.sent


def deliver(db: Database, moment: datetime) -> list[OutgoingMessage]:
    """Plan and dispatch at `moment`, as the scheduler does every minute."""
    plan(db, now=moment)
    return dispatch_at(db, moment)


def to_margaret(sent: list[OutgoingMessage]) -> list[OutgoingMessage]:
    assert all(m.address == MARGARET for m in sent), [m.address for m in sent]
    return sent


def appointment_of(db: Database, job: str = "RH-10421") -> Appointment:
    with db.session() as session:
        job_id = session.exec(select(RepairJob.id).where(RepairJob.reference == job)).one()
        return session.exec(
            select(Appointment)
            .where(Appointment.job_id == job_id)
            .order_by(col(Appointment.id).desc())
        ).first()  # type: ignore[return-value]


def job_status(db: Database, job: str = "RH-10421") -> str:
    with db.session() as session:
        row = session.exec(select(RepairJob).where(RepairJob.reference == job)).one()
        return str(row.status)


def booked_places(db: Database, operative: str, day: date, window: str) -> int:
    """How many places of the operative's window are taken."""
    with db.session() as session:
        return session.exec(
            select(Availability.booked)
            .join(Operative, col(Operative.id) == col(Availability.operative_id))
            .where(
                Operative.reference == operative,
                Availability.day == day,
                Availability.window == window,
            )
        ).one()


def feed(db: Database) -> list[tuple[str, str, Any]]:
    """The demo landlord's events: (type, by, version)."""
    with db.session() as session:
        events = landlord_events.page(
            session, landlord_id=landlord_id(db, "demo"), after=0, limit=100
        )
        return [(e.kind, e.data.get("by", ""), e.data["appointment"]["version"]) for e in events]


def outbox_count(db: Database) -> int:
    with db.session() as session:
        return len(session.exec(select(OutboxMessage.id)).all())


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# -- booking -----------------------------------------------------------------------------


def test_a_visit_the_landlord_books_is_confirmed_to_the_resident(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    response = api.put(f"{JOB}/appointment", THURSDAY)
    assert response.status_code == 201, response.text
    body = response.json()
    visit = body["appointment"]
    assert body["change"] == "created" and body["note"] is None
    assert (visit["date"], visit["window"], visit["operative"]) == (
        "2026-12-03",
        "morning",
        "OP-55102",
    )
    assert (visit["status"], visit["version"], visit["capacity_claimed"]) == ("booked", 1, True)
    code = visit["visit_code"]
    assert len(code) == 4 and code.isdigit()
    assert job_status(demo_db) == "booked"
    assert booked_places(demo_db, "OP-55102", date(2026, 12, 3), "morning") == 1

    (confirmation,) = to_margaret(deliver(demo_db, clock.now()))
    text = confirmation.text
    assert "Thu 3 Dec, morning 8am-12pm" in text
    assert "Ravi Patel from Brightwater Plumbing Ltd, ID badge 55102" in text
    assert f"visit code {code}" in text
    assert "Kitchen tap dripping" in text
    assert [o.label for o in confirmation.options] == ["Change the time", "Call the visit off"]
    assert feed(demo_db) == [("appointment.booked", "landlord", 1)]
    # Planned once: the next runs send nothing more.
    assert deliver(demo_db, clock.now() + timedelta(minutes=5)) == []


def test_the_same_booking_again_changes_nothing(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    first = api.put(f"{JOB}/appointment", THURSDAY).json()
    deliver(demo_db, clock.now())
    rows = outbox_count(demo_db)
    again = api.put(f"{JOB}/appointment", THURSDAY)
    assert again.status_code == 200
    assert again.json()["change"] == "unchanged"
    assert again.json()["appointment"] == first["appointment"]
    assert booked_places(demo_db, "OP-55102", date(2026, 12, 3), "morning") == 1
    assert deliver(demo_db, clock.now()) == []
    assert outbox_count(demo_db) == rows
    assert len(feed(demo_db)) == 1


def test_a_booking_without_a_free_place_is_still_booked_and_says_so(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    # Today: the demo holds no availability before tomorrow.
    response = api.put(
        f"{JOB}/appointment", {"date": "2026-11-30", "window": "afternoon", "operative": "OP-55101"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["appointment"]["capacity_claimed"] is False
    assert "booked anyway" in body["note"]
    (confirmation,) = to_margaret(deliver(demo_db, clock.now()))
    assert "Mon 30 Nov, afternoon 12pm-5pm" in confirmation.text
    assert "Sam Carter" in confirmation.text


def test_a_nominee_gets_a_copy_as_for_a_booking_by_text(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    # Arthur Bennett's daughter Susan has his consent to get copies of his visits.
    booked = api.put("/jobs/RH-10426/appointment", THURSDAY).json()["appointment"]
    (own,) = deliver(demo_db, clock.now())  # his own confirmation first
    assert own.address == "+447400123461" and "is booked: Thu 3 Dec" in own.text
    sent: list[OutgoingMessage] = []
    for minutes in (2, 31):  # the copy waits the caps' 30 minutes after his confirmation
        sent += deliver(demo_db, clock.now() + timedelta(minutes=minutes))
    (copy,) = sent
    assert copy.address == "+447400123470"
    assert copy.text.startswith("Copy for Susan Bennett: Arthur's repair visit is")
    assert "Thu 3 Dec, morning 8am-12pm" in copy.text
    assert f"visit code {booked['visit_code']}" in copy.text and "Ravi Patel" in copy.text


# -- moving ------------------------------------------------------------------------------


def test_a_move_by_the_landlord_is_reconfirmed_and_the_old_reminders_never_go(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    first = api.put(f"{JOB}/appointment", THURSDAY).json()["appointment"]
    deliver(demo_db, clock.now())  # the confirmation; the reminders are planned
    clock.advance(timedelta(hours=1))
    moved = api.put(
        f"{JOB}/appointment", {"date": "2026-12-04", "window": "afternoon", "operative": "OP-55101"}
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    visit = body["appointment"]
    assert body["change"] == "moved"
    assert (visit["date"], visit["window"], visit["operative"], visit["version"]) == (
        "2026-12-04",
        "afternoon",
        "OP-55101",
        2,
    )
    assert booked_places(demo_db, "OP-55102", date(2026, 12, 3), "morning") == 0
    assert booked_places(demo_db, "OP-55101", date(2026, 12, 4), "afternoon") == 1

    (again,) = to_margaret(deliver(demo_db, clock.now()))
    assert "moved your repair visit to Fri 4 Dec, afternoon 12pm-5pm" in again.text
    assert "Sam Carter" in again.text and visit["visit_code"] in again.text
    assert first["visit_code"] not in again.text or first["visit_code"] == visit["visit_code"]

    appointment = appointment_of(demo_db)
    sent: list[OutgoingMessage] = []
    for moment in (
        datetime(2026, 12, 2, 18, 0, tzinfo=UTC),  # the old evening-before
        datetime(2026, 12, 3, 8, 0, tzinfo=UTC),  # the old morning
        datetime(2026, 12, 3, 18, 0, tzinfo=UTC),  # the new evening-before
        datetime(2026, 12, 4, 8, 0, tzinfo=UTC),  # the new morning
    ):
        sent += deliver(demo_db, moment)
    assert [m.idempotency_key for m in sent] == [
        f"{appointment.id}:2:reminder_evening",
        f"{appointment.id}:2:reminder_morning",
    ]
    assert all("Thu 3 Dec" not in m.text for m in sent)
    assert feed(demo_db) == [
        ("appointment.booked", "landlord", 1),
        ("appointment.changed", "landlord", 2),
    ]


def test_a_resident_who_rebooks_by_text_after_a_landlord_booking_gets_the_usual_flow(
    api: Api, phone: Phone, demo_db: Database, clock: FixedClock
) -> None:
    api.put(f"{JOB}/appointment", THURSDAY)
    deliver(demo_db, clock.now())
    phone.say("I need to change the time of my appointment")
    offer = phone.pop()
    assert len(offer["options"]) >= 2
    phone.inbox.clear()
    phone.say("1")
    assert phone.pop_text().startswith("Booked: ")
    appointment = appointment_of(demo_db)
    assert appointment.version == 2
    assert (appointment.day, appointment.window) != (date(2026, 12, 3), "morning")
    # Her own change is confirmed in the conversation, not again by the planner.
    assert deliver(demo_db, clock.now()) == []
    # The landlord's system sees the visit as it now stands.
    assert api.put(f"{JOB}/appointment", THURSDAY).json()["change"] == "moved"


# -- status from the landlord's side -----------------------------------------------------


def test_cancelled_by_the_landlord_is_confirmed_and_frees_the_place(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    api.put(f"{JOB}/appointment", THURSDAY)
    deliver(demo_db, clock.now())
    clock.advance(timedelta(minutes=30))
    response = api.post(f"{JOB}/events", {"type": "cancelled", "note": "Tenant moved out"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["job_status"], body["changed"]) == ("cancelled", True)
    assert (body["appointment"]["status"], body["appointment"]["version"]) == ("cancelled", 2)
    assert booked_places(demo_db, "OP-55102", date(2026, 12, 3), "morning") == 0
    (notice,) = to_margaret(deliver(demo_db, clock.now()))
    assert notice.text.startswith(
        "Hello Margaret, your repair visit on Thu 3 Dec, morning 8am-12pm is called off: our "
        "repairs team has closed this repair."
    )
    assert notice.options == ()  # the repair is closed: no new time is offered
    again = api.post(f"{JOB}/events", {"type": "cancelled"})
    assert again.status_code == 200 and again.json()["changed"] is False
    assert deliver(demo_db, clock.now() + timedelta(hours=1)) == []
    assert [kind for kind, _, _ in feed(demo_db)] == [
        "appointment.booked",
        "appointment.cancelled",
    ]
    # Nothing can be booked for a cancelled job.
    problem(api.put(f"{JOB}/appointment", THURSDAY), 409)


def test_no_access_reported_by_the_landlord_offers_a_new_time(
    api: Api, phone: Phone, demo_db: Database, clock: FixedClock
) -> None:
    phone.say("hello")
    api.put(f"{JOB}/appointment", {"date": "2026-12-01", "window": "morning", **_op("OP-55102")})
    deliver(demo_db, clock.now())
    at = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    clock.advance(at - clock.now())
    response = api.post(
        f"{JOB}/events", {"type": "no_access", "note": "Carded, no answer", "at": at.isoformat()}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["job_status"], body["appointment"]["status"]) == ("open", "no_access")
    (news,) = to_margaret(deliver(demo_db, clock.now()))
    assert news.text.startswith(
        "Hello Margaret, Ravi Patel came for your repair visit on Tue 1 Dec, morning 8am-12pm "
        "but could not get in."
    )
    assert [o.label for o in news.options] == ["Choose a new time"]
    again = api.post(f"{JOB}/events", {"type": "no_access"})
    assert again.status_code == 200 and again.json()["changed"] is False
    assert deliver(demo_db, clock.now() + timedelta(minutes=10)) == []
    (kind, by, _) = feed(demo_db)[-1]
    assert (kind, by) == ("visit.no_access", "landlord")
    phone.inbox.clear()
    phone.say("1")  # "Reply 1 to choose a new time"
    offer = phone.pop()
    assert len(offer["options"]) >= 2  # times offered for the same repair, open again


def test_a_landlords_job_reopened_by_no_access_gets_no_second_invitation(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    job = {
        "property": "PR-1001",
        "resident": "TN-2001",
        "trade": "plumbing",
        "description": "Bath panel loose",
        "priority": "routine",
    }
    assert api.put("/jobs/LL-1", job).status_code == 201
    booked = api.put("/jobs/LL-1/appointment", {**THURSDAY, "date": "2026-12-01"})
    assert booked.status_code == 201
    (confirmation,) = to_margaret(deliver(demo_db, clock.now()))
    assert "(Bath panel loose) is booked: Tue 1 Dec" in confirmation.text
    clock.advance(datetime(2026, 12, 1, 13, 0, tzinfo=UTC) - clock.now())
    assert api.post("/jobs/LL-1/events", {"type": "no_access"}).json()["job_status"] == "open"
    (news,) = to_margaret(deliver(demo_db, clock.now()))
    assert "could not get in" in news.text
    assert deliver(demo_db, clock.now() + timedelta(hours=3)) == []


def _op(reference: str) -> dict[str, str]:
    return {"operative": reference}


def test_completed_by_the_landlord_asks_for_feedback(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    api.put(f"{JOB}/appointment", {"date": "2026-12-01", "window": "morning", **_op("OP-55102")})
    deliver(demo_db, clock.now())
    clock.advance(datetime(2026, 12, 1, 11, 0, tzinfo=UTC) - clock.now())
    response = api.post(f"{JOB}/events", {"type": "completed"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["job_status"], body["appointment"]["status"]) == ("completed", "completed")
    assert deliver(demo_db, clock.now()) == []  # feedback is asked two hours after
    (ask,) = to_margaret(deliver(demo_db, clock.now() + timedelta(hours=2)))
    assert ask.text.startswith("How did your repair visit on Tue 1 Dec, morning 8am-12pm go?")
    again = api.post(f"{JOB}/events", {"type": "completed"})
    assert again.status_code == 200 and again.json()["changed"] is False
    # The nightly sync sends the visit as it was booked again: nothing changes.
    resent = api.put(
        f"{JOB}/appointment", {"date": "2026-12-01", "window": "morning", **_op("OP-55102")}
    )
    assert resent.status_code == 200 and resent.json()["change"] == "unchanged"
    assert resent.json()["appointment"]["status"] == "completed"
    assert [(kind, by) for kind, by, _ in feed(demo_db)] == [
        ("appointment.booked", "landlord"),
        ("visit.completed", "landlord"),
    ]
    body = problem(api.put(f"{JOB}/appointment", THURSDAY), 409)
    assert "completed" in body["detail"]
    problem(api.post(f"{JOB}/events", {"type": "cancelled"}), 409)


def test_follow_on_needed_tells_the_resident_and_reopens_the_repair(
    api: Api, phone: Phone, demo_db: Database, clock: FixedClock
) -> None:
    phone.say("hello")
    api.put(f"{JOB}/appointment", {"date": "2026-12-01", "window": "morning", **_op("OP-55102")})
    deliver(demo_db, clock.now())
    clock.advance(datetime(2026, 12, 1, 11, 0, tzinfo=UTC) - clock.now())
    response = api.post(f"{JOB}/events", {"type": "follow_on_needed", "note": "Part on order"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["job_status"], body["appointment"]["status"]) == ("open", "completed")
    (news,) = to_margaret(deliver(demo_db, clock.now()))
    assert "Your repair needs another visit to finish it. Reply 1 to choose a time." in news.text
    assert [o.label for o in news.options] == ["Choose a new time"]
    again = api.post(f"{JOB}/events", {"type": "follow_on_needed"})
    assert again.status_code == 200 and again.json()["changed"] is False
    phone.inbox.clear()
    phone.say("1")
    offer = phone.pop()
    assert len(offer["options"]) >= 2
    # The landlord's scheduler books the follow-on visit itself: a new visit, confirmed.
    phone.inbox.clear()
    booked = api.put(f"{JOB}/appointment", THURSDAY)
    assert booked.status_code == 201 and booked.json()["appointment"]["version"] == 1


def test_an_outcome_for_a_visit_still_to_come_or_none_is_a_conflict(
    api: Api, demo_db: Database
) -> None:
    body = problem(api.post(f"{JOB}/events", {"type": "no_access"}), 409)
    assert "no booked visit" in body["detail"]
    problem(api.post(f"{JOB}/events", {"type": "follow_on_needed"}), 409)
    api.put(f"{JOB}/appointment", THURSDAY)
    body = problem(api.post(f"{JOB}/events", {"type": "completed"}), 409)
    assert "2026-12-03" in body["detail"]
    assert appointment_of(demo_db).status == "booked"


# -- refusals ----------------------------------------------------------------------------


def test_refusals_are_problem_details_naming_the_field(api: Api, acme: Api, reader: Api) -> None:
    problem(api.put("/jobs/NOPE-1/appointment", THURSDAY), 404)
    problem(api.post("/jobs/NOPE-1/events", {"type": "completed"}), 404)
    # Another landlord's job does not exist for this key.
    problem(acme.put(f"{JOB}/appointment", THURSDAY), 404)
    problem(acme.post(f"{JOB}/events", {"type": "cancelled"}), 404)
    cases = {
        "window": {**THURSDAY, "window": "evening"},
        "date": {**THURSDAY, "date": "2026-11-29"},
        "operative": {**THURSDAY, "operative": "OP-99999"},
    }
    for field, sent in cases.items():
        body = problem(api.put(f"{JOB}/appointment", sent), 422)
        assert [e["field"] for e in body["errors"]] == [field]
    body = problem(api.put(f"{JOB}/appointment", {**THURSDAY, "colour": "red"}), 422)
    assert body["errors"][0]["field"] == "colour"
    body = problem(api.post(f"{JOB}/events", {"type": "exploded"}), 422)
    assert body["errors"][0]["field"] == "type"
    body = problem(api.post(f"{JOB}/events", {"type": "completed", "at": "2026-12-01T09:00"}), 422)
    assert body["errors"][0]["field"] == "at"
    body = problem(api.post(f"{JOB}/events", {"type": "completed", "at": "2025-01-01T09:00Z"}), 422)
    assert body["errors"][0]["field"] == "at"
    body = problem(api.post(f"{JOB}/events", {"type": "no_access", "note": "a\u0000b"}), 422)
    assert body["errors"][0]["field"] == "note"
    body = problem(api.put(f"{JOB}/appointment", {**THURSDAY, "operative": "OP\u00001"}), 422)
    assert body["errors"][0]["field"] == "operative"
    # A finished job takes no visit (Margaret's repair RH-10300 was done last month).
    problem(api.put("/jobs/RH-10300/appointment", THURSDAY), 409)
    problem(reader.put(f"{JOB}/appointment", THURSDAY), 403)
    problem(reader.post(f"{JOB}/events", {"type": "cancelled"}), 403)


def test_refusals_write_nothing(api: Api, acme: Api, demo_db: Database) -> None:
    api.put(f"{JOB}/appointment", {**THURSDAY, "window": "evening"})
    acme.post(f"{JOB}/events", {"type": "cancelled"})
    with demo_db.session() as session:
        assert session.exec(select(LandlordEvent)).all() == []
    assert appointment_of(demo_db) is None
    assert job_status(demo_db) == "open"


# -- wording -----------------------------------------------------------------------------

LONGEST = "Bartholomew-Montgomery"
VISIT = "Wed 30 Sep, afternoon 12pm-5pm"
OPTIONS = {
    "book": ["Choose a new time"],
    "visit": ["Change the time", "Call the visit off"],
    "none": [],
}
TEXTS = [
    (
        words.landlord_booked(
            VISIT,
            "Kitchen tap dripping constantly and the cupboard under it is wet",
            f"{LONGEST} Smythe",
            "Brightwater Plumbing and Heating Ltd",
            "551023",
            "4821",
        ),
        "visit",
    ),
    (words.no_access(LONGEST, VISIT, f"{LONGEST} Smythe"), "book"),
    (words.follow_on(LONGEST, VISIT), "book"),
    (words.repair_cancelled(LONGEST, VISIT), "none"),
]


@pytest.mark.parametrize(("text", "options"), TEXTS)
def test_new_messages_are_gsm7_within_two_segments(text: str, options: str) -> None:
    sms = "\n".join([text, *(f"{i} {label}" for i, label in enumerate(OPTIONS[options], 1))])
    assert is_gsm7(sms), non_gsm7(sms)
    cost = sms_cost(sms)
    assert cost.segments <= MAX_SEGMENTS, (cost, sms)


def test_a_landlords_description_is_made_sms_safe() -> None:
    text = words.landlord_booked(VISIT, "Tap \u2013 \u201cdripping\u201d", "Sam", "Co", "1", "4821")
    assert '(Tap - "dripping")' in text
    assert is_gsm7(text)


# -- the planner's rules, without a database ----------------------------------------------


def _facts(status: AppointmentStatus, *events: VisitEvent, version: int = 1) -> VisitFacts:
    return VisitFacts(
        appointment_id=7,
        version=version,
        status=status,
        day=date(2026, 12, 3),
        label="Thu 3 Dec, morning 8am-12pm",
        starts_at=datetime(2026, 12, 3, 8, tzinfo=UTC),
        ends_at=datetime(2026, 12, 3, 12, tzinfo=UTC),
        created_at=NOW,
        resident_first_name="Margaret",
        operative_name="Ravi Patel",
        visit_code="4821",
        events=events,
        operative_employer="Brightwater Plumbing Ltd",
        operative_badge="55102",
        job_description="Kitchen tap dripping",
        job_id=3,
    )


NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _kinds(facts: VisitFacts) -> set[str]:
    return {m.kind for m in plan_visit(facts, now=NOW)}


def test_only_a_visit_someone_else_booked_is_confirmed_by_the_planner() -> None:
    by_landlord = _facts(AppointmentStatus.BOOKED, VisitEvent(1, "booked", NOW, "landlord"))
    by_resident = _facts(AppointmentStatus.BOOKED, VisitEvent(1, "booked", NOW, "resident"))
    assert "booking_confirmation" in _kinds(by_landlord)
    assert "booking_confirmation" not in _kinds(by_resident)
    moved = VisitEvent(2, "rebooked", NOW, "landlord", {"version": 2})
    again = _facts(
        AppointmentStatus.BOOKED, VisitEvent(1, "booked", NOW, "landlord"), moved, version=2
    )
    assert "change_confirmation" in _kinds(again) and "booking_confirmation" not in _kinds(again)
    by_text = VisitEvent(2, "rebooked", NOW, "resident", {"version": 2})
    mine = _facts(
        AppointmentStatus.BOOKED, VisitEvent(1, "booked", NOW, "landlord"), by_text, version=2
    )
    assert not {"change_confirmation", "booking_confirmation"} & _kinds(mine)


def test_a_no_access_is_news_only_when_the_landlord_reports_it() -> None:
    # An operative's own no access came after "can't get in", which offered a new time.
    operative = _facts(AppointmentStatus.NO_ACCESS, VisitEvent(1, "no_access", NOW, "operative:1"))
    landlord = _facts(AppointmentStatus.NO_ACCESS, VisitEvent(1, "no_access", NOW, "landlord"))
    assert _kinds(operative) == set()
    (news,) = plan_visit(landlord, now=NOW)
    assert news.payload["menu"] == [["1", "Choose a new time", "book", 3]]
