"""Dialect-specific INSERT ... ON CONFLICT DO NOTHING, which both our databases support."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> int | None:
    """Insert a row unless it clashes with a unique constraint; return its id or None."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    row = session.execute(stmt).first()
    return None if row is None else int(row[0])
