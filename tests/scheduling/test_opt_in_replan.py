"""Opting back in re-plans the resident's visits (issue 15, item 3).

A reminder stopped because the resident had opted out (at plan time or at send time)
goes after all once they text START, judged afresh by the contact policy when it is due;
messages that stopped being useful meanwhile, or are about an older version of the visit,
stay stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from scheduling.outbox_checks import decisions, dispatch_at, rows
from sqlmodel import select

from bot.common.clock import FixedClock
from bot.outbound.fake import RecordingSender
from bot.outbound.planning import plan
from flows.policy import Reason
from storage.db import Database
from storage.enums import Channel
from storage.models import Appointment, OutboxMessage, Resident
from storage.repositories import reachability
from tests.simphone import Phone

LONDON = ZoneInfo("Europe/London")
PRIYA = "+447400123462"  # opted out of SMS in the demo data
MARGARET = "+447400123456"
MakeVisit = Callable[..., int]


def sent_kinds(sender: RecordingSender) -> list[str]:
    """The kinds sent: the outbox key is (appointment, version, kind)."""
    return [m.idempotency_key.split(":")[2] for m in sender.sent]


def test_start_brings_back_the_reminders_blocked_at_plan_time(
    client: TestClient, clock: FixedClock, demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 12, 2), phone=PRIYA)
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert {r.status for r in rows(demo_db).values()} == {"blocked"}

    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    priya = Phone(client, PRIYA)
    priya.say("START")

    planned = rows(demo_db)
    assert planned["reminder_evening"].status == "pending"
    assert decisions(demo_db, planned["reminder_evening"].id) == [
        ("block", "opted_out"),
        ("defer", Reason.OPTED_IN.value),
    ]
    # Planning again adds nothing and leaves them pending.
    plan(demo_db, now=datetime(2026, 12, 1, 10, 5, tzinfo=UTC))
    assert rows(demo_db)["reminder_morning"].status == "pending"

    assert sent_kinds(dispatch_at(demo_db, datetime(2026, 12, 1, 18, 0, tzinfo=UTC))) == [
        "reminder_evening"
    ]
    assert sent_kinds(dispatch_at(demo_db, datetime(2026, 12, 2, 8, 0, tzinfo=UTC))) == [
        "reminder_morning"
    ]


def test_start_after_a_send_time_block_sends_what_is_still_useful(
    client: TestClient, clock: FixedClock, demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 12, 2))
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    margaret = Phone(client, MARGARET)
    clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    margaret.say("STOP")
    assert dispatch_at(demo_db, datetime(2026, 12, 1, 18, 0, tzinfo=UTC)).sent == []
    assert dispatch_at(demo_db, datetime(2026, 12, 2, 8, 0, tzinfo=UTC)).sent == []
    assert {r.status for r in rows(demo_db).values()} == {"blocked"}

    # Back in on the morning of the visit: the evening reminder is past its use-by and
    # stays stopped; the morning one goes.
    clock.set(datetime(2026, 12, 2, 8, 30, tzinfo=UTC))
    margaret.say("START")
    planned = rows(demo_db)
    assert planned["reminder_evening"].status == "blocked"
    assert planned["reminder_morning"].status == "pending"
    assert sent_kinds(dispatch_at(demo_db, datetime(2026, 12, 2, 8, 31, tzinfo=UTC))) == [
        "reminder_morning"
    ]


def test_opting_in_in_words_re_plans_too(
    client: TestClient, clock: FixedClock, demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 12, 2), phone=PRIYA)
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    Phone(client, PRIYA).say("pls start sending me texts again")
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == PRIYA)).one()
        assert resident.sms_opted_out_at is None
    assert rows(demo_db)["reminder_evening"].status == "pending"


def test_a_changed_visit_keeps_the_old_versions_messages_stopped(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    appointment_id = make_visit(date(2026, 12, 2), phone=PRIYA)
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    with demo_db.session() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        appointment.version += 1
        session.add(appointment)
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == PRIYA)).one()
        assert resident.id is not None
        assert reachability.record_opt_in(
            session, resident_id=resident.id, channel=Channel.SMS, at=at
        )
    assert {r.status for r in rows(demo_db).values()} == {"blocked"}


def test_opting_in_on_telegram_leaves_sms_blocks_alone(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 12, 2), phone=PRIYA)
    plan(demo_db, now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == PRIYA)).one()
        assert resident.id is not None
        resident.telegram_opted_out_at = at
        session.add(resident)
        for row in session.exec(select(OutboxMessage)).all():
            row.channel = Channel.SMS  # routed to SMS by the dispatcher
            session.add(row)
    with demo_db.session() as session:
        assert resident.id is not None
        assert reachability.record_opt_in(
            session, resident_id=resident.id, channel=Channel.TELEGRAM, at=at
        )
    assert {r.status for r in rows(demo_db).values()} == {"blocked"}
