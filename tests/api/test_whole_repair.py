"""A whole repair driven by a landlord's systems through the integration API and the real
webhooks only (issue 14): the landlord upserts a home, a resident, an operative, windows
and a job; the resident is invited and books by SMS; the landlord's receiver gets
`appointment.booked`, signed; the landlord moves the visit through the API, the resident is
re-confirmed and the old visit's reminders never go out; on the day the operative records
no access on Telegram and the receiver gets the evidence. A second landlord on the same
Doorstep sees none of it.

Outside the project only fakes stand in: Twilio's and Telegram's HTTP APIs as local
servers, and the landlord's webhook receiver as a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from api.world import make_key
from channels.test_telegram_webhook import (  # noqa: F401  (fake_telegram: a fixture)
    TelegramWorld,
    fake_telegram,
    sent_to,
    telegram_settings,
)
from dispatch.test_webhooks import Receiver
from operatives.test_operatives_telegram import button
from sqlmodel import select

from bot.app import create_app
from bot.common.clock import FixedClock
from bot.common.webhook_signing import SIGNATURE_HEADER, verify
from bot.outbound.planning import plan
from bot.outbound.webhooks import WebhookWorker, subscribe
from fakes.fake_telegram import FakeTelegram
from fakes.fake_twilio import FakeTwilio, running
from fakes.sms_harness import PUBLIC, SmsWorld
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import AppointmentStatus, OutboxStatus
from storage.models import Appointment, Operative, OutboxMessage, RepairJob
from storage.repositories import landlords

MOBILE = "+447400123499"
OPERATIVE_TG = 655000077
JOB = "HMS-J-9001"


@pytest.fixture
def twilio(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


@pytest.fixture
def run(
    demo_db: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake_telegram: FakeTelegram,  # noqa: F811
    twilio: FakeTwilio,
) -> Callable[[Callable[[TelegramWorld], Awaitable[None]]], None]:
    """The real app with SMS (fake Twilio) and Telegram (fake Bot API), reachable at PUBLIC
    so the Twilio webhooks' signatures check."""
    settings = telegram_settings(demo_db.url, fake_telegram, twilio).model_copy(
        update={"public_base_url": PUBLIC}
    )

    def runner(scenario: Callable[[TelegramWorld], Awaitable[None]]) -> None:
        async def main() -> None:
            app = create_app(settings, clock=clock, interpreter=interpreter, rng=random.Random(7))
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver"
                ) as client:
                    await scenario(TelegramWorld(app, client, demo_db, clock, fake_telegram))

        asyncio.run(main())

    return runner


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.up()
    yield r
    r.down()


class Landlord:
    """The landlord's housing management system: the API with one key, and its receiver."""

    def __init__(self, world: TelegramWorld, key: str) -> None:
        self.world = world
        self.headers = {"Authorization": f"Bearer {key}"}

    async def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.world.client.put(f"/api/v1{path}", json=body, headers=self.headers)

    async def get(self, path: str) -> httpx.Response:
        return await self.world.client.get(f"/api/v1{path}", headers=self.headers)


def _texts_to(twilio: FakeTwilio, mobile: str, since: int) -> list[str]:
    return [m["body"] for m in twilio.accepted()[since:] if m["to"] == mobile]


async def _deliver(world: TelegramWorld) -> None:
    """What the scheduler does every few seconds: plan, send messages, send webhooks."""
    plan(world.db, now=world.clock.now())
    await world.dispatch()
    await WebhookWorker(db=world.db, clock=world.clock, timeout=2.0).run_once()


def _events(receiver: Receiver, secret: str, now: datetime) -> list[dict[str, Any]]:
    """What the landlord's receiver got; each delivery's signature is checked once, when it
    has just arrived, as a receiver would (a replay five minutes later would be refused)."""
    for got in receiver.got:
        if got.headers.get("x-checked"):
            continue
        header = got.headers[SIGNATURE_HEADER]
        assert verify(secret, header, got.body, now=now.timestamp())
        assert not verify(secret, header, got.body + b" ", now=now.timestamp())
        assert not verify(secret, header, got.body, now=now.timestamp() + 301)
        got.headers["x-checked"] = "yes"
    return [got.event for got in receiver.got]


def test_a_whole_repair_through_the_api_and_webhooks(
    run: Callable[[Callable[[TelegramWorld], Awaitable[None]]], None],
    twilio: FakeTwilio,
    receiver: Receiver,
) -> None:
    async def scenario(world: TelegramWorld) -> None:
        db, clock = world.db, world.clock
        hms = Landlord(world, make_key(db, clock, "demo"))
        other = Landlord(world, make_key(db, clock, "acme"))
        with db.session() as session:
            demo = landlords.by_reference(session, reference="demo")
            assert demo is not None and demo.id is not None
            secret = subscribe(
                session, landlord_id=demo.id, url=receiver.url, kinds=(), now=clock.now()
            ).secret

        # -- the landlord's nightly sync: home, resident, operative, windows, job ---------
        home = {
            "uprn": "100023336956",
            "address_line_1": "7 Orchard Row",
            "town_or_city": "Leeds",
            "postcode": "ls6 2ab",
            "nation": "england",
        }
        assert (await hms.put("/properties/HMS-P-1", home)).status_code == 201
        resident = {"name": "Nia Roberts", "mobile": "07400 123499", "property": "HMS-P-1"}
        assert (await hms.put("/residents/HMS-T-1", resident)).status_code == 201
        operative = {
            "name": "Tom Hughes",
            "employer": "Summit Roofing Ltd",
            "badge_number": "SR-4410",
            "trades": ["roofing"],
        }
        assert (await hms.put("/operatives/HMS-O-1", operative)).status_code == 201
        for day in ("2026-12-01", "2026-12-02", "2026-12-03"):
            windows = {"windows": {"morning": 1, "afternoon": 0}}
            response = await hms.put(f"/operatives/HMS-O-1/windows/{day}", windows)
            assert response.status_code == 200, response.text
        job = {
            "property": "HMS-P-1",
            "resident": "HMS-T-1",
            "trade": "roofing",
            "description": "Slipped tiles above the back bedroom",
            "priority": "routine",
            "raised_at": "2026-11-30T08:40:00+00:00",
        }
        assert (await hms.put(f"/jobs/{JOB}", job)).status_code == 201
        # Sent again, nothing changes.
        assert (await hms.put(f"/jobs/{JOB}", job)).json()["status"] == "unchanged"

        # -- the resident is invited, and books by SMS -------------------------------------
        sent = len(twilio.accepted())
        await _deliver(world)
        (invite,) = _texts_to(twilio, MOBILE, sent)
        assert "Slipped tiles above the back bedroom" in invite
        assert "1" in invite and "choose a time" in invite.lower()

        sms = SmsWorld(world.app, world.client, db, clock, twilio)
        sent = len(twilio.accepted())
        assert (await sms.text("1", sender=MOBILE)).status_code == 200
        await world.dispatch()
        (question,) = _texts_to(twilio, MOBILE, sent)
        assert "anything the operative should know" in question.lower()  # before every booking
        sent = len(twilio.accepted())
        assert (await sms.text("0", sender=MOBILE)).status_code == 200
        await world.dispatch()
        (offer,) = _texts_to(twilio, MOBILE, sent)
        choice = re.search(r"^(\d) Tue 1 Dec, morning 8am-12pm$", offer, re.MULTILINE)
        assert choice, offer

        sent = len(twilio.accepted())
        assert (await sms.text(choice.group(1), sender=MOBILE)).status_code == 200
        await world.dispatch()
        booked = "\n".join(_texts_to(twilio, MOBILE, sent))
        assert "Booked: Tue 1 Dec, morning 8am-12pm" in booked
        assert "Tom Hughes" in booked and "SR-4410" in booked

        await _deliver(world)
        events = _events(receiver, secret, clock.now())
        assert [e["type"] for e in events] == ["appointment.booked"]
        assert events[0]["job"] == JOB and events[0]["landlord"] == "demo"
        assert events[0]["data"]["appointment"]["date"] == "2026-12-01"
        assert events[0]["data"]["appointment"]["operative"] == "HMS-O-1"
        assert events[0]["data"]["by"] == "resident"
        assert MOBILE not in receiver.got[0].body.decode() and "7400" not in str(events[0])

        # -- an hour later the landlord's scheduler moves it: re-confirmed, and the old
        # visit's reminders never go out (an hour: service messages are 30 minutes apart) --
        clock.advance(timedelta(hours=1))
        sent = len(twilio.accepted())
        move = {"date": "2026-12-02", "window": "morning", "operative": "HMS-O-1"}
        moved = await hms.put(f"/jobs/{JOB}/appointment", move)
        assert moved.status_code == 200, moved.text
        assert moved.json()["change"] == "moved"
        await _deliver(world)
        (reconfirmed,) = _texts_to(twilio, MOBILE, sent)
        assert "Wed 2 Dec, morning 8am-12pm" in reconfirmed
        assert "Tue 1 Dec" not in reconfirmed
        events = _events(receiver, secret, clock.now())
        assert [e["type"] for e in events] == ["appointment.booked", "appointment.changed"]
        assert events[1]["data"]["by"] == "landlord"
        assert events[1]["data"]["appointment"]["date"] == "2026-12-02"

        # The old visit's evening reminder was due Mon 18:00: it never goes out.
        clock.set(datetime(2026, 11, 30, 18, 5, tzinfo=UTC))
        sent = len(twilio.accepted())
        await _deliver(world)
        assert not any("Tue 1 Dec" in text for text in _texts_to(twilio, MOBILE, sent))
        with db.session() as session:
            job_row = session.exec(select(RepairJob).where(RepairJob.reference == JOB)).one()
            appointment = session.exec(
                select(Appointment).where(Appointment.job_id == job_row.id)
            ).one()
            first_version = session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.appointment_id == appointment.id,
                    OutboxMessage.appointment_version == 1,
                    OutboxMessage.kind.startswith("reminder"),  # type: ignore[attr-defined]
                )
            ).all()
            assert all(row.status != OutboxStatus.SENT for row in first_version)
            operative_row = session.exec(
                select(Operative).where(Operative.reference == "HMS-O-1")
            ).one()
            operative_row.telegram_id = OPERATIVE_TG
            session.add(operative_row)
        code = appointment.visit_code

        # -- on the day, the operative cannot get in and records no access ---------------
        clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
        await world.post(world.text("/today", user_id=OPERATIVE_TG))
        card = next(m for m in sent_to(world.fake, OPERATIVE_TG) if code in m.params["text"])
        await world.post(world.press(card, button(card, "Can't get in"), user_id=OPERATIVE_TG))
        await _deliver(world)  # the resident is told the operative is at the door
        offer_no_access = sent_to(world.fake, OPERATIVE_TG)[-1]
        clock.advance(timedelta(minutes=11))
        await world.post(
            world.press(
                offer_no_access,
                button(offer_no_access, "Record no access"),
                user_id=OPERATIVE_TG,
            )
        )
        await _deliver(world)
        events = _events(receiver, secret, clock.now())
        assert [e["type"] for e in events] == [
            "appointment.booked",
            "appointment.changed",
            "visit.no_access",
        ]
        evidence = events[2]["data"]["evidence"]
        assert evidence["waited_minutes"] >= 10
        assert evidence["cant_get_in_at"].startswith("2026-12-02T09:00")
        with db.session() as session:
            assert session.get(Appointment, appointment.id).status == AppointmentStatus.NO_ACCESS  # type: ignore[union-attr]

        # -- the feed says the same, and the other landlord sees nothing ------------------
        feed = (await hms.get("/events")).json()
        assert [e["type"] for e in feed["events"]] == [e["type"] for e in events]
        assert (await other.get("/events")).json()["events"] == []
        for path in (f"/jobs/{JOB}", "/residents/HMS-T-1", "/properties/HMS-P-1"):
            assert (await other.get(path)).status_code == 404
            assert (await hms.get(path)).status_code == 200
        assert (await other.put(f"/jobs/{JOB}/appointment", move)).status_code == 404

    run(scenario)
