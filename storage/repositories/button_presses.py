"""What judging a Telegram button press reads: the chat's questions and answers since.

A press counts only for the latest question with buttons in that chat, and only if the
resident has not said anything since it was asked (bot/channels/telegram/webhook.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.enums import Channel, Direction
from storage.models import Message, OutboxMessage


def payloads_after(
    session: Session, *, address: str, outbox_id: int, limit: int
) -> list[Mapping[str, Any]]:
    """The payloads of the next `limit` outbox rows to this Telegram chat after `outbox_id`."""
    return list(
        session.exec(
            select(OutboxMessage.payload)
            .where(
                OutboxMessage.channel == Channel.TELEGRAM,
                OutboxMessage.address == address,
                col(OutboxMessage.id) > outbox_id,
            )
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        ).all()
    )


def said_since(
    session: Session,
    *,
    address: str,
    after_message_id: int | None = None,
    after: datetime | None = None,
) -> bool:
    """Whether this Telegram user wrote anything after inbound message `after_message_id`
    (the one the question answered) or, when that is not known, after the time `after`."""
    query = select(Message.id).where(
        Message.channel == Channel.TELEGRAM,
        Message.address == address,
        Message.direction == Direction.INBOUND,
    )
    if after_message_id is not None:
        query = query.where(col(Message.id) > after_message_id)
    elif after is not None:
        query = query.where(col(Message.created_at) > after)
    return session.exec(query.limit(1)).first() is not None
