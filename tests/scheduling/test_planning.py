"""Planning against the database: hours, bank holidays, caps and opt-outs, judged twice.

Each test plans at one moment and dispatches at later ones with an injected clock,
through the real dispatcher with a recording sender in place of Twilio.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.outbox_checks import decisions, dispatch_at, rows
from sqlmodel import select

from bot.operatives.visit_status import VisitStatus, record_status
from bot.outbound.planning import plan
from storage.db import Database
from storage.enums import Nation
from storage.models import Appointment, ContactDecision, Conversation, Resident

LONDON = ZoneInfo("Europe/London")
MARGARET = "+447400123456"
MakeVisit = Callable[..., int]  # the make_visit fixture (conftest.py)


def test_replanning_adds_nothing(demo_db: Database, make_visit: MakeVisit) -> None:
    make_visit(date(2026, 12, 2))
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    first = plan(demo_db, now=now)
    second = plan(demo_db, now=now + timedelta(minutes=1))
    assert (first.planned, second.planned, second.already_planned) == (2, 0, 2)
    assert len(rows(demo_db)) == 2


def test_evening_reminder_goes_at_six_and_morning_at_eight(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 12, 2))  # a Wednesday
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert dispatch_at(demo_db, datetime(2026, 12, 1, 17, 59, tzinfo=UTC)).sent == []
    evening = dispatch_at(demo_db, datetime(2026, 12, 1, 18, 0, tzinfo=UTC)).sent
    assert [m.text[:26] for m in evening] == ["Hello Margaret, a reminder"]
    assert evening[0].address == MARGARET
    morning = dispatch_at(demo_db, datetime(2026, 12, 2, 8, 0, tzinfo=UTC)).sent
    assert [m.idempotency_key.split(":")[-1] for m in morning] == ["reminder_morning"]


def test_spring_change_reminder_sent_at_six_local(demo_db: Database, make_visit: MakeVisit) -> None:
    make_visit(date(2026, 3, 31))  # Tue: the evening before is Mon 30 Mar, BST
    plan(demo_db, now=datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    assert dispatch_at(demo_db, datetime(2026, 3, 30, 16, 59, tzinfo=UTC)).sent == []
    assert len(dispatch_at(demo_db, datetime(2026, 3, 30, 17, 0, tzinfo=UTC)).sent) == 1


def test_sunday_evening_reminder_for_a_monday_morning_expires(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    # Mon 26 Oct 2026 morning: the evening before is Sunday 25 Oct (clocks went back).
    make_visit(date(2026, 10, 26))
    plan(demo_db, now=datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    planned = rows(demo_db)
    evening = planned["reminder_evening"]
    assert evening.status == "expired"
    assert decisions(demo_db, evening.id) == [("expire", "too_late_when_allowed")]
    morning = planned["reminder_morning"]
    assert morning.not_before == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 08:00 GMT


def test_boxing_day_substitute_holiday_defers_the_reminder_in_england(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    # Tue 29 Dec 2026 afternoon; Mon 28 Dec is the substitute Boxing Day bank holiday.
    make_visit(date(2026, 12, 29), window="afternoon", nation=Nation.ENGLAND)
    plan(demo_db, now=datetime(2026, 12, 20, 9, 0, tzinfo=UTC))
    evening = rows(demo_db)["reminder_evening"]
    assert evening.status == "pending"
    assert evening.not_before == datetime(2026, 12, 29, 8, 0, tzinfo=UTC)
    assert decisions(demo_db, evening.id) == [("defer", "sunday_or_holiday")]
    assert dispatch_at(demo_db, datetime(2026, 12, 28, 18, 0, tzinfo=UTC)).sent == []
    sent = dispatch_at(demo_db, datetime(2026, 12, 29, 8, 0, tzinfo=UTC)).sent
    # The held reminder goes first; the morning one is time-critical for a visit today,
    # so the 30-minute gap does not hold it.
    assert [m.idempotency_key.split(":")[-1] for m in sent] == [
        "reminder_evening",
        "reminder_morning",
    ]
    assert decisions(demo_db, rows(demo_db)["reminder_morning"].id)[-1] == (
        "send",
        "visit_today_exception",
    )


def test_welsh_bank_holiday_also_holds_the_reminder(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    # Tue 1 Sep 2026: Mon 31 Aug is the summer bank holiday in England and Wales.
    make_visit(date(2026, 9, 1), window="afternoon", nation=Nation.WALES)
    plan(demo_db, now=datetime(2026, 8, 25, 9, 0, tzinfo=UTC))
    evening = rows(demo_db)["reminder_evening"]
    assert decisions(demo_db, evening.id) == [("defer", "sunday_or_holiday")]
    assert evening.not_before == datetime(2026, 9, 1, 7, 0, tzinfo=UTC)  # 08:00 BST


def test_scottish_homes_do_not_have_the_august_holiday(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 9, 1), window="afternoon", nation=Nation.SCOTLAND)
    plan(demo_db, now=datetime(2026, 8, 25, 9, 0, tzinfo=UTC))
    evening = rows(demo_db)["reminder_evening"]
    assert decisions(demo_db, evening.id) == [("defer", "not_yet_due")]
    assert evening.not_before == datetime(2026, 8, 31, 17, 0, tzinfo=UTC)  # 18:00 BST


def test_resident_hours_defer_and_then_expire(demo_db: Database, make_visit: MakeVisit) -> None:
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        resident.contact_hours = {"weekday": ["09:00", "17:00"]}
        session.add(resident)
    make_visit(date(2026, 12, 2))
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    planned = rows(demo_db)
    # 18:00 is outside her hours, and the next moment (09:00) is after the 08:00 start.
    assert decisions(demo_db, planned["reminder_evening"].id) == [
        ("expire", "too_late_when_allowed")
    ]
    assert planned["reminder_morning"].not_before == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert decisions(demo_db, planned["reminder_morning"].id) == [("defer", "outside_hours")]


def test_opted_out_at_plan_time_is_blocked_at_once(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 12, 2), phone="+447400123462")  # Priya opted out of SMS
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    planned = rows(demo_db)
    assert {r.status for r in planned.values()} == {"blocked"}
    assert decisions(demo_db, planned["reminder_morning"].id) == [("block", "opted_out")]
    assert dispatch_at(demo_db, datetime(2026, 12, 2, 8, 0, tzinfo=UTC)).sent == []


def test_opting_out_after_planning_blocks_at_send_time(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 12, 2))
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        resident.sms_opted_out_at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        session.add(resident)
    assert dispatch_at(demo_db, datetime(2026, 12, 1, 18, 0, tzinfo=UTC)).sent == []
    evening = rows(demo_db)["reminder_evening"]
    assert evening.status == "blocked"
    assert decisions(demo_db, evening.id) == [("defer", "not_yet_due"), ("block", "opted_out")]


def test_caps_hold_a_fourth_message_in_a_day(demo_db: Database, make_visit: MakeVisit) -> None:
    """Three visits on one day for one resident: the evening reminders hit the caps."""
    for window in ("morning", "afternoon"):
        make_visit(date(2026, 12, 2), window=window)
    make_visit(date(2026, 12, 3))
    make_visit(date(2026, 12, 3), window="afternoon")
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    first = dispatch_at(demo_db, datetime(2026, 12, 1, 18, 0, tzinfo=UTC)).sent
    assert len(first) == 1  # two evening reminders due: the second keeps the 30-minute gap
    assert len(dispatch_at(demo_db, datetime(2026, 12, 1, 18, 30, tzinfo=UTC)).sent) == 1
    # Next morning: two time-critical same-day reminders go over the caps...
    assert len(dispatch_at(demo_db, datetime(2026, 12, 2, 8, 0, tzinfo=UTC)).sent) == 2
    # ...but the next evening's reminders (not time-critical) meet the daily cap of 3.
    assert dispatch_at(demo_db, datetime(2026, 12, 2, 18, 0, tzinfo=UTC)).sent == []
    with demo_db.session() as session:
        reasons = {
            d.reason_code
            for d in session.exec(
                select(ContactDecision).where(ContactDecision.decision == "defer")
            )
        }
    assert "daily_cap" in reasons


def test_on_the_way_and_feedback_flow(demo_db: Database, make_visit: MakeVisit) -> None:
    visit_id = make_visit(date(2026, 12, 2))
    on_way_at = datetime(2026, 12, 2, 8, 40, tzinfo=UTC)
    with demo_db.session() as session:
        appointment = session.get(Appointment, visit_id)
        assert appointment is not None
        record_status(
            session,
            appointment=appointment,
            status=VisitStatus.ON_THE_WAY,
            now=on_way_at,
            actor="operative",
            eta_minutes=20,
        )
    plan(demo_db, now=on_way_at)
    sent = dispatch_at(demo_db, on_way_at).sent
    assert any("is on the way to your repair visit, arriving about 9am" in m.text for m in sent)
    done_at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    with demo_db.session() as session:
        appointment = session.get(Appointment, visit_id)
        assert appointment is not None
        record_status(
            session, appointment=appointment, status=VisitStatus.DONE, now=done_at, actor="op"
        )
    plan(demo_db, now=done_at)
    assert dispatch_at(demo_db, done_at + timedelta(minutes=119)).sent == []
    (request,) = dispatch_at(demo_db, done_at + timedelta(hours=2)).sent
    assert request.text.startswith("How did your repair visit on Wed 2 Dec")
    with demo_db.session() as session:
        conversation = session.exec(
            select(Conversation).where(Conversation.address == MARGARET)
        ).one()
    assert (conversation.flow, conversation.state) == ("feedback", "rating")
    assert conversation.data["appointment_id"] == visit_id
