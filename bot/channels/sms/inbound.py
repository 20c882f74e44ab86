"""A resident's text arriving from Twilio: parsed, stored once, answered in the background.

The message is stored (`bot.inbound.ingest`) unique on its MessageSid and committed,
Twilio gets empty TwiML at once, and the conversation runs in the background
(InboundWork). Replies go out later through the outbox, so the webhook's speed never
depends on the NLU or the flows. A process that dies after the acknowledgment leaves the
message unprocessed in the database, where `Pipeline.process_pending` finds it on the
next start; a repeated delivery of the same MessageSid is acknowledged and ignored.

Texts from numbers that are not UK mobiles (abroad, short codes, alphanumeric senders)
are stored for the record, marked processed and never answered: we only text UK mobiles,
and an answer to a premium or spoofed number could cost money."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from starlette.datastructures import FormData

from bot.channels.sms.forms import BadRequest, address, message_sid
from bot.common.events import Disposition, InboundMessage
from bot.inbound.ingest import ingest, storable
from bot.runtime import Runtime
from storage.db import retry_once
from storage.enums import Channel
from storage.phones import PhoneNumberError, normalise_uk_mobile

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

    async def store(
        self, runtime: Runtime, message: InboundMessage, disposition: Disposition
    ) -> tuple[int, InboundMessage] | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._store_pool, retry_once, lambda: store_inbound(runtime, message, disposition)
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


def parse_inbound(form: FormData, *, now: datetime) -> tuple[InboundMessage, Disposition]:
    """The text Twilio posted, and what to do with it (bar the rate limit, which the
    webhook adds): a text from a number that is not a UK mobile is only kept for the
    record, under its sender as given; Twilio's OptOutType is applied with it."""
    sid = message_sid(form)
    sender = address(form, "From")
    body = form.get("Body")
    if not isinstance(body, str):
        raise BadRequest("Body is missing")
    opt_out = form.get("OptOutType")
    opt_out_type = opt_out.strip().upper() if isinstance(opt_out, str) and opt_out else None
    try:
        mobile: str | None = normalise_uk_mobile(sender)
    except PhoneNumberError:
        mobile = None
    if mobile is None:
        disposition = Disposition.UNANSWERED_NUMBER
    elif opt_out_type is None:
        disposition = Disposition.ANSWER
    else:
        disposition = _CARRIER.get(opt_out_type, Disposition.CARRIER_KEYWORD)
    message = InboundMessage(
        channel=Channel.SMS,
        address=mobile or sender,
        text=body[:MAX_BODY],
        channel_message_id=sid,
        received_at=now,
    )
    return message, disposition


_CARRIER = {"STOP": Disposition.CARRIER_STOP, "START": Disposition.CARRIER_START}


def store_inbound(
    runtime: Runtime, message: InboundMessage, disposition: Disposition
) -> tuple[int, InboundMessage] | None:
    """Store the text (and any opt-out Twilio applied) through `ingest`; durable on return.

    Returns what to answer next, or None for a repeat delivery or a text stored only for
    the record (a number we never answer, a flood).
    """
    message_id = ingest(runtime.db, message, disposition=disposition)
    if message_id is None or not disposition.answered_by_pipeline:
        return None
    return message_id, storable(message)
