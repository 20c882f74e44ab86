"""What answering an inbound message writes to the `conversation` and `message` tables.

The conversation's new state (optionally only if its version is the one read), a first
conversation created with its first answer, and the message marked processed (optionally
as the claim: only if still unprocessed). Core statements, not the ORM: every message
ends here, and the ORM's unit of work costs more than the rows it writes.
bot/inbound/answer_writes.py turns a flow's state and the interpreter's parse into these.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, update
from sqlmodel import Session

from storage.enums import Channel
from storage.models import Conversation, Message
from storage.repositories._dialect import insert_ignore

MESSAGES: Table = Message.__table__  # type: ignore[attr-defined]
CONVERSATIONS: Table = Conversation.__table__  # type: ignore[attr-defined]


def save_conversation_state(
    session: Session,
    *,
    conversation_id: int,
    flow: str,
    state: str,
    data: Mapping[str, Any],
    expires_at: datetime | None,
    now: datetime,
    seen_version: int | None = None,
    resident_id: int | None = None,
) -> bool:
    """Write the conversation's new state (and link it to `resident_id` when given); with
    `seen_version`, only if nobody else wrote it since (False then, nothing written)."""
    session.flush()  # whatever actions changed on the row goes first
    query = update(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation_id)
    if seen_version is not None:
        query = query.where(CONVERSATIONS.c.version == seen_version)
    values: dict[str, object] = {
        "flow": flow,
        "state": state,
        "data": dict(data),
        "expires_at": expires_at,
        "updated_at": now,
        "version": CONVERSATIONS.c.version + 1,
    }
    if resident_id is not None:
        values["resident_id"] = resident_id
    result = session.connection().execute(query.values(values))
    return bool(result.rowcount)


def start_conversation(
    session: Session,
    *,
    channel: Channel,
    address: str,
    resident_id: int | None,
    flow: str,
    state: str,
    data: Mapping[str, Any],
    expires_at: datetime | None,
    now: datetime,
) -> int | None:
    """Create the conversation for an address that never wrote before, in the state its
    first message left it; None when another worker created it meanwhile."""
    return insert_ignore(
        session,
        CONVERSATIONS,
        {
            "channel": channel.value,
            "address": address,
            "resident_id": resident_id,
            "flow": flow,
            "state": state,
            "data": dict(data),
            "expires_at": expires_at,
            "paused": False,
            "updated_at": now,
            "version": 1,
        },
    )


def mark_answered(
    session: Session,
    *,
    message_id: int,
    intent: str,
    intent_confidence: float,
    now: datetime,
    conversation_id: int | None,
    resident_id: int | None,
    appointment_id: int | None,
    only_if_unprocessed: bool = False,
) -> bool:
    """Mark the message answered, linked for the evidence; with `only_if_unprocessed`
    this is also the claim (False: someone else answered it first)."""
    session.flush()  # rows the message will refer to (a new appointment) exist first
    query = update(MESSAGES).where(MESSAGES.c.id == message_id)
    if only_if_unprocessed:
        query = query.where(MESSAGES.c.processed_at.is_(None))
    result = session.connection().execute(
        query.values(
            processed_at=now,
            intent=intent,
            intent_confidence=intent_confidence,
            conversation_id=conversation_id,
            resident_id=resident_id,
            appointment_id=appointment_id,
        )
    )
    return bool(result.rowcount)


def link_conversation(session: Session, *, message_id: int, conversation_id: int) -> None:
    session.connection().execute(
        update(MESSAGES).where(MESSAGES.c.id == message_id).values(conversation_id=conversation_id)
    )
