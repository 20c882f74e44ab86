"""Bad input through the simulator API and the pipeline: refused clearly or answered politely,
never a crash, never half-stored, and what a resident wrote is kept exactly as written.

The SMS and Telegram webhooks have their own malformed-payload tests
(tests/channels, tests/reliability/test_security.py); the staff pages' escaping is tested
with them. Here the simulator page is the HTML view of a transcript: it puts text into the
page with textContent only (bot/web/static/simulator.js), so the guarantee checked here is that
the stored text and the JSON API carry the message intact, byte for byte (the simulator
trims leading and trailing whitespace, as a phone's keyboard would not send it).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.common.clock import FixedClock
from bot.common.events import Handled, InboundMessage
from bot.inbound.pipeline import SORRY, Pipeline
from flows.actions import BookVisit
from flows.context import FlowInput, StepContext
from flows.engine import ConversationState, FlowRegistry, StepResult
from flows.sms import sms_cost
from storage.db import Database
from storage.enums import Channel, Direction
from storage.models import (
    Appointment,
    Availability,
    Conversation,
    Message,
    OutboxMessage,
    StaffTask,
)

API = "/simulator/api/messages"
MARGARET = "+447400123456"
DAVID = "+447400123457"
GARETH_TELEGRAM = "700000001"

#: One valid character from each of the 17 Unicode planes (0-16): assigned ones where the
#: plane has any (CJK extensions, tags, private use), else an unassigned scalar value, which
#: is still a valid character to carry.
EVERY_PLANE = "".join(
    (
        "é中",  # 0: Latin-1, CJK
        "\U0001d11e\U0001f600",  # 1: musical G clef, grinning face
        "\U00020000",  # 2: CJK extension B
        "\U00030000",  # 3: CJK extension G
        *(chr(plane * 0x10000 + 0x1234) for plane in range(4, 14)),  # 4-13: unassigned
        "\U000e0041",  # 14: tag latin capital A
        "\U000f0000",  # 15: private use
        "\U0010fffd",  # 16: the last private-use character
    )
)
UNUSUAL = {
    "every plane": f"hello {EVERY_PLANE}",
    "emoji sequences": "book a visit 👩\u200d👩\u200d👧\u200d👦 🏴\U000e0067\U000e0062\U000e0077"
    "\U000e006c\U000e0073\U000e007f 👍🏽",
    "control characters": "yes\x07\x08\x1b[31m red \x0b\x0c\r\nnext\x85line\x7f\x01",
    "rtl override": "check code \u202e4321\u202c and \u2066\u05e9\u05dc\u05d5\u05dd\u2069",
    "script": "<script>alert(document.cookie)</script>",
    "html": "\"'><img src=x onerror=alert(1)><svg/onload=alert(2)>&amp;&lt;",
    "templates": "{{ 7*7 }} {% raw %} ${7*7} #{7*7} %s %(x)s {0}",
    "sql": "'; DROP TABLE messages; -- \" OR 1=1",
    "zero width": "b\u200bo\u200co\u200dk a visit\ufeff",
    "combining": "Z\u0351\u0368\u0364a\u0358\u0315l\u034bg\u0315o\u0353 book",
    "max length emoji": "😀" * 10_000,
    "max length text": ("I can smell gas " * 700)[:9_999] + "!",
}


def _counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Message, OutboxMessage, Conversation, StaffTask, Appointment)
        }


def _inbound(session: Session, address: str) -> list[Message]:
    """What this test's sender wrote (the demo data has earlier conversations too)."""
    return list(
        session.exec(
            select(Message)
            .where(
                Message.direction == Direction.INBOUND,
                Message.address == address,
                col(Message.channel_message_id).not_like("demo-%"),
            )
            .order_by(col(Message.id))
        ).all()
    )


# -- malformed requests: refused, nothing stored ---------------------------------------


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("empty body", {"content": b""}),
    ("not json", {"content": b"{phone: +447400123456, text: hi"}),
    ("truncated json", {"content": b'{"phone": "+447400123456", "text": "hi'}),
    ("not utf-8", {"content": b'{"phone": "+447400123456", "text": "\xff\xfe"}'}),
    ("json null", {"json": None}),
    ("json list", {"json": [{"phone": MARGARET, "text": "hi"}]}),
    ("json string", {"json": "hello"}),
    ("json number", {"json": 7}),
    ("empty object", {"json": {}}),
    ("no phone", {"json": {"text": "hi"}}),
    ("no text", {"json": {"phone": MARGARET}}),
    ("phone as number", {"json": {"phone": 447400123456, "text": "hi"}}),
    ("phone as list", {"json": {"phone": [MARGARET], "text": "hi"}}),
    ("text as number", {"json": {"phone": MARGARET, "text": 1}}),
    ("text as null", {"json": {"phone": MARGARET, "text": None}}),
    ("text as object", {"json": {"phone": MARGARET, "text": {"$ne": ""}}}),
    ("option key as number", {"json": {"phone": MARGARET, "text": "1", "option_key": 1}}),
    ("option key too long", {"json": {"phone": MARGARET, "text": "1", "option_key": "1" * 65}}),
    ("message id as object", {"json": {"phone": MARGARET, "text": "hi", "message_id": {}}}),
    ("message id too long", {"json": {"phone": MARGARET, "text": "hi", "message_id": "m" * 129}}),
    ("10,001 characters", {"json": {"phone": MARGARET, "text": "x" * 10_001}}),
    ("10,001 emoji", {"json": {"phone": MARGARET, "text": "😀" * 10_001}}),
    ("nested 100,000 deep", {"content": b"[" * 100_000 + b"]" * 100_000}),
]

NOT_UK_MOBILES = (
    "0113 496 0000",  # Leeds landline
    "+44 20 7946 0000",  # London landline (drama range)
    "07700 900123",  # Ofcom drama mobile range: not a real mobile
    "0800 123 4567",  # freephone
    "+33 6 12 34 56 78",  # French mobile
    "+1 202 555 0143",  # US
    "+353 85 123 4567",  # Irish mobile
    "07400 12345",  # too short
    "07400 1234567890",  # too long
    "+44",
    "",
    "   ",
    "not a phone",
    "+447400123456; DROP TABLE messages",
    "<script>alert(1)</script>",
    "\x00",
)


@pytest.mark.parametrize(("what", "request_kwargs"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_request_is_refused_and_nothing_is_stored(
    roomy_client: TestClient, demo_db: Database, what: str, request_kwargs: dict[str, Any]
) -> None:
    before = _counts(demo_db)
    response = roomy_client.post(
        API, headers={"content-type": "application/json"}, **request_kwargs
    )
    assert response.status_code in (400, 422), f"{what}: {response.status_code}"
    assert "detail" in response.json()
    assert _counts(demo_db) == before


@pytest.mark.parametrize("blank", ["", " \t\r\n\u3000 "], ids=["empty", "whitespace"])
def test_a_blank_text_is_answered_with_a_prompt_not_refused(
    roomy_client: TestClient, blank: str
) -> None:
    response = roomy_client.post(API, json={"phone": MARGARET, "text": blank})
    assert response.status_code == 200, response.text
    (reply,) = response.json()["replies"]
    assert "no words" in reply["text"] and "type what you need" in reply["text"]


def test_numbers_that_are_not_uk_mobiles_are_refused_and_nothing_is_stored(
    roomy_client: TestClient, demo_db: Database
) -> None:
    before = _counts(demo_db)
    for number in NOT_UK_MOBILES:
        for path, method in ((API, "post"), ("/simulator/api/transcript", "get")):
            if method == "post":
                response = roomy_client.post(path, json={"phone": number, "text": "hello"})
            else:
                response = roomy_client.get(path, params={"phone": number})
            assert response.status_code == 422, f"{number!r} on {path}: {response.text}"
            assert "detail" in response.json()
    assert _counts(demo_db) == before


def test_the_clock_api_refuses_nonsense_and_keeps_the_time(roomy_client: TestClient) -> None:
    start = roomy_client.get("/simulator/api/clock").json()["now"]
    for body in (
        {},
        {"advance_minutes": "soon"},
        {"advance_minutes": 10**9},
        {"set": "yesterday"},
        {"set": "2026-13-40T25:00:00Z"},
        {"set": None, "advance_minutes": None},
    ):
        response = roomy_client.post("/simulator/api/clock", json=body)
        assert response.status_code == 422, body
    assert roomy_client.get("/simulator/api/clock").json()["now"] == start


# -- unusual content: answered politely, kept exactly -----------------------------------


@pytest.mark.parametrize("what", list(UNUSUAL))
def test_unusual_messages_are_answered_and_kept_byte_for_byte(
    roomy_client: TestClient, demo_db: Database, what: str
) -> None:
    text = UNUSUAL[what]
    response = roomy_client.post(API, json={"phone": MARGARET, "text": text})
    assert response.status_code == 200, response.text
    replies = response.json()["replies"]
    assert replies, f"{what}: no answer"
    assert all(r["text"] and r["text"] != SORRY.text for r in replies)
    with demo_db.session() as session:
        (stored,) = _inbound(session, MARGARET)
    assert stored.text.encode("utf-8") == text.encode("utf-8")
    assert stored.processed_at is not None
    transcript = roomy_client.get("/simulator/api/transcript", params={"phone": MARGARET}).json()
    assert transcript[0]["direction"] == "in"
    assert transcript[0]["text"] == text
    assert [t["text"] for t in transcript[1:]] == [r["text"] for r in replies]


def test_replies_that_repeat_a_residents_words_stay_plain_text(
    roomy_client: TestClient, demo_db: Database
) -> None:
    """Access needs are read back in the resident's own words: markup comes back as the
    same characters (the page shows them with textContent), and the SMS stays sendable."""
    words = "I use a <b>wheelchair</b> & my dog <script>bites</script>"
    for text in ("book a visit", "2", words):
        response = roomy_client.post(API, json={"phone": DAVID, "text": text})
        assert response.status_code == 200
    echoed = response.json()["replies"][-1]["text"]
    assert "<b>wheelchair</b> & my dog <script>bites</script>" in echoed
    assert sms_cost(echoed).segments >= 1


def test_a_nul_byte_is_kept_as_a_replacement_character_on_every_database(
    roomy_client: TestClient, demo_db: Database
) -> None:
    """PostgreSQL text cannot hold NUL; before bot/inbound/pipeline.py's `storable` the message was
    lost with a 500 there. Now it is answered, and staff see where the NUL was."""
    response = roomy_client.post(API, json={"phone": MARGARET, "text": "hel\x00lo"})
    assert response.status_code == 200
    assert response.json()["replies"][0]["text"].startswith("Hello Margaret")
    with demo_db.session() as session:
        (stored,) = _inbound(session, MARGARET)
    assert stored.text == "hel\ufffdlo"


def test_a_button_that_was_never_offered_gets_a_polite_answer(
    roomy_client: TestClient, demo_db: Database
) -> None:
    for key in ("9", "0", "-1", "<script>", "../../etc/passwd", "1" * 64, "\u202e1"):
        response = roomy_client.post(API, json={"phone": DAVID, "text": "", "option_key": key})
        assert response.status_code == 200, key
        replies = response.json()["replies"]
        assert replies and all(r["text"] != SORRY.text for r in replies), key
    with demo_db.session() as session:
        assert all(m.processed_at is not None for m in _inbound(session, DAVID))


# -- the pipeline directly: every channel, empty bodies ---------------------------------


_ids = itertools.count(1)


def _receive(
    pipeline: Pipeline, clock: FixedClock, channel: Channel, address: str, text: str
) -> Handled:
    inbound = InboundMessage(
        channel=channel,
        address=address,
        text=text,
        channel_message_id=f"bad-{next(_ids)}",
        received_at=clock.now(),
    )
    return asyncio.run(pipeline.receive(inbound))


@pytest.mark.parametrize(
    ("channel", "address"),
    [(Channel.SMS, MARGARET), (Channel.TELEGRAM, GARETH_TELEGRAM), (Channel.SMS, "+447400999999")],
    ids=["sms resident", "telegram resident", "sms stranger"],
)
def test_empty_and_odd_bodies_from_a_webhook_are_answered_through_the_outbox(
    pipeline: Pipeline, clock: FixedClock, demo_db: Database, channel: Channel, address: str
) -> None:
    """Twilio posts an empty Body for a picture message; Telegram sends stickers with no
    text. The pipeline takes whatever the adapter passes and still answers."""
    bodies = ("", " ", "\n\n", "\x00", "\ud800 lone surrogate", EVERY_PLANE, "😀" * 10_000)
    for body in bodies:
        handled = _receive(pipeline, clock, channel, address, body)
        assert not handled.duplicate
        assert handled.replies, repr(body[:20])
        assert SORRY not in handled.replies, repr(body[:20])
    with demo_db.session() as session:
        stored = _inbound(session, address)
        outbox = session.exec(select(OutboxMessage).where(OutboxMessage.address == address)).all()
    assert len(stored) == len(bodies)
    assert all(m.processed_at is not None for m in stored)
    assert [m.text for m in stored][-2:] == [EVERY_PLANE, "😀" * 10_000]
    assert stored[3].text == "\ufffd"
    assert stored[4].text == "\ufffd lone surrogate"
    assert outbox and all(row.purpose == "reply" and row.text != SORRY.text for row in outbox)


# -- a flow that crashes: the boundary still answers and nothing is half-stored ----------


class _Boom(RuntimeError):
    pass


def _crashing_registry(*, after_booking: bool) -> FlowRegistry:
    """A registry whose router raises; with `after_booking` it first asks for a booking and
    raises on the follow-up step, after the booking was applied in the transaction."""

    def idle(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult:
        if not after_booking or message.is_follow_up:
            raise _Boom("a flow bug")
        assert ctx.resident is not None and ctx.resident.open_jobs
        slot = next(s for s in ctx.slots if ctx.resident.open_jobs[0].trade in s.trades)
        book = BookVisit(job_id=ctx.resident.open_jobs[0].id, day=slot.day, window=slot.window)
        return StepResult(state, (), (book,), follow_up=True)

    return FlowRegistry(flows={}, idle=idle)


def _crashing(pipeline: Pipeline, *, after_booking: bool) -> Pipeline:
    """The real pipeline and database with the crashing registry in place of our flows."""
    return Pipeline(
        db=pipeline.db,
        interpreter=pipeline.interpreter,
        flows=_crashing_registry(after_booking=after_booking),
        clock=pipeline.clock,
        zone=pipeline.zone,
    )


def test_a_crashing_flow_still_gets_the_polite_reply_and_is_marked_processed(
    pipeline: Pipeline, clock: FixedClock, demo_db: Database
) -> None:
    crashing = _crashing(pipeline, after_booking=False)
    sms = _receive(crashing, clock, Channel.SMS, MARGARET, "hello")
    simulator = _receive(crashing, clock, Channel.SIMULATOR, MARGARET, "hello")
    assert sms.replies == simulator.replies == (SORRY,)
    with demo_db.session() as session:
        stored = _inbound(session, MARGARET)
        outbox = session.exec(select(OutboxMessage).where(OutboxMessage.address == MARGARET)).all()
        shown = session.exec(
            select(Message).where(
                Message.direction == Direction.OUTBOUND, Message.channel == Channel.SIMULATOR
            )
        ).all()
    assert len(stored) == 2 and all(m.processed_at is not None for m in stored)
    assert [row.text for row in outbox] == [SORRY.text]  # SMS: through the outbox
    assert [m.text for m in shown] == [SORRY.text]  # simulator: in the transcript
    # A poison message is not tried again at the next start-up, and the service recovers.
    assert asyncio.run(pipeline.process_pending()) == 0
    after = _receive(pipeline, clock, Channel.SMS, MARGARET, "hello")
    assert after.replies[0].text.startswith("Hello Margaret")


def test_a_flow_that_crashes_after_booking_leaves_no_half_booked_visit(
    pipeline: Pipeline, clock: FixedClock, demo_db: Database
) -> None:
    crashing = _crashing(pipeline, after_booking=True)
    with demo_db.session() as session:
        booked_before = session.exec(select(func.sum(Availability.booked))).one()
    before = _counts(demo_db)
    handled = _receive(crashing, clock, Channel.SMS, MARGARET, "book me in")
    assert handled.replies == (SORRY,)
    after = _counts(demo_db)
    with demo_db.session() as session:
        booked_after = session.exec(select(func.sum(Availability.booked))).one()
        (stored,) = _inbound(session, MARGARET)
    assert booked_after == booked_before
    assert after["Appointment"] == before["Appointment"]
    assert after["Message"] == before["Message"] + 1  # the inbound message, kept
    assert after["OutboxMessage"] == before["OutboxMessage"] + 1  # the apology
    assert stored.processed_at is not None
