"""Conversation state rows: one per channel address, locked while a message is handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.enums import Channel
from storage.models import Conversation
from storage.repositories._dialect import insert_ignore


def lock_conversation(
    session: Session, *, channel: Channel, address: str, resident_id: int | None, now: datetime
) -> Conversation:
    """Get (creating if needed) and lock the conversation for this address.

    The row lock serialises two messages from the same resident handled by two
    workers, so neither overwrites the other's state. SQLite's single writer does this
    for us; PostgreSQL needs FOR UPDATE.
    """
    query = select(Conversation).where(
        Conversation.channel == channel, Conversation.address == address
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    conversation = session.exec(query).first()
    if conversation is None:  # first message from this address: create it, race-safe
        insert_ignore(
            session,
            Conversation.__table__,  # type: ignore[attr-defined]
            {
                "channel": channel.value,
                "address": address,
                "resident_id": resident_id,
                "flow": "idle",
                "state": "start",
                "data": {},
                "paused": False,
                "updated_at": now,
            },
        )
        conversation = session.exec(query).one()
    if resident_id is not None and conversation.resident_id != resident_id:
        conversation.resident_id = resident_id
    return conversation


def of_addresses(
    session: Session, *, channel: Channel, addresses: Sequence[str]
) -> list[Conversation]:
    """The conversations of these addresses on `channel` that exist, unlocked (the
    snapshot path reads them for a batch of messages at once)."""
    return list(
        session.exec(
            select(Conversation).where(
                Conversation.channel == channel, col(Conversation.address).in_(addresses)
            )
        ).all()
    )


def of_resident(session: Session, *, resident_id: int, lock: bool) -> list[Conversation]:
    """Every conversation the resident has (SMS, Telegram, the simulator); with `lock`,
    locked `FOR UPDATE` on PostgreSQL."""
    query = select(Conversation).where(Conversation.resident_id == resident_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return list(session.exec(query).all())


def timed_out(session: Session, *, now: datetime, idle_flow: str) -> list[Conversation]:
    """Conversations part way through a flow whose timeout has passed; on PostgreSQL
    locked `FOR UPDATE SKIP LOCKED`, so two sweepers never reset the same one."""
    query = select(Conversation).where(
        col(Conversation.expires_at).is_not(None),
        col(Conversation.expires_at) <= now,
        Conversation.flow != idle_flow,
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query).all())
