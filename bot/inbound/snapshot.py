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
lasts only as long as the writes. A first text from an address creates its conversation
in the same write.

Whenever the snapshot is not enough (the flow asks for actions or a follow-up step, the
conversation changed, or was started by someone else, meanwhile) the answer is None and
the caller takes the locked path, which does everything again under locks: correctness
never depends on this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.common.events import InboundMessage
from bot.inbound.answer_writes import (
    AnswerLinks,
    appointment_of,
    link_conversation,
    mark_processed,
    queue_replies,
    save_state,
    start_conversation,
)
from bot.inbound.context import (
    PhotoLinks,
    ResidentViews,
    build_context,
    nominees_writing,
    resident_views,
)
from flows.clock import Clock
from flows.context import FlowInput, NomineeView
from flows.engine import IDLE_FLOW, START_STATE, ConversationState, FlowRegistry
from flows.messages import Reply
from nlu.types import ParseResult
from storage.db import Database
from storage.enums import Channel
from storage.models import Conversation, Landlord, Resident
from storage.repositories.conversations import of_addresses
from storage.repositories.people import writers_and_landlords


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What answering from a snapshot needs (the pipeline hands over its own)."""

    db: Database
    flows: FlowRegistry
    clock: Clock
    zone: ZoneInfo
    links: PhotoLinks


class _Moved(Exception):
    """The conversation changed between the snapshot and the write."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """The answer worked out from the snapshot, and what must still hold to write it."""

    replies: tuple[Reply, ...]
    state: ConversationState
    #: None: the address never wrote before, and its conversation is created with the answer.
    conversation_id: int | None
    seen_version: int
    links: AnswerLinks
    now: datetime

    @property
    def lock_order(self) -> tuple[int, int]:
        # New conversations first, then existing ones by id: every batch takes its locks
        # in the same order.
        return (0, 0) if self.conversation_id is None else (1, self.conversation_id)


#: A stored message to answer: its id, what arrived, and what the interpreter made of it.
Item = tuple[int, InboundMessage, ParseResult]
#: Per message: the replies (empty: it was answered already), or None for the locked path.
Outcome = tuple[Reply, ...] | None


def quick_answer(
    snapshot: Snapshot, message_id: int, inbound: InboundMessage, parse: ParseResult
) -> Outcome:
    """The replies (empty: already answered), or None to take the locked path."""
    return quick_answer_many(snapshot, [(message_id, inbound, parse)])[0]


def quick_answer_many(snapshot: Snapshot, items: Sequence[Item]) -> list[Outcome]:
    """Answer several messages (from different writers) with one read per table and one
    write transaction: under load the texts waiting in a worker are answered together,
    so the database work per text falls as the queue grows. A second text from the same
    writer is left to the locked path, after this batch, so it sees the first's answer."""
    if not items:
        return []
    plans: list[_Plan | Outcome] = []
    try:
        if snapshot.db.dialect == "sqlite":
            # Read without the database-wide write lock, then take it for the writes.
            with snapshot.db.autocommit() as connection, Session(bind=connection) as reading:
                plans = _plans(snapshot, reading, items)
            if not any(isinstance(plan, _Plan) for plan in plans):
                return [_outcome(plan) for plan in plans]
            with snapshot.db.session() as writing:
                return _write_all(snapshot, writing, plans, items)
        # PostgreSQL: reads take no locks anyway, so one transaction does both.
        with snapshot.db.session() as session:
            plans = _plans(snapshot, session, items)
            return _write_all(snapshot, session, plans, items)
    except _Moved:
        # Rolled back: every planned answer is worked out again under lock.
        return [None if isinstance(plan, _Plan) else plan for plan in plans]


def _outcome(plan: _Plan | Outcome) -> Outcome:
    return None if isinstance(plan, _Plan) else plan


def _plans(snapshot: Snapshot, session: Session, items: Sequence[Item]) -> list[_Plan | Outcome]:
    now = snapshot.clock.now()
    first: dict[tuple[Channel, str], int] = {}
    for index, (_, inbound, _) in enumerate(items):
        first.setdefault((inbound.channel, inbound.address), index)
    writers: dict[tuple[Channel, str], tuple[Resident | None, Landlord | None]] = {}
    nominees: dict[tuple[Channel, str], NomineeView] = {}
    conversations: dict[tuple[Channel, str], Conversation] = {}
    for channel in {channel for channel, _ in first}:
        addresses = sorted(address for c, address in first if c == channel)
        found = writers_and_landlords(session, channel=channel, addresses=addresses)
        writers.update(((channel, address), pair) for address, pair in found.items())
        unknown = [address for address in addresses if found[address][0] is None]
        if unknown:  # a resident's nominee, from their own number (flows/nominee.py)
            for address, (nominator, its_landlord, nominee) in nominees_writing(
                session, channel=channel, addresses=unknown
            ).items():
                writers[(channel, address)] = (nominator, its_landlord)
                nominees[(channel, address)] = nominee
        for conversation in of_addresses(session, channel=channel, addresses=addresses):
            conversations[(channel, conversation.address)] = conversation
    residents = {r.id: r for r, _ in writers.values() if r is not None and r.id is not None}
    views = resident_views(session, list(residents.values()), now, snapshot.links)
    plans: list[_Plan | Outcome] = []
    for index, (_, inbound, parse) in enumerate(items):
        key = (inbound.channel, inbound.address)
        if first[key] != index:
            plans.append(None)  # the same writer again: after this batch, under lock
            continue
        resident, landlord = writers[key]
        plans.append(_plan(snapshot, session, inbound, parse, resident, landlord,
                           conversations.get(key), views, now, nominees.get(key)))  # fmt: skip
    return plans


def _plan(
    snapshot: Snapshot,
    session: Session,
    inbound: InboundMessage,
    parse: ParseResult,
    resident: Resident | None,
    landlord: Landlord | None,
    conversation: Conversation | None,
    views: ResidentViews,
    now: datetime,
    nominee: NomineeView | None = None,
) -> _Plan | None:
    # A nominee's conversation and texts are their own, not the resident's (pipeline.py).
    resident_id = resident.id if resident is not None and nominee is None else None
    if conversation is None:  # never wrote before: a fresh conversation, made on write
        state = ConversationState(IDLE_FLOW, START_STATE, {}, None)
        conversation_id, version, paused = None, 0, False
    else:
        state = ConversationState(
            conversation.flow, conversation.state, conversation.data, conversation.expires_at
        )
        conversation_id, version, paused = (
            conversation.id,
            conversation.version,
            conversation.paused,
        )
    ctx = build_context(
        session,
        resident=resident,
        now=now,
        zone=snapshot.zone,
        paused=paused,
        links=snapshot.links,
        landlord=landlord,
        views=views,
        nominee=nominee,
    )
    message = FlowInput(
        inbound.text, parse, inbound.received_at, inbound.option_key, inbound.channel
    )
    result = snapshot.flows.step(state, message, ctx)
    if result.actions or result.follow_up:
        return None
    links = AnswerLinks(
        conversation_id,
        resident_id,
        appointment_of(result.state.data) or appointment_of(state.data),
    )
    return _Plan(result.replies, result.state, conversation_id, version, links, now)


def _write_all(
    snapshot: Snapshot, session: Session, plans: list[_Plan | Outcome], items: Sequence[Item]
) -> list[Outcome]:
    outcomes: list[Outcome] = [None if isinstance(plan, _Plan) else plan for plan in plans]
    # Conversations are locked in id order, so two batches sharing writers (a writer's
    # next text in another worker) wait for each other instead of deadlocking.
    order = sorted(
        (plan.lock_order, index) for index, plan in enumerate(plans) if isinstance(plan, _Plan)
    )
    for _, index in order:
        plan = plans[index]
        assert isinstance(plan, _Plan)
        message_id, inbound, parse = items[index]
        outcomes[index] = _write(snapshot, session, plan, message_id, inbound, parse)
    return outcomes


def _write(
    snapshot: Snapshot,
    session: Session,
    plan: _Plan,
    message_id: int,
    inbound: InboundMessage,
    parse: ParseResult,
) -> tuple[Reply, ...]:
    done = snapshot.clock.now()
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
    links = plan.links
    if plan.conversation_id is None:
        created = start_conversation(
            session,
            channel=inbound.channel,
            address=inbound.address,
            resident_id=links.resident_id,
            state=plan.state,
            now=plan.now,
        )
        if created is None:
            raise _Moved  # another worker started it meanwhile
        links = replace(links, conversation_id=created)
        link_conversation(session, message_id=message_id, conversation_id=created)
    elif not save_state(
        session,
        conversation_id=plan.conversation_id,
        state=plan.state,
        now=plan.now,
        seen_version=plan.seen_version,
        resident_id=links.resident_id,
    ):
        raise _Moved
    queue_replies(
        session,
        message_id=message_id,
        inbound=inbound,
        replies=plan.replies,
        now=done,
        links=links,
    )
    return plan.replies
