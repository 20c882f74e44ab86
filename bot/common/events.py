"""The one internal message type that crosses the channel boundary, and what to do with it.

Adapters (simulator, SMS, Telegram, the operatives' desk) turn vendor payloads into an
InboundMessage at the edge; the core never sees a Twilio form or a Telegram update.
Anything else an adapter knows about the message (Twilio applied an opt-out, the sender
is flooding, the number is one we never answer, it came from an operative) travels
beside it as a Disposition, handed to `bot.inbound.ingest.ingest`, the one place a
message from outside is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlmodel import Session

from flows.messages import Reply
from storage.enums import Channel


@dataclass(frozen=True, slots=True)
class InboundMessage:
    channel: Channel
    #: Channel-neutral address: E.164 mobile for SMS and the simulator, user id for Telegram.
    address: str
    text: str
    #: The channel's own id for this message; a second delivery with the same id is ignored.
    channel_message_id: str
    received_at: datetime
    #: Set when the resident pressed a button rather than typing.
    option_key: str | None = None


@dataclass(frozen=True, slots=True)
class Handled:
    """The outcome of receiving one message."""

    duplicate: bool
    replies: tuple[Reply, ...] = ()
    message_id: int | None = None


class Disposition(StrEnum):
    """What becomes of an incoming message once it is stored."""

    #: The usual case: stored unprocessed, then answered by the pipeline.
    ANSWER = "answer"
    #: Twilio applied an opt-out keyword (OptOutType STOP): mirrored, then answered.
    CARRIER_STOP = "carrier_stop"
    #: Twilio applied an opt-in keyword (OptOutType START): mirrored, then answered.
    CARRIER_START = "carrier_start"
    #: Another carrier keyword Twilio flagged (HELP, ...): answered, never rate-limited.
    CARRIER_KEYWORD = "carrier_keyword"
    #: Over its sender's rate limit: stored for the record, never answered.
    RATE_LIMITED = "rate_limited"
    #: From a number we never text (not a UK mobile): stored for the record only.
    UNANSWERED_NUMBER = "unanswered_number"
    #: Telegram linking (a deep link, a shared contact) or someone we do not know yet:
    #: stored for the record; the webhook answers it itself.
    LINKING = "linking"
    #: An operative's message or button press: stored for the record; the operatives'
    #: desk answers it.
    OPERATIVE = "operative"

    @property
    def answered_by_pipeline(self) -> bool:
        return self in _ANSWERED


_ANSWERED = frozenset(
    {
        Disposition.ANSWER,
        Disposition.CARRIER_STOP,
        Disposition.CARRIER_START,
        Disposition.CARRIER_KEYWORD,
    }
)


class Ingest(Protocol):
    """`bot.inbound.ingest.ingest` inside a caller's transaction, as rooms that may not
    import bot.inbound (the operatives') are handed it."""

    def __call__(
        self, into: Session, message: InboundMessage, *, disposition: Disposition
    ) -> int | None: ...
