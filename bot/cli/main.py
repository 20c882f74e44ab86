"""The `doorstep` command: serve, migrate, load demo data, chat, and the NLU tools."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.imports import import_file
from bot.cli.landlords import keys_app, landlords_app
from bot.cli.nlu import app as nlu_app
from bot.cli.ops import app as ops_app
from bot.cli.retention import app as retention_app
from bot.cli.staff import app as staff_app
from bot.cli.telegram import app as telegram_app
from bot.cli.webhooks import app as webhooks_app
from bot.common.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

app = typer.Typer(help="Doorstep: the repairs assistant residents trust.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")

app.add_typer(nlu_app, name="nlu")
app.add_typer(ops_app)  # scheduler, broadcast, outbox (bot/cli/ops.py)
app.add_typer(telegram_app, name="telegram")  # set-webhook, poll, invite (bot/cli/telegram.py)
app.add_typer(staff_app, name="staff")  # create-user (bot/cli/staff.py)
app.add_typer(landlords_app, name="landlords")  # create, list (bot/cli/landlords.py)
app.add_typer(keys_app, name="api-keys")  # create, list, revoke (bot/cli/landlords.py)
app.command("import")(import_file)  # residents|properties|... FILE.csv (bot/cli/imports.py)
app.add_typer(webhooks_app, name="webhooks")  # add, list, remove, resend (bot/cli/webhooks.py)
app.add_typer(retention_app, name="retention")  # run [--dry-run] (bot/cli/retention.py)


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None


def _wall_clock_now() -> datetime:
    """The CLI is the edge: the one place a command may read the wall clock."""
    return datetime.now(UTC)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from storage.migrate import current_revision, upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at revision {current_revision(settings.database_url)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from storage.migrate import current_revision, head_revision

    settings = _settings()
    typer.echo(f"current {current_revision(settings.database_url)} (latest {head_revision()})")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Roll migrations back to REVISION ("base" empties the database)."""
    from storage.migrate import downgrade

    downgrade(_settings().database_url, revision)


@demo_app.command("load")
def demo_load() -> None:
    """Load the demo landlord, residents, operatives and availability (only into an empty DB)."""
    from bot.cli.demo import load_demo
    from storage.db import Database
    from storage.migrate import is_up_to_date

    settings = _settings()
    if not is_up_to_date(settings.database_url):
        typer.secho("database is not migrated: run `doorstep db upgrade` first", err=True)
        raise typer.Exit(code=2)
    db = Database(settings.database_url)
    try:
        loaded = load_demo(db, now=_wall_clock_now(), public_base_url=settings.public_base_url)
    finally:
        db.dispose()
    typer.echo("demo data loaded" if loaded else "database already has data; demo not loaded")


@demo_app.command("reset")
def demo_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before emptying")] = False,
) -> None:
    """Empty the database and load the demo again (a demo database only, never production)."""
    from bot.cli.demo import holds_only_demo_data, load_demo
    from storage.db import Database
    from storage.migrate import empty_all_tables, has_tables, is_up_to_date, upgrade

    settings = _settings()
    if settings.environment == "production":
        typer.secho("demo reset is refused when DOORSTEP_ENVIRONMENT=production", err=True)
        raise typer.Exit(code=2)
    url = settings.database_url
    if has_tables(url):
        if not is_up_to_date(url):
            typer.secho("database is not migrated: run `doorstep db upgrade` first", err=True)
            raise typer.Exit(code=2)
        db = Database(url)
        try:
            demo_only = holds_only_demo_data(db)
        finally:
            db.dispose()
        if not demo_only:
            typer.secho(
                "this database holds a landlord other than the demo one; demo reset only "
                "empties a demo database",
                err=True,
            )
            raise typer.Exit(code=2)
    where = url.split("://", 1)[0]
    if not yes and not typer.confirm(f"Empty this {where} database and load the demo again?"):
        typer.echo("nothing changed")
        raise typer.Exit(code=1)
    if has_tables(url):
        empty_all_tables(url)
    else:
        upgrade(url, "head")
    db = Database(url)
    try:
        load_demo(db, now=_wall_clock_now(), public_base_url=settings.public_base_url)
    finally:
        db.dispose()
    typer.echo("database emptied; demo data loaded")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Override DOORSTEP_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Override DOORSTEP_PORT")] = None,
) -> None:
    """Run the web service (webhooks, simulator, staff pages) under uvicorn."""
    import uvicorn

    from bot.app import create_app

    overrides: dict[str, object] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    settings = _settings(**overrides)
    # Production logs are JSON lines with ids; the simulator prints plain lines for people.
    configure_logging(settings.log_level, json_lines=not settings.simulator)
    base = f"http://{settings.host}:{settings.port}"
    typer.echo(f"Doorstep on {base}  (database: {settings.database_url.split(':', 1)[0]})")
    typer.echo(f"  health:    {base}/healthz")
    if settings.simulator:
        typer.echo(f"  simulator: {base}/simulator")
    uvicorn.Server(server_config(create_app(settings), settings)).run()


def server_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """How `doorstep serve` runs uvicorn. uvicorn configures no logging of its own: its
    lines go through the root handler `configure_logging` set up (JSON, redacting), and its
    access log is off, because request paths carry visit-link tokens (docs/security.md)."""
    import uvicorn

    from bot.web.staff.login_limits import proxy_options

    # X-Forwarded-For only from DOORSTEP_TRUSTED_PROXIES (uvicorn would trust 127.0.0.1).
    proxies = proxy_options(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        proxy_headers=proxies.proxy_headers,
        forwarded_allow_ips=proxies.forwarded_allow_ips,
    )


@app.command()
def chat(
    phone: Annotated[str, typer.Option(help="The resident's mobile, e.g. +447400123456")],
) -> None:
    """Talk to the bot in the terminal as the resident with this phone number."""
    from bot.app import build_runtime
    from bot.common.events import InboundMessage
    from storage.enums import Channel
    from storage.phones import PhoneNumberError, normalise_uk_mobile

    try:
        address = normalise_uk_mobile(phone)
    except PhoneNumberError as exc:
        typer.secho(str(exc), err=True)
        raise typer.Exit(code=2) from None
    runtime = build_runtime(_settings())
    typer.echo("Type a message and press Enter. Ctrl-D to finish.")

    async def loop() -> None:
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except EOFError:
                typer.echo("")
                return
            if not line.strip():
                continue
            handled = await runtime.pipeline.receive(
                InboundMessage(
                    channel=Channel.SIMULATOR,
                    address=address,
                    text=line.strip(),
                    channel_message_id=f"cli-{uuid.uuid4()}",
                    received_at=runtime.clock.now(),
                )
            )
            for reply in handled.replies:
                typer.echo(f"bot> {reply.text}")
                for option in reply.options:
                    typer.echo(f"       {option.key}  {option.label}")

    try:
        asyncio.run(loop())
    finally:
        runtime.db.dispose()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
