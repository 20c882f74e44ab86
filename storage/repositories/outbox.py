"""The outbox: every message the service sends goes through here, exactly once.

The idempotency key is unique, so planning the same message twice (or a retried
transaction) adds nothing. Replies to a resident's own message use it too, keyed on the
inbound message, so a reprocessed message cannot send its replies twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.enums import Channel
from storage.models import OutboxMessage
from storage.repositories._dialect import insert_ignore


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    purpose: str,
    text: str,
    not_before: datetime,
    now: datetime,
    channel: Channel | None = None,
    address: str | None = None,
    resident_id: int | None = None,
    operative_id: int | None = None,
    appointment_id: int | None = None,
    appointment_version: int | None = None,
    conversation_id: int | None = None,
    expires_at: datetime | None = None,
    time_critical: bool = False,
    payload: dict[str, Any] | None = None,
) -> int | None:
    """Add a message unless one with this key exists; returns the new row's id or None."""
    return insert_ignore(
        session,
        OutboxMessage.__table__,  # type: ignore[attr-defined]
        {
            "idempotency_key": key,
            "kind": kind,
            "purpose": purpose,
            "text": text,
            "not_before": not_before,
            "created_at": now,
            "channel": channel.value if channel else None,
            "address": address,
            "resident_id": resident_id,
            "operative_id": operative_id,
            "appointment_id": appointment_id,
            "appointment_version": appointment_version,
            "conversation_id": conversation_id,
            "expires_at": expires_at,
            "time_critical": time_critical,
            "payload": payload or {},
            "status": "pending",
            "attempts": 0,
        },
    )
