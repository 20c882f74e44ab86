"""A sender that records instead of sending: for tests, the benchmark and the simulator."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import datetime

from bot.outbound.sending import OutgoingMessage, SendError, SendReceipt
from storage.enums import Channel


@dataclass
class RecordingSender:
    """Keeps every message it was given; optional pacing and scripted failures.

    `rate` (messages per second) paces sends the way a real provider's limit would;
    `fail_with` maps an outbox id to the errors to raise on successive attempts.
    """

    channel: Channel = Channel.SMS
    status: str = "sent"
    rate: float | None = None
    fail_with: dict[int, list[SendError]] = field(default_factory=dict)
    sent: list[OutgoingMessage] = field(default_factory=list)
    #: Event-loop time of each send, for measuring pacing.
    sent_times: list[float] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _next_slot: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, message: OutgoingMessage) -> SendReceipt:
        errors = self.fail_with.get(message.outbox_id)
        if errors:
            raise errors.pop(0)
        if self.rate is not None:
            await self._pace()
        self.sent.append(message)
        self.sent_times.append(asyncio.get_running_loop().time())
        return SendReceipt(provider_message_id=f"FAKE{next(self._ids)}", status=self.status)

    async def reconcile(self, message: OutgoingMessage, *, since: datetime) -> SendReceipt | None:
        for sent in self.sent:
            if sent.idempotency_key == message.idempotency_key:
                return SendReceipt(provider_message_id=f"FAKE-{sent.outbox_id}", status="sent")
        return None

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.rate is not None
        async with self._lock:
            now = loop.time()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self.rate
        delay = slot - now
        if delay > 0:
            await asyncio.sleep(delay)
