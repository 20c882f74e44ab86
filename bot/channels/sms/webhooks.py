"""Twilio's two webhooks: a resident's text arriving, and what became of a text we sent.

Inbound: the signature is checked against the public URL (behind a TLS proxy the URL
the app sees is not the one Twilio signed), the message is stored unique on its
MessageSid and committed, Twilio gets empty TwiML at once, and the conversation runs
in the background. Replies go out later through the outbox, so the webhook's speed
never depends on the NLU or the flows. A process that dies after the acknowledgment
leaves the message unprocessed in the database, where `Pipeline.process_pending`
finds it on the next start; a repeated delivery of the same MessageSid is acknowledged
and ignored.

Texts from numbers that are not UK mobiles (abroad, short codes, alphanumeric senders)
are stored for the record, marked processed and never answered: we only text UK
mobiles, and an answer to a premium or spoofed number could cost money.

Status: Twilio reports queued, sent, delivered, undelivered or failed, in any order and
sometimes twice. The outbox row and its transcript row only move forward; an error code
says whether the resident opted out (21610), the number is dead (flag it for staff) or
the carrier was briefly unavailable (send again later).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from bot.channels.sms.sender import OPTED_OUT_CODES, TRANSIENT_CODES, UNREACHABLE_CODES
from bot.common.events import InboundMessage
from bot.inbound.ratelimit import RATE_LIMITED_INTENT, over_limit
from bot.runtime import Runtime
from storage.db import retry_once
from storage.enums import Channel, Decision, Direction, OutboxStatus, TaskKind
from storage.models import ContactDecision, Message, OutboxMessage, Resident, StaffTask
from storage.phones import PhoneNumberError, normalise_uk_mobile
from storage.repositories.transcript import record_inbound

log = logging.getLogger(__name__)

INBOUND_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
#: Twilio's SIDs: two letters and 32 hex digits; we accept any short word-like id.
_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Longest inbound text we keep (Twilio concatenates up to 1600 characters).
MAX_BODY = 1600
#: How long shutdown waits for conversations in flight before leaving them for restart.
DRAIN_SECONDS = 5.0
#: Batches answered at once per worker, unless settings say otherwise. Flow work is
#: CPU-bound under one GIL and SQLite has one writer, so more only adds contention
#: (measured: 1 beat 2 and 3 on both databases); texts that wait are answered together.
PROCESS_CONCURRENCY = 1
#: Most texts one answerer takes from the queue at once.
MAX_BATCH = 16
#: Threads that store inbound texts. Kept apart from the default executor, where the
#: flows run, so an acknowledgment never queues behind a backlog of conversations.
STORE_THREADS = 4

#: Twilio's delivery words in the order they can happen; terminal ones share the top rank.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
#: Backoff for carrier-side transient failures (30003 handset off, 30008 unknown).
RETRY_BASE = timedelta(minutes=2)
RETRY_CAP = timedelta(hours=1)
MAX_CARRIER_RETRIES = 5


class BadRequest(ValueError):
    """A form we cannot use; answered with 400 and nothing stored."""


@dataclass(frozen=True, slots=True)
class InboundSms:
    message_sid: str
    sender: str
    body: str
    opt_out_type: str | None
    #: Over its sender's rate limit (bot/inbound/ratelimit.py): stored for the record, not answered.
    rate_limited: bool = False


@dataclass(frozen=True, slots=True)
class StatusReport:
    message_sid: str
    status: str
    error_code: int | None


class InboundWork:
    """Texts waiting to be answered after their webhook was acknowledged, owned by the app.

    Up to `concurrency` answerers run at once; each takes every text waiting (up to
    `batch`) and answers them together (`Pipeline.process_many`), so when texts arrive
    faster than one at a time the database work per text goes down instead of the queue
    going up. Nothing here is the only copy: every text is stored before it is queued,
    and one left unanswered (a crash, a shutdown) is answered on the next start.
    """

    def __init__(self, concurrency: int = PROCESS_CONCURRENCY, batch: int = MAX_BATCH) -> None:
        self._waiting: deque[tuple[int, InboundMessage]] = deque()
        self._answerers: set[asyncio.Task[None]] = set()
        #: Answerers still taking texts. Counted here, not from the task set: a finished
        #: task leaves the set only in a later callback, and a text queued in between
        #: would wait for the next one to arrive.
        self._running = 0
        self._concurrency = concurrency
        self._batch = batch
        self._store_pool = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="sms-store")

    async def store(self, runtime: Runtime, sms: InboundSms) -> tuple[int, InboundMessage] | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._store_pool, retry_once, lambda: store_inbound(runtime, sms)
        )

    def submit(self, runtime: Runtime, message_id: int, inbound: InboundMessage) -> None:
        self._waiting.append((message_id, inbound))
        if self._running < self._concurrency:
            self._running += 1
            task = asyncio.get_running_loop().create_task(self._answer(runtime))
            self._answerers.add(task)
            task.add_done_callback(self._answerers.discard)

    async def _answer(self, runtime: Runtime) -> None:
        try:
            while self._waiting:
                take = min(self._batch, len(self._waiting))
                batch = [self._waiting.popleft() for _ in range(take)]
                try:
                    await runtime.pipeline.process_many(batch)
                except Exception:
                    # The pipeline answers its own flow errors; this is the database or
                    # the NLU failing outright. The texts stay unprocessed for the next
                    # start (and the scheduler's recovery pass).
                    log.exception(
                        "inbound SMS ids=%s not processed; left for restart",
                        [i for i, _ in batch],
                    )
        finally:
            # No await between the empty queue and this: a text queued after it starts
            # a new answerer.
            self._running -= 1

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Let answers in progress finish; what does not is picked up on restart."""
        if not self._answerers:
            return
        _, pending = await asyncio.wait(set(self._answerers), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending or self._waiting:
            log.warning(
                "inbound SMS left unprocessed at shutdown (%s waiting); processed on next start",
                len(self._waiting),
            )
        self._waiting.clear()

    def close(self) -> None:
        self._store_pool.shutdown(wait=True)


def sms_router(
    *, auth_token: str, public_base_url: str, concurrency: int = PROCESS_CONCURRENCY
) -> APIRouter:
    """The webhook routes; the app's runtime is read from `app.state.runtime` per request."""
    validator = RequestValidator(auth_token)
    work = InboundWork(concurrency)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await work.drain()
        work.close()

    router = APIRouter(lifespan=lifespan)

    async def signed_form(request: Request) -> FormData | Response:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            log.warning("Twilio webhook without signature refused path=%s", request.url.path)
            return Response(status_code=403)
        try:
            form = await request.form()
        except Exception as exc:  # noqa: BLE001  (any unreadable body is the sender's problem)
            log.warning("unreadable Twilio webhook body refused: %s", exc.__class__.__name__)
            return Response("unreadable form", status_code=400)
        url = public_base_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not validator.validate(url, form, signature):
            log.warning("Twilio webhook with a bad signature refused path=%s", request.url.path)
            return Response(status_code=403)
        return form

    @router.post(INBOUND_PATH)
    async def inbound_sms(request: Request) -> Response:
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        try:
            sms = parse_inbound(form)
        except BadRequest as exc:
            return Response(str(exc), status_code=400)
        runtime: Runtime = request.app.state.runtime
        limit = runtime.settings.webhook_rate_per_minute
        state = request.app.state
        flood = over_limit(state, limit, channel="sms", sender=sms.sender, text=sms.body)
        if flood is not None and sms.opt_out_type is None:
            sms = replace(sms, rate_limited=True)  # 200, so Twilio does not redeliver the flood
        try:
            stored = await work.store(runtime, sms)
        except DBAPIError as exc:
            log.error("inbound SMS not stored, database unavailable: %s", exc.__class__.__name__)
            return Response("database unavailable", status_code=503)
        if stored is not None:
            work.submit(runtime, *stored)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @router.post(STATUS_PATH)
    async def delivery_status(request: Request) -> Response:
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        try:
            report = parse_status(form)
        except BadRequest as exc:
            return Response(str(exc), status_code=400)
        runtime: Runtime = request.app.state.runtime
        try:
            await asyncio.to_thread(_record_status, runtime, report)
        except DBAPIError as exc:
            log.error("delivery status not recorded, database unavailable: %s", exc)
            return Response("database unavailable", status_code=503)
        return Response(status_code=204)

    return router


def parse_inbound(form: FormData) -> InboundSms:
    sid = _field(form, "MessageSid")
    sender = _field(form, "From")
    body = form.get("Body")
    if not isinstance(body, str):
        raise BadRequest("Body is missing")
    if not _SID.match(sid):
        raise BadRequest("MessageSid is malformed")
    opt_out = form.get("OptOutType")
    return InboundSms(
        message_sid=sid,
        sender=sender,
        body=body[:MAX_BODY],
        opt_out_type=opt_out.strip().upper() if isinstance(opt_out, str) and opt_out else None,
    )


def parse_status(form: FormData) -> StatusReport:
    sid = _field(form, "MessageSid")
    status = _field(form, "MessageStatus").lower()
    if not _SID.match(sid):
        raise BadRequest("MessageSid is malformed")
    raw_code = form.get("ErrorCode")
    code: int | None = None
    if isinstance(raw_code, str) and raw_code.strip():
        try:
            code = int(raw_code)
        except ValueError as exc:
            raise BadRequest("ErrorCode is not a number") from exc
    return StatusReport(sid, status, code)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} is missing")
    return value.strip()


# -- inbound ----------------------------------------------------------------------------


def store_inbound(runtime: Runtime, sms: InboundSms) -> tuple[int, InboundMessage] | None:
    """Store the text (and any opt-out Twilio applied) in one transaction; durable on return.

    Returns what to process next, or None for a repeat delivery or a number we never
    answer. Twilio's OptOutType covers keywords configured on the Messaging Service
    that our flows would not recognise; it is applied here, once, with the message.
    """
    now = runtime.clock.now()
    try:
        address = normalise_uk_mobile(sms.sender)
    except PhoneNumberError:
        address = None

    def record(target: Session | Connection) -> int | None:
        return record_inbound(
            target,
            channel=Channel.SMS,
            address=address or sms.sender[:64],
            text=sms.body,
            channel_message_id=sms.message_sid,
            at=now,
        )

    if address is not None and not sms.rate_limited and sms.opt_out_type is None:
        # The usual text: one autocommitted INSERT, the cheapest durable write there is.
        message_id = runtime.db.write_now(record)
        if message_id is None:
            log.info("repeated Twilio delivery ignored sid=%s", sms.message_sid)
            return None
    else:
        with runtime.db.session() as session:
            message_id = record(session)
            if message_id is None:
                log.info("repeated Twilio delivery ignored sid=%s", sms.message_sid)
                return None
            if address is None or sms.rate_limited:
                stored = session.get(Message, message_id)
                if stored is not None:
                    stored.processed_at = now
                    stored.intent = RATE_LIMITED_INTENT if sms.rate_limited else None
                    session.add(stored)
                log.info("text from a number we do not answer stored id=%s", message_id)
                return None
            if sms.opt_out_type in ("STOP", "START"):
                _mirror_opt_out(session, address, opted_out=sms.opt_out_type == "STOP", now=now)
    inbound = InboundMessage(
        channel=Channel.SMS,
        address=address,
        text=sms.body,
        channel_message_id=sms.message_sid,
        received_at=now,
    )
    return message_id, inbound


def _mirror_opt_out(session: Session, mobile: str, *, opted_out: bool, now: datetime) -> None:
    resident = session.exec(select(Resident).where(Resident.mobile == mobile)).first()
    if resident is None:
        return
    if opted_out and resident.sms_opted_out_at is None:
        resident.sms_opted_out_at = now
    elif not opted_out:
        resident.sms_opted_out_at = None
    session.add(resident)


# -- delivery status --------------------------------------------------------------------


def _record_status(runtime: Runtime, report: StatusReport) -> None:
    now = runtime.clock.now()
    rank = _RANK.get(report.status)
    if rank is None:
        log.info("unknown Twilio status %r ignored sid=%s", report.status, report.message_sid)
        return
    with runtime.db.session() as session:
        row = session.exec(
            select(OutboxMessage).where(OutboxMessage.provider_message_id == report.message_sid)
        ).first()
        if row is None:
            log.info("status %s for unknown sid=%s ignored", report.status, report.message_sid)
            return
        message = session.exec(
            select(Message)
            .where(Message.outbox_id == row.id, Message.direction == Direction.OUTBOUND)
            .order_by(col(Message.id).desc())
        ).first()
        if message is not None:
            if rank <= _RANK.get(message.delivery_status or "", -1):
                return  # a repeat, or late news of an earlier step: never move backwards
            message.delivery_status = report.status
            session.add(message)
        if row.status not in (OutboxStatus.SENDING, OutboxStatus.SENT):
            return  # settled already (delivered, failed) or put back for another attempt
        if report.status == "delivered":
            row.status = OutboxStatus.DELIVERED
            session.add(row)
        elif report.status in ("undelivered", "failed"):
            _apply_error(session, row, report.error_code, report.status, now)


def _apply_error(
    session: Session, row: OutboxMessage, code: int | None, status: str, now: datetime
) -> None:
    resident = _recipient(session, row)
    reason = f"Twilio {code}" if code is not None else f"Twilio {status}"
    if code in OPTED_OUT_CODES:
        if resident is not None and resident.sms_opted_out_at is None:
            resident.sms_opted_out_at = now
            session.add(resident)
        _fail(session, row, f"{reason}: recipient opted out", "opted_out", now)
    elif code in UNREACHABLE_CODES:
        if resident is not None and resident.sms_unreachable_at is None:
            resident.sms_unreachable_at = now
            session.add(resident)
            session.add(
                StaffTask(
                    kind=TaskKind.NUMBER_CHECK,
                    summary=f"Texts to {resident.name}'s mobile fail ({reason}): check the number",
                    resident_id=resident.id,
                    created_at=now,
                )
            )
        _fail(session, row, f"{reason}: number unreachable", "provider_refused", now)
    elif code in TRANSIENT_CODES and row.attempts < MAX_CARRIER_RETRIES:
        wait = carrier_backoff(row.attempts)
        row.status = OutboxStatus.PENDING
        row.not_before = now + wait
        row.last_error = f"{reason}: carrier could not deliver, trying again"
        # The next attempt is a new Twilio message; late news of this one must not touch it.
        row.provider_message_id = None
        session.add(row)
        session.add(
            ContactDecision(
                outbox_id=row.id or 0,
                decision=Decision.DEFER,
                reason_code="provider_retry",
                detail=f"{reason}; again after {int(wait.total_seconds())} s",
                at=now,
            )
        )
    else:
        _fail(session, row, reason, "provider_refused", now)


def _fail(session: Session, row: OutboxMessage, reason: str, code: str, now: datetime) -> None:
    row.status = OutboxStatus.FAILED
    row.last_error = reason[:500]
    session.add(row)
    session.add(
        ContactDecision(
            outbox_id=row.id or 0, decision=Decision.BLOCK, reason_code=code, detail=reason, at=now
        )
    )


def carrier_backoff(attempts: int) -> timedelta:
    """Wait before sending again after the carrier could not deliver (phone off, busy)."""
    delay: timedelta = RETRY_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_CAP)


def _recipient(session: Session, row: OutboxMessage) -> Resident | None:
    if row.resident_id is not None:
        return session.get(Resident, row.resident_id)
    if row.address:
        return session.exec(select(Resident).where(Resident.mobile == row.address)).first()
    return None
