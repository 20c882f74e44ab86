"""The SMS sender against a local fake Twilio, through the real twilio client.

The reconciliation tests run the real dispatcher on both databases: after a crash or a
time-out a row takes a Twilio message only if no other row holds it, and a send Twilio
may have taken is never repeated blindly, not even by a restarted service.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from bot.channels.sms.sender import TwilioConfig, TwilioSender, callback_url
from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.sending import OutgoingMessage, SendError, SendReceipt
from fakes.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MESSAGING_SERVICE_SID,
    Fail,
    FakeTwilio,
    Hang,
    running,
    sign,
)
from fakes.sms_harness import sms_settings, sms_world
from flows.messages import Option
from flows.windows import LONDON
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import Channel, OutboxStatus
from storage.models import Message, OutboxMessage, Resident
from storage.repositories.outbox import enqueue

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CALLBACK = "https://doorstep.example.org/webhooks/twilio/status"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    yield from running(lambda: NOW)


def sender(fake: FakeTwilio, clock: FixedClock | None = None, **overrides: object) -> TwilioSender:
    config = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "messaging_service_sid": MESSAGING_SERVICE_SID,
        "from_number": None,
        "status_callback_url": CALLBACK,
        "api_base": fake.base_url,
        "rate_per_second": 100.0,
        "timeout_seconds": 2.0,
        **overrides,
    }
    return TwilioSender(TwilioConfig(**config), clock=clock or FixedClock(NOW))  # type: ignore[arg-type]


def message(
    outbox_id: int = 1, *, expires_in: timedelta | None = timedelta(hours=2)
) -> OutgoingMessage:
    return OutgoingMessage(
        outbox_id=outbox_id,
        channel=Channel.SMS,
        address="+447400123456",
        text="Your visit code is 4821.",
        idempotency_key=f"reply:{outbox_id}:0",
        options=(Option("1", "Change the time"), Option("2", "Call the visit off")),
        expires_at=NOW + expires_in if expires_in is not None else None,
    )


async def _send(s: TwilioSender, m: OutgoingMessage) -> object:
    try:
        return await s.send(m)
    finally:
        await s.aclose()


def test_a_text_goes_out_with_options_callback_and_validity(fake: FakeTwilio) -> None:
    receipt = asyncio.run(_send(sender(fake), message()))
    (request,) = fake.sent()
    assert request.one("To") == "+447400123456"
    assert (
        request.one("Body") == "Your visit code is 4821.\n1 Change the time\n2 Call the visit off"
    )
    assert request.one("MessagingServiceSid") == MESSAGING_SERVICE_SID
    assert request.one("From") is None
    assert request.one("StatusCallback") == CALLBACK + "?outbox=1"  # our reference travels
    assert request.one("ValidityPeriod") == "7200"
    (accepted,) = fake.accepted()
    assert receipt.provider_message_id == accepted["sid"]  # type: ignore[attr-defined]
    assert receipt.segments == 1  # type: ignore[attr-defined]


def test_from_number_and_validity_clamped_to_twilios_range(fake: FakeTwilio) -> None:
    s = sender(fake, messaging_service_sid=None, from_number="+447700900000")
    asyncio.run(_send(s, message(expires_in=timedelta(days=3))))
    s = sender(fake, messaging_service_sid=None, from_number="+447700900000")
    asyncio.run(_send(s, message(2, expires_in=timedelta(seconds=-30))))
    first, second = fake.sent()
    assert first.one("From") == "+447700900000"
    assert first.one("MessagingServiceSid") is None
    assert first.one("ValidityPeriod") == "36000"
    assert second.one("ValidityPeriod") == "1"


@pytest.mark.parametrize(
    ("fail", "permanent", "opted_out", "unreachable", "retry_after"),
    [
        (Fail(400, 21610), True, True, False, None),
        (Fail(400, 21211), True, False, True, None),
        (Fail(400, 21614), True, False, True, None),
        (Fail(429, 20429, retry_after=7), False, False, False, 7.0),
        (Fail(500), False, False, False, None),
        (Fail(503, retry_after=2), False, False, False, 2.0),
    ],
)
def test_twilio_errors_say_what_the_next_attempt_should_be(
    fake: FakeTwilio,
    fail: Fail,
    permanent: bool,
    opted_out: bool,
    unreachable: bool,
    retry_after: float | None,
) -> None:
    fake.script.append(fail)
    with pytest.raises(SendError) as caught:
        asyncio.run(_send(sender(fake), message()))
    error = caught.value
    assert error.permanent is permanent
    assert error.opted_out is opted_out
    assert error.unreachable is unreachable
    assert error.retry_after == retry_after
    assert fake.accepted() == []


def test_a_send_that_timed_out_says_so_and_is_never_repeated_by_the_sender(
    fake: FakeTwilio,
) -> None:
    fake.script.append(Hang(1.5))

    async def scenario() -> tuple[SendError, list[SendReceipt]]:
        s = sender(fake, timeout_seconds=0.3)
        try:
            with pytest.raises(SendError) as caught:
                await s.send(message())
            found = await s.candidates(message(), since=NOW)
        finally:
            await s.aclose()
        return caught.value, found

    error, found = asyncio.run(scenario())
    assert error.permanent is False
    assert error.code == "timeout"  # the dispatcher leaves the row `sending` for this
    (accepted,) = fake.accepted()  # Twilio got it, once
    assert [r.provider_message_id for r in found] == [accepted["sid"]]
    assert len(fake.sent()) == 1


def test_reconcile_after_a_crash_finds_the_message_or_says_it_never_arrived(
    fake: FakeTwilio,
) -> None:
    async def scenario() -> tuple[object, object]:
        s = sender(fake)
        try:
            await s.send(message(1))
            found = await s.reconcile(message(1), since=NOW - timedelta(minutes=1))
            other = OutgoingMessage(
                outbox_id=2,
                channel=Channel.SMS,
                address="+447400123456",
                text="Something we never sent",
                idempotency_key="reply:2:0",
            )
            missing = await s.reconcile(other, since=NOW - timedelta(minutes=1))
        finally:
            await s.aclose()
        return found, missing

    found, missing = asyncio.run(scenario())
    assert found.provider_message_id == fake.accepted()[0]["sid"]  # type: ignore[attr-defined]
    assert missing is None


def test_sends_are_paced_at_the_configured_rate(fake: FakeTwilio) -> None:
    async def scenario() -> float:
        s = sender(fake, rate_per_second=20.0)
        try:
            started = time.monotonic()
            await asyncio.gather(*(s.send(message(i)) for i in range(1, 7)))
            return time.monotonic() - started
        finally:
            await s.aclose()

    elapsed = asyncio.run(scenario())
    assert len(fake.accepted()) == 6
    assert elapsed >= 5 / 20 - 0.02  # six sends at 20/s need at least five intervals


def test_wrong_credentials_are_not_blamed_on_the_resident(fake: FakeTwilio) -> None:
    with pytest.raises(SendError) as caught:
        asyncio.run(_send(sender(fake, auth_token="not-the-token"), message()))
    assert caught.value.permanent is False
    assert caught.value.retry_after is not None and caught.value.retry_after >= 60


def test_candidates_are_every_like_message_oldest_first_and_never_an_undelivered_one(
    fake: FakeTwilio,
) -> None:
    async def scenario() -> list[SendReceipt]:
        s = sender(fake)
        try:
            for outbox_id in (1, 2, 3):
                await s.send(message(outbox_id))
            fake.set_status(fake.accepted()[2]["sid"], "undelivered", 30003)
            return await s.candidates(message(4), since=NOW)
        finally:
            await s.aclose()

    found = asyncio.run(scenario())
    first, second, _ = fake.created()
    assert [r.provider_message_id for r in found] == [first.sid, second.sid]
    assert [c.reference() for c in fake.created()] == ["1", "2", "3"]


def test_the_reference_is_added_to_a_callback_url_that_has_a_query_already() -> None:
    assert (
        callback_url("https://x.example/s?a=1&outbox=9", 12) == "https://x.example/s?a=1&outbox=12"
    )


# -- reconciliation through the real dispatcher, on both databases --------------------------

SAME_TEXT = "Thanks, we have noted that."
MARGARET = "+447400123456"


def _queue(db: Database, key: str, at: datetime) -> int:
    with db.session() as session:
        margaret = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        outbox_id = enqueue(
            session,
            key=key,
            kind="reply",
            purpose="reply",
            text=SAME_TEXT,
            not_before=at,
            now=at,
            channel=Channel.SMS,
            address=MARGARET,
            resident_id=margaret.id,
            expires_at=at + timedelta(hours=1),
        )
    assert outbox_id is not None
    return outbox_id


def _row(db: Database, outbox_id: int) -> OutboxMessage:
    with db.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        return row


def _left_sending(db: Database, outbox_id: int, at: datetime) -> None:
    """What a dispatcher that claimed the row and died before calling Twilio leaves."""
    with db.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        row.status, row.claimed_at, row.claimed_by, row.attempts = "sending", at, "dead", 1
        session.add(row)


def _transcript(db: Database, outbox_id: int) -> list[Message]:
    with db.session() as session:
        return list(session.exec(select(Message).where(Message.outbox_id == outbox_id)).all())


def test_a_row_left_sending_never_takes_the_sid_another_row_holds(
    demo_db: Database, clock: FixedClock, fake: FakeTwilio
) -> None:
    fake.now = clock.now
    first = _queue(demo_db, "same:1", clock.now())

    async def scenario() -> int:
        s = sender(fake, clock)
        dispatcher = Dispatcher(db=demo_db, senders={Channel.SMS: s}, clock=clock, zone=LONDON)
        try:
            await dispatcher.run_once()
            second = _queue(demo_db, "same:2", clock.now())
            _left_sending(demo_db, second, clock.now())
            clock.advance(timedelta(minutes=3))
            assert await dispatcher.reconcile_stuck() == 1
            # Twilio has the same text to the same number, but it is the first row's.
            assert _row(demo_db, second).status == OutboxStatus.PENDING
            assert _row(demo_db, second).provider_message_id is None
            await dispatcher.run_once()
            return second
        finally:
            await s.aclose()

    second = asyncio.run(scenario())
    created = fake.created()
    assert len(created) == 2, "the resident got both texts"
    assert [c.reference() for c in created] == [str(first), str(second)]
    for outbox_id, message_created in zip((first, second), created, strict=True):
        row = _row(demo_db, outbox_id)
        assert row.status == OutboxStatus.SENT
        assert row.provider_message_id == message_created.sid  # its own, and only its own
        assert len(_transcript(demo_db, outbox_id)) == 1


def test_a_timed_out_send_is_settled_from_twilio_and_not_sent_again_after_a_restart(
    demo_db: Database, clock: FixedClock, fake: FakeTwilio
) -> None:
    fake.now = clock.now
    earlier = _queue(demo_db, "same:0", clock.now())  # the same text, sent before
    fake.script.extend([None, Hang(1.5)])  # type: ignore[list-item]

    async def scenario() -> int:
        s = sender(fake, clock, timeout_seconds=0.3)
        dispatcher = Dispatcher(db=demo_db, senders={Channel.SMS: s}, clock=clock, zone=LONDON)
        try:
            await dispatcher.run_once()
            doubtful = _queue(demo_db, "same:1", clock.now())
            stats = await dispatcher.run_once()
        finally:
            await s.aclose()
        assert stats.retried == 1
        # Twilio may have it: not put back to be sent again, left for reconciliation.
        assert _row(demo_db, doubtful).status == OutboxStatus.SENDING
        # The service restarts: a new sender and dispatcher know nothing of the time-out.
        clock.advance(timedelta(minutes=3))
        s = sender(fake, clock)
        dispatcher = Dispatcher(db=demo_db, senders={Channel.SMS: s}, clock=clock, zone=LONDON)
        try:
            assert (await dispatcher.run_once()).handled == 0
            assert await dispatcher.reconcile_stuck() == 1
            assert (await dispatcher.run_once()).handled == 0
        finally:
            await s.aclose()
        return doubtful

    doubtful = asyncio.run(scenario())
    first, second = fake.created()
    assert (first.reference(), second.reference()) == (str(earlier), str(doubtful))
    assert _row(demo_db, earlier).provider_message_id == first.sid
    row = _row(demo_db, doubtful)
    assert (row.status, row.provider_message_id) == (OutboxStatus.SENT, second.sid)
    assert len(_transcript(demo_db, doubtful)) == 1


def test_a_delivery_report_to_the_referenced_callback_is_accepted_and_cannot_be_moved(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    fake.now = clock.now
    outbox_id = _queue(demo_db, "same:1", clock.now())

    async def scenario() -> tuple[int, int]:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            await world.dispatcher.run_once()
            (created,) = fake.created()
            assert created.reference() == str(outbox_id)
            assert created.status_callback is not None
            parts = urlsplit(created.status_callback)
            form = {
                "MessageSid": created.sid,
                "SmsSid": created.sid,
                "MessageStatus": "delivered",
                "SmsStatus": "delivered",
                "AccountSid": ACCOUNT_SID,
                "To": MARGARET,
                "ApiVersion": "2010-04-01",
            }
            signature = {"X-Twilio-Signature": sign(created.status_callback, form)}
            moved = f"{parts.path}?outbox={outbox_id + 1}"
            refused = await world.client.post(moved, data=form, headers=signature)
            accepted = await world.client.post(
                f"{parts.path}?{parts.query}", data=form, headers=signature
            )
            return refused.status_code, accepted.status_code

    refused, accepted = asyncio.run(scenario())
    assert refused == 403  # the reference is under Twilio's signature
    assert accepted == 204
    assert _row(demo_db, outbox_id).status == OutboxStatus.DELIVERED


def test_rows_still_on_their_way_are_not_reconciled_from_under_the_dispatcher(
    demo_db: Database, clock: FixedClock, fake: FakeTwilio
) -> None:
    """Paced sends can wait in the claimed batch longer than the reconcile job's margin."""
    fake.now = clock.now
    rows = [_queue(demo_db, f"paced:{n}", clock.now()) for n in range(3)]

    async def scenario() -> int:
        s = sender(fake, clock, rate_per_second=2.0)  # the third send waits a second
        dispatcher = Dispatcher(db=demo_db, senders={Channel.SMS: s}, clock=clock, zone=LONDON)
        try:
            sending = asyncio.create_task(dispatcher.run_once())
            await asyncio.sleep(0.3)
            reconciled = await dispatcher.reconcile_stuck(older_than=timedelta(0))
            await sending
            await dispatcher.run_once()  # the next cycle finds nothing left to send
            return reconciled
        finally:
            await s.aclose()

    assert asyncio.run(scenario()) == 0
    assert sorted(c.reference() or "" for c in fake.created()) == sorted(str(r) for r in rows)
    assert {_row(demo_db, r).status for r in rows} == {OutboxStatus.SENT}
    assert [len(_transcript(demo_db, r)) for r in rows] == [1, 1, 1]  # no text shown twice


def test_another_dispatcher_does_not_reconcile_a_live_paced_batch(
    demo_db: Database, clock: FixedClock, fake: FakeTwilio
) -> None:
    """Two instances share the outbox: one's reconcile job must not take the other's batch,
    which waits its turn at the paced rate for longer than the job's two minutes."""
    fake.now = clock.now
    rows = [_queue(demo_db, f"paced:{n}", clock.now()) for n in range(3)]

    async def scenario() -> int:
        slow, other = sender(fake, clock, rate_per_second=2.0), sender(fake, clock)
        live = Dispatcher(
            db=demo_db,
            senders={Channel.SMS: slow},
            clock=clock,
            zone=LONDON,
            worker_id="live",
            heartbeat_seconds=0.1,
        )
        elsewhere = Dispatcher(
            db=demo_db, senders={Channel.SMS: other}, clock=clock, zone=LONDON, worker_id="b"
        )
        try:
            sending = asyncio.create_task(live.run_once())
            await asyncio.sleep(0.2)
            clock.advance(timedelta(minutes=3))  # the batch has waited "three minutes"
            await asyncio.sleep(0.3)  # a heartbeat renews the live claims
            reconciled = await elsewhere.reconcile_stuck()
            await elsewhere.run_once()
            await sending
            return reconciled
        finally:
            await slow.aclose()
            await other.aclose()

    assert asyncio.run(scenario()) == 0
    assert sorted(c.reference() or "" for c in fake.created()) == sorted(str(r) for r in rows)
    assert {_row(demo_db, r).status for r in rows} == {OutboxStatus.SENT}
    assert [len(_transcript(demo_db, r)) for r in rows] == [1, 1, 1]


def test_a_dispatch_cycle_cancelled_mid_batch_leaves_its_rows_to_reconciliation(
    demo_db: Database, clock: FixedClock, fake: FakeTwilio
) -> None:
    """A shutdown cancels the cycle: its rows must not stay "ours" and be skipped forever."""
    fake.now = clock.now
    rows = [_queue(demo_db, f"paced:{n}", clock.now()) for n in range(4)]

    async def scenario() -> int:
        s = sender(fake, clock, rate_per_second=2.0)
        dispatcher = Dispatcher(
            db=demo_db, senders={Channel.SMS: s}, clock=clock, zone=LONDON, batch_size=2
        )
        try:
            cycle = asyncio.create_task(dispatcher.run_once())
            await asyncio.sleep(0.2)
            cycle.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cycle
            clock.advance(timedelta(minutes=3))
            reconciled = await dispatcher.reconcile_stuck()
            await dispatcher.run_once()
            return reconciled
        finally:
            await s.aclose()

    assert asyncio.run(scenario()) == 4  # both claimed batches: the one sending, the next
    assert sorted(c.reference() or "" for c in fake.created()) == sorted(str(r) for r in rows)
    assert {_row(demo_db, r).status for r in rows} == {OutboxStatus.SENT}
    assert [len(_transcript(demo_db, r)) for r in rows] == [1, 1, 1, 1]
