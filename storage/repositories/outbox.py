"""The outbox: every message the service sends goes through here, exactly once.

This module owns the outbox table's statements: enqueueing (one row, or the planner's
batch), the dispatcher's claim (`FOR UPDATE SKIP LOCKED`), settling and recording sends,
and the reads of the outbox view and the delivery-status webhook.

The idempotency key is unique, so planning the same message twice (or a retried
transaction) adds nothing. Replies to a resident's own message use it too, keyed on the
inbound message, so a reprocessed message cannot send its replies twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.enums import Channel, Direction, OutboxStatus
from storage.models import ContactDecision, Message, OutboxMessage
from storage.repositories._batch import id_in
from storage.repositories._dialect import insert_ignore

_OUTBOX: Any = OutboxMessage.__table__  # type: ignore[attr-defined]


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


def by_provider_message_id(session: Session, *, provider_message_id: str) -> OutboxMessage | None:
    """The row a provider's delivery report is about."""
    return session.exec(
        select(OutboxMessage).where(OutboxMessage.provider_message_id == provider_message_id)
    ).first()


def sent_message(session: Session, *, outbox_id: int) -> Message | None:
    """The transcript row of the latest attempt to send this outbox row."""
    return session.exec(
        select(Message)
        .where(Message.outbox_id == outbox_id, Message.direction == Direction.OUTBOUND)
        .order_by(col(Message.id).desc())
    ).first()


# -- the dispatcher's statements: Core, executemany, one short transaction per batch ------


def claim_due(session: Session, *, now: datetime, size: int, skip_locked: bool) -> list[Row[Any]]:
    """Due pending rows, oldest first, as plain rows (nothing changes them through the ORM).

    With `skip_locked` (PostgreSQL) the rows are locked `FOR UPDATE SKIP LOCKED`, so any
    number of dispatchers share the work without claiming a row twice.
    """
    table = _OUTBOX
    query = (
        select(table)
        .where(table.c.status == OutboxStatus.PENDING.value, table.c.not_before <= now)
        .order_by(table.c.not_before, table.c.id)
        .limit(size)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).all())


def mark_sending(session: Session, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Claimed rows go `sending`: each mapping has `_id`, channel, address, attempts,
    claimed_at and claimed_by."""
    if not rows:
        return
    table = _OUTBOX
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values(
            status=OutboxStatus.SENDING.value,
            channel=bindparam("channel"),
            address=bindparam("address"),
            attempts=bindparam("attempts"),
            claimed_at=bindparam("claimed_at"),
            claimed_by=bindparam("claimed_by"),
        ),
        rows,
    )


def mark_settled(session: Session, *, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows the policy did not let go: each mapping has `_id`, status and not_before."""
    if not rows:
        return
    table = _OUTBOX
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values(status=bindparam("status"), not_before=bindparam("not_before")),
        rows,
    )


def record_decisions(session: Session, *, decisions: Sequence[Mapping[str, Any]]) -> None:
    """Contact decisions (outbox_id, decision, reason_code, detail, at) in one statement."""
    if not decisions:
        return
    session.execute(insert(ContactDecision.__table__), decisions)  # type: ignore[attr-defined]


def plain_rows(session: Session, *, ids: Sequence[int]) -> dict[int, Row[Any]]:
    """These outbox rows as plain rows, by id."""
    table = _OUTBOX
    return {r.id: r for r in session.execute(select(table).where(table.c.id.in_(ids))).all()}


def mark_sent(
    session: Session,
    *,
    sent: Sequence[Mapping[str, Any]],
    transcript: Sequence[Mapping[str, Any]],
) -> None:
    """Rows the provider took (`_id`, status, provider_message_id, sent_at) and their
    transcript rows."""
    if not sent:
        return
    table = _OUTBOX
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values(
            status=bindparam("status"),
            provider_message_id=bindparam("provider_message_id"),
            sent_at=bindparam("sent_at"),
            last_error=None,
        ),
        sent,
    )
    session.execute(insert(Message.__table__), transcript)  # type: ignore[attr-defined]


def stuck_sending(session: Session, *, claimed_before: datetime) -> list[OutboxMessage]:
    """Rows left `sending` since before `claimed_before` (a dispatcher died mid-send, or
    the provider did not answer), in the order they were queued."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.SENDING,
                col(OutboxMessage.claimed_at) <= claimed_before,
            )
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def pending_for_version(
    session: Session, *, appointment_id: int, version: int
) -> Sequence[OutboxMessage]:
    """Messages still waiting to go about one version of a visit (voided when it changes)."""
    return session.exec(
        select(OutboxMessage).where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.appointment_version == version,
            col(OutboxMessage.status).in_([OutboxStatus.PENDING]),
        )
    ).all()


# -- the planner's batch ------------------------------------------------------------------


def existing_keys(session: Session, *, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys are in the outbox already."""
    return set(
        session.exec(
            select(OutboxMessage.idempotency_key).where(
                col(OutboxMessage.idempotency_key).in_(keys)
            )
        ).all()
    )


def keys_of_visits(session: Session, *, appointment_ids: Sequence[int]) -> set[str]:
    """The idempotency keys of every outbox row about these visits (a few each): what a
    planning pass need not word again."""
    if not appointment_ids:
        return set()
    return set(
        session.exec(
            select(OutboxMessage.idempotency_key).where(
                id_in(session, col(OutboxMessage.appointment_id), appointment_ids)
            )
        ).all()
    )


def insert_many(session: Session, *, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows whose key is not taken; the new rows' ids.

    One multi-row INSERT ... ON CONFLICT DO NOTHING, the same statement `enqueue` issues
    per row: compiling that per row was most of the planner's time at scale.
    """
    table = _OUTBOX
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(table).on_conflict_do_nothing().returning(table.c.id), list(rows)
    )
    return [int(row[0]) for row in inserted]


def rows_by_id(session: Session, *, ids: Sequence[int]) -> list[OutboxMessage]:
    """These outbox rows, oldest first."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.id).in_(list(ids)))
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def settle_at_plan(
    session: Session,
    *,
    changes: Sequence[Mapping[str, Any]],
    decisions: Sequence[Mapping[str, Any]],
) -> None:
    """Plan-time decisions: each change has row_id, new_status and new_not_before.

    Two executemany statements rather than ORM objects: at 50,000 visits the per-object
    cost dominated planning.
    """
    table = _OUTBOX
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(status=bindparam("new_status"), not_before=bindparam("new_not_before")),
        changes,
    )
    session.connection().execute(insert(ContactDecision.__table__), decisions)  # type: ignore[attr-defined]


# -- the outbox as people read it ---------------------------------------------------------


def latest(session: Session, *, resident_id: int | None, limit: int) -> list[OutboxMessage]:
    """The newest `limit` rows (one resident's, if given), oldest first."""
    query = select(OutboxMessage)
    if resident_id is not None:
        query = query.where(OutboxMessage.resident_id == resident_id)
    rows = list(session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(limit)).all())
    rows.reverse()
    return rows


def decisions_for(session: Session, *, outbox_ids: Sequence[int]) -> list[ContactDecision]:
    """Every decision about these rows, in the order made."""
    if not outbox_ids:
        return []
    return list(
        session.exec(
            select(ContactDecision)
            .where(col(ContactDecision.outbox_id).in_(outbox_ids))
            .order_by(col(ContactDecision.id))
        ).all()
    )


# -- reconciliation: one provider message, one row -----------------------------------------

#: PostgreSQL advisory lock key serialising provider-id claims (any fixed 64-bit number,
#: the same in every instance; the leader lock uses another).
PROVIDER_CLAIMS_LOCK = 0x446F_6F72_5349_4473


def lock_provider_claims(session: Session) -> None:
    """Serialise reconciliation claims until this transaction ends.

    Nothing in the schema makes `provider_message_id` unique, so "no other row holds
    this id" is checked and claimed under this lock: on PostgreSQL a transaction-scoped
    advisory lock; SQLite already holds its one write lock from BEGIN IMMEDIATE.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROVIDER_CLAIMS_LOCK}
        )


def provider_ids_held(
    session: Session, *, provider_message_ids: Sequence[str], other_than: int
) -> set[str]:
    """Which of these provider message ids an outbox row other than `other_than` holds."""
    if not provider_message_ids:
        return set()
    table = _OUTBOX
    return {
        str(row[0])
        for row in session.execute(
            select(table.c.provider_message_id).where(
                table.c.provider_message_id.in_(list(provider_message_ids)),
                table.c.id != other_than,
            )
        )
    }


def note_uncertain(session: Session, *, outbox_id: int, reason: str) -> None:
    """A send the provider did not answer: the row stays `sending` (it may have arrived)
    until reconciled; only the reason is recorded."""
    table = _OUTBOX
    session.execute(update(table).where(table.c.id == outbox_id).values(last_error=reason))


def renew_claims(session: Session, *, ids: Sequence[int], worker_id: str, at: datetime) -> None:
    """A live dispatcher's rows still on their way: claimed again `at`, so reconciliation
    (which takes rows claimed minutes ago for a dead dispatcher's) leaves them alone.

    Rows another transaction holds (their batch being recorded) are skipped on
    PostgreSQL rather than waited for: locking them in another order could deadlock.
    """
    table = _OUTBOX
    mine = (
        select(table.c.id)
        .where(
            table.c.id.in_(list(ids)),
            table.c.status == OutboxStatus.SENDING.value,
            table.c.claimed_by == worker_id,
        )
        .with_for_update(skip_locked=True)
    )
    session.execute(
        update(table).where(table.c.id.in_(mine.scalar_subquery())).values(claimed_at=at)
    )
