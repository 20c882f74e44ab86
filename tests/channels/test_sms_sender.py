"""The SMS sender against a local fake Twilio, through the real twilio client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.sms.sender import TwilioConfig, TwilioSender
from bot.common.clock import FixedClock
from bot.outbound.sending import OutgoingMessage, SendError
from fakes.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    MESSAGING_SERVICE_SID,
    Fail,
    FakeTwilio,
    Hang,
    running,
)
from flows.messages import Option
from storage.enums import Channel

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CALLBACK = "https://doorstep.example.org/webhooks/twilio/status"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    yield from running(lambda: NOW)


def sender(fake: FakeTwilio, **overrides: object) -> TwilioSender:
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
    return TwilioSender(TwilioConfig(**config), clock=FixedClock(NOW))  # type: ignore[arg-type]


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
    assert request.one("StatusCallback") == CALLBACK
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


def test_a_send_that_timed_out_is_checked_and_not_sent_twice(fake: FakeTwilio) -> None:
    fake.script.append(Hang(1.5))

    async def scenario() -> tuple[SendError, object]:
        s = sender(fake, timeout_seconds=0.3)
        try:
            with pytest.raises(SendError) as caught:
                await s.send(message())
            retried = await s.send(message())
        finally:
            await s.aclose()
        return caught.value, retried

    error, retried = asyncio.run(scenario())
    assert error.permanent is False
    assert error.code == "timeout"
    (accepted,) = fake.accepted()  # Twilio got it once, and only once
    assert retried.provider_message_id == accepted["sid"]  # type: ignore[attr-defined]
    assert len(fake.sent()) == 1
    assert any(r.method == "GET" for r in fake.requests)


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
