"""The simulator's sending side: what the service sends on its own appears in the
simulator conversation (its transcript), as it would on the resident's phone."""

from __future__ import annotations

import itertools
from datetime import datetime

from bot.outbound.sending import OutgoingMessage, SendReceipt
from storage.enums import Channel


class SimulatorSender:
    """Stands in for SMS when no Twilio account is configured (simulator mode only)."""

    channel = Channel.SIMULATOR

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    async def send(self, message: OutgoingMessage) -> SendReceipt:
        return SendReceipt(provider_message_id=f"SIM{next(self._ids)}", status="delivered")

    async def reconcile(self, message: OutgoingMessage, *, since: datetime) -> SendReceipt | None:
        # Nothing left the machine, so nothing can have been half-sent: send again.
        return None
