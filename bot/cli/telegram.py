"""`doorstep telegram ...`: register the webhook, poll during development, invite a resident."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes, TypeHandler

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)

app = typer.Typer(help="The Telegram channel.", no_args_is_help=True)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    if not settings.telegram_enabled:
        typer.secho("Telegram channel off: set DOORSTEP_TELEGRAM_TOKEN", err=True)
        raise typer.Exit(code=2)
    return settings


@app.command("set-webhook")
def set_webhook() -> None:
    """Tell Telegram to post updates to {DOORSTEP_PUBLIC_BASE_URL}/webhooks/telegram."""
    from bot.channels.telegram.setup import build_bot
    from bot.channels.telegram.webhook import ALLOWED_UPDATES

    settings = _settings()
    if settings.telegram_webhook_secret is None:
        typer.secho("set DOORSTEP_TELEGRAM_WEBHOOK_SECRET first: the webhook needs it", err=True)
        raise typer.Exit(code=2)
    url = f"{settings.public_base_url}/webhooks/telegram"
    secret = settings.telegram_webhook_secret.get_secret_value()

    async def run() -> None:
        async with build_bot(settings) as bot:
            await bot.set_webhook(
                url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
            )

    try:
        asyncio.run(run())
    except TelegramError as exc:
        typer.secho(f"Telegram refused the webhook: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"webhook set: {url} (updates: {', '.join(ALLOWED_UPDATES)})")


@app.command("invite")
def invite(phone: Annotated[str, typer.Option(help="The resident's mobile")]) -> None:
    """Text a resident a one-time link (24 h) that connects their Telegram account."""
    from bot.channels.telegram.link import offer_telegram_link
    from bot.channels.telegram.setup import build_bot
    from storage.db import Database
    from storage.enums import Channel
    from storage.phones import PhoneNumberError, normalise_uk_mobile
    from storage.repositories.people import resident_by_address

    settings = _settings()
    try:
        mobile = normalise_uk_mobile(phone)
    except PhoneNumberError as exc:
        typer.secho(str(exc), err=True)
        raise typer.Exit(code=2) from None

    async def username() -> str:
        async with build_bot(settings) as bot:
            return bot.username

    bot_username = asyncio.run(username())
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            resident = resident_by_address(session, channel=Channel.SMS, address=mobile)
            if resident is None:
                typer.secho(f"no resident has the mobile {mobile}", err=True)
                raise typer.Exit(code=1)
            outbox_id = offer_telegram_link(
                session, resident, _wall_clock_now(), bot_username=bot_username
            )
    finally:
        db.dispose()
    typer.echo(f"link queued for {resident.name} (outbox {outbox_id})")


@app.command("poll")
def poll() -> None:
    """Long polling for development: no public URL needed. Removes any webhook first."""
    settings = _settings()
    asyncio.run(poll_until_stopped(settings))


async def poll_until_stopped(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Fetch updates with getUpdates and feed them through the same inbox as the webhook.

    Runs the scheduler too (unless DOORSTEP_SCHEDULER_IN_PROCESS=false), so replies in the
    outbox are sent. Stops on Ctrl-C, SIGTERM or when `stop` is set.
    """
    from bot.app import build_runtime, start_in_process
    from bot.channels.telegram.sender import TelegramSender
    from bot.channels.telegram.setup import build_application
    from bot.channels.telegram.webhook import ALLOWED_UPDATES, TelegramInbox

    runtime = build_runtime(settings)
    application = build_application(settings, polling=True)
    inbox = TelegramInbox(
        db=runtime.db,
        pipeline=runtime.pipeline,
        clock=runtime.clock,
        sender=TelegramSender(application.bot, photos_dir=settings.photos_dir),
    )

    async def on_update(update: object, _: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        work = await inbox.accept(update)
        if work is not None:
            await inbox.handle(work)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed", exc_info=context.error)

    application.add_handler(TypeHandler(Update, on_update))
    application.add_error_handler(on_error)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not possible outside the main thread (tests); `stop` still works there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    pending = await runtime.pipeline.process_pending()
    if pending:
        log.info("answered %d messages stored before the last stop", pending)
    scheduler = await start_in_process(runtime)
    updater: Any = application.updater
    try:
        async with application:
            await updater.start_polling(allowed_updates=list(ALLOWED_UPDATES), timeout=30)
            await application.start()
            typer.echo(f"polling as @{application.bot.username}; Ctrl-C to stop")
            await stop.wait()
            await updater.stop()
            await application.stop()
    finally:
        if scheduler is not None:
            await scheduler.shutdown()
        runtime.db.dispose()


def _wall_clock_now() -> datetime:
    """The CLI is the edge: the one place a command may read the wall clock."""
    return datetime.now(UTC)
