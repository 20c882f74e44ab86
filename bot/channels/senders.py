"""Which senders a running service has, from its settings."""

from __future__ import annotations

from bot.channels.simulator_sender import SimulatorSender
from bot.outbound.sending import Sender
from bot.settings import Settings
from flows.clock import Clock
from storage.enums import Channel


def senders_from_settings(
    settings: Settings, *, clock: Clock | None = None
) -> dict[Channel, Sender]:
    """Twilio and Telegram when configured; in simulator mode SMS without Twilio goes to
    the simulator conversation, so everything the service sends can be seen there."""
    senders: dict[Channel, Sender] = {}
    if settings.sms_enabled:
        from bot.channels.sms.setup import sms_sender_from_settings

        senders[Channel.SMS] = sms_sender_from_settings(settings, clock=clock)
    elif settings.simulator:
        senders[Channel.SMS] = SimulatorSender()
    if settings.telegram_enabled:
        from bot.channels.telegram.setup import telegram_sender_from_settings

        telegram = telegram_sender_from_settings(settings)
        if telegram is not None:
            senders[Channel.TELEGRAM] = telegram
    senders.setdefault(Channel.SIMULATOR, SimulatorSender())
    return senders
