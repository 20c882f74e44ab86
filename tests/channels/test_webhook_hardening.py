"""Every webhook bounds its body and answers malformed input with a 4xx, never a 500
(issue 13, items 8 and 11), through the real app on both databases.

Twilio: one signature fits more than one form (names and values are concatenated with
nothing in between), so a replay with a moved boundary must not become a new message;
only urlencoded forms are read. Telegram: a body past the limit is refused before it is
read in full; an update we cannot use (an id past 64 bits, a forged button) is answered
200 and ignored, since Telegram would deliver it again after a 4xx. The simulator's API
has the same bound on its body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
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

from bot.channels.sms.forms import MAX_FORM_BYTES
from bot.channels.telegram.webhook import CHOICE_EXPIRED, MAX_UPDATE_BYTES, SECRET_HEADER
from bot.common.clock import FixedClock
from bot.web.simulator import MAX_BODY_BYTES
from fakes.fake_twilio import ACCOUNT_SID, FakeTwilio, running, sign
from fakes.sms_harness import MARGARET, PUBLIC, SmsWorld, new_sid, sms_settings, sms_world
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.models import Message, Operative

__all__ = ["fake_telegram", "fake_twilio", "run"]

INBOUND = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"
FORM_TYPE = "application/x-www-form-urlencoded"
FIFTY_MB = 50 * 1024 * 1024
CHUNK = 64 * 1024
OPERATIVE_TG = 700000099


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


class Drip:
    """A request body streamed in chunks, counting how much of it the server pulled."""

    def __init__(self, total: int, chunk: int = CHUNK) -> None:
        self.total = total
        self.chunk = chunk
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += self.chunk
            yield b"a" * self.chunk


def _twilio_form(sid: str, body: str = "hello") -> dict[str, str]:
    """An inbound text as Twilio posts it (tests/fakes/sms_harness.py, SmsWorld.text)."""
    return {
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
        "From": MARGARET,
        "ApiVersion": "2010-04-01",
    }


async def _post_raw(
    world: SmsWorld,
    content: Any,
    *,
    path: str = INBOUND,
    signature: str | None,
    content_type: str = FORM_TYPE,
    length: int | None = None,
) -> httpx.Response:
    headers = {"content-type": content_type}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    if length is not None:
        headers["content-length"] = str(length)
    return await world.client.post(path, content=content, headers=headers)


# --- Twilio: one signature, one message ------------------------------------------------


def test_a_replayed_signature_with_a_moved_boundary_stores_nothing_new(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    """Twilio signs `MessageSid` + sid + `NumMedia` + `0` + ...: moving `NumMedia0` into the
    MessageSid's value keeps the signed string, and the signature, the same. Before the fix
    each such replay was stored (and answered) as a new message: three from one text."""

    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            sid = new_sid()
            original = _twilio_form(sid)
            signature = sign(PUBLIC + INBOUND, original)
            response = await _post_raw(world, urlencode(original), signature=signature)
            assert response.status_code == 200
            await world.processed(sid)

            moved_once = {k: v for k, v in original.items() if k != "NumMedia"}
            moved_once["MessageSid"] = sid + "NumMedia0"
            moved_twice = {k: v for k, v in moved_once.items() if k != "NumSegments"}
            moved_twice["MessageSid"] = sid + "NumMedia0NumSegments1"
            # The legacy aliases folded into NumSegments' value: no alias left to compare.
            aliases_dropped = {
                k: v for k, v in moved_once.items() if k not in ("SmsSid", "SmsMessageSid")
            }
            aliases_dropped["NumSegments"] = f"1SmsMessageSid{sid}SmsSid{sid}"
            for forged in (moved_once, moved_twice, aliases_dropped):
                # The forgery is signed as far as Twilio's validator can tell ...
                assert sign(PUBLIC + INBOUND, forged) == signature
                response = await _post_raw(world, urlencode(forged), signature=signature)
                # ... and refused as a malformed form all the same.
                assert response.status_code == 400, response.text

            # A repeated name (the validator folds repeats into one sorted set, while the
            # app would read one of them) is refused too, whatever the values.
            repeated = [*original.items(), ("MessageSid", sid)]
            response = await _post_raw(world, urlencode(repeated), signature=signature)
            assert response.status_code == 400
            # The MessageSid moved into the query string changes the signed URL: refused.
            response = await world.client.post(
                f"{INBOUND}?MessageSid={new_sid()}",
                content=urlencode(original),
                headers={"content-type": FORM_TYPE, "X-Twilio-Signature": signature},
            )
            assert response.status_code == 403

            assert [m.channel_message_id for m in world.inbound()] == [sid]

    asyncio.run(scenario())


def test_a_message_sid_of_the_wrong_shape_is_refused(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            good = new_sid()
            for sid in (good.upper(), good[:-1], good + "0", "sm" + good[2:], good[:33] + "g"):
                form = {"MessageSid": sid, "From": MARGARET, "Body": "hi"}
                assert (await world.post(INBOUND, form)).status_code == 400, sid
            mismatch = {**_twilio_form(good), "SmsSid": new_sid()}
            assert (await world.post(INBOUND, mismatch)).status_code == 400
            nul_sender = {**_twilio_form(new_sid()), "From": "+4474001\x0023456"}
            assert (await world.post(INBOUND, nul_sender)).status_code == 400
            status = {"MessageSid": good + "x", "MessageStatus": "delivered"}
            assert (await world.post(STATUS, status)).status_code == 400
            assert world.inbound() == []

    asyncio.run(scenario())


def test_a_multipart_or_json_request_is_refused_not_a_crash(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    """Before: a multipart upload's file reached the signature check as an UploadFile and
    the webhook answered 500."""

    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            form = _twilio_form(new_sid())
            signature = sign(PUBLIC + INBOUND, form)
            for path in (INBOUND, STATUS):
                for headers in ({}, {"X-Twilio-Signature": signature}):
                    upload = await world.client.post(
                        path,
                        data=form,
                        files={"Body": ("evil.txt", b"hello", "text/plain")},
                        headers=headers,
                    )
                    assert upload.status_code == (415 if headers else 403), upload.text
                as_json = await world.client.post(
                    path, json=form, headers={"X-Twilio-Signature": signature}
                )
                assert as_json.status_code == 415
            # The same form, urlencoded and signed, is still taken.
            assert (await world.post(INBOUND, form)).status_code == 200
            assert len(world.inbound()) == 1

    asyncio.run(scenario())


def test_an_oversized_form_is_refused_before_it_is_read(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> None:
    async def scenario() -> None:
        settings = sms_settings(demo_db.url, fake)
        async with sms_world(settings, demo_db, clock, interpreter, fake) as world:
            signature = sign(PUBLIC + INBOUND, _twilio_form(new_sid()))
            for path in (INBOUND, STATUS):
                declared = Drip(FIFTY_MB)
                response = await _post_raw(
                    world, declared, path=path, signature=signature, length=FIFTY_MB
                )
                assert response.status_code == 413
                assert declared.pulled == 0, "a declared length over the limit is not read"
                chunked = Drip(FIFTY_MB)
                response = await _post_raw(world, chunked, path=path, signature=signature)
                assert response.status_code == 413
                assert chunked.pulled <= MAX_FORM_BYTES + CHUNK, "read past the limit"
            # A long text, percent-encoded, is well inside the limit.
            long_text = _twilio_form(new_sid(), body="é😀" * 800)
            assert (await world.post(INBOUND, long_text)).status_code == 200
            assert len(world.inbound()) == 1

    asyncio.run(scenario())


# --- Telegram --------------------------------------------------------------------------


async def _post_telegram(
    world: TelegramWorld, content: Any, *, length: int | None = None
) -> httpx.Response:
    headers = {SECRET_HEADER: SECRET, "content-type": "application/json"}
    if length is not None:
        headers["content-length"] = str(length)
    response = await world.client.post("/webhooks/telegram", content=content, headers=headers)
    await world.webhook.wait_idle()
    return response


def test_a_fifty_megabyte_update_is_refused_before_it_is_read(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        declared = Drip(FIFTY_MB)
        assert (await _post_telegram(world, declared, length=FIFTY_MB)).status_code == 413
        assert declared.pulled == 0
        chunked = Drip(FIFTY_MB)
        assert (await _post_telegram(world, chunked)).status_code == 413
        assert chunked.pulled <= MAX_UPDATE_BYTES + CHUNK
        # Without the secret nothing is read at all.
        unsigned = Drip(FIFTY_MB)
        response = await world.client.post("/webhooks/telegram", content=unsigned)
        assert response.status_code == 403 and unsigned.pulled == 0
        assert world.telegram_inbound() == []

    run(scenario)


@pytest.mark.parametrize("user_id", [2**63, 2**64 + 5, -(2**63) - 1], ids=["2^63", "2^64", "neg"])
def test_a_user_id_past_64_bits_is_ignored_not_a_crash(run: Any, user_id: int) -> None:
    async def scenario(world: TelegramWorld) -> None:
        assert (await world.post(world.text("hello", user_id=user_id))).status_code == 200
        assert (
            await world.post(world.text("/link ABCDE-FGHJK", user_id=user_id))
        ).status_code == 200
        contact = world.contact("+447400123463", contact_user_id=user_id, user_id=user_id)
        assert (await world.post(contact)).status_code == 200
        assert world.telegram_inbound() == []
        # Gareth is still served.
        assert (await world.post(world.text("hi"))).status_code == 200
        await world.dispatch()
        assert sent_to(world.fake, GARETH_ID)

    run(scenario)


FORGED_PRESSES = (
    "o:99999999999:1",
    "o:²:1",
    "o:1:#²",
    "o:1:#99999999999999999999",
    "o:99999999999999999999999:#1",
    "o:1:v:omw:²",
    "o:1:v:omw:99999999999",
    "v:omw:99999999999",
    "v:omw:²",
    "v:late:1:²",
    "v:omw:0",
)


@pytest.mark.parametrize("presser", ["resident", "operative"])
def test_forged_button_data_is_answered_as_expired_not_a_crash(run: Any, presser: str) -> None:
    async def scenario(world: TelegramWorld) -> None:
        user_id = GARETH_ID
        if presser == "operative":
            user_id = OPERATIVE_TG
            with world.db.session() as session:
                operative = session.exec(select(Operative).order_by(col(Operative.id))).first()
                assert operative is not None
                operative.telegram_id = OPERATIVE_TG
                session.add(operative)
        await world.post(world.text("hi"))
        await world.dispatch()
        menu = sent_to(world.fake, GARETH_ID)[-1]
        stored_before = len(world.telegram_inbound())
        for data in FORGED_PRESSES:
            response = await world.post(world.press(menu, data, user_id=user_id))
            assert response.status_code == 200, data
        answers = world.fake.calls_to("answerCallbackQuery")
        assert [a.params.get("text") for a in answers] == [CHOICE_EXPIRED] * len(FORGED_PRESSES)
        assert len(world.telegram_inbound()) == stored_before

    run(scenario)


def test_updates_we_cannot_use_are_ignored_and_bodies_that_are_not_json_refused(
    run: Any,
) -> None:
    """Never a 500: an update that passed the secret but cannot be used is answered 200 and
    dropped (a 4xx would have Telegram deliver it again and again); a body that is no
    JSON at all is a 400."""

    async def scenario(world: TelegramWorld) -> None:
        def with_message(**changes: Any) -> dict[str, Any]:
            update = world.text("hello")
            update["message"].update(changes)
            return update

        def press_with_id(query_id: Any) -> dict[str, Any]:
            return world.update(
                callback_query={
                    "id": query_id,
                    "from": {"id": GARETH_ID, "is_bot": False, "first_name": "Gareth"},
                    "chat_instance": "1",
                    "data": "o:1:1",
                }
            )

        ignored: list[dict[str, Any]] = [
            with_message(date=2**62),
            with_message(date=1e300),
            with_message(date="yesterday"),
            with_message(chat={"id": 2**63, "type": "private"}),
            with_message(**{"from": {"id": "Gareth", "is_bot": False, "first_name": "G"}}),
            {"update_id": 2**70, "message": world.text("hi")["message"]},
            {"update_id": True, "message": world.text("hi")["message"]},
            press_with_id("x" * 10_000),
            press_with_id("1\x002"),
            press_with_id(f"1{chr(0xD800)}"),
            press_with_id(""),
            press_with_id(7),
        ]
        for update in ignored:
            body = json.dumps(update, ensure_ascii=True).encode()
            response = await _post_telegram(world, body)
            assert response.status_code == 200, json.dumps(update)[:200]
        refused = [
            b"[" * 200_000 + b"]" * 200_000,  # nested past the recursion limit
            b'{"update_id": 1' + b"0" * 5000 + b"}",  # past int()'s digit limit
            b'{"update_id": 1, "message": "\xff"}',  # not UTF-8
        ]
        for body in refused:
            response = await _post_telegram(world, body)
            assert response.status_code == 400, body[:40]
        assert world.telegram_inbound() == []

    run(scenario)


# --- the simulator's API -----------------------------------------------------------------


def test_an_oversized_simulator_request_is_refused_before_it_is_read(
    client: TestClient, demo_db: Database
) -> None:
    async def scenario() -> None:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            headers = {"content-type": "application/json"}
            declared = Drip(FIFTY_MB)
            response = await http.post(
                "/simulator/api/messages",
                content=declared,
                headers={**headers, "content-length": str(FIFTY_MB)},
            )
            assert response.status_code == 413 and response.json()["detail"]
            assert declared.pulled == 0
            chunked = Drip(FIFTY_MB)
            response = await http.post("/simulator/api/messages", content=chunked, headers=headers)
            assert response.status_code == 413
            assert chunked.pulled <= MAX_BODY_BYTES + CHUNK
            clock = Drip(FIFTY_MB)
            response = await http.post("/simulator/api/clock", content=clock, headers=headers)
            assert response.status_code == 413

    asyncio.run(scenario())
    # The longest text the API takes, escaped as JSON escapes emoji, is still read.
    longest = json.dumps({"phone": MARGARET, "text": "😀" * 10_000}, ensure_ascii=True)
    assert len(longest) > 100_000
    response = client.post(
        "/simulator/api/messages", content=longest, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    with demo_db.session() as session:
        assert session.exec(select(Message).where(Message.text == "😀" * 10_000)).first()
