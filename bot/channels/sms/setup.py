"""The SMS channel assembled from settings: the sender for the dispatcher, the webhook
routes for the app, or one clear log line saying why SMS is off."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from bot.channels.sms.sender import TwilioConfig, TwilioSender
from bot.channels.sms.webhooks import STATUS_PATH, sms_router
from bot.common.clock import SystemClock
from bot.settings import Settings
from flows.clock import Clock

log = logging.getLogger(__name__)

SMS_OFF = "SMS channel off: set DOORSTEP_TWILIO_ACCOUNT_SID and DOORSTEP_TWILIO_AUTH_TOKEN"


def twilio_config(settings: Settings) -> TwilioConfig | None:
    if not settings.sms_enabled:
        return None
    assert settings.twilio_account_sid is not None and settings.twilio_auth_token is not None
    return TwilioConfig(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        messaging_service_sid=settings.twilio_messaging_service_sid,
        from_number=settings.twilio_from,
        status_callback_url=settings.public_base_url + STATUS_PATH,
        api_base=settings.twilio_api_base,
        rate_per_second=settings.twilio_rate_per_second,
    )


def sms_sender_from_settings(settings: Settings, *, clock: Clock | None = None) -> TwilioSender:
    """The dispatcher's SMS sender. Only called when `settings.sms_enabled`."""
    config = twilio_config(settings)
    if config is None:
        raise RuntimeError(SMS_OFF)
    return TwilioSender(config, clock=clock or SystemClock())


def sms_router_from_settings(settings: Settings) -> APIRouter | None:
    """The Twilio webhook routes, or None (saying so once) when SMS is not configured."""
    if not settings.sms_enabled or settings.twilio_auth_token is None:
        log.info(SMS_OFF)
        return None
    return sms_router(
        auth_token=settings.twilio_auth_token.get_secret_value(),
        public_base_url=settings.public_base_url,
        concurrency=settings.process_concurrency,
    )
