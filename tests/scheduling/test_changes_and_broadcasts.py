"""Rebooking voids old reminders; broadcasts go through the policy and make "1" mean rebook."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlmodel import select

from bot.common.clock import FixedClock
from bot.outbound.broadcasts import preview_reminders, send_disruption, send_reminders
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.planning import on_sent, plan
from simphone import Phone
from storage.db import Database
from storage.enums import Channel
from storage.models import Appointment, OutboxMessage

LONDON = ZoneInfo("Europe/London")
MakeVisit = Callable[..., int]  # the make_visit fixture (conftest.py)


def dispatch_at(db: Database, moment: datetime, senders: dict[Channel, RecordingSender]) -> None:
    dispatcher = Dispatcher(
        db=db, senders=dict(senders), clock=FixedClock(moment), zone=LONDON, on_sent=on_sent
    )
    asyncio.run(dispatcher.run_once())


def test_rebooking_by_text_means_only_the_new_times_reminders_go(
    phone: Phone, demo_db: Database, clock: FixedClock
) -> None:
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")  # Tue 1 Dec, morning
    plan(demo_db, now=clock.now())
    phone.inbox.clear()
    phone.say("1")  # "To change the time reply 1"
    phone.pop()  # the times offered
    phone.say("2")
    assert phone.pop_text().startswith("Booked: ")
    plan(demo_db, now=clock.now())
    with demo_db.session() as session:
        (appointment,) = session.exec(
            select(Appointment).where(Appointment.status == "booked")
        ).all()
        planned = session.exec(select(OutboxMessage).where(OutboxMessage.kind != "reply")).all()
    assert appointment.version == 2
    old = [r for r in planned if r.appointment_version == 1]
    assert old and {r.status for r in old} == {"expired"}
    sender = RecordingSender(channel=Channel.SIMULATOR)
    for day in (date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)):
        for hour in (8, 18):
            dispatch_at(
                demo_db,
                datetime(day.year, day.month, day.day, hour, tzinfo=UTC),
                {Channel.SMS: sender},
            )
    sent_keys = [m.idempotency_key for m in sender.sent]
    assert sent_keys, "the new version's reminders went"
    assert all(key.startswith(f"{appointment.id}:2:") for key in sent_keys)
    assert len(sent_keys) == len(set(sent_keys))


def test_reminder_broadcast_preview_changes_nothing_and_send_is_idempotent(
    demo_db: Database, make_visit: MakeVisit
) -> None:
    make_visit(date(2026, 12, 2))
    make_visit(date(2026, 12, 2), phone="+447400123462")  # opted out of SMS
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    preview = preview_reminders(demo_db, day=date(2026, 12, 2), now=now)
    assert sorted((line.resident_name, line.decision, line.reason) for line in preview) == [
        ("Margaret Okafor", "send", "within_policy"),
        ("Priya Shah", "block", "opted_out"),
    ]
    assert preview[0].masked_phone.startswith("+44 7*** ***")
    with demo_db.session() as session:
        assert session.exec(select(OutboxMessage)).all() == []
    seen: list[tuple[int, int]] = []
    summary = send_reminders(
        demo_db, day=date(2026, 12, 2), now=now, progress=lambda d, t: seen.append((d, t))
    )
    assert (summary.queued, summary.blocked) == (1, 1)
    assert summary.by_reason == {"within_policy": 1, "opted_out": 1}
    assert seen[-1] == (2, 2)
    again = send_reminders(demo_db, day=date(2026, 12, 2), now=now)
    assert again.already_queued == 2 and again.queued == 0


def test_disruption_notice_makes_one_mean_choose_a_new_time(
    client: TestClient, demo_db: Database, clock: FixedClock
) -> None:
    phone = Phone(client, "+447400123456")
    phone.say("book a visit")
    phone.say("1")
    phone.say("1")
    with demo_db.session() as session:
        (appointment,) = session.exec(
            select(Appointment).where(Appointment.status == "booked")
        ).all()
    summary = send_disruption(
        demo_db,
        operative_id=appointment.operative_id,
        day=appointment.day,
        now=clock.now(),
        reason="our operative is ill",
    )
    assert summary.queued == 1
    sender = RecordingSender(channel=Channel.SIMULATOR)
    dispatch_at(demo_db, clock.now(), {Channel.SMS: sender})
    (notice,) = [m for m in sender.sent if "cannot go ahead" in m.text]
    assert "(our operative is ill)" in notice.text
    assert [o.label for o in notice.options] == ["Choose a new time"]
    phone.inbox.clear()
    phone.say("1")
    offer = phone.pop()
    assert len(offer["options"]) >= 2  # new times offered for the same visit
