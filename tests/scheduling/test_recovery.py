"""A message acknowledged but never answered is answered within a couple of minutes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.app import build_runtime, build_scheduler
from bot.common.clock import FixedClock
from bot.common.events import InboundMessage
from bot.settings import load_settings
from nlu.builtin import BuiltinInterpreter
from storage.db import Database
from storage.enums import Channel
from storage.models import Message, OutboxMessage


def test_the_scheduler_answers_what_was_stored_but_never_answered(
    demo_db: Database, clock: FixedClock, interpreter: BuiltinInterpreter
) -> None:
    runtime = build_runtime(
        load_settings(database_url=demo_db.url, scheduler_in_process=False),
        clock=clock,
        interpreter=interpreter,
    )
    scheduler = build_scheduler(runtime, worker_id="test", dispatch=False)
    try:
        inbound = InboundMessage(Channel.SMS, "+447400123457", "hello", "SMlost1", clock.now())
        assert asyncio.run(runtime.pipeline.store(inbound)) is not None
        asyncio.run(scheduler.leader_job())
        assert asyncio.run(scheduler.recover_job()) == 0  # still in flight: left alone
        clock.advance(timedelta(minutes=2))
        assert asyncio.run(scheduler.recover_job()) == 1
        assert asyncio.run(scheduler.recover_job()) == 0
        with demo_db.session() as session:
            stored = session.exec(
                select(Message).where(Message.channel_message_id == "SMlost1")
            ).one()
            reply = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reply")).one()
        assert stored.processed_at is not None
        assert reply.text.startswith("Hello David")
    finally:
        asyncio.run(scheduler.shutdown())
        runtime.db.dispose()
