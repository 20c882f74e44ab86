"""The dispatcher sends each due message once, through the policy, and explains itself."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.sending import SendError
from storage.db import Database
from storage.enums import Channel
from storage.models import (
    Appointment,
    ContactDecision,
    Message,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffTask,
)
from storage.repositories.outbox import enqueue

LONDON = ZoneInfo("Europe/London")
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _resident(db: Database, name: str) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.name == name)).one()


def _queue(db: Database, resident: Resident, key: str, **extra: object) -> int:
    values: dict[str, object] = {
        "kind": "notice",
        "purpose": "reply",
        "text": f"message {key}",
        "not_before": MONDAY_9AM,
        "now": MONDAY_9AM,
        "channel": Channel.SMS,
        "address": resident.mobile,
        "resident_id": resident.id,
    }
    values.update(extra)
    with db.session() as session:
        outbox_id = enqueue(session, key=key, **values)  # type: ignore[arg-type]
    assert outbox_id is not None
    return outbox_id


def _dispatcher(
    db: Database, clock: FixedClock, *senders: RecordingSender, **kw: object
) -> Dispatcher:
    return Dispatcher(
        db=db,
        senders={s.channel: s for s in senders},
        clock=clock,
        zone=LONDON,
        **kw,  # type: ignore[arg-type]
    )


def _row(db: Database, outbox_id: int) -> OutboxMessage:
    with db.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        return row


def _decisions(db: Database, outbox_id: int) -> list[tuple[str, str]]:
    with db.session() as session:
        rows = session.exec(
            select(ContactDecision)
            .where(ContactDecision.outbox_id == outbox_id)
            .order_by(col(ContactDecision.id))
        ).all()
        return [(d.decision, d.reason_code) for d in rows]


def test_a_reply_is_sent_once_and_lands_in_the_transcript(
    demo_db: Database, clock: FixedClock
) -> None:
    margaret = _resident(demo_db, "Margaret Okafor")
    outbox_id = _queue(demo_db, margaret, "r1", payload={"options": [{"key": "1", "label": "Yes"}]})
    sms = RecordingSender(Channel.SMS)
    dispatcher = _dispatcher(demo_db, clock, sms)
    stats = asyncio.run(dispatcher.run_once())
    again = asyncio.run(dispatcher.run_once())
    assert (stats.sent, again.sent) == (1, 0)
    assert [m.text for m in sms.sent] == ["message r1"]
    assert sms.sent[0].options[0].label == "Yes"
    row = _row(demo_db, outbox_id)
    assert row.status == "sent" and row.provider_message_id == "FAKE1"
    assert _decisions(demo_db, outbox_id) == [("send", "reply")]
    with demo_db.session() as session:
        transcript = session.exec(select(Message).where(Message.outbox_id == outbox_id)).one()
    assert transcript.direction == "out" and transcript.delivery_status == "sent"


def test_service_message_at_night_waits_for_morning(demo_db: Database) -> None:
    clock = FixedClock(datetime(2026, 12, 1, 21, 30, tzinfo=UTC))  # Tue 9:30pm
    david = _resident(demo_db, "David Price")
    outbox_id = _queue(
        demo_db, david, "s1", purpose="conversation", not_before=clock.now(), now=clock.now()
    )
    with demo_db.session() as session:  # David wrote to us today: a live conversation
        from storage.repositories.conversations import lock_conversation

        lock_conversation(
            session,
            channel=Channel.SMS,
            address=david.mobile or "",
            resident_id=david.id,
            now=clock.now(),
        )
    sms = RecordingSender(Channel.SMS)
    dispatcher = _dispatcher(demo_db, clock, sms)
    assert asyncio.run(dispatcher.run_once()).deferred == 1
    row = _row(demo_db, outbox_id)
    assert row.status == "pending"
    assert row.not_before == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert _decisions(demo_db, outbox_id)[0][0] == "defer"
    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    assert asyncio.run(dispatcher.run_once()).sent == 1
    assert len(sms.sent) == 1


def test_opted_out_resident_is_never_sent_to(demo_db: Database, clock: FixedClock) -> None:
    priya = _resident(demo_db, "Priya Shah")  # opted out of SMS in the demo
    outbox_id = _queue(demo_db, priya, "o1")
    sms = RecordingSender(Channel.SMS)
    assert asyncio.run(_dispatcher(demo_db, clock, sms).run_once()).blocked == 1
    assert sms.sent == []
    assert _row(demo_db, outbox_id).status == "blocked"
    assert _decisions(demo_db, outbox_id) == [("block", "opted_out")]


def test_a_message_for_an_old_version_never_goes(demo_db: Database, clock: FixedClock) -> None:
    margaret = _resident(demo_db, "Margaret Okafor")
    with demo_db.session() as session:
        appointment = session.exec(
            select(Appointment)
            .join(RepairJob, col(RepairJob.id) == col(Appointment.job_id))
            .where(RepairJob.resident_id == margaret.id)
        ).first()
        assert appointment is not None
        appointment.version = 3
        session.add(appointment)
    outbox_id = _queue(
        demo_db,
        margaret,
        "v1",
        purpose="appointment",
        kind="reminder_evening",
        appointment_id=appointment.id,
        appointment_version=2,
    )
    sms = RecordingSender(Channel.SMS)
    asyncio.run(_dispatcher(demo_db, clock, sms).run_once())
    assert sms.sent == []
    assert _decisions(demo_db, outbox_id) == [("block", "stale_version")]


def test_transient_errors_back_off_then_send(demo_db: Database, clock: FixedClock) -> None:
    margaret = _resident(demo_db, "Margaret Okafor")
    outbox_id = _queue(demo_db, margaret, "t1")
    sms = RecordingSender(Channel.SMS)
    sms.fail_with[outbox_id] = [
        SendError("queue overflow", permanent=False, code="30003"),
        SendError("too many requests", permanent=False, code="429", retry_after=120),
    ]
    dispatcher = _dispatcher(demo_db, clock, sms)
    assert asyncio.run(dispatcher.run_once()).retried == 1
    first = _row(demo_db, outbox_id)
    assert first.status == "pending" and first.not_before == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=30))
    assert asyncio.run(dispatcher.run_once()).retried == 1
    second = _row(demo_db, outbox_id)
    assert second.not_before == clock.now() + timedelta(seconds=120)  # retry-after honoured
    clock.advance(timedelta(seconds=60))
    assert asyncio.run(dispatcher.run_once()).handled == 0  # not yet
    clock.advance(timedelta(seconds=60))
    assert asyncio.run(dispatcher.run_once()).sent == 1
    assert _row(demo_db, outbox_id).attempts == 3
    assert len(sms.sent) == 1


def test_carrier_opt_out_error_is_mirrored(demo_db: Database, clock: FixedClock) -> None:
    margaret = _resident(demo_db, "Margaret Okafor")
    outbox_id = _queue(demo_db, margaret, "p1")
    sms = RecordingSender(Channel.SMS)
    sms.fail_with[outbox_id] = [
        SendError("unsubscribed", permanent=True, code="21610", opted_out=True)
    ]
    assert asyncio.run(_dispatcher(demo_db, clock, sms).run_once()).failed == 1
    assert _row(demo_db, outbox_id).status == "failed"
    assert _resident(demo_db, "Margaret Okafor").sms_opted_out_at == clock.now()


def test_a_dead_number_is_flagged_for_staff(demo_db: Database, clock: FixedClock) -> None:
    margaret = _resident(demo_db, "Margaret Okafor")
    outbox_id = _queue(demo_db, margaret, "d1")
    sms = RecordingSender(Channel.SMS)
    sms.fail_with[outbox_id] = [
        SendError("unknown destination", permanent=True, code="30005", unreachable=True)
    ]
    asyncio.run(_dispatcher(demo_db, clock, sms).run_once())
    assert _resident(demo_db, "Margaret Okafor").sms_unreachable_at == clock.now()
    with demo_db.session() as session:
        task = session.exec(select(StaffTask).where(StaffTask.kind == "number_check")).one()
    assert "30005" in task.summary


def test_blocked_telegram_falls_back_to_sms(demo_db: Database, clock: FixedClock) -> None:
    gareth = _resident(demo_db, "Gareth Hughes")  # prefers Telegram
    with demo_db.session() as session:
        from storage.repositories.conversations import lock_conversation

        lock_conversation(
            session,
            channel=Channel.TELEGRAM,
            address="700000001",
            resident_id=gareth.id,
            now=clock.now(),
        )
    outbox_id = _queue(demo_db, gareth, "g1", purpose="conversation", channel=None, address=None)
    telegram = RecordingSender(Channel.TELEGRAM)
    sms = RecordingSender(Channel.SMS)
    telegram.fail_with[outbox_id] = [
        SendError("bot was blocked by the user", permanent=True, code="403", unreachable=True)
    ]
    dispatcher = _dispatcher(demo_db, clock, telegram, sms)
    asyncio.run(dispatcher.run_once())
    asyncio.run(dispatcher.run_once())
    assert [m.channel for m in sms.sent] == [Channel.SMS]
    assert sms.sent[0].address == gareth.mobile
    assert _resident(demo_db, "Gareth Hughes").telegram_unreachable_at == clock.now()
    assert _row(demo_db, outbox_id).status == "sent"


def test_no_sender_for_a_channel_is_explained(demo_db: Database, clock: FixedClock) -> None:
    margaret = _resident(demo_db, "Margaret Okafor")
    outbox_id = _queue(demo_db, margaret, "n1")
    asyncio.run(_dispatcher(demo_db, clock, RecordingSender(Channel.TELEGRAM)).run_once())
    assert _decisions(demo_db, outbox_id) == [("block", "channel_off")]


def test_caps_hold_back_the_fourth_service_message(demo_db: Database, clock: FixedClock) -> None:
    david = _resident(demo_db, "David Price")
    with demo_db.session() as session:
        from storage.repositories.conversations import lock_conversation

        lock_conversation(
            session,
            channel=Channel.SMS,
            address=david.mobile or "",
            resident_id=david.id,
            now=clock.now(),
        )
    sms = RecordingSender(Channel.SMS)
    dispatcher = _dispatcher(demo_db, clock, sms)
    for n in range(4):
        _queue(demo_db, david, f"c{n}", purpose="conversation")
        asyncio.run(dispatcher.run_once())
        clock.advance(timedelta(minutes=31))
    assert len(sms.sent) == 3
    with demo_db.session() as session:
        held = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).one()
    assert held.idempotency_key == "c3"
    assert held.not_before >= MONDAY_9AM + timedelta(hours=24)


def test_rows_left_sending_are_reconciled_not_resent(demo_db: Database, clock: FixedClock) -> None:
    margaret = _resident(demo_db, "Margaret Okafor")
    delivered = _queue(demo_db, margaret, "k1")
    lost = _queue(demo_db, margaret, "k2")
    sms = RecordingSender(Channel.SMS)
    dispatcher = _dispatcher(demo_db, clock, sms)
    asyncio.run(dispatcher.run_once())
    assert len(sms.sent) == 2
    # A crash: both rows look as if a dead dispatcher left them mid-send, but only "k1"
    # ever reached the provider.
    sms.sent = [m for m in sms.sent if m.idempotency_key == "k1"]
    with demo_db.session() as session:
        for outbox_id in (delivered, lost):
            row = session.get(OutboxMessage, outbox_id)
            assert row is not None
            row.status, row.claimed_at = "sending", clock.now()
            session.add(row)
    clock.advance(timedelta(minutes=5))
    assert asyncio.run(dispatcher.reconcile_stuck(older_than=timedelta(minutes=2))) == 2
    assert _row(demo_db, delivered).status == "sent"
    assert _row(demo_db, lost).status == "pending"
    asyncio.run(dispatcher.run_once())
    assert sorted(m.idempotency_key for m in sms.sent) == ["k1", "k2"]


def test_two_dispatchers_send_each_message_once(demo_db: Database, clock: FixedClock) -> None:
    residents = [_resident(demo_db, n) for n in ("Margaret Okafor", "David Price", "Aisha Rahman")]
    for n in range(120):
        _queue(demo_db, residents[n % 3], f"m{n}")
    sms = RecordingSender(Channel.SMS)
    dispatchers = [
        _dispatcher(demo_db, clock, sms, worker_id=f"w{i}", batch_size=7) for i in range(2)
    ]
    threads = [threading.Thread(target=lambda d=d: asyncio.run(d.run_once())) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    keys = [m.idempotency_key for m in sms.sent]
    assert len(keys) == 120
    assert len(set(keys)) == 120
    with demo_db.session() as session:
        workers = set(session.exec(select(OutboxMessage.claimed_by)).all())
    assert workers <= {"w0", "w1"}
