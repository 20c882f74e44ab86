"""The dispatcher: the only code that sends anything, and it sends each message once.

A cycle:
1. Claim due rows in one short transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
   any number of dispatchers share the work without sending a row twice (SQLite has one
   writer, which serialises claims for us). The policy is judged again at this moment;
   rows it defers, expires or blocks are settled there with the decision and its reason.
   Rows it allows are marked `sending`, with who claimed them and when, and committed
   before any provider is called.
2. Call each row's channel (concurrently, bounded; senders pace themselves).
3. Record the outcomes in one transaction: sent (with the transcript row), a transient
   failure put back with backoff (honouring the provider's retry-after), a permanent
   one failed and mirrored into the resident's record (opted out, unreachable; Telegram
   falls back to SMS).

A row left `sending` by a crashed dispatcher is reconciled: the provider is asked whether
it got the message, and only if it did not is the row sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from bot.common.metrics import Metrics
from bot.outbound.policy_inputs import OutboxRow, PolicyInputs, route
from bot.outbound.sending import OutgoingMessage, Sender, SendError, SendReceipt
from flows.clock import Clock
from flows.messages import Option
from storage.db import Database
from storage.enums import Channel, Decision, Direction, OutboxStatus, TaskKind
from storage.models import ContactDecision, Message, OutboxMessage, Resident, StaffTask

log = logging.getLogger(__name__)

SentHook = Callable[[Session, OutboxMessage, datetime], None]


@dataclass
class DispatchStats:
    sent: int = 0
    deferred: int = 0
    expired: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0

    def add(self, other: DispatchStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.expired + self.blocked + self.failed + self.retried


@dataclass(frozen=True, slots=True)
class Backoff:
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempts: int, retry_after: float | None) -> timedelta:
        wait: timedelta = min(self.base * (2 ** max(attempts - 1, 0)), self.cap)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait


@dataclass(frozen=True, slots=True)
class _Claimed:
    outbox_id: int
    message: OutgoingMessage
    attempts: int


@dataclass
class Dispatcher:
    db: Database
    senders: Mapping[Channel, Sender]
    clock: Clock
    zone: ZoneInfo
    worker_id: str = "dispatcher"
    batch_size: int = 100
    max_attempts: int = 6
    concurrency: int = 32
    backoff: Backoff = field(default_factory=Backoff)
    #: Called in the recording transaction for each sent row (e.g. start a feedback flow).
    on_sent: SentHook | None = None
    metrics: Metrics | None = None

    async def run_once(self, *, limit: int | None = None) -> DispatchStats:
        """Send everything due now (up to `limit` rows); returns what happened.

        Pipelined: the next batch is claimed while the current one is being sent, so a
        paced provider is never left idle between batches.
        """
        total = DispatchStats()
        in_flight: tuple[list[_Claimed], asyncio.Task[list[SendReceipt | SendError]]] | None = None
        claimed_so_far = 0
        while limit is None or claimed_so_far < limit:
            size = (
                self.batch_size if limit is None else min(self.batch_size, limit - claimed_so_far)
            )
            stats, claimed = await asyncio.to_thread(self._claim, size)
            total.add(stats)
            claimed_so_far += stats.handled + len(claimed)
            if in_flight is not None:
                total.add(await self._finish(*in_flight))
                in_flight = None
            if claimed:
                in_flight = (claimed, asyncio.create_task(self._send_all(claimed)))
            if stats.handled + len(claimed) < size:
                break
        if in_flight is not None:
            total.add(await self._finish(*in_flight))
        return total

    async def _finish(
        self, claimed: list[_Claimed], sending: asyncio.Task[list[SendReceipt | SendError]]
    ) -> DispatchStats:
        results = await sending
        return await asyncio.to_thread(self._record, claimed, results)

    # -- 1. claim -------------------------------------------------------------------------

    def _claim(self, size: int) -> tuple[DispatchStats, list[_Claimed]]:
        """Lock due rows, judge each against the policy, mark the sendable ones `sending`.

        Writes go out as a few executemany statements per batch (not one ORM update per
        row): this transaction holds row locks, so it must be short.
        """
        now = self.clock.now()
        stats = DispatchStats()
        claimed: list[_Claimed] = []
        sending: list[dict[str, Any]] = []
        settled: list[dict[str, Any]] = []
        decisions: list[dict[str, Any]] = []
        with self.db.session() as session:
            table = OutboxMessage.__table__  # type: ignore[attr-defined]
            query = (
                select(table)
                .where(table.c.status == OutboxStatus.PENDING.value, table.c.not_before <= now)
                .order_by(table.c.not_before, table.c.id)
                .limit(size)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            # Plain rows, not ORM objects: nothing here is modified through the ORM.
            rows: list[OutboxRow] = list(session.execute(query).all())
            if not rows:
                return stats, claimed
            inputs = PolicyInputs.load(session, rows, now)
            available = frozenset(self.senders)
            for row in rows:
                assert row.id is not None
                resident = inputs.residents.get(row.resident_id or -1)
                channel, address = route(row, resident, available)
                verdict = inputs.verdict(row, channel, address)
                decision, reason, detail = verdict.decision, str(verdict.reason), verdict.detail
                if decision == Decision.SEND and channel not in self.senders:
                    decision, reason = Decision.BLOCK, "channel_off"
                    detail = f"no {channel} channel is configured"
                if self.metrics is not None:
                    self.metrics.policy_decisions.labels(decision, reason).inc()
                decisions.append(
                    {
                        "outbox_id": row.id,
                        "decision": decision.value,
                        "reason_code": reason,
                        "detail": detail,
                        "at": now,
                    }
                )
                if decision != Decision.SEND:
                    settled.append(
                        {
                            "_id": row.id,
                            "status": _FINAL.get(decision, OutboxStatus.PENDING).value,
                            "not_before": verdict.at
                            if decision == Decision.DEFER
                            else row.not_before,
                        }
                    )
                    counter = _COUNTER[decision]
                    setattr(stats, counter, getattr(stats, counter) + 1)
                    continue
                attempts = row.attempts + 1
                sending.append(
                    {
                        "_id": row.id,
                        "channel": channel.value,
                        "address": address,
                        "attempts": attempts,
                        "claimed_at": now,
                        "claimed_by": self.worker_id,
                    }
                )
                inputs.note_sent(row, now)
                claimed.append(_Claimed(row.id, _outgoing(row, channel, address), attempts))
            if sending:
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
                    sending,
                )
            if settled:
                session.execute(
                    update(table)
                    .where(table.c.id == bindparam("_id"))
                    .values(status=bindparam("status"), not_before=bindparam("not_before")),
                    settled,
                )
            session.execute(insert(ContactDecision.__table__), decisions)  # type: ignore[attr-defined]
        return stats, claimed

    # -- 2. send --------------------------------------------------------------------------

    async def _send_all(self, claimed: Sequence[_Claimed]) -> list[SendReceipt | SendError]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: _Claimed) -> SendReceipt | SendError:
            async with gate:
                sender = self.senders[item.message.channel]
                try:
                    return await sender.send(item.message)
                except SendError as exc:
                    return exc
                except Exception as exc:
                    log.exception("sender crashed outbox_id=%s", item.outbox_id)
                    return SendError(f"sender error: {exc.__class__.__name__}", permanent=False)

        return list(await asyncio.gather(*(one(item) for item in claimed)))

    # -- 3. record ------------------------------------------------------------------------

    def _record(
        self, claimed: Sequence[_Claimed], results: Sequence[SendReceipt | SendError]
    ) -> DispatchStats:
        now = self.clock.now()
        stats = DispatchStats()
        sent: list[dict[str, Any]] = []
        transcript: list[dict[str, Any]] = []
        with self.db.session() as session:
            table = OutboxMessage.__table__  # type: ignore[attr-defined]
            rows: dict[int, OutboxRow] = {
                r.id: r
                for r in session.execute(
                    select(table).where(table.c.id.in_([c.outbox_id for c in claimed]))
                ).all()
            }
            for item, result in zip(claimed, results, strict=True):
                row = rows.get(item.outbox_id)
                if row is None:
                    continue
                if isinstance(result, SendReceipt):
                    sent.append(_sent_values(item.outbox_id, result, now))
                    transcript.append(self._transcript_row(row, item.message, result, now))
                    if self.on_sent is not None:
                        self.on_sent(session, cast(OutboxMessage, row), now)
                    outcome = "sent"
                elif (orm := session.get(OutboxMessage, item.outbox_id)) is None:
                    continue
                elif self._failed(session, orm, item, result, now):
                    outcome = "failed"
                else:
                    outcome = "retried"
                setattr(stats, outcome, getattr(stats, outcome) + 1)
                if self.metrics is not None:
                    self.metrics.messages_out.labels(item.message.channel, outcome).inc()
            self._write_sent(session, sent, transcript)
        return stats

    @staticmethod
    def _write_sent(
        session: Session, sent: list[dict[str, Any]], transcript: list[dict[str, Any]]
    ) -> None:
        if not sent:
            return
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
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

    def _transcript_row(
        self, row: OutboxRow, message: OutgoingMessage, receipt: SendReceipt, now: datetime
    ) -> dict[str, Any]:
        return {
            "direction": Direction.OUTBOUND.value,
            "channel": self.senders[message.channel].channel.value,
            "address": message.address,
            "text": message.text,
            "created_at": now,
            "options": [{"key": o.key, "label": o.label} for o in message.options],
            "delivery_status": receipt.status,
            "conversation_id": row.conversation_id,
            "appointment_id": row.appointment_id,
            "resident_id": row.resident_id,
            "outbox_id": row.id,
        }

    def _mark_sent(
        self,
        session: Session,
        row: OutboxMessage,
        message: OutgoingMessage,
        receipt: SendReceipt,
        now: datetime,
    ) -> None:
        """One row found sent after a crash (the reconciliation path)."""
        assert row.id is not None
        self._write_sent(
            session,
            [_sent_values(row.id, receipt, now)],
            [self._transcript_row(row, message, receipt, now)],
        )
        if self.on_sent is not None:
            self.on_sent(session, row, now)

    def _failed(
        self, session: Session, row: OutboxMessage, item: _Claimed, error: SendError, now: datetime
    ) -> bool:
        """Mirror what the provider said; True when the row has failed for good."""
        row.last_error = f"{error.code or ''} {error}".strip()[:500]
        resident = session.get(Resident, row.resident_id) if row.resident_id else None
        channel = item.message.channel
        if resident is not None and error.opted_out:
            _mirror_opt_out(resident, channel, now)
            session.add(resident)
        if resident is not None and error.unreachable:
            _mark_unreachable(session, resident, channel, row, now)
            if channel == Channel.TELEGRAM and resident.mobile and row.purpose != "reply":
                # Telegram cannot reach them: try SMS; the policy judges it afresh.
                row.channel, row.address = Channel.SMS, resident.mobile
                row.status, row.not_before = OutboxStatus.PENDING, now
                session.add(row)
                return False
        if error.permanent or item.attempts >= self.max_attempts:
            row.status = OutboxStatus.FAILED
            session.add(row)
            session.add(
                ContactDecision(
                    outbox_id=row.id or 0,
                    decision=Decision.BLOCK,
                    reason_code="opted_out" if error.opted_out else "provider_refused",
                    detail=row.last_error,
                    at=now,
                )
            )
            return True
        row.status = OutboxStatus.PENDING
        row.not_before = now + self.backoff.delay(item.attempts, error.retry_after)
        session.add(row)
        return False

    # -- after a crash --------------------------------------------------------------------

    async def reconcile_stuck(self, *, older_than: timedelta = timedelta(minutes=2)) -> int:
        """Settle rows left `sending` (a dispatcher died mid-send): ask the provider first."""
        now = self.clock.now()
        stuck = await asyncio.to_thread(self._stuck, now - older_than)
        settled = 0
        for outbox_id, message, claimed_at in stuck:
            sender = self.senders.get(message.channel)
            if sender is None:
                continue
            try:
                receipt = await sender.reconcile(message, since=claimed_at)
            except SendError as exc:
                log.warning("could not reconcile outbox_id=%s: %s", outbox_id, exc)
                continue
            await asyncio.to_thread(self._settle_stuck, outbox_id, message, receipt)
            settled += 1
        return settled

    def _stuck(self, before: datetime) -> list[tuple[int, OutgoingMessage, datetime]]:
        with self.db.session() as session:
            rows = session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    col(OutboxMessage.claimed_at) <= before,
                )
            ).all()
            return [
                (
                    r.id,
                    _outgoing(r, Channel(r.channel or Channel.SMS), r.address or ""),
                    r.claimed_at or before,
                )
                for r in rows
                if r.id is not None
            ]

    def _settle_stuck(
        self, outbox_id: int, message: OutgoingMessage, receipt: SendReceipt | None
    ) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            row = session.get(OutboxMessage, outbox_id)
            if row is None or row.status != OutboxStatus.SENDING:
                return
            if receipt is not None:
                log.info("reconciled: provider had outbox_id=%s", outbox_id)
                self._mark_sent(session, row, message, receipt, now)
                return
            log.info("reconciled: provider never got outbox_id=%s; sending again", outbox_id)
            row.status, row.claimed_at, row.claimed_by = OutboxStatus.PENDING, None, None
            session.add(row)


_COUNTER = {Decision.DEFER: "deferred", Decision.EXPIRE: "expired", Decision.BLOCK: "blocked"}


def _sent_values(outbox_id: int, receipt: SendReceipt, now: datetime) -> dict[str, Any]:
    status = OutboxStatus.DELIVERED if receipt.status == "delivered" else OutboxStatus.SENT
    return {
        "_id": outbox_id,
        "status": status.value,
        "provider_message_id": receipt.provider_message_id,
        "sent_at": now,
    }


_FINAL = {Decision.EXPIRE: OutboxStatus.EXPIRED, Decision.BLOCK: OutboxStatus.BLOCKED}


def _outgoing(row: OutboxRow, channel: Channel, address: str) -> OutgoingMessage:
    payload: dict[str, Any] = row.payload or {}
    options = tuple(
        Option(str(o["key"]), str(o["label"]))
        for o in payload.get("options", [])
        if isinstance(o, dict) and "key" in o and "label" in o
    )
    assert row.id is not None
    return OutgoingMessage(
        outbox_id=row.id,
        channel=channel,
        address=address,
        text=row.text,
        idempotency_key=row.idempotency_key,
        options=options,
        photo_path=payload.get("photo_path"),
        expires_at=row.expires_at,
    )


def _mirror_opt_out(resident: Resident, channel: Channel, now: datetime) -> None:
    if channel == Channel.TELEGRAM:
        resident.telegram_opted_out_at = resident.telegram_opted_out_at or now
    else:
        resident.sms_opted_out_at = resident.sms_opted_out_at or now


def _mark_unreachable(
    session: Session, resident: Resident, channel: Channel, row: OutboxMessage, now: datetime
) -> None:
    if channel == Channel.TELEGRAM:
        resident.telegram_unreachable_at = resident.telegram_unreachable_at or now
        session.add(resident)
        return
    if resident.sms_unreachable_at is None:
        resident.sms_unreachable_at = now
        session.add(
            StaffTask(
                kind=TaskKind.NUMBER_CHECK,
                summary=f"Texts to {resident.name}'s mobile fail ({row.last_error}): check it",
                resident_id=resident.id,
                created_at=now,
            )
        )
    session.add(resident)
