"""Conversations and their transcripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.enums import Channel, Direction
from storage.models._base import enum_field, json_field, utc_field

#: Bumped by every write to a conversation (the ORM does it for us, see below), so an
#: answer worked out from a snapshot can tell whether the conversation moved meanwhile.
_VERSION = Column("version", Integer, nullable=False, server_default="0")


class Conversation(SQLModel, table=True):
    """One per channel address: an SMS reply can come hours later to another worker."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address"),)
    __mapper_args__ = {"version_id_col": _VERSION}

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = enum_field(Channel)
    address: str
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    flow: str = "idle"
    state: str = "start"
    data: dict[str, Any] = json_field()
    #: Human handoff: automated replies pause until staff close the task.
    paused: bool = False
    updated_at: datetime = utc_field()
    expires_at: datetime | None = utc_field(nullable=True, index=True)
    version: int = Field(default=0, sa_column=_VERSION)


#: Inbound messages stored but not answered yet: a handful however long the transcript.
#: SQL text so the recover query can repeat it word for word and both databases see
#: that the partial index below applies.
UNANSWERED = "direction = 'in' AND processed_at IS NULL"


class Message(SQLModel, table=True):
    """The transcript. Inbound rows are written before the webhook answers."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id"),
        #: The scheduler's recover job, every minute: the unanswered ones, oldest first.
        Index(
            "ix_messages_unanswered",
            "id",
            postgresql_where=text(UNANSWERED),
            sqlite_where=text(UNANSWERED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: Direction = enum_field(Direction)
    channel: Channel = enum_field(Channel)
    address: str = Field(index=True)
    text: str
    #: The channel's own id (Twilio MessageSid, Telegram update id); unique per channel.
    channel_message_id: str | None = None
    created_at: datetime = utc_field(index=True)
    processed_at: datetime | None = utc_field(nullable=True)
    intent: str | None = None
    intent_confidence: float | None = None
    options: list[dict[str, str]] = json_field(factory=list)
    delivery_status: str | None = None
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointments.id", index=True)
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    #: Indexed for the foreign key: deleting an outbox row looks for messages naming it.
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
