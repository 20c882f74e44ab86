"""A resident's text arriving from Twilio: parsed, stored once, answered in the background.

The message is stored unique on its MessageSid and committed, Twilio gets empty TwiML at
once, and the conversation runs in the background (InboundWork). Replies go out later
through the outbox, so the webhook's speed never depends on the NLU or the flows. A
process that dies after the acknowledgment leaves the message unprocessed in the
database, where `Pipeline.process_pending` finds it on the next start; a repeated
delivery of the same MessageSid is acknowledged and ignored.

Texts from numbers that are not UK mobiles (abroad, short codes, alphanumeric senders)
are stored for the record, marked processed and never answered: we only text UK
mobiles, and an answer to a premium or spoofed number could cost money.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection
from sqlmodel import Session, select
from starlette.datastructures import FormData

from bot.channels.sms.forms import _SID, BadRequest, _field
from bot.common.events import InboundMessage
from bot.inbound.ratelimit import RATE_LIMITED_INTENT
from bot.runtime import Runtime
from storage.db import retry_once
from storage.enums import Channel
from storage.models import Message, Resident
from storage.phones import PhoneNumberError, normalise_uk_mobile
from storage.repositories.transcript import record_inbound

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class InboundSms:
    message_sid: str
    sender: str
    body: str
    opt_out_type: str | None
    #: Over its sender's rate limit (bot/inbound/ratelimit.py): stored for the record, not answered.
    rate_limited: bool = False


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
