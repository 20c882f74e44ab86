"""The path every inbound message takes, whatever channel it came from.

1. Store it (unique on the channel's message id) and commit: from here nothing is lost.
2. Understand it with the interpreter, at the message's own timestamp.
3. In one transaction: lock the conversation, build the flow's view of the world, run
   the pure flow step, apply its actions (and step again with their outcomes when the
   flow asks), save the new state, store the replies and mark the message processed.

Step 3 is the dispatcher boundary: any error there is logged and the resident gets a
polite answer instead of silence, and the message is still marked processed so a
poison message cannot loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.common.events import Handled, InboundMessage
from bot.common.metrics import Metrics
from bot.inbound.actions import ActionContext, apply_actions
from bot.inbound.answer_writes import (
    AnswerLinks,
    appointment_of,
    mark_processed,
    queue_replies,
    save_state,
)
from bot.inbound.context import NoPhotoLinks, PhotoLinks, build_context, nominees_writing
from bot.inbound.ingest import ingest, storable
from bot.inbound.snapshot import Item, Snapshot, quick_answer, quick_answer_many
from flows.clock import Clock
from flows.context import FlowInput
from flows.engine import ConversationState, FlowRegistry, StepResult
from flows.messages import Reply
from nlu.interpreter import Interpreter
from nlu.types import ParseResult
from storage.db import Database, retry_once
from storage.enums import Channel
from storage.repositories.conversations import lock_conversation
from storage.repositories.people import writer_and_landlord
from storage.repositories.transcript import (
    claim_for_answer,
    newest_inbound_id,
    unprocessed_inbound,
)

log = logging.getLogger(__name__)

SORRY = Reply(
    "Sorry, something went wrong on our side and I could not deal with that message. "
    "Please try again in a few minutes, or call us."
)
#: A flow may ask for a follow-up step after its actions; more than this is a bug.
MAX_FOLLOW_UPS = 3


@dataclass(frozen=True, slots=True)
class Pipeline:
    db: Database
    interpreter: Interpreter
    flows: FlowRegistry
    clock: Clock
    zone: ZoneInfo
    links: PhotoLinks = field(default_factory=NoPhotoLinks)
    #: Visit codes come from here; tests pass a seeded one.
    rng: random.Random = field(default_factory=random.SystemRandom)
    metrics: Metrics | None = None

    @property
    def snapshot(self) -> Snapshot:
        """What the snapshot path (bot/inbound/snapshot.py) needs of this pipeline."""
        return Snapshot(
            db=self.db, flows=self.flows, clock=self.clock, zone=self.zone, links=self.links
        )

    async def receive(self, inbound: InboundMessage) -> Handled:
        """Store and answer in one go (the simulator; webhooks store, ack, then process)."""
        message_id = await self.store(inbound)
        if message_id is None:
            return Handled(duplicate=True)
        replies = await self.process(message_id, inbound)
        return Handled(duplicate=False, replies=replies, message_id=message_id)

    async def process(self, message_id: int, inbound: InboundMessage) -> tuple[Reply, ...]:
        """Understand and answer a stored message; safe to call again after a crash."""
        inbound = storable(inbound)
        parse = await self._understand(inbound)
        return await asyncio.to_thread(self._answer, message_id, inbound, parse)

    async def process_many(
        self, messages: Sequence[tuple[int, InboundMessage]]
    ) -> list[tuple[Reply, ...]]:
        """`process` for several stored messages at once (texts that queued up in a busy
        worker): one read per table and one write for all those that only need a reply,
        the rest one by one as usual. Safe to call again after a crash."""
        items = []
        for message_id, inbound in messages:
            clean = storable(inbound)
            items.append((message_id, clean, await self._understand(clean)))
        return await asyncio.to_thread(self._answer_many, items)

    async def _understand(self, inbound: InboundMessage) -> ParseResult:
        started = time.perf_counter()
        parse = await self.interpreter.parse(
            inbound.text, now=inbound.received_at, tz=self.zone.key
        )
        if self.metrics is not None:
            self.metrics.nlu_latency.labels(self.interpreter.name).observe(
                time.perf_counter() - started
            )
        return parse

    async def store(self, inbound: InboundMessage) -> int | None:
        """Persist an inbound message (`ingest`); None when this channel id was stored before."""
        message_id = await asyncio.to_thread(ingest, self.db, inbound)
        self._count(inbound, "duplicate" if message_id is None else "stored")
        return message_id

    def _count(self, inbound: InboundMessage, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.messages_in.labels(inbound.channel.value, outcome).inc()

    async def process_pending(
        self,
        *,
        limit: int = 500,
        older_than: timedelta | None = None,
        up_to_id: int | None = None,
    ) -> int:
        """Answer messages that were stored but never processed (the process died, or the
        database went away, between acknowledging and answering). Run at start-up and
        every minute by the scheduler (`older_than` leaves in-flight ones alone)."""
        before = self.clock.now() - older_than if older_than is not None else None
        pending = await asyncio.to_thread(self._pending, limit, before)
        if up_to_id is not None:  # only what was there before this process started
            pending = [(i, m) for i, m in pending if i <= up_to_id]
        for message_id, inbound in pending:
            await self.process(message_id, inbound)
        return len(pending)

    def last_inbound_id(self) -> int:
        """The newest inbound message's id: start-up recovery stops there, so it never
        races the requests this process is already answering."""
        with self.db.session() as session:
            return newest_inbound_id(session)

    def _pending(self, limit: int, before: datetime | None) -> list[tuple[int, InboundMessage]]:
        with self.db.session() as session:
            rows = unprocessed_inbound(session, limit=limit, stored_before=before)
            return [
                (
                    row.id,
                    InboundMessage(
                        channel=Channel(row.channel),
                        address=row.address,
                        text=row.text,
                        channel_message_id=row.channel_message_id or f"stored-{row.id}",
                        received_at=row.created_at,
                    ),
                )
                for row in rows
                if row.id is not None
            ]

    def _answer_many(self, items: list[Item]) -> list[tuple[Reply, ...]]:
        try:
            outcomes = retry_once(lambda: quick_answer_many(self.snapshot, items))
        except Exception:
            log.exception("could not answer a batch of messages; answering them one by one")
            outcomes = [None] * len(items)
        answered: list[tuple[Reply, ...]] = []
        for (message_id, inbound, parse), outcome in zip(items, outcomes, strict=True):
            if outcome is None:
                answered.append(self._answer(message_id, inbound, parse, snapshot=False))
            else:
                self._count(inbound, "processed")
                answered.append(outcome)
        return answered

    def _answer(
        self,
        message_id: int,
        inbound: InboundMessage,
        parse: ParseResult,
        *,
        snapshot: bool = True,
    ) -> tuple[Reply, ...]:
        try:
            # Most messages are answered from a snapshot without holding any lock while
            # the flow runs; the rest (actions, follow-ups, a conversation that moved
            # meanwhile) take the locked path below.
            replies = retry_once(
                lambda: self._answer_once(message_id, inbound, parse, snapshot=snapshot)
            )
            self._count(inbound, "processed")
            return replies
        except Exception:
            log.exception("could not handle a message", extra={"message_id": message_id})
            self._count(inbound, "error")
            now = self.clock.now()
            with self.db.session() as session:
                mark_processed(
                    session, message_id=message_id, parse=parse, now=now, links=AnswerLinks()
                )
                queue_replies(
                    session, message_id=message_id, inbound=inbound, replies=(SORRY,), now=now,
                    links=AnswerLinks(),
                )  # fmt: skip
            return (SORRY,)

    def _answer_once(
        self, message_id: int, inbound: InboundMessage, parse: ParseResult, *, snapshot: bool
    ) -> tuple[Reply, ...]:
        replies = quick_answer(self.snapshot, message_id, inbound, parse) if snapshot else None
        if replies is None:
            with self.db.session() as session:
                replies = self._run_flow(session, message_id, inbound, parse)
        return replies

    def _run_flow(
        self, session: Session, message_id: int, inbound: InboundMessage, parse: ParseResult
    ) -> tuple[Reply, ...]:
        now = self.clock.now()
        # Locked, so two workers recovering the same message cannot both answer it.
        if not claim_for_answer(session, message_id=message_id):
            return ()
        resident, landlord = writer_and_landlord(
            session, channel=inbound.channel, address=inbound.address
        )
        nominee = None
        if resident is None:
            found = nominees_writing(session, channel=inbound.channel, addresses=[inbound.address])
            if inbound.address in found:
                resident, landlord, nominee = found[inbound.address]
        # A nominee's conversation and texts are their own, not the resident's: the
        # resident's conversations are where service messages start flows (feedback...).
        writer_id = resident.id if resident is not None and nominee is None else None
        conversation = lock_conversation(
            session,
            channel=inbound.channel,
            address=inbound.address,
            resident_id=writer_id,
            now=now,
        )
        state = ConversationState(
            conversation.flow, conversation.state, conversation.data, conversation.expires_at
        )
        message = FlowInput(
            inbound.text, parse, inbound.received_at, inbound.option_key, inbound.channel
        )
        actions = ActionContext(
            session=session,
            resident=resident,
            conversation=conversation,
            now=now,
            zone=self.zone,
            windows=(),
            rng=self.rng,
            channel=inbound.channel,
        )
        replies: list[Reply] = []
        appointment_id = appointment_of(state.data)
        for _ in range(MAX_FOLLOW_UPS + 1):
            ctx = build_context(
                session,
                resident=resident,
                now=now,
                zone=self.zone,
                paused=conversation.paused,
                links=self.links,
                landlord=landlord,
                nominee=nominee,
            )
            actions.windows = ctx.windows
            result: StepResult = self.flows.step(state, message, ctx)
            replies.extend(result.replies)
            state = result.state
            outcomes = apply_actions(result.actions, actions)
            appointment_id = outcomes.booked or appointment_of(state.data) or appointment_id
            session.flush()
            if not result.follow_up:
                break
            message = FlowInput("", parse, inbound.received_at, None, inbound.channel, outcomes)
        else:
            log.error("flow %s/%s kept asking for follow-ups", state.flow, state.state)
        assert conversation.id is not None
        save_state(session, conversation_id=conversation.id, state=state, now=now)
        links = AnswerLinks(conversation.id, writer_id, appointment_id)
        now = self.clock.now()
        mark_processed(session, message_id=message_id, parse=parse, now=now, links=links)
        queue_replies(
            session, message_id=message_id, inbound=inbound, replies=tuple(replies), now=now,
            links=links,
        )  # fmt: skip
        return tuple(replies)


def parse_time(value: str) -> datetime:
    """An ISO time from an API caller, which must carry its zone."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time must include a zone, e.g. 2026-12-01T09:00:00+00:00")
    return moment
