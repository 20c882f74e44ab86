"""What connects a landlord's own systems to Doorstep (issue 14): API keys, the events a
landlord's system must know about (a cursor feed), webhook subscriptions and the deliveries
of events to them (a durable outbox of their own, claimed like the message outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._base import json_field, utc_field

#: An integer key that is BIGINT on PostgreSQL and INTEGER (so rowid-backed) on SQLite.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class ApiKey(SQLModel, table=True):
    """A landlord's API key. Only a SHA-256 of the secret is kept: the key is shown once."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    landlord_id: int = Field(foreign_key="landlords.id", index=True)
    name: str = Field(max_length=100)
    #: The key's public part ("dsk_<prefix>_<secret>"): finds the row without the secret.
    prefix: str = Field(max_length=16, unique=True, index=True)
    key_hash: str = Field(max_length=64)
    #: "read" or "write" (write includes read).
    scope: str = Field(default="write", max_length=8)
    created_at: datetime = utc_field()
    last_used_at: datetime | None = utc_field(nullable=True)
    revoked_at: datetime | None = utc_field(nullable=True)


class LandlordEvent(SQLModel, table=True):
    """One thing a landlord's system must know; the id is the feed's cursor."""

    __tablename__ = "landlord_events"
    __table_args__ = (Index("ix_landlord_events_feed", "landlord_id", "id"),)

    id: int | None = Field(default=None, sa_type=BIG_ID, primary_key=True)
    landlord_id: int = Field(foreign_key="landlords.id")
    #: "appointment.booked", "appointment.changed", ... (bot/integration/events.py).
    kind: str = Field(max_length=40)
    job_id: int | None = Field(default=None, foreign_key="repair_jobs.id")
    #: The landlord's own job reference: deliveries are ordered per job.
    job_reference: str | None = Field(default=None, max_length=100)
    occurred_at: datetime = utc_field()
    data: dict[str, Any] = json_field()


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    landlord_id: int = Field(foreign_key="landlords.id", index=True)
    url: str = Field(max_length=2000)
    #: Signs every delivery (HMAC-SHA256); shown once when the subscription is made.
    secret: str = Field(max_length=80)
    #: Event kinds delivered; empty means every kind.
    events: list[str] = json_field(factory=list)
    active: bool = True
    created_at: datetime = utc_field()


class WebhookDelivery(SQLModel, table=True):
    """One event to one subscription: pending, delivering, delivered or dead."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "not_before"),
        Index("ix_webhook_deliveries_order", "subscription_id", "ordering_key", "event_id"),
        #: For the foreign key: deleting old landlord events (retention) finds their rows.
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )

    id: int | None = Field(default=None, sa_type=BIG_ID, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscriptions.id")
    event_id: int = Field(sa_type=BIG_ID, foreign_key="landlord_events.id")
    #: The job's reference (or "-"): one job's events are delivered in order.
    ordering_key: str = Field(max_length=100)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    not_before: datetime = utc_field()
    claimed_at: datetime | None = utc_field(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=100)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    delivered_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
