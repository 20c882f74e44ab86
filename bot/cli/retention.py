"""`doorstep retention run [--dry-run]` (issue 16, docs/retention.md): delete or anonymise
what has outlived its retention period now, rather than waiting for the scheduler's daily
run, and print the figures per kind. `--dry-run` changes nothing and prints what would go.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.outbound.retention import RetentionFigures, RetentionPolicy, run_retention
from bot.settings import SettingsError, load_settings

app = typer.Typer(help="Retention: personal data kept no longer than needed.", no_args_is_help=True)


@app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; change nothing")
    ] = False,
) -> None:
    """Delete or anonymise every record past its retention period; print the figures."""
    from storage.db import Database
    from storage.migrate import is_up_to_date

    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    if not is_up_to_date(settings.database_url):
        typer.secho("database is not migrated: run `doorstep db upgrade` first", err=True)
        raise typer.Exit(code=2)
    db = Database(settings.database_url)
    try:
        figures = run_retention(
            db,
            policy=RetentionPolicy.from_settings(settings),
            now=datetime.now(UTC),  # the CLI is the edge: it may read the wall clock
            zone=settings.zone,
            dry_run=dry_run,
            actor="cli",
        )
    finally:
        db.dispose()
    Console(width=120).print(figures_table(figures))


def figures_table(figures: RetentionFigures) -> Table:
    title = "Retention dry run: nothing changed" if figures.dry_run else "Retention run"
    would = "would " if figures.dry_run else ""
    table = Table(
        title=title,
        caption=f"{figures.seconds:.1f} s, longest batch {figures.longest_batch_ms:.0f} ms",
    )
    table.add_column("kind")
    table.add_column("kept for (days)", justify="right")
    table.add_column("examined", justify="right")
    table.add_column(f"{would}delete", justify="right")
    table.add_column(f"{would}anonymise", justify="right")
    table.add_column("kept: complaint", justify="right")
    table.add_column("kept: active", justify="right")
    for k in figures.kinds:
        table.add_row(
            k.kind.value,
            f"{k.days:,}",
            f"{k.examined:,}",
            f"{k.deleted:,}",
            f"{k.anonymised:,}",
            f"{k.kept_for_complaint:,}",
            f"{k.kept_active:,}",
        )
    return table
