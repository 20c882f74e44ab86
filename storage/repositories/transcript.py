"""Messages in and out, written so that nothing is lost and nothing processed twice.

Owns the `message` table's inbound side (storing a delivery once, finding the ones never
answered, the locked claim before answering one) and the transcript read in order.
`record_inbound` has one caller in bot/: `bot.inbound.ingest`, which cleans the text first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, text
from sqlmodel import Session, col, select

from storage.enums import Channel, Direction
from storage.models import Message
from storage.models.conversation import UNANSWERED
from storage.repositories._dialect import insert_ignore


def record_inbound(
    session: Session | Connection,
    *,
    channel: Channel,
    address: str,
    text: str,
    channel_message_id: str,
    at: datetime,
) -> int | None:
    """Store an inbound message; None when the channel delivered this message id before."""
    return insert_ignore(
        session,
        Message.__table__,  # type: ignore[attr-defined]
        {
            "direction": Direction.INBOUND.value,
            "channel": channel.value,
            "address": address,
            "text": text,
            "channel_message_id": channel_message_id,
            "created_at": at,
            "options": [],
        },
    )


def record_outbound(
    session: Session,
    *,
    channel: Channel,
    address: str,
    text: str,
    at: datetime,
    options: list[dict[str, str]] | None = None,
    conversation_id: int | None = None,
    resident_id: int | None = None,
    appointment_id: int | None = None,
) -> Message:
    message = Message(
        direction=Direction.OUTBOUND,
        channel=channel,
        address=address,
        text=text,
        created_at=at,
        options=options or [],
        conversation_id=conversation_id,
        resident_id=resident_id,
        appointment_id=appointment_id,
    )
    session.add(message)
    session.flush()
    return message


def unprocessed_inbound(
    session: Session, *, limit: int = 100, stored_before: datetime | None = None
) -> list[Message]:
    """Inbound messages stored but never answered (e.g. the process died in between),
    oldest first: read from the partial index of unanswered ones (`ix_messages_unanswered`,
    whose predicate `UNANSWERED` is repeated word for word), never the whole transcript."""
    query = select(Message).where(text(UNANSWERED))
    if stored_before is not None:
        query = query.where(col(Message.created_at) <= stored_before)
    return list(session.exec(query.order_by(col(Message.id)).limit(limit)))


def transcript(session: Session, *, channel: Channel, address: str) -> list[Message]:
    return list(
        session.exec(
            select(Message)
            .where(Message.channel == channel, Message.address == address)
            .order_by(col(Message.created_at), col(Message.id))
        )
    )


def claim_for_answer(session: Session, *, message_id: int) -> bool:
    """Whether the message is stored and still unanswered; on PostgreSQL its row stays
    locked (`FOR UPDATE`) until the transaction ends, so two workers recovering the same
    message cannot both answer it (SQLite's single writer does that already)."""
    messages = Message.__table__  # type: ignore[attr-defined]
    query = select(messages.c.processed_at).where(messages.c.id == message_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    stored = session.connection().execute(query).first()
    return stored is not None and stored.processed_at is None


def newest_inbound_id(session: Session) -> int:
    """The newest inbound message's id (0 when there is none)."""
    newest = session.exec(
        select(func.max(Message.id)).where(Message.direction == Direction.INBOUND)
    ).one()
    return int(newest or 0)
