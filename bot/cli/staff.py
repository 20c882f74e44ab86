"""`doorstep staff ...`: accounts for the staff web app (there are no default accounts)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.exc import IntegrityError

from bot.settings import SettingsError, load_settings
from storage.enums import StaffRole
from storage.models import AuditEvent, StaffUser
from storage.repositories.staff_users import staff_user_by_email

app = typer.Typer(help="Staff web app accounts.", no_args_is_help=True)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, for scripts and secret managers: `... --password-stdin < file`.
        return sys.stdin.readline().rstrip("\r\n")
    first: str = typer.prompt("Password", hide_input=True)
    second: str = typer.prompt("Password again", hide_input=True)
    if first != second:
        raise _fail("the two passwords differ; nothing was created")
    return first


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="Sign-in email, e.g. sam@landlord.org.uk")],
    name: Annotated[str, typer.Option(help="Name shown to colleagues")],
    role: Annotated[StaffRole, typer.Option(help="admin, staff (can act) or viewer (reads only)")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a staff account. Prompts for the password twice unless --password-stdin."""
    # The staff web app's modules load FastAPI and every staff page: only when needed, so
    # every other doorstep command starts without them.
    from bot.web.staff.auth import normalise_email
    from bot.web.staff.passwords import WeakPasswordError, check_strength, hash_password
    from storage.db import Database
    from storage.migrate import is_up_to_date

    address = normalise_email(email)
    if not _EMAIL.match(address) or len(address) > 320:
        raise _fail(f"not an email address: {email!r}")
    if not name.strip() or len(name) > 200:
        raise _fail("give a name between 1 and 200 characters")
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    if not is_up_to_date(settings.database_url):
        raise _fail("database is not migrated: run `doorstep db upgrade` first")
    password = _read_password(password_stdin)
    try:
        check_strength(password, email=address, name=name)
    except WeakPasswordError as exc:
        raise _fail(f"password refused: {exc}") from None
    now = datetime.now(UTC)  # the CLI is the edge: it may read the wall clock
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            if staff_user_by_email(session, email=address):
                raise _fail(f"there is already an account for {address}")
            user = StaffUser(
                email=address,
                name=name.strip(),
                password_hash=hash_password(password),
                role=role,
                created_at=now,
            )
            session.add(user)
            session.flush()
            session.add(
                AuditEvent(
                    at=now,
                    actor="cli",
                    action="staff.user_created",
                    subject_type="staff_user",
                    subject_id=user.id,
                    detail={"email": address, "role": role.value},
                )
            )
    except IntegrityError:
        raise _fail(f"there is already an account for {address}") from None
    finally:
        db.dispose()
    typer.echo(f"created {role.value} {address}; sign in at {settings.public_base_url}/staff")


@app.command("reset-2fa")
def reset_two_factor(
    email: Annotated[str, typer.Option(help="The account's sign-in email")],
) -> None:
    """Turn off someone's two-factor sign-in (a lost phone) and sign out their sessions.

    The staff admin page does the same; this is for when no administrator can sign in.
    """
    from bot.web.staff.auth import normalise_email, revoke_all
    from storage.db import Database

    address = normalise_email(email)
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    now = datetime.now(UTC)  # the CLI is the edge: it may read the wall clock
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            user = staff_user_by_email(session, email=address)
            if user is None or user.id is None:
                raise _fail(f"there is no account for {address}")
            user.totp_secret = None
            user.totp_last_step = None
            session.add(user)
            revoked = revoke_all(session, user_id=user.id, now=now)
            session.add(
                AuditEvent(
                    at=now,
                    actor="cli",
                    action="staff.2fa_reset",
                    subject_type="staff_user",
                    subject_id=user.id,
                    detail={"sessions": revoked},
                )
            )
    finally:
        db.dispose()
    typer.echo(f"two-factor sign-in reset for {address}; {revoked} session(s) signed out")
