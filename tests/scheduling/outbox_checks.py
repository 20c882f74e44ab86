"""What the scheduling tests read back: the outbox rows, each row's recorded decisions,
and a dispatch pass at a chosen moment through the real dispatcher with a recording
sender in place of Twilio."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.common.clock import FixedClock
from bot.outbound.dispatcher import Dispatcher
from bot.outbound.fake import RecordingSender
from bot.outbound.planning import on_sent
from storage.db import Database
from storage.enums import Channel
from storage.models import ContactDecision, OutboxMessage

LONDON = ZoneInfo("Europe/London")


def rows(db: Database) -> dict[str, OutboxMessage]:
    with db.session() as session:
        return {r.kind: r for r in session.exec(select(OutboxMessage)).all()}


def decisions(db: Database, outbox_id: int | None) -> list[tuple[str, str]]:
    with db.session() as session:
        found = session.exec(
            select(ContactDecision)
            .where(ContactDecision.outbox_id == outbox_id)
            .order_by(col(ContactDecision.id))
        ).all()
        return [(str(d.decision), d.reason_code) for d in found]


def dispatch_at(db: Database, moment: datetime) -> RecordingSender:
    sender = RecordingSender()
    dispatcher = Dispatcher(
        db=db,
        senders={Channel.SMS: sender},
        clock=FixedClock(moment),
        zone=LONDON,
        on_sent=on_sent,
    )
    asyncio.run(dispatcher.run_once())
    return sender
