"""Answers worked out from a snapshot (bot/inbound/snapshot.py) never overwrite a conversation
that changed meanwhile, and never answer a message twice."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from bot.common.events import InboundMessage
from bot.inbound.pipeline import Pipeline
from bot.inbound.snapshot import _Moved, _Plan, _plans, _write, quick_answer
from nlu.types import ParseResult
from storage.enums import Channel
from storage.models import Conversation, Message, OutboxMessage, StaffTask

MARGARET = "+447400123456"


def _stored_text(
    pipeline: Pipeline, text: str, sid: str, mobile: str = MARGARET
) -> tuple[int, InboundMessage]:
    inbound = InboundMessage(
        channel=Channel.SMS,
        address=mobile,
        text=text,
        channel_message_id=sid,
        received_at=pipeline.clock.now(),
    )
    message_id = asyncio.run(pipeline.store(inbound))
    assert message_id is not None
    return message_id, inbound


def _parse(pipeline: Pipeline, inbound: InboundMessage) -> ParseResult:
    return asyncio.run(
        pipeline.interpreter.parse(inbound.text, now=inbound.received_at, tz=pipeline.zone.key)
    )


def _conversation(session: Session, mobile: str = MARGARET) -> Conversation:
    return session.exec(
        select(Conversation).where(
            Conversation.channel == Channel.SMS, Conversation.address == mobile
        )
    ).one()


def _replies_to(session: Session, message_id: int) -> list[str]:
    rows = session.exec(
        select(OutboxMessage).where(
            col(OutboxMessage.idempotency_key).startswith(f"reply:{message_id}:")
        )
    ).all()
    return [row.text for row in rows]


def test_a_conversation_paused_meanwhile_is_not_overwritten_and_gets_the_paused_answer(
    client: TestClient,
) -> None:
    pipeline: Pipeline = client.app.state.runtime.pipeline  # type: ignore[attr-defined]
    first_id, first = _stored_text(pipeline, "hello", "SMfirst")
    assert asyncio.run(pipeline.process(first_id, first))  # creates the conversation
    message_id, inbound = _stored_text(pipeline, "when is my visit", "SMsecond")
    parse = _parse(pipeline, inbound)
    with pipeline.db.autocommit() as connection, Session(bind=connection) as reading:
        plan = _plans(pipeline, reading, [(message_id, inbound, parse)])[0]
    assert isinstance(plan, _Plan) and plan.replies  # the flow would have answered
    with pipeline.db.session() as session:  # staff take the conversation over
        conversation = _conversation(session)
        conversation.paused = True
        session.add(conversation)
    with pipeline.db.session() as session:
        assert _conversation(session).version == plan.seen_version + 1

    try:
        with pipeline.db.session() as writing:
            _write(pipeline, writing, plan, message_id, inbound, parse)
        raise AssertionError("a stale snapshot was written")
    except _Moved:
        pass
    with pipeline.db.session() as session:  # the failed write left nothing behind
        assert session.get(Message, message_id).processed_at is None  # type: ignore[union-attr]
        assert _replies_to(session, message_id) == []
        assert _conversation(session).paused is True

    # Answered again through the normal path: under lock, it sees the pause (the answer
    # is the one a paused conversation gets: the facts, and that our team has the message).
    (answer,) = asyncio.run(pipeline.process(message_id, inbound))
    assert "our team has your message" in answer.text.lower()
    with pipeline.db.session() as session:
        assert session.get(Message, message_id).processed_at is not None  # type: ignore[union-attr]
        assert _replies_to(session, message_id) == [answer.text]
        assert _conversation(session).paused is True


def test_a_message_answered_once_is_not_answered_again(client: TestClient) -> None:
    pipeline: Pipeline = client.app.state.runtime.pipeline  # type: ignore[attr-defined]
    first_id, first = _stored_text(pipeline, "hello", "SMone")
    asyncio.run(pipeline.process(first_id, first))
    message_id, inbound = _stored_text(pipeline, "when is my visit", "SMtwo")
    parse = _parse(pipeline, inbound)
    replies = quick_answer(pipeline, message_id, inbound, parse)
    assert replies  # answered from the snapshot: no actions needed
    with pipeline.db.session() as session:
        sent = _replies_to(session, message_id)
        version = _conversation(session).version
    assert sent == [reply.text for reply in replies]

    # A recovery pass (or a second worker) with the same message changes nothing.
    assert quick_answer(pipeline, message_id, inbound, parse) == ()
    assert asyncio.run(pipeline.process(message_id, inbound)) == ()
    with pipeline.db.session() as session:
        assert _replies_to(session, message_id) == sent
        assert _conversation(session).version == version


def test_texts_answered_together_are_each_answered_once_in_each_writers_order(
    client: TestClient,
) -> None:
    pipeline: Pipeline = client.app.state.runtime.pipeline  # type: ignore[attr-defined]
    first, second, third = "+447400123456", "+447400123457", "+447400123458"
    for number, mobile in enumerate((first, second, third)):
        asyncio.run(pipeline.process(*_stored_text(pipeline, "hello", f"SMhi{number}", mobile)))
    with pipeline.db.session() as session:
        versions = {m: _conversation(session, m).version for m in (first, second, third)}

    batch = [
        _stored_text(pipeline, "when is my visit", "SMb1", first),
        _stored_text(pipeline, "when is my visit", "SMb2", second),
        _stored_text(pipeline, "thanks", "SMb3", first),  # the same writer again
        _stored_text(pipeline, "i can smell gas in the kitchen", "SMb4", third),  # actions
    ]
    answered = asyncio.run(pipeline.process_many(batch))

    assert [bool(replies) for replies in answered] == [True, True, True, True]
    assert "0800 111 999" in answered[3][0].text  # the emergency took the locked path
    with pipeline.db.session() as session:
        for (message_id, _), replies in zip(batch, answered, strict=True):
            assert session.get(Message, message_id).processed_at is not None  # type: ignore[union-attr]
            assert _replies_to(session, message_id) == [r.text for r in replies]
        # Each answer saved the conversation once: the first writer's two texts one
        # after the other, never both from the same snapshot.
        assert _conversation(session, first).version == versions[first] + 2
        assert _conversation(session, second).version == versions[second] + 1
        alerts = session.exec(select(StaffTask).where(StaffTask.kind == "alert")).all()
    assert len(alerts) == 1

    # Delivered again (a recovery pass): nothing more is sent.
    assert asyncio.run(pipeline.process_many(batch)) == [(), (), (), ()]
