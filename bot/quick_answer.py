"""Answer a message from a snapshot, holding no lock while the flow works it out.

Most texts ("hello", "when is my visit?", a menu number) only read: the flow looks at
the resident's visits and replies, changing nothing but its own conversation state.
Those are answered in two short steps:

1. read, without locks: the writer, their conversation and what the flow needs to
   see; run the pure flow step;
2. write: claim the message (only if still unprocessed), save the conversation's new
   state (only if its version is the one read in step 1) and queue the replies.

On SQLite step 1 runs outside any transaction (each statement sees the latest committed
data, as PostgreSQL's READ COMMITTED does anyway) and step 2 in its own short one, so
the database-wide write lock is held for the writes alone, not for the whole flow, and
webhooks storing new texts are not kept waiting behind conversations. On PostgreSQL,
where reads take no locks, both run in one transaction and the conversation's row lock
lasts only as long as the writes. Whenever the snapshot is not
enough (the flow asks for actions or a follow-up step, the conversation is new or
changed meanwhile) the answer is None and the caller takes the locked path, which does
everything again under locks: correctness never depends on this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from bot.answer_writes import (
    AnswerLinks,
    appointment_of,
    mark_processed,
    queue_replies,
    save_state,
)
from bot.context import build_context
from bot.events import InboundMessage
from flows.context import Inbound
from flows.engine import ConversationState
from flows.messages import Reply
from nlu.types import ParseResult
from storage.models import Conversation
from storage.repositories.people import writer_and_landlord

if TYPE_CHECKING:
    from bot.pipeline import Pipeline


class _Moved(Exception):
    """The conversation changed between the snapshot and the write."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """The answer worked out from the snapshot, and what must still hold to write it."""

    replies: tuple[Reply, ...]
    state: ConversationState
    conversation_id: int
    seen_version: int
    links: AnswerLinks
    now: datetime


def quick_answer(
    pipeline: Pipeline, message_id: int, inbound: InboundMessage, parse: ParseResult
) -> tuple[Reply, ...] | None:
    """The replies (empty: already answered), or None to take the locked path."""
    try:
        if pipeline.db.dialect == "sqlite":
            # Read without the database-wide write lock, then take it for the writes.
            with pipeline.db.autocommit() as connection, Session(bind=connection) as reading:
                plan = _plan(pipeline, reading, message_id, inbound, parse)
            if not isinstance(plan, _Plan):
                return plan
            with pipeline.db.session() as writing:
                return _write(pipeline, writing, plan, message_id, inbound, parse)
        # PostgreSQL: reads take no locks anyway, so one transaction does both.
        with pipeline.db.session() as session:
            plan = _plan(pipeline, session, message_id, inbound, parse)
            if not isinstance(plan, _Plan):
                return plan
            return _write(pipeline, session, plan, message_id, inbound, parse)
    except _Moved:
        return None  # rolled back; answered again under lock with what is there now


def _plan(
    pipeline: Pipeline,
    session: Session,
    message_id: int,
    inbound: InboundMessage,
    parse: ParseResult,
) -> _Plan | tuple[Reply, ...] | None:
    now = pipeline.clock.now()
    resident, landlord = writer_and_landlord(
        session, channel=inbound.channel, address=inbound.address
    )
    conversation = session.exec(
        select(Conversation).where(
            Conversation.channel == inbound.channel, Conversation.address == inbound.address
        )
    ).first()
    resident_id = resident.id if resident is not None else None
    if conversation is None or conversation.id is None:
        return None  # the first message from this address creates it, under lock
    if resident_id is not None and conversation.resident_id != resident_id:
        return None  # the locked path links the conversation to the resident
    state = ConversationState(
        conversation.flow, conversation.state, conversation.data, conversation.expires_at
    )
    ctx = build_context(
        session,
        resident=resident,
        now=now,
        zone=pipeline.zone,
        paused=conversation.paused,
        links=pipeline.links,
        landlord=landlord,
    )
    message = Inbound(inbound.text, parse, inbound.received_at, inbound.option_key, inbound.channel)
    result = pipeline.flows.step(state, message, ctx)
    if result.actions or result.follow_up:
        return None
    links = AnswerLinks(
        conversation.id,
        resident_id,
        appointment_of(result.state.data) or appointment_of(state.data),
    )
    return _Plan(result.replies, result.state, conversation.id, conversation.version, links, now)


def _write(
    pipeline: Pipeline,
    session: Session,
    plan: _Plan,
    message_id: int,
    inbound: InboundMessage,
    parse: ParseResult,
) -> tuple[Reply, ...]:
    done = pipeline.clock.now()
    # The claim: a message already answered (a recovery pass, another worker) is left be.
    if not mark_processed(
        session,
        message_id=message_id,
        parse=parse,
        now=done,
        only_if_unprocessed=True,
        links=plan.links,
    ):
        return ()
    if not save_state(
        session,
        conversation_id=plan.conversation_id,
        state=plan.state,
        now=plan.now,
        seen_version=plan.seen_version,
    ):
        raise _Moved
    queue_replies(
        session,
        message_id=message_id,
        inbound=inbound,
        replies=plan.replies,
        now=done,
        links=plan.links,
    )
    return plan.replies
