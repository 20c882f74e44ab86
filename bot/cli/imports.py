"""`doorstep import KIND FILE.csv --landlord REF` (issue 14, item 5): bulk import for
landlords without an API. The file is streamed in chunks with a progress bar on stderr; the
report (every bad row: row, column, what is wrong) goes to stdout. docs/import.md."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.settings import SettingsError, load_settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.integration.csv_import import ImportReport
    from storage.db import Database


class Kind(StrEnum):
    RESIDENTS = "residents"
    PROPERTIES = "properties"
    OPERATIVES = "operatives"
    JOBS = "jobs"
    WINDOWS = "windows"


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def print_report(report: ImportReport) -> None:
    """The summary, then every problem as 'row N, column: reason' (never a cell's value)."""
    typer.echo(report.summary())
    for problem in report.problems:
        where = f"row {problem.row}" if problem.row else "file"
        typer.echo(f"  {where}, {problem.column}: {problem.reason}")


def import_file(
    kind: Annotated[Kind, typer.Argument(help="What the file holds", case_sensitive=False)],
    file: Annotated[
        Path,
        typer.Argument(help="The CSV file (UTF-8, header row first)", dir_okay=False),
    ],
    landlord: Annotated[str, typer.Option(help="The landlord's reference, e.g. demo")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything and write nothing")
    ] = False,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Import the good rows and report the bad")
    ] = False,
) -> None:
    """Import residents, properties, operatives, jobs or visit windows from a CSV file.

    Nothing is written if a row is bad, unless --skip-bad-rows (exit code 1 if rows are bad).

    The same file imported again changes nothing. Column templates: docs/import/*.csv.
    """
    from storage.db import Database
    from storage.migrate import is_up_to_date
    from storage.repositories import landlords as landlord_rows

    if not file.is_file():
        raise _fail(f"no file {str(file)!r}")
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    if not is_up_to_date(settings.database_url):
        raise _fail("database is not migrated: run `doorstep db upgrade` first")
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            row = landlord_rows.by_reference(session, reference=landlord)
            if row is None or row.id is None:
                raise _fail(f"no landlord {landlord!r}: see `doorstep landlords list`")
            landlord_id = row.id
        report = _run(db, landlord_id, landlord, kind, file, dry_run, skip_bad_rows)
    finally:
        db.dispose()
    print_report(report)
    raise typer.Exit(code=report.exit_code)


def _run(
    db: Database,
    landlord_id: int,
    landlord: str,
    kind: Kind,
    file: Path,
    dry_run: bool,
    skip_bad_rows: bool,
) -> ImportReport:
    # Imported here, not at the top: every other `doorstep` command starts without them.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    from bot.integration.csv_import import run_import
    from storage.models import AuditEvent

    now = datetime.now(UTC)  # the CLI is the edge: it may read the wall clock
    size = file.stat().st_size
    console = Console(stderr=True)
    columns = (
        TextColumn(f"importing {kind.value}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )

    def audit(session: Session, report: ImportReport) -> None:
        session.add(
            AuditEvent(
                at=now,
                actor="cli",
                action="import.csv",
                subject_type="landlord",
                subject_id=landlord_id,
                detail={
                    "landlord": landlord,
                    "kind": kind.value,
                    "file": os.path.basename(file),
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "skipped": report.bad_rows,
                },
            )
        )

    with (
        Progress(*columns, console=console, disable=not console.is_terminal) as bar,
        file.open("rb") as source,
    ):
        task = bar.add_task("import", total=size)
        return run_import(
            db,
            landlord_id=landlord_id,
            kind=kind.value,
            source=source,
            now=now,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            progress=lambda done: bar.update(task, completed=done),
            audit=audit,
        )
