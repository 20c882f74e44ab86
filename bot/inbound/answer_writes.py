"""What answering a message writes: the conversation's new state, the message marked
processed, the replies queued. Shared by the locked path (bot/inbound/pipeline.py) and the
snapshot path (bot/inbound/snapshot.py); the statements themselves are in
storage/repositories/answers.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.common.events import InboundMessage
from flows.engine import ConversationState
from flows.messages import Reply
from nlu.types import ParseResult
from storage.enums import Channel
from storage.repositories import answers
from storage.repositories.outbox import enqueue
from storage.repositories.transcript import record_outbound

#: Channels whose replies go back in the HTTP answer; every other channel's replies go
#: through the outbox (and the contact policy) like everything else the service sends.
DIRECT_CHANNELS = frozenset({Channel.SIMULATOR})
REPLY_VALIDITY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class AnswerLinks:
    """What an answered message and its replies are linked to, for the evidence."""

    conversation_id: int | None = None
    resident_id: int | None = None
    appointment_id: int | None = None


def save_state(
    session: Session,
    *,
    conversation_id: int,
    state: ConversationState,
    now: datetime,
    seen_version: int | None = None,
    resident_id: int | None = None,
) -> bool:
    """Write the conversation's new state (and link it to `resident_id` when given); with
    `seen_version`, only if nobody else wrote it since (False then, nothing written)."""
    return answers.save_conversation_state(
        session,
        conversation_id=conversation_id,
        flow=state.flow,
        state=state.state,
        data=state.data,
        expires_at=state.expires_at,
        now=now,
        seen_version=seen_version,
        resident_id=resident_id,
    )


def start_conversation(
    session: Session,
    *,
    channel: Channel,
    address: str,
    resident_id: int | None,
    state: ConversationState,
    now: datetime,
) -> int | None:
    """Create the conversation for an address that never wrote before, in the state its
    first message left it; None when another worker created it meanwhile."""
    return answers.start_conversation(
        session,
        channel=channel,
        address=address,
        resident_id=resident_id,
        flow=state.flow,
        state=state.state,
        data=state.data,
        expires_at=state.expires_at,
        now=now,
    )


def mark_processed(
    session: Session,
    *,
    message_id: int,
    parse: ParseResult,
    now: datetime,
    links: AnswerLinks,
    only_if_unprocessed: bool = False,
) -> bool:
    """Mark the message answered, linked for the evidence; with `only_if_unprocessed`
    this is also the claim (False: someone else answered it first)."""
    return answers.mark_answered(
        session,
        message_id=message_id,
        intent=parse.intent.name,
        intent_confidence=parse.intent.confidence,
        now=now,
        conversation_id=links.conversation_id,
        resident_id=links.resident_id,
        appointment_id=links.appointment_id,
        only_if_unprocessed=only_if_unprocessed,
    )


def link_conversation(session: Session, *, message_id: int, conversation_id: int) -> None:
    answers.link_conversation(session, message_id=message_id, conversation_id=conversation_id)


def queue_replies(
    session: Session,
    *,
    message_id: int,
    inbound: InboundMessage,
    replies: tuple[Reply, ...],
    now: datetime,
    links: AnswerLinks,
) -> None:
    """Replies into the outbox (sent later, through the contact policy), or straight into
    the transcript for a channel that answers in the HTTP response."""
    for index, reply in enumerate(replies):
        options = [{"key": o.key, "label": o.label} for o in reply.options]
        if inbound.channel in DIRECT_CHANNELS:
            record_outbound(
                session,
                channel=inbound.channel,
                address=inbound.address,
                text=reply.text,
                at=now,
                options=options,
                conversation_id=links.conversation_id,
                resident_id=links.resident_id,
                appointment_id=links.appointment_id,
            )
            continue
        # The transcript row is written when the dispatcher actually sends it.
        enqueue(
            session,
            key=f"reply:{message_id}:{index}",
            kind=reply.kind,
            purpose="reply",
            text=reply.text,
            not_before=now,
            now=now,
            channel=inbound.channel,
            address=inbound.address,
            resident_id=links.resident_id,
            appointment_id=links.appointment_id,
            conversation_id=links.conversation_id,
            expires_at=now + REPLY_VALIDITY,
            payload={"options": options, "photo_path": reply.photo_path},
        )


def appointment_of(data: Mapping[str, Any], key: str = "appointment_id") -> int | None:
    value = data.get(key)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None
