"""The one internal message type that crosses the channel boundary.

Adapters (simulator, SMS, Telegram) turn vendor payloads into an InboundMessage at the
edge; the core never sees a Twilio form or a Telegram update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
