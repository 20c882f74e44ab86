"""What staff read of a conversation: the messages said with a resident (on any channel),
the outbox rows queued or stuck that are not in the transcript yet, and the words of the
residents' access needs (so pages can withhold the lines that carry them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from storage.enums import OutboxStatus
from storage.models import AccessNeed, Conversation, Message, OutboxMessage, Resident

#: Outbox rows not yet (or never) in the transcript: staff see what is queued or stuck.
UNSENT = (
    OutboxStatus.PENDING,
    OutboxStatus.SENDING,
    OutboxStatus.FAILED,
    OutboxStatus.EXPIRED,
    OutboxStatus.BLOCKED,
)


def conversation_messages(
    session: Session,
    *,
    resident: Resident | None,
    conversation: Conversation | None,
    since: datetime | None,
    until: datetime | None,
    appointment_id: int | None,
    limit: int,
) -> list[Message]:
    """The latest `limit` messages with the resident, in the conversation or about the
    visit, within the period; oldest first. Empty when nothing identifies them."""
    message_match: list[Any] = []
    if resident is not None and resident.id is not None:
        message_match.append(col(Message.resident_id) == resident.id)
        addresses = [a for a in (resident.mobile, _tg(resident.telegram_id)) if a]
        if addresses:
            message_match.append(col(Message.address).in_(addresses))
    if conversation is not None and conversation.id is not None:
        message_match.append(col(Message.conversation_id) == conversation.id)
        message_match.append(
            (col(Message.channel) == conversation.channel)
            & (col(Message.address) == conversation.address)
        )
    if appointment_id is not None:
        message_match.append(col(Message.appointment_id) == appointment_id)
    if not message_match:
        return []
    query = select(Message).where(or_(*message_match))
    if since is not None:
        query = query.where(col(Message.created_at) >= since)
    if until is not None:
        query = query.where(col(Message.created_at) <= until)
    return list(
        session.exec(
            query.order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(limit)
        )
    )[::-1]


def unsent_outbox(
    session: Session,
    *,
    resident: Resident | None,
    conversation: Conversation | None,
    since: datetime | None = None,
    limit: int = 300,
) -> list[OutboxMessage]:
    """The latest `limit` outbox rows for the resident or the conversation (made at or after
    `since`) that have no transcript row yet, operative briefings left out; oldest first.

    Index lookups only: the resident's and the conversation's outbox rows by their indexes,
    and for each a probe of messages.outbox_id (NOT EXISTS, which PostgreSQL plans as an
    anti-join; NOT IN over every sent message could not use the index).
    """
    conditions: list[Any] = []
    if resident is not None and resident.id is not None:
        conditions.append(col(OutboxMessage.resident_id) == resident.id)
    if conversation is not None and conversation.id is not None:
        conditions.append(col(OutboxMessage.conversation_id) == conversation.id)
    if not conditions:
        return []
    sent = select(Message.id).where(col(Message.outbox_id) == col(OutboxMessage.id))
    query = select(OutboxMessage).where(
        or_(*conditions),
        col(OutboxMessage.status).in_(UNSENT),
        ~exists(sent),
        col(OutboxMessage.kind) != "operative_briefing",
    )
    if since is not None:
        query = query.where(col(OutboxMessage.created_at) >= since)
    newest = query.order_by(col(OutboxMessage.id).desc()).limit(limit)
    return list(session.exec(newest).all())[::-1]


def need_words(session: Session, *, resident_ids: Iterable[int | None]) -> dict[int, list[str]]:
    """The own words of every access need each resident ever gave, retired ones included
    (old messages still quote them), by resident id."""
    ids = sorted({i for i in resident_ids if i is not None})
    words: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return words
    rows = session.exec(
        select(AccessNeed.resident_id, AccessNeed.own_words).where(
            col(AccessNeed.resident_id).in_(ids)
        )
    ).all()
    for resident_id, own_words in rows:
        words[resident_id].append(own_words)
    return words


def _tg(telegram_id: int | None) -> str | None:
    return str(telegram_id) if telegram_id is not None else None
