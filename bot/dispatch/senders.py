"""Which senders a running service has, from its settings."""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from bot.channels.base import Sender
from bot.channels.simulator_sender import SimulatorSender
from bot.settings import Settings
from flows.clock import Clock
from storage.enums import Channel

log = logging.getLogger(__name__)


def senders_from_settings(
    settings: Settings, *, clock: Clock | None = None
) -> dict[Channel, Sender]:
    """Twilio and Telegram when configured; in simulator mode SMS without Twilio goes to
    the simulator conversation, so everything the service sends can be seen there."""
    senders: dict[Channel, Sender] = {}
    if settings.sms_enabled:
        senders[Channel.SMS] = _build(
            "bot.channels.sms_setup", "sms_sender_from_settings", settings
        )
    elif settings.simulator:
        senders[Channel.SMS] = SimulatorSender()
    if settings.telegram_enabled:
        senders[Channel.TELEGRAM] = _build(
            "bot.channels.telegram_setup", "telegram_sender_from_settings", settings
        )
    senders.setdefault(Channel.SIMULATOR, SimulatorSender())
    return senders


def _build(module: str, factory: str, settings: Settings) -> Any:
    return getattr(import_module(module), factory)(settings)
