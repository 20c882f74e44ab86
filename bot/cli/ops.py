"""Operations commands: the scheduler as its own process, broadcasts, outbox inspection.

Mounted on `doorstep` by bot/cli/main.py: `doorstep scheduler`, `doorstep broadcast ...`,
`doorstep outbox list`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bot.common.logs import configure_logging
from bot.outbound.outbox_view import outbox_rows
from bot.settings import Settings, SettingsError, load_settings

app = typer.Typer(no_args_is_help=True)
broadcast_app = typer.Typer(
    help="Messages to every resident with a visit: reminders, disruption notices.",
    no_args_is_help=True,
)
outbox_app = typer.Typer(help="What the service sent, or decided not to, and why.")
app.add_typer(broadcast_app, name="broadcast")
app.add_typer(outbox_app, name="outbox")
log = logging.getLogger(__name__)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None


def _now() -> datetime:
    """The CLI is the edge: the one place a command may read the wall clock."""
    return datetime.now(UTC)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-12-01") from None


# -- doorstep scheduler ---------------------------------------------------------------------


@app.command("scheduler")
def scheduler(
    no_dispatch: Annotated[
        bool, typer.Option("--no-dispatch", help="Plan and sweep only; send elsewhere.")
    ] = False,
) -> None:
    """Run the planner, dispatcher and sweeps without the web service.

    Run any number of these against PostgreSQL: one is elected to plan, all dispatch.
    Set DOORSTEP_SCHEDULER_IN_PROCESS=false on `doorstep serve` when you do.
    """
    from bot.app import build_runtime, build_scheduler

    settings = _settings()
    configure_logging(settings.log_level, json_lines=not settings.simulator)
    runtime = build_runtime(settings)
    worker = f"{socket.gethostname()}-{os.getpid()}"

    async def run() -> None:
        jobs = build_scheduler(runtime, worker_id=worker, dispatch=not no_dispatch)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await jobs.start()
        typer.echo(f"scheduler {worker} running; Ctrl-C to stop")
        await stop.wait()
        await jobs.shutdown()

    try:
        asyncio.run(run())
    finally:
        runtime.db.dispose()


# -- doorstep broadcast ---------------------------------------------------------------------


@broadcast_app.command("reminders")
def broadcast_reminders(
    day: Annotated[str, typer.Option("--date", help="The visit day, YYYY-MM-DD.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, queue nothing.")] = False,
) -> None:
    """Remind every resident with a booked visit on --date, through the contact policy."""
    from bot.outbound.broadcasts import preview_reminders, send_reminders

    visit_day = _day(day)
    db = _database()
    try:
        if dry_run:
            _print_lines(preview_reminders(db, day=visit_day, now=_now()), dry_run=True)
            return
        with _progress() as (progress, update):
            summary = send_reminders(db, day=visit_day, now=_now(), progress=update)
            del progress
        _print_summary(summary)
    finally:
        db.dispose()


@broadcast_app.command("disruption")
def broadcast_disruption(
    operative: Annotated[int, typer.Option("--operative", help="The operative's id.")],
    day: Annotated[str, typer.Option("--date", help="The visit day, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, in a few plain words.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, queue nothing.")] = False,
) -> None:
    """Tell every resident whose visit with --operative on --date is affected; offer a new time."""
    from bot.outbound.broadcasts import BroadcastRefused, preview_disruption, send_disruption

    visit_day = _day(day)
    db = _database()
    try:
        if dry_run:
            lines = preview_disruption(
                db, operative_id=operative, day=visit_day, now=_now(), reason=reason
            )
            _print_lines(lines, dry_run=True)
            return
        with _progress() as (_, update):
            summary = send_disruption(
                db,
                operative_id=operative,
                day=visit_day,
                now=_now(),
                reason=reason,
                progress=update,
            )
        _print_summary(summary)
    except BroadcastRefused as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    finally:
        db.dispose()


def _database() -> Any:
    from storage.db import Database
    from storage.migrate import is_up_to_date

    settings = _settings()
    if not is_up_to_date(settings.database_url):
        typer.secho("database is not migrated: run `doorstep db upgrade` first", err=True)
        raise typer.Exit(code=2)
    return Database(settings.database_url)


class _progress:
    """A rich progress bar fed by the broadcast's (done, total) callback."""

    def __enter__(self) -> tuple[Progress, Any]:
        self.bar = Progress(
            TextColumn("queueing"), BarColumn(), MofNCompleteColumn(), console=Console(stderr=True)
        )
        self.bar.start()
        self.task = self.bar.add_task("broadcast", total=None)

        def update(done: int, total: int) -> None:
            self.bar.update(self.task, completed=done, total=total)

        return self.bar, update

    def __exit__(self, *_: object) -> None:
        self.bar.stop()


def _print_lines(lines: Any, *, dry_run: bool) -> None:
    from bot.outbound.broadcasts import BroadcastLine

    table = Table(title="Dry run: nothing queued" if dry_run else None)
    for heading in ("resident", "phone", "visit", "decision", "reason"):
        table.add_column(heading)
    for line in lines:
        assert isinstance(line, BroadcastLine)
        table.add_row(line.resident_name, line.masked_phone, line.visit, line.decision, line.reason)
    Console().print(table)
    if not lines:
        typer.echo("No booked visits that day.")


def _print_summary(summary: Any) -> None:
    from bot.outbound.broadcasts import BroadcastSummary

    assert isinstance(summary, BroadcastSummary)
    table = Table(title="Broadcast")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for name, count in (
        ("queued", summary.queued),
        ("deferred", summary.deferred),
        ("expired", summary.expired),
        ("blocked", summary.blocked),
        ("already queued", summary.already_queued),
    ):
        table.add_row(name, str(count))
    reasons = Table(title="By reason")
    reasons.add_column("reason")
    reasons.add_column("count", justify="right")
    for reason, count in sorted(summary.by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
        reasons.add_row(reason, str(count))
    console = Console()
    console.print(table)
    console.print(reasons)


# -- doorstep outbox list -------------------------------------------------------------------


@outbox_app.command("list")
def outbox_list(
    phone: Annotated[str | None, typer.Option("--phone", help="Only this resident.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N messages.")] = 50,
) -> None:
    """Each message with every policy decision and its reason (newest last)."""
    from storage.db import Database
    from storage.phones import normalise_uk_mobile

    settings = _settings()
    address = None
    if phone is not None:
        try:
            address = normalise_uk_mobile(phone)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            rows = outbox_rows(session, mobile=address, limit=limit)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("Nothing in the outbox" + (f" for {address}" if address else "") + ".")
        return
    table = Table(show_lines=True)
    for heading in ("id", "kind", "status", "not before", "text", "decisions"):
        table.add_column(heading)
    for row in rows:
        decisions = "\n".join(
            f"{d['at'][:16]} {d['decision']} {d['reason']}"
            + (f": {d['detail']}" if d["detail"] else "")
            for d in row["decisions"]
        )
        table.add_row(
            str(row["id"]),
            row["kind"],
            row["status"],
            row["not_before"][:16],
            row["text"],
            decisions,
        )
    Console(width=200).print(table)
