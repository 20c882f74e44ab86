"""Building the Telegram channel from settings: the sender for the dispatcher and the
webhook for the web app. Without `DOORSTEP_TELEGRAM_TOKEN` the channel is off, and says
so once, at start-up."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder

from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.webhook import TelegramInbox, TelegramWebhook, router
from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)

OFF_MESSAGE = "Telegram channel off: set DOORSTEP_TELEGRAM_TOKEN"
#: Seconds. Sends are small; a photo upload gets PTB's longer media write time-out.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
WRITE_TIMEOUT = 10.0
POOL_TIMEOUT = 2.0
#: Updates worked on at once (per-chat order is kept by the inbox).
CONCURRENT_UPDATES = 64


def _urls(settings: Settings) -> dict[str, str]:
    """The Bot API URLs; DOORSTEP_TELEGRAM_API_BASE is the server root (a local fake, or a
    self-hosted Bot API server), under which PTB adds `/bot<token>/<method>`."""
    if not settings.telegram_api_base:
        return {}
    base = settings.telegram_api_base
    return {"base_url": f"{base}/bot", "base_file_url": f"{base}/file/bot"}


def _token(settings: Settings) -> str:
    if settings.telegram_token is None:
        raise ValueError(OFF_MESSAGE)
    return settings.telegram_token.get_secret_value()


def build_application(
    settings: Settings, *, polling: bool = False
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application: without an updater for the webhook, with one for `poll`."""
    urls = _urls(settings)
    builder = (
        ApplicationBuilder()
        .token(_token(settings))
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .write_timeout(WRITE_TIMEOUT)
        .pool_timeout(POOL_TIMEOUT)
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if "base_url" in urls:
        builder = builder.base_url(urls["base_url"]).base_file_url(urls["base_file_url"])
    if not polling:
        builder = builder.updater(None)
    return builder.build()


def build_bot(settings: Settings) -> Bot:
    """A plain Bot for commands (set-webhook) and a dispatcher in another process."""
    urls = _urls(settings)
    if not urls:
        return Bot(_token(settings))
    return Bot(_token(settings), base_url=urls["base_url"], base_file_url=urls["base_file_url"])


def telegram_sender_from_settings(settings: Settings) -> TelegramSender | None:
    """The dispatcher's Telegram sender, or None (logged) when the channel is off."""
    if not settings.telegram_enabled:
        log.info(OFF_MESSAGE)
        return None
    return TelegramSender(build_bot(settings), photos_dir=settings.photos_dir)


def mount_telegram(app: FastAPI, runtime: Runtime) -> TelegramWebhook | None:
    """Add `POST /webhooks/telegram` and the Application; the caller's lifespan starts it.

    The webhook's sender (`app.state.telegram.inbox.sender`) shares the Application's Bot,
    so a dispatcher in the same process can use it and keep one flood limiter.
    """
    settings = runtime.settings
    if not settings.telegram_enabled:
        log.info(OFF_MESSAGE)
        return None
    application = build_application(settings)
    sender = TelegramSender(application.bot, photos_dir=settings.photos_dir)
    inbox = TelegramInbox(
        db=runtime.db, pipeline=runtime.pipeline, clock=runtime.clock, sender=sender
    )
    secret = settings.telegram_webhook_secret
    webhook = TelegramWebhook(
        application, inbox, secret=secret.get_secret_value() if secret else None
    )
    app.state.telegram = webhook
    app.include_router(router)
    return webhook
