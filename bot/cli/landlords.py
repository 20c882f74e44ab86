"""`doorstep landlords ...` and `doorstep api-keys ...` (issue 14): landlords by their own
reference, and the API keys their systems call the integration API with."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlmodel import Session

from bot.settings import SettingsError, load_settings
from storage.models import AuditEvent
from storage.repositories import api_keys
from storage.repositories import landlords as landlord_rows

landlords_app = typer.Typer(help="Landlords, by their own reference.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for the integration API.", no_args_is_help=True)

_REFERENCE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _now() -> datetime:
    return datetime.now(UTC)  # the CLI is the edge: it may read the wall clock


@contextmanager
def _session() -> Iterator[Session]:
    from storage.db import Database
    from storage.migrate import is_up_to_date

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    if not is_up_to_date(settings.database_url):
        raise _fail("database is not migrated: run `doorstep db upgrade` first")
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            yield session
    finally:
        db.dispose()


def _audit(
    session: Session, action: str, subject_type: str, subject_id: int | None, **detail: str
) -> None:
    session.add(
        AuditEvent(
            at=_now(),
            actor="cli",
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=dict(detail),
        )
    )


@landlords_app.command("create")
def create_landlord(
    reference: Annotated[str, typer.Argument(help="Short reference, e.g. riverside")],
    name: Annotated[str, typer.Option(help="The landlord's name residents see")],
    phone: Annotated[str, typer.Option(help="Repairs line residents may call")],
    emergency_phone: Annotated[str, typer.Option(help="Out-of-hours emergency line")],
) -> None:
    """Create a landlord."""
    if not _REFERENCE.match(reference):
        raise _fail("a reference is 1-40 lower-case letters, digits, - or _, e.g. riverside")
    if not name.strip() or len(name) > 200:
        raise _fail("give a name between 1 and 200 characters")
    if not phone.strip() or not emergency_phone.strip():
        raise _fail("give both phone numbers")
    with _session() as session:
        try:
            landlord = landlord_rows.create(
                session,
                reference=reference,
                name=name.strip(),
                phone=phone.strip(),
                emergency_phone=emergency_phone.strip(),
                now=_now(),
            )
        except landlord_rows.LandlordExists:
            raise _fail(f"there is already a landlord {reference!r}") from None
        _audit(session, "landlord.created", "landlord", landlord.id, reference=reference)
    typer.echo(f"created landlord {reference} ({name.strip()})")


@landlords_app.command("list")
def list_landlords() -> None:
    """Every landlord, by reference."""
    with _session() as session:
        after = 0
        while page := landlord_rows.listing(session, after_id=after, limit=200):
            for landlord in page:
                typer.echo(f"{landlord.reference}\t{landlord.name}")
            assert page[-1].id is not None
            after = page[-1].id


@keys_app.command("create")
def create_key(
    landlord: Annotated[str, typer.Option(help="The landlord's reference")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'NEC nightly sync'")],
    scope: Annotated[str, typer.Option(help="read or write (write includes read)")] = "write",
) -> None:
    """Create an API key and print it once: it is stored hashed and cannot be shown again."""
    if scope not in api_keys.SCOPES:
        raise _fail("scope is read or write")
    if not name.strip() or len(name) > 100:
        raise _fail("give a name between 1 and 100 characters")
    with _session() as session:
        row = landlord_rows.by_reference(session, reference=landlord)
        if row is None or row.id is None:
            raise _fail(f"no landlord {landlord!r}: see `doorstep landlords list`")
        new = api_keys.create(
            session, landlord_id=row.id, name=name.strip(), scope=scope, now=_now()
        )
        _audit(session, "api_key.created", "api_key", new.row.id, landlord=landlord, scope=scope)
    typer.echo(f"API key {new.row.id} ({scope}) for {landlord}; it is shown once, keep it safe:")
    typer.echo(new.key)


@keys_app.command("list")
def list_keys(
    landlord: Annotated[str, typer.Option(help="The landlord's reference")],
) -> None:
    """The landlord's keys: id, name, scope, created, last used, revoked. Never the key."""
    with _session() as session:
        row = landlord_rows.by_reference(session, reference=landlord)
        if row is None or row.id is None:
            raise _fail(f"no landlord {landlord!r}")
        after = 0
        while page := api_keys.of_landlord(session, landlord_id=row.id, after_id=after, limit=200):
            for key in page:
                used = (
                    key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
                )
                state = (
                    f"revoked {key.revoked_at.isoformat(timespec='seconds')}"
                    if key.revoked_at
                    else "live"
                )
                typer.echo(
                    f"{key.id}\t{key.name}\t{key.scope}\tdsk_{key.prefix}_...\t"
                    f"created {key.created_at.isoformat(timespec='seconds')}\tused {used}\t{state}"
                )
            assert page[-1].id is not None
            after = page[-1].id


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[int, typer.Argument(help="The key's id (api-keys list)")]) -> None:
    """Revoke a key: calls with it are refused from now on."""
    with _session() as session:
        if not api_keys.revoke(session, key_id=key_id, landlord_id=None, now=_now()):
            raise _fail(f"no live API key {key_id}")
        _audit(session, "api_key.revoked", "api_key", key_id)
    typer.echo(f"revoked API key {key_id}")
