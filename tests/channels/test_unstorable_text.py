"""Characters no database can store (NUL; a lone UTF-16 surrogate) through every real way in.

PostgreSQL text cannot hold NUL and no database holds a lone surrogate (not valid UTF-8).
Whatever webhook a message arrives by, it is stored with U+FFFD where those characters
were, answered as usual, and nothing answers 500 (which would make the channel deliver it
again and again, unanswered).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.test_telegram_webhook import (
    GARETH_ID,
    SECRET,
    TelegramWorld,
    fake_telegram,
    fake_twilio,
    run,
    sent_to,
)
from fastapi.testclient import TestClient
from sqlmodel import col, select

from bot.channels.telegram.webhook import SECRET_HEADER
from bot.common.clock import FixedClock
from fakes.fake_twilio import FakeTwilio, running
from fakes.sms_harness import MARGARET, sms_settings, sms_world
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import Channel, Direction
from storage.models import Message, Operative, Resident

__all__ = ["fake_telegram", "fake_twilio", "run"]

OPERATIVE_TG = 700000099


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


def _escaped(body: Any) -> bytes:
    """JSON as Telegram and browsers send it: a lone surrogate escaped as \\udXXX (httpx's
    own `json=` cannot encode one)."""
    return json.dumps(body, ensure_ascii=True).encode()


async def _post_update(world: TelegramWorld, update: dict[str, Any]) -> int:
    response = await world.client.post(
        "/webhooks/telegram",
        content=_escaped(update),
        headers={SECRET_HEADER: SECRET, "content-type": "application/json"},
    )
    await world.webhook.wait_idle()
    return response.status_code


def _last_inbound(db: Database, channel: Channel, address: str) -> Message:
    with db.session() as session:
        row = session.exec(
            select(Message)
            .where(
                Message.channel == channel,
                Message.address == address,
                Message.direction == Direction.INBOUND,
            )
            .order_by(col(Message.id).desc())
        ).first()
        assert row is not None
        return row


def test_a_nul_in_a_signed_twilio_text_is_stored_and_answered(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            response = await world.text("hel\x00lo")
            assert response.status_code == 200
            (stored,) = world.inbound()
            assert stored.text == "hel\ufffdlo"
            assert stored.processed_at is not None
            replies = world.outbox()
            assert replies and {r.address for r in replies} == {MARGARET}
            assert all(r.idempotency_key.startswith(f"reply:{stored.id}:") for r in replies)

    asyncio.run(scenario())


def test_a_nul_in_a_stop_text_still_opts_the_resident_out(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    """The transaction path (Twilio's OptOutType), not only the usual text's fast one."""

    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            response = await world.text("STOP\x00", extra={"OptOutType": "STOP"})
            assert response.status_code == 200
            (stored,) = world.inbound()
            assert stored.text == "STOP\ufffd"

    asyncio.run(scenario())
    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        assert resident.sms_opted_out_at is not None


@pytest.mark.parametrize("bad", ["\x00", chr(0xD800), chr(0xDFFF)], ids=["nul", "high", "low"])
def test_a_residents_telegram_message_with_unstorable_text_is_stored_and_answered(
    run: Any, bad: str
) -> None:
    async def scenario(world: TelegramWorld) -> None:
        assert await _post_update(world, world.text(f"hi{bad}")) == 200
        stored = _last_inbound(world.db, Channel.TELEGRAM, str(GARETH_ID))
        assert stored.text == "hi\ufffd"
        assert stored.processed_at is not None
        await world.dispatch()
        assert sent_to(world.fake, GARETH_ID), "Gareth got no answer"

    run(scenario)


@pytest.mark.parametrize("bad", ["\x00", chr(0xD800)], ids=["nul", "surrogate"])
def test_a_strangers_telegram_message_with_unstorable_text_is_kept_and_answered(
    run: Any, bad: str
) -> None:
    stranger = 812345679

    async def scenario(world: TelegramWorld) -> None:
        assert await _post_update(world, world.text(f"hello{bad}", user_id=stranger)) == 200
        stored = _last_inbound(world.db, Channel.TELEGRAM, str(stranger))
        assert stored.text == "hello\ufffd"
        assert sent_to(world.fake, stranger), "the stranger was not told how to link"

    run(scenario)


@pytest.mark.parametrize("bad", ["\x00", chr(0xDC00)], ids=["nul", "surrogate"])
def test_an_operatives_telegram_message_with_unstorable_text_is_kept_and_answered(
    run: Any, bad: str
) -> None:
    async def scenario(world: TelegramWorld) -> None:
        with world.db.session() as session:
            operative = session.exec(select(Operative).order_by(col(Operative.id))).first()
            assert operative is not None
            operative.telegram_id = OPERATIVE_TG
            session.add(operative)
        assert await _post_update(world, world.text(f"where{bad}", user_id=OPERATIVE_TG)) == 200
        stored = _last_inbound(world.db, Channel.TELEGRAM, str(OPERATIVE_TG))
        assert stored.text == "where\ufffd"
        assert sent_to(world.fake, OPERATIVE_TG), "the operative got no answer"

    run(scenario)


@pytest.mark.parametrize("bad", ["\x00", chr(0xD800), chr(0xDFFF)], ids=["nul", "high", "low"])
def test_a_simulator_message_with_unstorable_text_is_stored_and_answered(
    client: TestClient, demo_db: Database, bad: str
) -> None:
    response = client.post(
        "/simulator/api/messages",
        content=_escaped({"phone": MARGARET, "text": f"hel{bad}lo"}),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["replies"], "no answer"
    stored = _last_inbound(demo_db, Channel.SIMULATOR, MARGARET)
    assert stored.text == "hel\ufffdlo"


@pytest.mark.parametrize("field", ["phone", "option_key", "message_id"])
def test_a_lone_surrogate_in_another_simulator_field_is_refused_not_a_crash(
    client: TestClient, demo_db: Database, field: str
) -> None:
    body: dict[str, Any] = {"phone": MARGARET, "text": "hello"}
    body[field] = f"x{chr(0xD800)}y"
    response = client.post(
        "/simulator/api/messages",
        content=_escaped(body),
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"]
