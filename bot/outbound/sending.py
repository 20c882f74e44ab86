"""What every sending channel offers the dispatcher.

A sender makes one provider call per message and says clearly how it went: a receipt,
or a SendError that says whether trying again could help. It never retries by itself;
retries, backoff and the contact policy belong to the dispatcher, which records every
decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flows.messages import Option
from storage.enums import Channel


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    outbox_id: int
    channel: Channel
    address: str
    text: str
    idempotency_key: str
    options: tuple[Option, ...] = ()
    photo_path: str | None = None
    #: Past this the message is useless; SMS passes it to Twilio as validity_period.
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SendReceipt:
    provider_message_id: str | None
    #: The provider's own status word ("queued", "sent", "delivered", ...).
    status: str
    segments: int | None = None


class SendError(Exception):
    """A send that did not work, and what it means for the next attempt."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str | None = None,
        retry_after: float | None = None,
        opted_out: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        #: The provider says the recipient opted out (Twilio 21610): mirror it.
        self.opted_out = opted_out
        #: The address cannot be reached on this channel (blocked bot, dead number).
        self.unreachable = unreachable


class Sender(Protocol):
    channel: Channel

    async def send(self, message: OutgoingMessage) -> SendReceipt:
        """One provider call. Raises SendError when it did not work."""
        ...

    async def reconcile(self, message: OutgoingMessage, *, since: datetime) -> SendReceipt | None:
        """After a crash mid-send: did this message reach the provider? None if not found.

        The dispatcher asks this before it ever sends a row left in `sending` again.
        """
        ...
