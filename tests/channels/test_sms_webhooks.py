"""Twilio's webhooks: signed, stored before the answer, each message handled once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.app import create_app
from bot.channels.sms.inbound import store_inbound
from bot.common.clock import FixedClock
from bot.common.events import Disposition, InboundMessage
from fakes.fake_twilio import FakeTwilio, running, sign
from fakes.sms_harness import MARGARET, PUBLIC, new_sid, sms_settings, sms_world
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import Channel, OutboxStatus, TaskKind
from storage.models import Resident, StaffTask


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


def _resident(db: Database, mobile: str) -> Resident:
    with db.session() as session:
        return session.exec(select(Resident).where(Resident.mobile == mobile)).one()


def test_missing_or_bad_signature_is_refused_and_nothing_stored(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> list[int]:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            form = {"MessageSid": new_sid(), "From": MARGARET, "Body": "hello"}
            path = "/webhooks/twilio/sms"
            codes = [
                (await world.post(path, form, signature=None)).status_code,
                (await world.post(path, form, signature="bm90IGEgc2lnbmF0dXJl")).status_code,
                # Signed for the URL the app itself sees, not the public one Twilio used.
                (
                    await world.post(path, form, signature=sign("http://testserver" + path, form))
                ).status_code,
                (await world.post("/webhooks/twilio/status", form, signature=None)).status_code,
            ]
            assert world.inbound() == []
            return codes

    assert asyncio.run(scenario()) == [403, 403, 403, 403]


def test_a_text_is_acknowledged_with_empty_twiml_and_answered_through_the_outbox(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            sid = new_sid()
            response = await world.text("hello", sid=sid)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/xml")
            assert response.text.endswith("<Response/>")
            again = await world.text("hello", sid=sid)  # Twilio delivered it twice
            assert again.status_code == 200
            (stored,) = world.inbound()
            assert stored.address == MARGARET and stored.processed_at is not None
            replies = world.outbox()
            assert replies and all(
                r.idempotency_key.startswith(f"reply:{stored.id}:") for r in replies
            )
            assert {r.address for r in replies} == {MARGARET}

    asyncio.run(scenario())


def test_malformed_forms_get_400_and_nothing_stored(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            path = "/webhooks/twilio/sms"
            no_from = {"MessageSid": new_sid(), "Body": "hello"}
            no_body = {"MessageSid": new_sid(), "From": MARGARET}
            bad_sid = {"MessageSid": "../../etc", "From": MARGARET, "Body": "hi"}
            for form in (no_from, no_body, bad_sid):
                assert (await world.post(path, form)).status_code == 400
            status = {"MessageSid": new_sid(), "MessageStatus": "sent", "ErrorCode": "abc"}
            assert (await world.post("/webhooks/twilio/status", status)).status_code == 400
            assert world.inbound() == []

    asyncio.run(scenario())


def test_a_number_that_is_not_a_uk_mobile_is_stored_but_never_answered(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            response = await world.text("WIN A PRIZE", sender="+15005550006")
            assert response.status_code == 200
            (stored,) = world.inbound()
            assert stored.address == "+15005550006" and stored.processed_at is not None
            assert world.outbox() == []

    asyncio.run(scenario())


def test_twilio_opt_out_type_is_mirrored_into_the_residents_record(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            # A keyword configured on the Messaging Service that our flows do not know.
            await world.text("ARRET", extra={"OptOutType": "STOP"})
            assert _resident(demo_db, MARGARET).sms_opted_out_at == clock.now()
            clock.advance(timedelta(minutes=5))
            await world.text("START", extra={"OptOutType": "START"})
            assert _resident(demo_db, MARGARET).sms_opted_out_at is None
            # A plain STOP without OptOutType is understood by the flows too.
            await world.text("STOP")
            assert _resident(demo_db, MARGARET).sms_opted_out_at is not None

    asyncio.run(scenario())


def test_a_database_outage_answers_503_rather_than_crashing(
    clock: FixedClock, interpreter: BuiltinInterpreter
) -> None:
    settings = sms_settings("postgresql+psycopg://nobody@127.0.0.1:9/none", None)
    app = create_app(settings, clock=clock, interpreter=interpreter)

    async def scenario() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            form = {"MessageSid": new_sid(), "From": MARGARET, "Body": "hello"}
            path = "/webhooks/twilio/sms"
            headers = {"X-Twilio-Signature": sign(PUBLIC + path, form)}
            response = await client.post(path, data=form, headers=headers)
            return response.status_code

    assert asyncio.run(scenario()) == 503


def test_a_crash_between_acknowledgment_and_processing_loses_nothing(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        # What the webhook commits before it answers Twilio; then the process dies.
        crashed = create_app(settings, clock=clock, interpreter=interpreter)
        sid = new_sid()
        hello = InboundMessage(Channel.SMS, MARGARET, "hello", sid, clock.now())
        stored = await asyncio.to_thread(
            store_inbound, crashed.state.runtime, hello, Disposition.ANSWER
        )
        assert stored is not None
        crashed.state.runtime.db.dispose()
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            # The restarted service answers it on its own, at start-up.
            message = await world.processed(sid)
            assert message.address == MARGARET
            stats = await world.dispatcher.run_once()
            assert stats.sent >= 1
            assert fake.accepted()[0]["to"] == MARGARET

    asyncio.run(scenario())


def test_delivery_status_only_moves_forward(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            await world.text("hello")
            await world.dispatcher.run_once()
            row = world.outbox()[0]
            assert row.status == OutboxStatus.SENT and row.provider_message_id
            sid = row.provider_message_id
            assert (await world.status(sid, "sent")).status_code == 204
            assert (await world.status(sid, "delivered")).status_code == 204
            assert (await world.status(sid, "sent")).status_code == 204  # late and out of order
            assert world.outbox()[0].status == OutboxStatus.DELIVERED
            transcript = [m for m in world.outbound() if m.outbox_id == row.id]
            assert [m.delivery_status for m in transcript] == ["delivered"]
            # An unknown message id is acknowledged and changes nothing.
            assert (await world.status(new_sid(), "failed", 30005)).status_code == 204

    asyncio.run(scenario())


def test_error_21610_marks_the_resident_opted_out(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            await world.text("hello")
            await world.dispatcher.run_once()
            row = world.outbox()[0]
            assert row.provider_message_id
            await world.status(row.provider_message_id, "undelivered", 21610)
            assert world.outbox()[0].status == OutboxStatus.FAILED
            assert _resident(demo_db, MARGARET).sms_opted_out_at == clock.now()

    asyncio.run(scenario())


def test_a_dead_number_is_flagged_for_staff_once(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            await world.text("hello")
            await world.text("hello again")
            await world.dispatcher.run_once()
            rows = [r for r in world.outbox() if r.provider_message_id]
            assert len(rows) >= 2
            for row in rows:
                assert row.provider_message_id
                await world.status(row.provider_message_id, "undelivered", 30005)
            assert {r.status for r in world.outbox()} == {OutboxStatus.FAILED}
            assert _resident(demo_db, MARGARET).sms_unreachable_at == clock.now()
            with demo_db.session() as session:
                tasks = session.exec(
                    select(StaffTask).where(StaffTask.kind == TaskKind.NUMBER_CHECK)
                ).all()
            assert len(tasks) == 1

    asyncio.run(scenario())


def test_a_carrier_failure_is_sent_again_later_and_then_delivered(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            await world.text("hello")
            await world.dispatcher.run_once()
            first = world.outbox()[0]
            assert first.provider_message_id
            await world.status(first.provider_message_id, "undelivered", 30003)
            waiting = world.outbox()[0]
            assert waiting.status == OutboxStatus.PENDING and waiting.not_before > clock.now()
            assert (await world.dispatcher.run_once()).sent == 0  # not yet
            clock.advance(timedelta(minutes=5))
            assert (await world.dispatcher.run_once()).sent >= 1
            resent = world.outbox()[0]
            assert (
                resent.provider_message_id
                and resent.provider_message_id != first.provider_message_id
            )
            await world.status(resent.provider_message_id, "delivered")
            assert world.outbox()[0].status == OutboxStatus.DELIVERED
            bodies = [
                m["body"]
                for m in fake.accepted()
                if m["body"] == first.text or m["body"].startswith(first.text)
            ]
            assert len(bodies) == 2  # the first try and the retry

    asyncio.run(scenario())


def test_a_blank_text_or_a_picture_alone_gets_a_polite_prompt(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            assert (await world.text("  \n ")).status_code == 200
            picture = {"NumMedia": "1", "MediaContentType0": "image/jpeg"}
            assert (await world.text("", extra=picture)).status_code == 200
            assert all(m.processed_at is not None for m in world.inbound())
            replies = [r.text for r in world.outbox()]
            assert len(replies) == 2
            for reply in replies:
                assert "no words" in reply and "type what you need" in reply

    asyncio.run(scenario())
