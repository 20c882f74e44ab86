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

A row left `sending` (a crashed dispatcher, or a send that timed out, so the provider may
have it) is reconciled: the provider is asked whether it got the message, and only if it
did not is the row sent again. A provider id is claimed by one row only: a sender that
can only guess (Twilio matches on recipient and text) lists every candidate, and the row
takes the oldest one no other row holds; if every candidate is held, the provider has
nothing of this row's and it goes back to `pending`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast, runtime_checkable
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.common.metrics import Metrics
from bot.outbound.policy_inputs import OutboxRow, PolicyInputs, route
from bot.outbound.sending import OutgoingMessage, Sender, SendError, SendReceipt
from flows.clock import Clock
from flows.messages import Option
from storage.db import Database
from storage.enums import Channel, Decision, Direction, OutboxStatus
from storage.models import OutboxMessage, Resident
from storage.repositories import outbox, reachability

log = logging.getLogger(__name__)

SentHook = Callable[[Session, OutboxMessage, datetime], None]

#: `SendError` codes saying the provider may have taken the message (no answer in time):
#: such a row stays `sending` until `reconcile_stuck` has asked the provider.
UNCERTAIN_CODES = frozenset({"timeout"})


@runtime_checkable
class ListsCandidates(Protocol):
    """A sender whose provider cannot be asked by our reference (Twilio): it lists every
    message that could be this one, oldest first, and the dispatcher claims one."""

    async def candidates(
        self, message: OutgoingMessage, *, since: datetime
    ) -> Sequence[SendReceipt]: ...


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
    #: While rows wait in a paced batch, their claim is renewed this often, so no
    #: dispatcher's `reconcile_stuck` (2 minutes) takes a live batch for a dead one's.
    heartbeat_seconds: float = 30.0
    #: Rows this dispatcher has claimed and not yet recorded: `sending` because they are
    #: on their way (a paced batch can wait minutes), not because anyone died.
    _in_flight: set[int] = field(default_factory=set, init=False, repr=False)

    async def run_once(self, *, limit: int | None = None) -> DispatchStats:
        """Send everything due now (up to `limit` rows); returns what happened.

        Pipelined: the next batch is claimed while the current one is being sent, so a
        paced provider is never left idle between batches.
        """
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            return await self._run(limit)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _run(self, limit: int | None) -> DispatchStats:
        total = DispatchStats()
        in_flight: tuple[list[_Claimed], asyncio.Task[list[SendReceipt | SendError]]] | None = None
        claimed_so_far = 0
        ours: set[int] = set()  # every row this run claimed
        try:
            while limit is None or claimed_so_far < limit:
                size = (
                    self.batch_size
                    if limit is None
                    else min(self.batch_size, limit - claimed_so_far)
                )
                stats, claimed = await asyncio.to_thread(self._claim, size)
                ours.update(c.outbox_id for c in claimed)
                self._in_flight.update(c.outbox_id for c in claimed)
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
        except BaseException:
            # A claim or a record failed (the database went away) or we were cancelled:
            # what this run claimed and did not record stays `sending`, for reconciliation
            # like a dead dispatcher's rows, and is no longer counted as in flight.
            if in_flight is not None:
                in_flight[1].cancel()
            self._in_flight.difference_update(ours)
            raise
        return total

    async def _finish(
        self, claimed: list[_Claimed], sending: asyncio.Task[list[SendReceipt | SendError]]
    ) -> DispatchStats:
        try:
            results = await sending
            return await asyncio.to_thread(self._record, claimed, results)
        finally:
            self._in_flight.difference_update(c.outbox_id for c in claimed)

    async def _heartbeat(self) -> None:
        """Renew the claim on the rows in flight, every `heartbeat_seconds`, until cancelled."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            ids = sorted(self._in_flight)
            if not ids:
                continue
            try:
                await asyncio.to_thread(self._renew_claims, ids)
            except SQLAlchemyError as exc:  # the database is away: the sends go on regardless
                log.warning("could not renew claims: %s", exc.__class__.__name__)

    def _renew_claims(self, ids: Sequence[int]) -> None:
        with self.db.session() as session:
            outbox.renew_claims(session, ids=ids, worker_id=self.worker_id, at=self.clock.now())

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
            # Plain rows, not ORM objects: nothing here is modified through the ORM.
            rows: Sequence[OutboxRow] = outbox.claim_due(
                session, now=now, size=size, skip_locked=self.db.dialect == "postgresql"
            )
            if not rows:
                return stats, claimed
            inputs = PolicyInputs.load(session, rows, now, zone=self.zone)
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
            outbox.mark_sending(session, rows=sending)
            outbox.mark_settled(session, rows=settled)
            outbox.record_decisions(session, decisions=decisions)
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
            rows: Mapping[int, OutboxRow] = outbox.plain_rows(
                session, ids=[c.outbox_id for c in claimed]
            )
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
                elif result.code in UNCERTAIN_CODES:
                    # The provider may have it: sending again could text them twice. The
                    # row stays `sending`, claimed now, for `reconcile_stuck` to settle.
                    log.warning("no answer from the provider outbox_id=%s", item.outbox_id)
                    outbox.note_uncertain(
                        session,
                        outbox_id=item.outbox_id,
                        reason=f"{result.code} {result}"[:500],
                    )
                    outcome = "retried"
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
        outbox.mark_sent(session, sent=sent, transcript=transcript)

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
        reason = f"{error.code or ''} {error}".strip()
        channel = item.message.channel
        # A report about someone else's number (a nominee's copy) says nothing of the resident.
        own = row.resident_id is not None and reachability.at_own_address(
            session, resident_id=row.resident_id, channel=channel, address=item.message.address
        )
        if row.resident_id is not None and own and error.opted_out:
            reachability.record_opt_out(
                session, resident_id=row.resident_id, channel=channel, at=now
            )
        if row.resident_id is not None and own and error.unreachable:
            reachability.record_unreachable(
                session, resident_id=row.resident_id, channel=channel, at=now, reason=reason[:500]
            )
            resident = session.get(Resident, row.resident_id)
            if (
                channel == Channel.TELEGRAM
                and resident is not None
                and resident.mobile
                and row.purpose != "reply"
            ):
                # Telegram cannot reach them: try SMS; the policy judges it afresh.
                reachability.reroute_send(
                    session,
                    row=row,
                    channel=Channel.SMS,
                    address=resident.mobile,
                    reason=reason,
                    at=now,
                )
                return False
        if error.permanent or item.attempts >= self.max_attempts:
            reachability.fail_send(
                session,
                row=row,
                reason=reason,
                reason_code="opted_out" if error.opted_out else "provider_refused",
                at=now,
            )
            return True
        reachability.retry_send(
            session,
            row=row,
            not_before=now + self.backoff.delay(item.attempts, error.retry_after),
            reason=reason,
        )
        return False

    # -- after a crash --------------------------------------------------------------------

    async def reconcile_stuck(self, *, older_than: timedelta = timedelta(minutes=2)) -> int:
        """Settle rows left `sending` (a dispatcher died mid-send, or the provider did not
        answer in time): ask the provider first. Returns how many rows were settled."""
        now = self.clock.now()
        stuck = await asyncio.to_thread(self._stuck, now - older_than)
        settled = 0
        for outbox_id, message, claimed_at in stuck:
            if outbox_id in self._in_flight:
                continue  # still being sent by this very dispatcher
            sender = self.senders.get(message.channel)
            if sender is None:
                continue
            try:
                if isinstance(sender, ListsCandidates):
                    found = tuple(await sender.candidates(message, since=claimed_at))
                    guessed = True
                else:
                    receipt = await sender.reconcile(message, since=claimed_at)
                    found, guessed = (() if receipt is None else (receipt,)), False
            except SendError as exc:
                log.warning("could not reconcile outbox_id=%s: %s", outbox_id, exc)
                continue
            if await asyncio.to_thread(self._settle_stuck, outbox_id, message, found, guessed):
                settled += 1
        return settled

    def _stuck(self, before: datetime) -> list[tuple[int, OutgoingMessage, datetime]]:
        with self.db.session() as session:
            rows = outbox.stuck_sending(session, claimed_before=before)
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
        self,
        outbox_id: int,
        message: OutgoingMessage,
        found: Sequence[SendReceipt],
        guessed: bool,
    ) -> bool:
        """Sent with the first receipt whose provider id no other row holds, else pending.

        `guessed`: `found` is every candidate the provider has (oldest first), so when all
        are held by other rows this row's message never arrived. A sender that answers by
        our own reference gives one receipt; if another row holds its id, something is
        wrong that a person must look at, and the row is left `sending` (never resent).
        Claims are serialised (`outbox.lock_provider_claims`), so two dispatchers
        reconciling at once cannot both take one provider message.
        """
        now = self.clock.now()
        with self.db.session() as session:
            outbox.lock_provider_claims(session)
            row = session.get(OutboxMessage, outbox_id)
            if row is None or row.status != OutboxStatus.SENDING:
                return False
            held = outbox.provider_ids_held(
                session,
                provider_message_ids=[
                    r.provider_message_id for r in found if r.provider_message_id
                ],
                other_than=outbox_id,
            )
            free = [r for r in found if r.provider_message_id not in held]
            if free:
                log.info("reconciled: provider had outbox_id=%s", outbox_id)
                self._mark_sent(session, row, message, free[0], now)
                return True
            if found and not guessed:
                log.error(
                    "reconcile: the provider's message for outbox_id=%s is recorded on another "
                    "row; left sending for a person to check",
                    outbox_id,
                )
                return False
            log.info("reconciled: provider never got outbox_id=%s; sending again", outbox_id)
            row.status, row.claimed_at, row.claimed_by = OutboxStatus.PENDING, None, None
            session.add(row)
            return True


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
