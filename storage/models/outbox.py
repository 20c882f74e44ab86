"""Everything the service sends on its own initiative, and why it did or did not go."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from storage.enums import Channel, Decision, OutboxStatus
from storage.models._base import enum_field, json_field, utc_field

#: The live outbox: rows waiting to go or on their way (a small set however long the
#: history). Written as SQL text so a query can repeat it word for word and PostgreSQL
#: and SQLite both see that the partial index below applies.
LIVE_OUTBOX = "status IN ('pending', 'sending')"
#: What counts towards a resident's caps: the service's own messages, not replies.
NOT_A_REPLY = "purpose <> 'reply'"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        #: /metrics: the oldest due message and the live depth read the live rows only.
        Index(
            "ix_outbox_live",
            "not_before",
            postgresql_where=text(LIVE_OUTBOX),
            sqlite_where=text(LIVE_OUTBOX),
        ),
        #: The dispatcher's caps: a resident's sends in the cap's window, not their history.
        Index(
            "ix_outbox_resident_sent",
            "resident_id",
            "sent_at",
            postgresql_where=text(NOT_A_REPLY),
            sqlite_where=text(NOT_A_REPLY),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    operative_id: int | None = Field(default=None, foreign_key="operatives.id", index=True)
    appointment_id: int | None = Field(default=None, foreign_key="appointments.id", index=True)
    appointment_version: int | None = None
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", index=True)
    kind: str
    purpose: str
    channel: Channel | None = enum_field(Channel, default=None)
    address: str | None = None
    text: str
    payload: dict[str, Any] = json_field()
    #: (appointment, version, kind) or another stable key: planning twice is harmless.
    idempotency_key: str = Field(unique=True)
    time_critical: bool = False
    not_before: datetime = utc_field(index=True)
    expires_at: datetime | None = utc_field(nullable=True)
    status: OutboxStatus = enum_field(OutboxStatus, default=OutboxStatus.PENDING, index=True)
    attempts: int = 0
    #: Who claimed the row for sending and when: a row left "sending" after a crash is
    #: reconciled with the provider, never blindly sent again.
    claimed_at: datetime | None = utc_field(nullable=True)
    claimed_by: str | None = None
    last_error: str | None = None
    provider_message_id: str | None = Field(default=None, index=True)
    created_at: datetime = utc_field()
    sent_at: datetime | None = utc_field(nullable=True)


class ContactDecision(SQLModel, table=True):
    __tablename__ = "contact_decisions"
    #: The contact log pages newest first by (at, id), whole or by reason or decision.
    __table_args__ = (
        Index("ix_contact_decisions_at_id", "at", "id"),
        Index("ix_contact_decisions_reason_at_id", "reason_code", "at", "id"),
        Index("ix_contact_decisions_decision_at_id", "decision", "at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    decision: Decision = enum_field(Decision)
    reason_code: str
    detail: str = ""
    at: datetime = utc_field()
