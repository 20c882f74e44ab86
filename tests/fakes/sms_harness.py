"""The app with SMS switched on, aimed at a fake Twilio, driven like Twilio drives it.

Everything runs in one event loop: the app (with its lifespan) behind httpx's ASGI
transport, its background conversations, the dispatcher and the real twilio client.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from bot.app import create_app
from bot.channels.sms.sender import TwilioSender
from bot.channels.sms.setup import sms_sender_from_settings
from bot.outbound.dispatcher import Dispatcher
from bot.settings import Settings, load_settings
from fakes.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, FakeTwilio, sign
from flows.clock import Clock
from nlu.interpreter import Interpreter
from storage.db import Database
from storage.enums import Channel, Direction
from storage.models import Message, OutboxMessage

T = TypeVar("T")
PUBLIC = "https://doorstep.example.org"
MARGARET = "+447400123456"
PRIYA = "+447400123462"


def sms_settings(database_url: str, fake: FakeTwilio | None, **extra: Any) -> Settings:
    return load_settings(
        database_url=database_url,
        simulator=True,
        public_base_url=PUBLIC,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_messaging_service_sid=MESSAGING_SERVICE_SID,
        twilio_api_base=fake.base_url if fake else "http://127.0.0.1:9",
        twilio_rate_per_second=100,
        # Tests drive the dispatcher themselves, one cycle at a time.
        scheduler_in_process=False,
        **extra,
    )


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


class SmsWorld:
    """The app, a client that speaks as Twilio, the dispatcher and the database."""

    def __init__(
        self, app: FastAPI, client: httpx.AsyncClient, db: Database, clock: Clock, fake: Any
    ) -> None:
        self.app = app
        self.client = client
        self.db = db
        self.clock = clock
        self.fake = fake
        #: MessageSids this world posted as Twilio (the demo data has its own history).
        self.sids: list[str] = []
        settings: Settings = app.state.runtime.settings
        self.sender: TwilioSender = sms_sender_from_settings(settings, clock=clock)
        self.dispatcher = Dispatcher(
            db=db, senders={Channel.SMS: self.sender}, clock=clock, zone=settings.zone
        )

    async def text(
        self,
        body: str,
        *,
        sender: str = MARGARET,
        sid: str | None = None,
        extra: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> httpx.Response:
        """A resident's text as Twilio posts it; waits until the conversation has run."""
        sid = sid or new_sid()
        self.sids.append(sid)
        form = {
            "ToCountry": "GB",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": "+447700900000",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "ApiVersion": "2010-04-01",
            **(extra or {}),
        }
        response = await self.post("/webhooks/twilio/sms", form)
        if wait and response.status_code == 200:
            await self.processed(sid)
        return response

    async def status(self, sid: str, status: str, error_code: int | None = None) -> httpx.Response:
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": ACCOUNT_SID,
            "To": MARGARET,
            "ApiVersion": "2010-04-01",
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return await self.post("/webhooks/twilio/status", form)

    async def post(
        self, path: str, form: Mapping[str, str], *, signature: str | None = ""
    ) -> httpx.Response:
        """POST a signed form (signature "" = sign it properly, None = no header)."""
        headers = {}
        if signature == "":
            headers["X-Twilio-Signature"] = sign(PUBLIC + path, form)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await self.client.post(path, data=dict(form), headers=headers)

    async def processed(self, sid: str, timeout: float = 20.0) -> Message:
        def done() -> Message | None:
            with self.db.session() as session:
                row = session.exec(select(Message).where(Message.channel_message_id == sid)).first()
                return row if row is not None and row.processed_at is not None else None

        return await until(done, timeout)

    def outbox(self) -> list[OutboxMessage]:
        """Replies to texts that came through the webhook in this test."""
        with self.db.session() as session:
            return list(
                session.exec(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.idempotency_key).startswith("reply:"))
                    .order_by(col(OutboxMessage.id))
                )
            )

    def outbound(self) -> list[Message]:
        with self.db.session() as session:
            return list(
                session.exec(
                    select(Message)
                    .where(Message.direction == Direction.OUTBOUND, Message.channel == Channel.SMS)
                    .order_by(col(Message.id))
                )
            )

    def inbound(self) -> list[Message]:
        """Inbound texts that came through the webhook in this test."""
        with self.db.session() as session:
            return list(
                session.exec(
                    select(Message)
                    .where(
                        Message.direction == Direction.INBOUND,
                        Message.channel == Channel.SMS,
                        col(Message.channel_message_id).startswith("SM"),
                    )
                    .order_by(col(Message.id))
                )
            )


async def until(probe: Callable[[], T | None], timeout: float = 20.0) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await asyncio.to_thread(probe)
        if found is not None:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def sms_world(
    settings: Settings, db: Database, clock: Clock, interpreter: Interpreter, fake: Any
) -> AsyncIterator[SmsWorld]:
    app = create_app(settings, clock=clock, interpreter=interpreter, rng=random.Random(7))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            world = SmsWorld(app, client, db, clock, fake)
            try:
                yield world
            finally:
                await world.sender.aclose()
