"""Security as an outsider meets it: webhooks that need proof, floods that starve no one,
and an unknown number that learns nothing about any resident.

Covered elsewhere and not repeated here (docs/reliability.md lists them): the door-code
lock-out after five wrong codes (tests/flows/test_door.py), staff login, roles, session
cookie flags, CSRF and the login rate limit (tests/staff/test_staff_http.py), the
Telegram secret header on bad bodies (tests/channels/test_telegram_webhook.py).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from channels.test_telegram_webhook import telegram_world
from fastapi.testclient import TestClient
from reliability.harness import Delivery, Service, Twilio, free_port, new_sid, service_env
from sqlmodel import col, select

from bot.common.clock import FixedClock
from bot.inbound.ratelimit import RATE_LIMITED_INTENT, RateLimit, SenderRateLimiter
from fakes.fake_telegram import FakeTelegram
from fakes.fake_twilio import FakeTwilio, running, sign
from fakes.sms_harness import MARGARET, sms_settings, sms_world
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import Channel, Direction
from storage.models import Message, OutboxMessage, Property, Resident

STRANGER = "+447400999999"
STRANGER_TELEGRAM_ID = 812345679
LIMIT = 30


@pytest.fixture
def fake_twilio(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


# -- the rate limiter itself ------------------------------------------------------------


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_sender_gets_thirty_a_minute_and_others_are_untouched() -> None:
    ticker = Ticker()
    limiter = SenderRateLimiter(RateLimit(capacity=LIMIT, period_seconds=60), monotonic=ticker)
    verdicts = [limiter.check("sms:+447400123456") for _ in range(LIMIT + 5)]
    assert [v.allowed for v in verdicts] == [True] * LIMIT + [False] * 5
    assert verdicts[-1].retry_after == pytest.approx(2.0)  # one token every 2 s
    assert limiter.check("sms:+447400123457").allowed, "another resident is not held up"
    ticker.now += 2.0
    assert limiter.check("sms:+447400123456").allowed, "a token back after two seconds"
    assert not limiter.check("sms:+447400123456").allowed, "refusals spent nothing extra"


def test_the_limiter_forgets_the_oldest_senders_beyond_its_bound() -> None:
    limiter = SenderRateLimiter(RateLimit(capacity=1), monotonic=Ticker(), max_senders=100)
    for number in range(1000):
        limiter.check(f"telegram:{number}")
    assert limiter.senders == 100
    assert limiter.check("telegram:999").allowed is False, "recent senders are remembered"


# -- the webhooks -----------------------------------------------------------------------


def _frozen_limiter(state: Any) -> None:
    """The app's webhook limiter with time standing still, so a slow machine (a token back
    every 2 s) cannot change which message of a flood is the first one held."""
    state.webhook_rate_limiter = SenderRateLimiter(
        RateLimit(capacity=LIMIT, period_seconds=60), monotonic=Ticker()
    )


def test_an_sms_flood_is_kept_but_not_answered_and_others_are_still_served(
    demo_db: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake_twilio: FakeTwilio,
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake_twilio)
        async with sms_world(settings, demo_db, clock, interpreter, fake_twilio) as world:
            _frozen_limiter(world.app.state)
            statuses = [
                (await world.text(f"hello {n}", sender=MARGARET)).status_code
                for n in range(LIMIT + 5)
            ]
            # Twilio is answered 200 every time: a 429 would only bring the flood back.
            assert statuses == [200] * (LIMIT + 5)
            emergency = await world.text("I can smell gas in the kitchen", sender=MARGARET)
            other = await world.text("hello", sender="+447400123457")
            assert emergency.status_code == other.status_code == 200

            inbound = world.inbound()
            assert len(inbound) == LIMIT + 7, "every text is in the transcript"
            assert all(m.processed_at is not None for m in inbound)
            held = [m for m in inbound if m.intent == RATE_LIMITED_INTENT]
            assert [m.text for m in held] == [f"hello {n}" for n in range(LIMIT, LIMIT + 5)]
            answered = {int(row.idempotency_key.split(":")[1]) for row in world.outbox()}
            assert not answered & {m.id for m in held}, "the flood's excess is not answered"
            by_text = {m.text: m for m in inbound}
            assert by_text["I can smell gas in the kitchen"].id in answered, "safety first"
            assert by_text["hello"].id in answered, "another resident is answered at once"

    asyncio.run(scenario())


def test_a_telegram_flood_is_refused_with_retry_after_and_redelivery_then_works(
    demo_db: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake_twilio: FakeTwilio,
) -> None:
    async def scenario() -> None:
        with FakeTelegram() as fake:
            async with telegram_world(demo_db, clock, interpreter, fake, fake_twilio) as world:
                _frozen_limiter(world.app.state)
                updates = [world.text(f"hello {n}") for n in range(LIMIT + 1)]
                statuses = [(await world.post(u)).status_code for u in updates]
                assert statuses == [200] * LIMIT + [429]
                refused = await world.post(updates[-1])
                assert refused.status_code == 429
                assert int(refused.headers["Retry-After"]) >= 1
                stranger = await world.post(world.text("hello", user_id=STRANGER_TELEGRAM_ID))
                assert stranger.status_code == 200, "another user is not held up"
                texts = [m.text for m in world.telegram_inbound()]
                assert f"hello {LIMIT}" not in texts, "refused, so Telegram keeps it to resend"
                assert texts.count("hello 0") == 1

    asyncio.run(scenario())


def test_the_simulator_answers_429_to_a_flood(client: TestClient) -> None:
    def say(phone: str, text: str) -> httpx.Response:
        response: httpx.Response = client.post(
            "/simulator/api/messages", json={"phone": phone, "text": text}
        )
        return response

    _frozen_limiter(client.app.state)  # type: ignore[attr-defined]
    statuses = [say(MARGARET, "thanks").status_code for _ in range(LIMIT + 1)]
    assert statuses == [200] * LIMIT + [429]
    assert say("+447400123457", "thanks").status_code == 200


# -- an unknown number ------------------------------------------------------------------

PROBES = (
    "hello",
    "when is my visit",
    "what is my door code",
    "I am Margaret Okafor, when is the plumber coming?",
    "my number is 07400 123456, any news?",
    "cancel my appointment",
    "what is my address",
    "1",
    "2",
)


def test_an_unknown_number_learns_nothing_about_any_resident(
    demo_db: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake_twilio: FakeTwilio,
) -> None:
    async def scenario() -> list[str]:
        settings = sms_settings(demo_db.url, fake_twilio)
        async with sms_world(settings, demo_db, clock, interpreter, fake_twilio) as world:
            for probe in PROBES:
                assert (await world.text(probe, sender=STRANGER)).status_code == 200
            await world.dispatcher.run_once()
        return [m["body"] for m in fake_twilio.accepted() if m["to"] == STRANGER]

    replies = asyncio.run(scenario())
    assert replies, "the stranger is answered (politely), not ignored"
    with demo_db.session() as session:
        residents = session.exec(select(Resident)).all()
        properties = session.exec(select(Property)).all()
        outbox = session.exec(select(OutboxMessage).where(OutboxMessage.address == STRANGER)).all()
    secrets: set[str] = set()
    for resident in residents:
        secrets |= {part for part in resident.name.split() if len(part) > 2}
        if resident.mobile:
            secrets.add(resident.mobile[-6:])
    for place in properties:
        for value in vars(place).values():
            if isinstance(value, str) and len(value) > 3 and re.search(r"\d|\s", value):
                secrets.add(value)
    bodies = replies + [row.text for row in outbox]
    leaks = {s for s in secrets for body in bodies if s.lower() in body.lower()}
    assert leaks == set(), f"replies to an unknown number mention {leaks}"
    assert all(row.resident_id is None and row.appointment_id is None for row in outbox)


# -- signatures on a running service ----------------------------------------------------


def test_a_running_service_refuses_unsigned_and_forged_twilio_webhooks(
    demo_db: Database, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fake = FakeTwilio().start()
    port = free_port()
    env = service_env(demo_db.url, port, fake.base_url, tmp_path_factory.mktemp("nlu"))
    service = Service(env, tmp_path / "serve.log", port)
    twilio = Twilio(service.base)
    try:
        service.start()
        delivery = Delivery(new_sid(), MARGARET, "hello")
        form = twilio.form(delivery)
        with httpx.Client(base_url=service.base, timeout=10) as http:
            unsigned = http.post("/webhooks/twilio/sms", data=form)
            forged = http.post(
                "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": "Zm9yZ2Vk"}
            )
            tampered_sig = twilio.form(delivery)
            signature = sign(service.base + "/webhooks/twilio/sms", tampered_sig)
            tampered_sig["Body"] = "cancel my visit"
            tampered = http.post(
                "/webhooks/twilio/sms", data=tampered_sig, headers={"X-Twilio-Signature": signature}
            )
            status = http.post(
                "/webhooks/twilio/status",
                data={"MessageSid": new_sid(), "MessageStatus": "delivered"},
                headers={"X-Twilio-Signature": "Zm9yZ2Vk"},
            )
            telegram = http.post("/webhooks/telegram", json={"update_id": 1})
        assert (unsigned.status_code, forged.status_code, tampered.status_code) == (403, 403, 403)
        assert status.status_code == 403
        assert telegram.status_code in (403, 404), "Telegram is off here: no route to abuse"
        assert twilio.post_once(delivery) == "200", "the genuine article is accepted"
    finally:
        twilio.close()
        service.stop()
        fake.stop()
    with demo_db.session() as session:
        stored = session.exec(
            select(Message).where(
                Message.direction == Direction.INBOUND,
                Message.channel == Channel.SMS,
                col(Message.channel_message_id).startswith("SM"),
            )
        ).all()
    assert [m.text for m in stored] == ["hello"], "nothing from the forgeries was stored"


def _declared_but_unsent(base: str, path: str, length: int, content_type: str) -> int:
    """POST headers claiming `length` bytes and send none: the status the server answers
    before it has read any of the body (it must not wait for it)."""
    url = httpx.URL(base)
    assert url.host and url.port
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n"
        "X-Twilio-Signature: Zm9yZ2Vk\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port), timeout=10) as sock:
        sock.sendall(head.encode())
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


def test_a_running_service_refuses_replayed_signatures_uploads_and_huge_bodies(
    demo_db: Database, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Issue 13, items 8 and 11, on the production-shaped service (uvicorn, simulator off):
    one signature replayed with a moved MessageSid boundary or a repeated name stores one
    message, not three; a multipart upload is a 415, not a 500; a declared 50 MB body is a
    413 answered without reading it; a NUL in a text is stored as U+FFFD."""
    fake = FakeTwilio().start()
    port = free_port()
    env = service_env(demo_db.url, port, fake.base_url, tmp_path_factory.mktemp("nlu"))
    service = Service(env, tmp_path / "serve.log", port)
    twilio = Twilio(service.base)
    path = "/webhooks/twilio/sms"
    form_type = "application/x-www-form-urlencoded"
    try:
        service.start()
        delivery = Delivery(new_sid(), MARGARET, "hello")
        assert twilio.post_once(delivery) == "200"
        form = twilio.form(delivery)
        signature = sign(service.base + path, form)
        moved = {k: v for k, v in form.items() if k != "NumMedia"}
        moved["MessageSid"] = delivery.sid + "NumMedia0"
        moved_twice = {k: v for k, v in moved.items() if k != "NumSegments"}
        moved_twice["MessageSid"] = delivery.sid + "NumMedia0NumSegments1"
        with httpx.Client(base_url=service.base, timeout=10) as http:
            codes = []
            for forged in (moved, moved_twice):
                assert sign(service.base + path, forged) == signature
                codes.append(
                    http.post(path, data=forged, headers={"X-Twilio-Signature": signature})
                )
            repeated = urlencode([*form.items(), ("MessageSid", delivery.sid)])
            codes.append(
                http.post(
                    path,
                    content=repeated,
                    headers={"X-Twilio-Signature": signature, "content-type": form_type},
                )
            )
            upload = http.post(
                path,
                data=form,
                files={"Body": ("a.txt", b"hello", "text/plain")},
                headers={"X-Twilio-Signature": signature},
            )
        assert [r.status_code for r in codes] == [400, 400, 400]
        assert upload.status_code == 415
        assert _declared_but_unsent(service.base, path, 50 * 1024 * 1024, form_type) == 413
        # A NUL (PostgreSQL text cannot hold it) is still stored and acknowledged.
        assert twilio.post_once(Delivery(new_sid(), MARGARET, "still\x00here")) == "200"
        assert "Traceback" not in service.log()
    finally:
        twilio.close()
        service.stop()
        fake.stop()
    with demo_db.session() as session:
        stored = session.exec(
            select(Message).where(
                Message.direction == Direction.INBOUND,
                Message.channel == Channel.SMS,
                col(Message.channel_message_id).startswith("SM"),
            )
        ).all()
    assert sorted(m.text for m in stored) == ["hello", "still\ufffdhere"]
