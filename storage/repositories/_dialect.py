"""INSERT unless a unique constraint says the row is already there, on any database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session


def insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> int | None:
    """Insert a row unless it clashes with a unique constraint; return its id or None.

    A plain INSERT in a savepoint, rather than the dialects' ON CONFLICT DO NOTHING:
    SQLAlchemy cannot cache the compiled dialect-specific statement, and compiling it
    on every inbound message was the most expensive thing the webhook did.
    """
    try:
        with session.begin_nested():
            row = session.execute(insert(table).returning(table.c.id), values).first()
    except IntegrityError:
        return None
    return None if row is None else int(row[0])
