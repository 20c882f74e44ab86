"""The Telegram sender with the real PTB `Bot` against the fake Bot API: what the
dispatcher is told for each of Telegram's answers, and the flood limits."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import httpx
import pytest

from bot.channels.telegram.sender import (
    FloodLimiter,
    TelegramSender,
    callback_data,
    parse_callback_data,
)
from bot.channels.telegram.setup import build_bot, telegram_sender_from_settings
from bot.outbound.sending import OutgoingMessage, SendError
from bot.settings import load_settings
from fakes.fake_telegram import FakeTelegram
from flows.messages import Option
from storage.enums import Channel

CHAT = 700000001


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def sender_for(fake: FakeTelegram) -> TelegramSender:
    settings = load_settings(
        telegram_token="123456:TEST-token-for-the-fake", telegram_api_base=fake.url
    )
    sender = telegram_sender_from_settings(settings)
    assert sender is not None
    sender.limiter = FloodLimiter(chat_interval=0.0)
    return sender


def message(outbox_id: int = 1, text: str = "Hello", **extra: object) -> OutgoingMessage:
    return OutgoingMessage(
        outbox_id=outbox_id,
        channel=Channel.TELEGRAM,
        address=str(CHAT),
        text=text,
        idempotency_key=f"k{outbox_id}",
        **extra,  # type: ignore[arg-type]
    )


def test_without_a_token_the_channel_is_off_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO"):
        assert telegram_sender_from_settings(load_settings()) is None
    assert "Telegram channel off: set DOORSTEP_TELEGRAM_TOKEN" in caplog.text


def test_options_become_buttons_that_fit_telegrams_64_bytes(fake: FakeTelegram) -> None:
    long_key = "k" * 80
    options = (Option("1", "Tue 1 Dec, morning 8am-12pm"), Option(long_key, "Other"))

    async def go() -> None:
        sender = sender_for(fake)
        receipt = await sender.send(message(123456789, options=options))
        await sender.aclose()
        assert receipt.status == "sent" and receipt.provider_message_id

    asyncio.run(go())
    [call] = fake.calls_to("sendMessage")
    rows = call.params["reply_markup"]["inline_keyboard"]
    data = [row[0]["callback_data"] for row in rows]
    assert all(len(d.encode()) <= 64 for d in data)
    assert [row[0]["text"] for row in rows] == [o.label for o in options]
    first, second = (parse_callback_data(d) for d in data)
    assert first is not None and (first.outbox_id, first.key) == (123456789, "1")
    assert second is not None and (second.outbox_id, second.index) == (123456789, 1)
    assert parse_callback_data(callback_data(5, 0, Option("#1", "odd"))) is not None
    for junk in (None, "", "o:abc:1", "z:1:1", "o:1:", "o:1:#x", "o:" + "9" * 70 + ":1"):
        assert parse_callback_data(junk) is None


def test_the_operatives_photo_goes_as_a_photo_with_the_text(fake: FakeTelegram) -> None:
    async def go() -> None:
        sender = sender_for(fake)
        await sender.send(message(text="Ravi is coming", photo_path="operative-2.png"))
        await sender.send(message(2, text="Missing photo", photo_path="nobody.png"))
        await sender.aclose()

    asyncio.run(go())
    [photo] = fake.calls_to("sendPhoto")
    assert photo.params["caption"] == "Ravi is coming"
    assert photo.files["photo"].startswith(b"\x89PNG")
    assert [c.params["text"] for c in fake.calls_to("sendMessage")] == ["Missing photo"]


def test_telegrams_refusals_tell_the_dispatcher_what_to_do(fake: FakeTelegram) -> None:
    async def attempt() -> SendError:
        sender = sender_for(fake)
        try:
            await sender.send(message())
        except SendError as exc:
            return exc
        finally:
            await sender.aclose()
        raise AssertionError("the send should have failed")

    fake.fail_next("sendMessage", status=429, description="Too Many Requests: retry after 9",
                   retry_after=9)  # fmt: skip
    throttled = asyncio.run(attempt())
    assert (throttled.permanent, throttled.retry_after) == (False, 9.0)
    fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    missing = asyncio.run(attempt())
    assert (missing.permanent, missing.unreachable) == (True, True)
    fake.fail_next("sendMessage", status=502, description="Bad Gateway")
    assert asyncio.run(attempt()).permanent is False
    fake.block(CHAT)
    blocked = asyncio.run(attempt())
    assert (blocked.permanent, blocked.unreachable, blocked.code) == (True, True, "403")


def test_a_read_timeout_counts_as_sent_and_a_connect_failure_does_not() -> None:
    """Telegram cannot be asked afterwards; see the module docstring for why."""

    class Silent(httpx.AsyncBaseTransport):
        def __init__(self, error: Exception) -> None:
            self.error = error

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/getMe"):
                body = {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "D",
                                               "username": "d_bot"}}  # fmt: skip
                return httpx.Response(200, json=body)
            raise self.error

    async def send_through(error: Exception) -> object:
        settings = load_settings(
            telegram_token="123456:TEST", telegram_api_base="http://127.0.0.1:9"
        )
        bot = build_bot(settings)
        bot._request[1]._client = httpx.AsyncClient(transport=Silent(error))  # type: ignore[attr-defined]
        bot._request[1]._client_kwargs["transport"] = Silent(error)  # type: ignore[attr-defined]
        sender = TelegramSender(bot, limiter=FloodLimiter(chat_interval=0.0))
        try:
            return await sender.send(message())
        except SendError as exc:
            return exc

    read = asyncio.run(send_through(httpx.ReadTimeout("no answer")))
    assert getattr(read, "status", None) == "unconfirmed"
    connect = asyncio.run(send_through(httpx.ConnectTimeout("no route")))
    assert isinstance(connect, SendError) and connect.permanent is False


def test_the_flood_limiter_keeps_one_a_second_per_chat_and_thirty_overall() -> None:
    now = [0.0]
    sends: list[tuple[float, int]] = []

    async def sleep(seconds: float) -> None:
        # Virtual time: wake no earlier than asked, and time never goes back.
        wake = now[0] + seconds
        await asyncio.sleep(0)
        now[0] = max(now[0], wake)

    limiter = FloodLimiter(monotonic=lambda: now[0], sleep=sleep)

    async def one(chat: int) -> None:
        await limiter.acquire(chat)
        sends.append((now[0], chat))

    async def go() -> None:
        await asyncio.gather(*(one(1) for _ in range(3)))
        await asyncio.gather(*(one(chat) for chat in range(100, 160)))

    asyncio.run(go())
    chat_one = [t for t, c in sends if c == 1]
    assert len(chat_one) == 3
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(chat_one))
    times = sorted(t for t, _ in sends)
    assert len(times) == 63 and times[-1] >= 1.0  # 60 chats at once could not all go in 1 s
    assert all(sum(1 for u in times if t <= u < t + 1.0) <= 30 for t in times)
