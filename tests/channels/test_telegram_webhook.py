"""Residents on Telegram, end to end: the real app and PTB against a fake Bot API server.

Everything runs in one event loop: the app with its lifespan (the PTB Application starts
and calls getMe on the fake) behind httpx's ASGI transport, the background work, and the
real dispatcher sending through the real `Bot`.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.app import create_app
from bot.channels.sms.setup import sms_sender_from_settings
from bot.channels.telegram.link import create_link_token, offer_telegram_link
from bot.channels.telegram.sender import FloodLimiter, TelegramSender
from bot.channels.telegram.webhook import SECRET_HEADER, TelegramWebhook
from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.settings import Settings, load_settings
from fakes.fake_telegram import BOT_USERNAME, FakeTelegram
from fakes.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, FakeTwilio, running
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import Channel, Direction, OutboxStatus
from storage.models import LinkToken, Message, OutboxMessage, Resident

SECRET = "tg-webhook-secret-for-tests"
GARETH_ID = 700000001
GARETH_MOBILE = "+447400123463"
MARGARET_MOBILE = "+447400123456"
STRANGER_ID = 812345678


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake_twilio(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


def telegram_settings(database_url: str, fake: FakeTelegram, twilio: FakeTwilio) -> Settings:
    return load_settings(
        database_url=database_url,
        simulator=True,
        scheduler_in_process=False,
        telegram_token="123456:TEST-token-for-the-fake",
        telegram_webhook_secret=SECRET,
        telegram_api_base=fake.url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_messaging_service_sid=MESSAGING_SERVICE_SID,
        twilio_api_base=twilio.base_url,
        twilio_rate_per_second=100,
    )


class TelegramWorld:
    """The app as Telegram sees it: post updates, let the dispatcher send, read the fake."""

    def __init__(
        self,
        app: Any,
        client: httpx.AsyncClient,
        db: Database,
        clock: FixedClock,
        fake: FakeTelegram,
    ) -> None:
        self.app = app
        self.client = client
        self.db = db
        self.clock = clock
        self.fake = fake
        self.webhook: TelegramWebhook = app.state.telegram
        self.sender: TelegramSender = self.webhook.inbox.sender
        # Telegram's one-a-second per chat would make every test wait; the limiter has its
        # own test in test_telegram_sender.py.
        self.sender.limiter = FloodLimiter(chat_interval=0.0)
        settings: Settings = app.state.runtime.settings
        self.dispatcher = Dispatcher(
            db=db,
            senders={
                Channel.TELEGRAM: self.sender,
                Channel.SMS: sms_sender_from_settings(settings, clock=clock),
            },
            clock=clock,
            zone=settings.zone,
        )
        self._update_ids = itertools.count(500_000_001)
        self._query_ids = itertools.count(1)

    async def post(self, update: dict[str, Any], *, secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        response = await self.client.post("/webhooks/telegram", json=update, headers=headers)
        await self.webhook.wait_idle()
        return response

    def update(self, **body: Any) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **body}

    def text(self, text: str, *, user_id: int = GARETH_ID) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._update_ids) % 100000,
            "from": _user(user_id),
            "chat": {"id": user_id, "first_name": "Gareth", "type": "private"},
            "date": int(self.clock.now().timestamp()),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}
            ]
        return self.update(message=message)

    def contact(self, phone: str, *, contact_user_id: int | None, user_id: int) -> dict[str, Any]:
        contact: dict[str, Any] = {"phone_number": phone, "first_name": "Someone"}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self.update(
            message={
                "message_id": 42,
                "from": _user(user_id),
                "chat": {"id": user_id, "first_name": "Someone", "type": "private"},
                "date": int(self.clock.now().timestamp()),
                "contact": contact,
            }
        )

    def press(self, sent: Any, data: str, *, user_id: int = GARETH_ID) -> dict[str, Any]:
        """A callback query for a button on a message the fake recorded as sent."""
        chat = {"id": user_id, "first_name": "Gareth", "type": "private"}
        return self.update(
            callback_query={
                "id": str(next(self._query_ids)),
                "from": _user(user_id),
                "message": {
                    "message_id": sent.message_id,
                    "from": {"id": 7000000000, "is_bot": True, "first_name": "Doorstep"},
                    "chat": chat,
                    "date": int(self.clock.now().timestamp()),
                    "text": sent.params.get("text") or sent.params.get("caption") or "",
                    "reply_markup": sent.params.get("reply_markup"),
                },
                "chat_instance": "-5088123456789",
                "data": data,
            }
        )

    async def dispatch(self) -> None:
        await self.dispatcher.run_once()

    def query(self, fn: Callable[[Any], Any]) -> Any:
        with self.db.session() as session:
            return fn(session)

    def resident(self, mobile: str) -> Resident:
        resident: Resident = self.query(
            lambda s: s.exec(select(Resident).where(Resident.mobile == mobile)).one()
        )
        return resident

    def telegram_inbound(self) -> list[Message]:
        rows: list[Message] = self.query(
            lambda s: list(
                s.exec(
                    select(Message)
                    .where(
                        Message.channel == Channel.TELEGRAM,
                        Message.direction == Direction.INBOUND,
                    )
                    .order_by(col(Message.id))
                )
            )
        )
        return rows


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Gareth", "language_code": "en"}


@asynccontextmanager
async def telegram_world(
    db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTelegram,
    twilio: FakeTwilio,
) -> AsyncIterator[TelegramWorld]:  # fmt: skip
    settings = telegram_settings(db.url, fake, twilio)
    app = create_app(settings, clock=clock, interpreter=interpreter, rng=random.Random(7))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield TelegramWorld(app, client, db, clock, fake)


@pytest.fixture
def run(
    demo_db: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> Callable[[Callable[[TelegramWorld], Awaitable[None]]], None]:
    def runner(scenario: Callable[[TelegramWorld], Awaitable[None]]) -> None:
        async def main() -> None:
            async with telegram_world(
                demo_db, clock, interpreter, fake_telegram, fake_twilio
            ) as world:
                await scenario(world)

        asyncio.run(main())

    return runner


class Sent:
    """A message the fake Bot API accepted."""

    def __init__(self, call: Any) -> None:
        self.params = call.params
        self.method = call.method
        self.message_id = call.message_id

    @property
    def buttons(self) -> list[dict[str, str]]:
        markup = self.params.get("reply_markup") or {}
        return [row[0] for row in markup.get("inline_keyboard", [])]


def sent_to(fake: FakeTelegram, chat_id: int) -> list[Sent]:
    return [Sent(c) for c in fake.sent_to(chat_id)]


# --- security and idempotency ---------------------------------------------------------


def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        wrong = await world.post(world.text("hi"), secret="not-the-secret")
        missing = await world.post(world.text("hi"), secret=None)
        assert (wrong.status_code, missing.status_code) == (403, 403)
        assert world.telegram_inbound() == []
        assert world.fake.sent_to(GARETH_ID) == []

    run(scenario)


def test_bad_bodies_are_answered_without_harm(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        not_json = await world.client.post(
            "/webhooks/telegram", content=b"{nope", headers={SECRET_HEADER: SECRET}
        )
        assert not_json.status_code == 400
        junks: list[Any] = [
            [],
            {"hello": 1},
            {"update_id": 5, "message": "text"},
            world.update(poll={}),
        ]
        for junk in junks:
            response = await world.post(junk)
            assert response.status_code == 200
        edited = world.update(edited_message=world.text("changed")["message"])
        assert (await world.post(edited)).status_code == 200
        assert world.telegram_inbound() == []

    run(scenario)


def test_a_redelivered_update_is_processed_once(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        update = world.text("hi")
        first = await world.post(update)
        again = await world.post(update)
        assert (first.status_code, again.status_code) == (200, 200)
        await world.dispatch()
        stored = world.telegram_inbound()
        assert len(stored) == 1 and stored[0].processed_at is not None
        greetings = sent_to(world.fake, GARETH_ID)
        assert len(greetings) == 1
        assert "Hello Gareth" in greetings[0].params["text"]

    run(scenario)


def test_a_crash_between_ack_and_processing_loses_nothing(
    demo_db: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    async def first_life() -> None:
        async with telegram_world(demo_db, clock, interpreter, fake_telegram, fake_twilio) as w:
            # The process "dies" after storing and acknowledging: the work never runs.
            async def die(_: Any) -> None:
                raise asyncio.CancelledError

            w.webhook.inbox.handle = die  # type: ignore[method-assign,assignment]
            response = await w.client.post(
                "/webhooks/telegram", json=w.text("hi"), headers={SECRET_HEADER: SECRET}
            )
            assert response.status_code == 200

    async def second_life() -> None:
        async with telegram_world(demo_db, clock, interpreter, fake_telegram, fake_twilio) as w:
            # The restarted service answers what it stored but never answered, by itself.
            for _ in range(200):
                if w.telegram_inbound()[0].processed_at is not None:
                    break
                await asyncio.sleep(0.05)
            await w.dispatch()
            assert "Hello Gareth" in sent_to(w.fake, GARETH_ID)[0].params["text"]
            assert w.telegram_inbound()[0].processed_at is not None

    asyncio.run(first_life())
    asyncio.run(second_life())


# --- a resident books a visit with buttons ----------------------------------------------


def test_gareth_books_a_visit_by_pressing_buttons(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        await world.post(world.text("hi"))
        await world.dispatch()
        menu = sent_to(world.fake, GARETH_ID)[-1]
        book = next(b for b in menu.buttons if b["text"] == "Book a repair visit")
        assert len(book["callback_data"].encode()) <= 64
        await world.post(world.press(menu, book["callback_data"]))
        await world.dispatch()
        assert (
            "anything the operative should know"
            in sent_to(world.fake, GARETH_ID)[-1].params["text"].lower()
        )
        await world.post(world.text("nothing"))
        await world.dispatch()
        offers = sent_to(world.fake, GARETH_ID)[-1]
        assert len(offers.buttons) >= 2
        first_window = offers.buttons[0]
        await world.post(world.press(offers, first_window["callback_data"]))
        await world.dispatch()

        photos = [s for s in sent_to(world.fake, GARETH_ID) if s.method == "sendPhoto"]
        assert len(photos) == 1
        assert photos[0].params["caption"].startswith("Booked: " + first_window["text"])
        assert world.fake.calls_to("sendPhoto")[0].files["photo"][:8] == b"\x89PNG\r\n\x1a\n"
        # One message: the photo, captioned with when, who, the visit code and the options.
        code_message = sent_to(world.fake, GARETH_ID)[-1]
        assert code_message.method == "sendPhoto"
        assert "visit code" in code_message.params["caption"]
        assert [b["text"] for b in code_message.buttons] == [
            "Change the time",
            "Call the visit off",
        ]
        # Every press answered, and each keyboard removed once chosen from.
        assert len(world.fake.calls_to("answerCallbackQuery")) == 2
        removed = world.fake.calls_to("editMessageReplyMarkup")
        assert [int(c.params["message_id"]) for c in removed] == [
            menu.message_id,
            offers.message_id,
        ]
        assert all("reply_markup" not in c.params for c in removed)

    run(scenario)


def test_an_old_or_repeated_press_changes_nothing(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        await world.post(world.text("hi"))
        await world.dispatch()
        menu = sent_to(world.fake, GARETH_ID)[-1]
        appointments = next(b for b in menu.buttons if b["text"] == "My appointments")
        await world.post(world.press(menu, appointments["callback_data"]))
        await world.dispatch()
        sends_before = len(sent_to(world.fake, GARETH_ID))
        stored_before = len(world.telegram_inbound())

        # The same button again, a button from the same old menu, and a forged one.
        book = next(b for b in menu.buttons if b["text"] == "Book a repair visit")
        for data in (appointments["callback_data"], book["callback_data"], "o:999999:1", "x"):
            assert (await world.post(world.press(menu, data))).status_code == 200
        await world.dispatch()

        answers = world.fake.calls_to("answerCallbackQuery")
        assert [a.params.get("text") for a in answers[1:]] == ["That choice has expired"] * 4
        assert len(sent_to(world.fake, GARETH_ID)) == sends_before
        assert len(world.telegram_inbound()) == stored_before

    run(scenario)


def test_someone_elses_button_press_is_refused(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        await world.post(world.text("hi"))
        await world.dispatch()
        menu = sent_to(world.fake, GARETH_ID)[-1]
        data = menu.buttons[0]["callback_data"]
        await world.post(world.press(menu, data, user_id=STRANGER_ID))
        answers = world.fake.calls_to("answerCallbackQuery")
        assert [a.params.get("text") for a in answers] == ["That choice has expired"]
        assert len(world.telegram_inbound()) == 1

    run(scenario)


# --- linking --------------------------------------------------------------------------


def test_a_stranger_is_told_how_to_link_and_learns_nothing(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        await world.post(world.text("when is my visit", user_id=STRANGER_ID))
        [answer] = world.fake.sent_to(STRANGER_ID)
        assert "Share my phone number" in answer.params["text"]
        button = answer.params["reply_markup"]["keyboard"][0][0]
        assert button == {"text": "Share my phone number", "request_contact": True}
        for name in ("Gareth", "Margaret", "Okafor", "RH-"):
            assert name not in answer.params["text"]
        assert world.query(lambda s: s.exec(select(OutboxMessage)).all()) == []

    run(scenario)


def test_sharing_someone_elses_contact_is_refused(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        spoof = world.contact(MARGARET_MOBILE, contact_user_id=111, user_id=STRANGER_ID)
        await world.post(spoof)
        no_id = world.contact(MARGARET_MOBILE, contact_user_id=None, user_id=STRANGER_ID)
        await world.post(no_id)
        texts = [c.params["text"] for c in world.fake.sent_to(STRANGER_ID)]
        assert len(texts) == 2
        assert all(t.startswith("Please share your own contact") for t in texts)
        assert world.resident(MARGARET_MOBILE).telegram_id is None

    run(scenario)


def test_sharing_your_own_contact_links_you(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        own = world.contact("447400123456", contact_user_id=STRANGER_ID, user_id=STRANGER_ID)
        await world.post(own)
        assert world.resident(MARGARET_MOBILE).telegram_id == STRANGER_ID
        await world.dispatch()
        [welcome] = world.fake.sent_to(STRANGER_ID)
        assert welcome.params["text"].startswith("Thanks, Margaret")
        # An unknown number gets the same answer as any failure: nothing about anyone.
        other = world.contact(
            "+447700900123", contact_user_id=STRANGER_ID + 1, user_id=STRANGER_ID + 1
        )
        await world.post(other)
        [refusal] = world.fake.sent_to(STRANGER_ID + 1)
        assert "could not link" in refusal.params["text"]

    run(scenario)


def test_a_deep_link_works_once_and_not_twice(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        margaret = world.resident(MARGARET_MOBILE)

        def offer(session: Any) -> int | None:
            return offer_telegram_link(
                session, margaret, world.clock.now(), bot_username=BOT_USERNAME
            )

        outbox_id = world.query(offer)
        sms = world.query(lambda s: s.get(OutboxMessage, outbox_id))
        assert sms.channel == Channel.SMS and sms.address == MARGARET_MOBILE
        link = next(w for w in sms.text.split() if w.startswith("https://t.me/"))
        assert link.startswith(f"https://t.me/{BOT_USERNAME}?start=")
        token = link.split("start=")[1]
        stored = world.query(lambda s: s.exec(select(LinkToken)).one())
        assert token not in stored.token_hash

        await world.post(world.text(f"/start {token}", user_id=STRANGER_ID))
        assert world.resident(MARGARET_MOBILE).telegram_id == STRANGER_ID
        assert all(token not in m.text for m in world.telegram_inbound())
        # The same link from another account: refused, Margaret stays linked to the first.
        await world.post(world.text(f"/start {token}", user_id=STRANGER_ID + 1))
        assert world.resident(MARGARET_MOBILE).telegram_id == STRANGER_ID
        [refusal] = world.fake.sent_to(STRANGER_ID + 1)
        assert "expired or was already used" in refusal.params["text"]

    run(scenario)


def test_a_deep_link_expires_after_a_day(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        margaret = world.resident(MARGARET_MOBILE)
        token = world.query(
            lambda s: create_link_token(s, resident_id=margaret.id or 0, now=world.clock.now())
        )
        world.clock.advance(timedelta(hours=24, seconds=1))
        await world.post(world.text(f"/start {token}", user_id=STRANGER_ID))
        assert world.resident(MARGARET_MOBILE).telegram_id is None

    run(scenario)


# --- when Telegram cannot deliver ---------------------------------------------------------


def test_a_blocked_bot_marks_gareth_unreachable_and_service_messages_go_by_sms(
    run: Any, fake_twilio: FakeTwilio
) -> None:
    async def scenario(world: TelegramWorld) -> None:
        # Gareth opens a conversation, then blocks the bot.
        await world.post(world.text("hi"))
        await world.dispatch()
        world.fake.block(GARETH_ID)
        gareth = world.resident(GARETH_MOBILE)

        def notice(session: Any) -> None:
            from storage.repositories.outbox import enqueue

            enqueue(
                session, key="notice:test", kind="notice", purpose="conversation",
                text="Your repair has been passed to our damp team.", not_before=world.clock.now(),
                now=world.clock.now(), channel=Channel.TELEGRAM, address=str(GARETH_ID),
                resident_id=gareth.id,
            )  # fmt: skip

        world.query(notice)
        await world.dispatch()
        await world.dispatch()
        assert world.resident(GARETH_MOBILE).telegram_unreachable_at == world.clock.now()
        row = world.query(
            lambda s: s.exec(select(OutboxMessage).where(OutboxMessage.kind == "notice")).one()
        )
        assert (row.channel, row.status) == (Channel.SMS, OutboxStatus.SENT)
        assert [m["to"] for m in fake_twilio.accepted()][-1:] == [GARETH_MOBILE]

    run(scenario)


def test_a_429_holds_the_reply_for_retry_after(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        world.fake.fail_next(
            "sendMessage", status=429, description="Too Many Requests: retry after 40",
            retry_after=40,
        )  # fmt: skip
        await world.post(world.text("hi"))
        await world.dispatch()
        row = world.query(lambda s: s.exec(select(OutboxMessage)).one())
        assert row.status == OutboxStatus.PENDING
        assert row.not_before >= world.clock.now() + timedelta(seconds=40)
        assert world.fake.sent_to(GARETH_ID) == []
        world.clock.advance(timedelta(seconds=41))
        await world.dispatch()
        assert len(world.fake.sent_to(GARETH_ID)) == 1

    run(scenario)


def test_a_blank_message_or_a_sticker_gets_a_polite_prompt(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        blank = world.text("   ")
        sticker = world.text("x")
        del sticker["message"]["text"]
        sticker["message"]["sticker"] = {
            "file_id": "s1",
            "file_unique_id": "u1",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        for update in (blank, sticker):
            assert (await world.post(update)).status_code == 200
        answers = [s.params["text"] for s in sent_to(world.fake, GARETH_ID)]
        assert len(answers) == 2
        for answer in answers:
            assert "no words" in answer and "type what you need" in answer

    run(scenario)
