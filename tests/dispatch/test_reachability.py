"""One rule for opt-outs and dead numbers, whoever notices them first.

The resident's STOP, the dispatcher's provider error and Twilio's status webhook all
write through `storage.repositories.reachability`: the opt-out time is when the current
opt-out began, and a dead number makes exactly one staff task.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.sending import SendError
from simphone import Phone
from storage.db import Database
from storage.enums import Channel, TaskKind
from storage.models import OutboxMessage, Resident, StaffTask
from storage.repositories import reachability
from storage.repositories.conversations import lock_conversation
from storage.repositories.outbox import enqueue

LONDON = ZoneInfo("Europe/London")


def _margaret(db: Database) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.name == "Margaret Okafor")).one()


def _queue(db: Database, resident: Resident, key: str, clock: FixedClock) -> int:
    with db.session() as session:
        outbox_id = enqueue(
            session,
            key=key,
            kind="notice",
            purpose="reply",
            text=f"message {key}",
            not_before=clock.now(),
            now=clock.now(),
            channel=Channel.SMS,
            address=resident.mobile,
            resident_id=resident.id,
        )
    assert outbox_id is not None
    return outbox_id


def _send_failing(db: Database, clock: FixedClock, outbox_id: int, error: SendError) -> None:
    sms = RecordingSender(Channel.SMS)
    sms.fail_with[outbox_id] = [error]
    dispatcher = Dispatcher(db=db, senders={Channel.SMS: sms}, clock=clock, zone=LONDON)
    assert asyncio.run(dispatcher.run_once()).failed == 1


def test_the_opt_out_time_is_when_the_current_opt_out_began(
    phone: Phone, demo_db: Database, clock: FixedClock
) -> None:
    margaret = _margaret(demo_db)
    first = clock.now()
    outbox_id = _queue(demo_db, margaret, "o1", clock)
    _send_failing(
        demo_db,
        clock,
        outbox_id,
        SendError("unsubscribed", permanent=True, code="21610", opted_out=True),
    )
    assert _margaret(demo_db).sms_opted_out_at == first
    for _ in range(2):  # STOP twice, later: still the opt-out that began first
        clock.advance(timedelta(hours=1))
        phone.say("STOP")
        assert _margaret(demo_db).sms_opted_out_at == first
    clock.advance(timedelta(hours=1))
    phone.say("START")
    assert _margaret(demo_db).sms_opted_out_at is None
    clock.advance(timedelta(hours=1))
    phone.say("STOP")  # a new opt-out begins now
    assert _margaret(demo_db).sms_opted_out_at == clock.now()


def test_a_dead_number_makes_one_staff_task(demo_db: Database, clock: FixedClock) -> None:
    margaret = _margaret(demo_db)
    first = clock.now()
    outbox_id = _queue(demo_db, margaret, "u1", clock)
    _send_failing(
        demo_db,
        clock,
        outbox_id,
        SendError("unknown destination", permanent=True, code="30005", unreachable=True),
    )
    assert margaret.id is not None
    for _ in range(2):  # the status webhook's later reports about the same number
        clock.advance(timedelta(minutes=5))
        with demo_db.session() as session:
            assert not reachability.record_unreachable(
                session,
                resident_id=margaret.id,
                channel=Channel.SMS,
                at=clock.now(),
                reason="Twilio 30005",
            )
    assert _margaret(demo_db).sms_unreachable_at == first
    with demo_db.session() as session:
        tasks = session.exec(select(StaffTask).where(StaffTask.kind == TaskKind.NUMBER_CHECK)).all()
    assert len(tasks) == 1 and "30005" in tasks[0].summary


def test_the_deployment_zone_decides_when_a_message_may_go(
    demo_db: Database, clock: FixedClock
) -> None:
    """09:00 UTC on a Monday is 09:00 in London but 04:00 in New York: with
    DOORSTEP_TIMEZONE=America/New_York the same message waits for the morning there."""
    margaret = _margaret(demo_db)
    assert margaret.mobile is not None
    with demo_db.session() as session:  # she wrote to us today: a live conversation
        lock_conversation(
            session,
            channel=Channel.SMS,
            address=margaret.mobile,
            resident_id=margaret.id,
            now=clock.now(),
        )
    sent_at = {}
    for zone in ("Europe/London", "America/New_York"):
        with demo_db.session() as session:
            outbox_id = enqueue(
                session,
                key=f"z-{zone}",
                kind="notice",
                purpose="conversation",
                text="Your visit is tomorrow",
                not_before=clock.now(),
                now=clock.now(),
                channel=Channel.SMS,
                address=margaret.mobile,
                resident_id=margaret.id,
            )
        assert outbox_id is not None
        sms = RecordingSender(Channel.SMS)
        dispatcher = Dispatcher(
            db=demo_db, senders={Channel.SMS: sms}, clock=clock, zone=ZoneInfo(zone)
        )
        stats = asyncio.run(dispatcher.run_once())
        with demo_db.session() as session:
            row = session.get(OutboxMessage, outbox_id)
            assert row is not None
            sent_at[zone] = (stats.sent, stats.deferred, row.not_before)
    assert sent_at["Europe/London"][:2] == (1, 0)
    sent, deferred, not_before = sent_at["America/New_York"]
    assert (sent, deferred) == (0, 1)
    assert not_before.astimezone(ZoneInfo("America/New_York")).hour >= 8


def _arthur(db: Database) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.name == "Arthur Bennett")).one()


def _queue_nominee_copy(db: Database, resident: Resident, key: str, clock: FixedClock) -> int:
    """A copy of a booking for the resident's nominee: their phone, the resident's id."""
    with db.session() as session:
        outbox_id = enqueue(
            session,
            key=key,
            kind="nominee_copy",
            purpose="reply",
            text="Copy for Susan",
            not_before=clock.now(),
            now=clock.now(),
            channel=Channel.SMS,
            address=resident.nominee_phone,
            resident_id=resident.id,
        )
    assert outbox_id is not None
    return outbox_id


def test_a_nominee_who_stopped_texts_does_not_opt_the_resident_out(
    demo_db: Database, clock: FixedClock
) -> None:
    """The carrier's 'unsubscribed' and 'unreachable' about the nominee's phone are not
    about the resident's texts: Arthur stays reachable, and no number check is raised."""
    arthur = _arthur(demo_db)
    assert arthur.nominee_phone and arthur.nominee_phone != arthur.mobile
    stopped = _queue_nominee_copy(demo_db, arthur, "nominee-copy-1", clock)
    _send_failing(
        demo_db,
        clock,
        stopped,
        SendError("unsubscribed", permanent=True, code="21610", opted_out=True),
    )
    dead = _queue_nominee_copy(demo_db, arthur, "nominee-copy-2", clock)
    _send_failing(
        demo_db,
        clock,
        dead,
        SendError("unknown destination", permanent=True, code="30005", unreachable=True),
    )
    arthur = _arthur(demo_db)
    assert arthur.sms_opted_out_at is None and arthur.sms_unreachable_at is None
    with demo_db.session() as session:
        checks = session.exec(select(StaffTask).where(StaffTask.kind == TaskKind.NUMBER_CHECK))
        assert checks.all() == []
        rows = {r.idempotency_key: r for r in session.exec(select(OutboxMessage)).all()}
    assert rows["nominee-copy-1"].status == "failed"  # the copy itself still stops
